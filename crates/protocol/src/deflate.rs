//! permessage-deflate's codec (RFC 7692 §7.2): a message compressed once,
//! and a message inflated within a size limit. Pure. Behind the `deflate`
//! feature, for the server (whose negotiation is in `ws/extension.rs` and
//! framing in `ws/wire.rs`) and the load generator's raw watchers; the
//! browser client leaves it off, since the browser does this itself.
//!
//! Every compressed message starts from an empty window ("no context
//! takeover" both ways), which is what lets the server compress a frame
//! once and send the same bytes to every connection, and lets an idle
//! connection hold no compressor or window at all: the 32 KiB window of a
//! context kept per connection would be eight times the idle budget.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Messages shorter than this are sent as they are. Measured on Roster's
/// own frames (`smallest_worth_compressing` below): from an empty window a
/// one-user list of 62 bytes grows to 68, and a typical `change` frame of
/// 117 bytes shrinks by 17; a three-user list of 184 bytes already halves.
/// Under 128 bytes, a browser would inflate every frame to save a few
/// bytes of each.
pub const SMALLEST: usize = 128;

/// Level 3 of flate2's pure-Rust backend (miniz_oxide). On the
/// 10,000-user demo snapshot (792,779 bytes), release build, this machine:
///
/// | level | bytes | ratio | time |
/// |---|---|---|---|
/// | 1 | 132,015 | 6.0× | 1.8 ms |
/// | 3 | 79,232 | 10.0× | 6.9 ms |
/// | 6 | 85,805 | 9.2× | 19 ms |
/// | 9 | 83,574 | 9.5× | 38 ms |
///
/// miniz_oxide's level 3 happens to suit this JSON best, at a third of
/// level 6's time; the time is paid once per version of the list a
/// connecting client is sent, not per client.
const LEVEL: u32 = 3;

/// The empty stored block a sync flush ends with, which the sender strips
/// and the receiver puts back (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// `message` compressed from an empty window, or `None` when that would
/// not make it smaller.
pub fn compress(message: &[u8]) -> Option<Vec<u8>> {
    let mut deflate = Compress::new(Compression::new(LEVEL), false);
    let mut out = Vec::with_capacity(message.len() / 4 + 64);
    loop {
        let read = usize::try_from(deflate.total_in()).ok()?;
        deflate
            .compress_vec(&message[read..], &mut out, FlushCompress::Sync)
            .ok()?;
        // The flush is complete once all input is in and there was room
        // left over for output.
        if usize::try_from(deflate.total_in()).ok()? == message.len() && out.len() < out.capacity()
        {
            break;
        }
        out.reserve(out.capacity());
    }
    if !out.ends_with(&TAIL) {
        return None;
    }
    out.truncate(out.len() - TAIL.len());
    (out.len() < message.len()).then_some(out)
}

/// Why a compressed message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inflate {
    /// It inflates to more than the limit (a compression bomb, say).
    TooBig,
    /// It is not DEFLATE data.
    Corrupt,
}

