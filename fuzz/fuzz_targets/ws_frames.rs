//! The server's WebSocket framing fed arbitrary bytes, split at an
//! arbitrary point as two reads would be, with permessage-deflate agreed
//! or not (the first byte's top bit): never a panic, every frame it takes
//! lies within the bytes given, and a message never exceeds the limit,
//! inflated or not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_protocol::framing::{Decoded, Incoming, Reader};

const LIMIT: usize = 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&split, bytes)) = data.split_first() else {
        return;
    };
    let inflate = split & 0x80 != 0;
    let split = usize::from(split & 0x7F).min(bytes.len());
    let mut reader = Reader::new(LIMIT, inflate);
    let mut buf = bytes[..split].to_vec();
    let mut rest = &bytes[split..];
    loop {
        match reader.decode(&mut buf) {
            Err(_) => return,
            Ok(Decoded::Frame { used, message }) => {
                assert!(used > 0 && used <= buf.len());
                if let Some(Incoming::Text(text)) = &message {
                    assert!(text.len() <= LIMIT);
                }
                if let Some(Incoming::Binary(len)) = message {
                    assert!(len <= LIMIT);
                }
                buf.drain(..used);
            }
            Ok(Decoded::Incomplete) if rest.is_empty() => return,
            Ok(Decoded::Incomplete) => {
                buf.extend_from_slice(rest);
                rest = &[];
            }
        }
    }
});
