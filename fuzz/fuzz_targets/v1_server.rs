//! What a client reads from a v1 server: never a panic, and whatever
//! decodes encodes back to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_protocol::v1::ServerMessage;

fuzz_target!(|data: &[u8]| {
    let Ok(frame) = std::str::from_utf8(data) else { return };
    if let Ok(message) = ServerMessage::decode(frame) {
        let again = ServerMessage::decode(&message.to_frame()).expect("our own frame decodes");
        assert_eq!(again, message);
    }
});