/// A client's compressed message, inflated. Never holds more than
/// `limit + 1` bytes of output, however far the input would inflate, so a
/// small frame that inflates to gigabytes costs what the limit allows.
pub fn inflate(compressed: &[u8], limit: usize) -> Result<Vec<u8>, Inflate> {
    let mut inflater = Decompress::new(false);
    let mut out: Vec<u8> = Vec::new();
    for input in [compressed, &TAIL[..]] {
        let mut read = 0;
        loop {
            if out.len() == out.capacity() {
                let room = (limit + 1 - out.len()).min(out.len().max(1024));
                out.reserve_exact(room);
            }
            let (before_in, before_out) = (inflater.total_in(), inflater.total_out());
            let status = inflater
                .decompress_vec(&input[read..], &mut out, FlushDecompress::Sync)
                .map_err(|_| Inflate::Corrupt)?;
            read +=
                usize::try_from(inflater.total_in() - before_in).map_err(|_| Inflate::TooBig)?;
            if out.len() > limit {
                return Err(Inflate::TooBig);
            }
            // A final block (BFINAL) may end the message early (§7.2.3.3).
            if status == Status::StreamEnd {
                return Ok(out);
            }
            let room_left = out.len() < out.capacity();
            if read == input.len() && room_left {
                break;
            }
            let moved = inflater.total_in() != before_in || inflater.total_out() != before_out;
            if !moved && room_left {
                return Err(Inflate::Corrupt);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::v1::{Change, ChangeOp, ServerMessage};
    use crate::{User, UserId};
    use proptest::prelude::*;

    use super::*;

    fn user(i: usize) -> User {
        User {
            id: UserId::new(format!("u{i:06}")),
            name: format!("User {i}"),
            email: format!("user{i}@example.com"),
        }
    }

    /// The RFC's own example (§7.2.3.1): "Hello" from an empty window.
    #[test]
    fn hello_compresses_to_the_rfc_example_and_inflates_back() {
        let rfc = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate(&rfc, 100).unwrap(), b"Hello");
        // The same text with a stored (uncompressed) block, §7.2.3.3.
        let stored = [
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(inflate(&stored, 100).unwrap(), b"Hello");
        // Ours is smaller than the text only from a few more bytes on.
        assert_eq!(compress(b"Hello"), None);
        let long = "Hello, ".repeat(20);
        let packed = compress(long.as_bytes()).unwrap();
        assert!(packed.len() < long.len() / 3, "{}", packed.len());
        assert_eq!(inflate(&packed, 1000).unwrap(), long.as_bytes());
    }

    #[test]
    fn a_final_block_ends_the_message_and_the_tail_is_not_needed() {
        // "Hello" as one BFINAL fixed-Huffman block.
        let mut deflate = Compress::new(Compression::new(LEVEL), false);
        let mut out = Vec::with_capacity(64);
        deflate
            .compress_vec(b"Hello", &mut out, FlushCompress::Finish)
            .unwrap();
        assert_eq!(inflate(&out, 100).unwrap(), b"Hello");
    }

    #[test]
    fn output_past_the_limit_is_refused_without_holding_it() {
        let zeros = vec![0u8; 10 << 20];
        let bomb = compress(&zeros).unwrap();
        // Small enough to pass the wire's limit.
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        assert_eq!(inflate(&bomb, 64 * 1024), Err(Inflate::TooBig));
        assert_eq!(inflate(&bomb, zeros.len()).unwrap().len(), zeros.len());
        // Exactly at the limit is fine; one byte over is not.
        let text = vec![b'a'; 1000];
        let packed = compress(&text).unwrap();
        assert_eq!(inflate(&packed, 1000).unwrap(), text);
        assert_eq!(inflate(&packed, 999), Err(Inflate::TooBig));
    }

    #[test]
    fn bytes_that_are_not_deflate_are_refused() {
        // Block type 3 is reserved.
        assert_eq!(inflate(&[0xff, 0xff, 0xff], 100), Err(Inflate::Corrupt));
        // A stored block whose length and its complement disagree.
        assert_eq!(
            inflate(&[0x00, 0x05, 0x00, 0x00, 0x00, b'x'], 100),
            Err(Inflate::Corrupt)
        );
    }

    /// Why [`SMALLEST`] is where it is: a frame about one user barely
    /// shrinks, a list of a few already halves.
    #[test]
    fn smallest_worth_compressing() {
        let saved =
            |text: &str| text.len() - compress(text.as_bytes()).map_or(text.len(), |p| p.len());
        let one = serde_json::to_string(&[user(1)]).unwrap();
        assert_eq!(saved(&one), 0, "{one}");
        let change = ServerMessage::Change(Change {
            version: 123_456,
            op: ChangeOp::Added,
            user: user(42),
        })
        .to_frame();
        assert!(change.len() < SMALLEST, "{}", change.len());
        assert!(saved(&change) < 20, "{change}: {}", saved(&change));
        let three = serde_json::to_string(&(0..3).map(user).collect::<Vec<_>>()).unwrap();
        assert!(three.len() >= SMALLEST);
        assert!(saved(&three) > three.len() / 2, "{}", saved(&three));
    }

    proptest! {
        #[test]
        fn whatever_is_compressed_inflates_back(text in ".{0,3000}") {
            // (None: compressing would not have made it smaller.)
            if let Some(packed) = compress(text.as_bytes()) {
                prop_assert!(packed.len() < text.len());
                prop_assert_eq!(inflate(&packed, text.len()).unwrap(), text.as_bytes());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_or_pass_the_limit(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            if let Ok(out) = inflate(&bytes, 500) {
                prop_assert!(out.len() <= 500);
            }
        }
    }
}
