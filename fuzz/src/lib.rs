//! What the fuzz targets share.

use std::fmt::Debug;

/// Reads `data` as a text frame with `decode`: it may refuse it, never
/// panic, and whatever it reads must be written back by `encode` as a frame
/// that reads as the same message.
pub fn round_trips<M, E>(data: &[u8], decode: fn(&str) -> Result<M, E>, encode: fn(&M) -> String)
where
    M: PartialEq + Debug,
    E: Debug,
{
    let Ok(frame) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(message) = decode(frame) {
        let again = decode(&encode(&message)).expect("our own frame decodes");
        assert_eq!(again, message);
    }
}
