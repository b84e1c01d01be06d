//! RFC 6455 framing as a server speaks it (the `framing` feature: the
//! server, and the fuzz target that feeds it arbitrary bytes). Pure: no
//! I/O, so each rule of the RFC is tested on its own.
//!
//! Why our own framing and not tungstenite's: tungstenite copies every
//! frame it writes into a per-connection buffer that keeps its largest
//! size, so an idle connection held a copy of the snapshot it was sent
//! (804 KB each with 10,000 users). Here a server frame is a 2–10 byte
//! [`Header`] written in front of a shared payload (the server's `Text`), so one encoded
//! change or snapshot serves every connection without a copy, and nothing
//! outlives the write.
//!
//! Client frames are parsed by [`Reader`] from whatever bytes have arrived:
//! it unmasks in place, reassembles fragments up to the message size limit
//! and answers every violation with the close code the RFC names (1002
//! protocol error, 1007 invalid UTF-8, 1009 too big).
//!
//! With permessage-deflate agreed (RFC 7692), a message whose first frame
//! has RSV1 set is inflated once whole, and the size limit applies to it
//! twice: to the bytes on the wire, and to what they inflate to, so a
//! compression bomb is refused with 1009 like any other big message.

use bytes::Bytes;

use crate::close_code;
use crate::deflate::{self, Inflate};

pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// The longest payload a control frame may carry.
const CONTROL_MAX: usize = 125;

/// RSV1: the message is compressed (RFC 7692 §6).
const COMPRESSED: u8 = 0x40;

/// A server frame's header: FIN set, no mask, the shortest length form.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    bytes: [u8; 10],
    len: u8,
}

impl Header {
    pub fn new(opcode: u8, payload_len: usize) -> Self {
        let mut bytes = [0u8; 10];
        bytes[0] = 0x80 | opcode;
        let len = if payload_len < 126 {
            bytes[1] = payload_len as u8;
            2
        } else if let Ok(short) = u16::try_from(payload_len) {
            bytes[1] = 126;
            bytes[2..4].copy_from_slice(&short.to_be_bytes());
            4
        } else {
            bytes[1] = 127;
            bytes[2..10].copy_from_slice(&(payload_len as u64).to_be_bytes());
            10
        };
        Self { bytes, len }
    }

    /// The header of a message compressed with permessage-deflate.
    pub fn compressed(opcode: u8, payload_len: usize) -> Self {
        let mut header = Self::new(opcode, payload_len);
        header.bytes[0] |= COMPRESSED;
        header
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// A close frame's payload: the code, then the reason (cut to fit a
/// control frame).
pub fn close_payload(code: u16, reason: &str) -> Bytes {
    let mut payload = code.to_be_bytes().to_vec();
    let mut end = reason.len().min(CONTROL_MAX - 2);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    Bytes::from(payload)
}

/// A whole message from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Text(String),
    /// A binary message, of this many bytes (neither protocol reads them).
    Binary(usize),
    Ping(Bytes),
    Pong,
    /// The client is closing, with its code when it gave one.
    Close(Option<u16>),
}

/// Why the connection must close: the code and reason to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Violation {
    pub code: u16,
    pub reason: &'static str,
}

const fn protocol(reason: &'static str) -> Violation {
    Violation {
        code: close_code::PROTOCOL_ERROR,
        reason,
    }
}

const NOT_UTF8: Violation = Violation {
    code: close_code::INVALID_DATA,
    reason: "text is not UTF-8",
};

const TOO_BIG: Violation = Violation {
    code: close_code::TOO_BIG,
    reason: "frame too large",
};

const NOT_DEFLATE: Violation = Violation {
    code: close_code::INVALID_DATA,
    reason: "compressed message is not valid DEFLATE",
};

/// What [`Reader::decode`] found at the front of the buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// Not a whole frame yet: read more.
    Incomplete,
    /// A frame of `used` bytes, which completed `message` if it is `Some`
    /// (a fragment that does not end its message gives `None`).
    Frame {
        used: usize,
        message: Option<Incoming>,
    },
}

/// Parses client frames and reassembles fragmented messages.
#[derive(Debug)]
pub struct Reader {
    max_message: usize,
    /// permessage-deflate was agreed: RSV1 marks a compressed message.
    inflate: bool,
    /// A fragmented message in progress.
    partial: Option<Partial>,
}

#[derive(Debug)]
struct Partial {
    opcode: u8,
    compressed: bool,
    data: Vec<u8>,
}

impl Reader {
    /// `inflate`: whether permessage-deflate was agreed in the handshake.
    pub fn new(max_message: usize, inflate: bool) -> Self {
        Self {
            max_message,
            inflate,
            partial: None,
        }
    }

    /// Decodes the frame at the front of `buf`, unmasking it in place.
    /// A frame announced bigger than the limit is refused from its header,
    /// before its payload is read.
    pub fn decode(&mut self, buf: &mut [u8]) -> Result<Decoded, Violation> {
        let [first, second, ..] = *buf else {
            return Ok(Decoded::Incomplete);
        };
        let fin = first & 0x80 != 0;
        let opcode = first & 0x0F;
        let compressed = first & COMPRESSED != 0;
        if first & 0x30 != 0 || (compressed && !self.inflate) {
            return Err(protocol("reserved bits set without an extension"));
        }
        if !matches!(opcode, CONTINUATION | TEXT | BINARY | CLOSE | PING | PONG) {
            return Err(protocol("unknown opcode"));
        }
        if compressed && !matches!(opcode, TEXT | BINARY) {
            return Err(protocol("only a message's first frame may be compressed"));
        }
        if second & 0x80 == 0 {
            return Err(protocol("client frames must be masked"));
        }
        let control = opcode >= CLOSE;
        let (len, len_bytes) = match second & 0x7F {
            126 => match buf.get(2..4) {
                Some(b) => (u64::from(u16::from_be_bytes([b[0], b[1]])), 2),
                None => return Ok(Decoded::Incomplete),
            },
            127 => match buf.get(2..10) {
                Some(b) => (u64::from_be_bytes(b.try_into().expect("8 bytes")), 8),
                None => return Ok(Decoded::Incomplete),
            },
            short => (u64::from(short), 0),
        };
        if control && (!fin || len > CONTROL_MAX as u64) {
            return Err(protocol(
                "control frames must be whole and at most 125 bytes",
            ));
        }
        let so_far = self
            .partial
            .as_ref()
            .map_or(0, |partial| partial.data.len());
        let len = usize::try_from(len).map_err(|_| TOO_BIG)?;
        if !control && so_far.saturating_add(len) > self.max_message {
            return Err(TOO_BIG);
        }
        let start = 2 + len_bytes + 4;
        let Some(frame) = buf.get_mut(..start + len) else {
            return Ok(Decoded::Incomplete);
        };
        let (head, payload) = frame.split_at_mut(start);
        let mask: [u8; 4] = head[start - 4..].try_into().expect("4 bytes");
        unmask(payload, mask);
        let message = self.frame(fin, opcode, compressed, payload)?;
        Ok(Decoded::Frame {
            used: start + len,
            message,
        })
    }

    fn frame(
        &mut self,
        fin: bool,
        opcode: u8,
        compressed: bool,
        payload: &[u8],
    ) -> Result<Option<Incoming>, Violation> {
        match opcode {
            CLOSE => close(payload).map(Some),
            PING => Ok(Some(Incoming::Ping(Bytes::copy_from_slice(payload)))),
            PONG => Ok(Some(Incoming::Pong)),
            CONTINUATION => {
                let Some(partial) = self.partial.as_mut() else {
                    return Err(protocol("continuation frame without a message"));
                };
                partial.data.extend_from_slice(payload);
                if !fin {
                    return Ok(None);
                }
                let partial = self.partial.take().expect("checked above");
                self.message(partial).map(Some)
            }
            _ if self.partial.is_some() => Err(protocol("new message before the last one ended")),
            _ => {
                let partial = Partial {
                    opcode,
                    compressed,
                    data: payload.to_vec(),
                };
                if fin {
                    return self.message(partial).map(Some);
                }
                self.partial = Some(partial);
                Ok(None)
            }
        }
    }

    /// A whole message, inflated if it was compressed.
    fn message(&self, partial: Partial) -> Result<Incoming, Violation> {
        let Partial {
            opcode,
            compressed,
            data,
        } = partial;
        if opcode == BINARY {
            // Neither protocol reads binary messages: not worth inflating.
            return Ok(Incoming::Binary(data.len()));
        }
        let data = if compressed {
            deflate::inflate(&data, self.max_message).map_err(|err| match err {
                Inflate::TooBig => TOO_BIG,
                Inflate::Corrupt => NOT_DEFLATE,
            })?
        } else {
            data
        };
        String::from_utf8(data)
            .map(Incoming::Text)
            .map_err(|_| NOT_UTF8)
    }
}

fn close(payload: &[u8]) -> Result<Incoming, Violation> {
    match payload {
        [] => Ok(Incoming::Close(None)),
        [_] => Err(protocol("close frame with a one-byte payload")),
        [high, low, reason @ ..] => {
            let code = u16::from_be_bytes([*high, *low]);
            if !receivable(code) {
                return Err(protocol("close code not allowed on the wire"));
            }
            std::str::from_utf8(reason).map_err(|_| NOT_UTF8)?;
            Ok(Incoming::Close(Some(code)))
        }
    }
}

/// Close codes a peer may send (RFC 6455 §7.4 and the IANA registry):
/// 1004–1006 and 1015 are reserved for local use, below 1000 and
/// 1016–2999 are unassigned.
fn receivable(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    for (i, byte) in payload.iter_mut().enumerate() {
        *byte ^= mask[i & 3];
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A client frame, masked.
    fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut frame = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        frame
    }

    /// Every message in `bytes`, fed to the reader `chunk` bytes at a time.
    fn read_all(
        reader: &mut Reader,
        bytes: &[u8],
        chunk: usize,
    ) -> Result<Vec<Incoming>, Violation> {
        let mut buf = Vec::new();
        let mut messages = Vec::new();
        for piece in bytes.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            while let Decoded::Frame { used, message } = reader.decode(&mut buf)? {
                buf.drain(..used);
                messages.extend(message);
            }
        }
        assert!(buf.is_empty(), "bytes left over: {buf:?}");
        Ok(messages)
    }

    fn one(bytes: &[u8]) -> Result<Vec<Incoming>, Violation> {
        read_all(&mut Reader::new(1 << 20, false), bytes, bytes.len())
    }

    const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

    #[test]
    fn headers_use_the_shortest_length_form() {
        assert_eq!(Header::new(TEXT, 5).as_slice(), [0x81, 5]);
        assert_eq!(Header::new(TEXT, 125).as_slice(), [0x81, 125]);
        assert_eq!(Header::new(TEXT, 126).as_slice(), [0x81, 126, 0, 126]);
        assert_eq!(Header::new(CLOSE, 65_535).as_slice(), [0x88, 126, 255, 255]);
        assert_eq!(
            Header::new(TEXT, 65_536).as_slice(),
            [0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }

    #[test]
    fn a_close_payload_is_the_code_then_a_reason_cut_to_125_bytes_on_a_char_boundary() {
        assert_eq!(&close_payload(1001, "bye")[..], b"\x03\xe9bye");
        let long = "é".repeat(100);
        let payload = close_payload(1000, &long);
        assert!(payload.len() <= 125);
        assert!(std::str::from_utf8(&payload[2..]).is_ok());
    }

    #[test]
    fn text_binary_ping_pong_and_close_are_read() {
        let mut bytes = client_frame(true, TEXT, "héllo".as_bytes(), MASK);
        bytes.extend(client_frame(true, BINARY, &[0, 1, 2], MASK));
        bytes.extend(client_frame(true, PING, b"nonce", MASK));
        bytes.extend(client_frame(true, PONG, b"", MASK));
        bytes.extend(client_frame(true, CLOSE, b"\x03\xe8done", MASK));
        assert_eq!(
            one(&bytes).unwrap(),
            vec![
                Incoming::Text("héllo".into()),
                Incoming::Binary(3),
                Incoming::Ping(Bytes::from_static(b"nonce")),
                Incoming::Pong,
                Incoming::Close(Some(1000)),
            ]
        );
        assert_eq!(
            one(&client_frame(true, CLOSE, b"", MASK)).unwrap(),
            vec![Incoming::Close(None)]
        );
    }

    #[test]
    fn fragments_are_joined_and_control_frames_may_come_between_them() {
        let mut bytes = client_frame(false, TEXT, b"hel", MASK);
        bytes.extend(client_frame(true, PING, b"", MASK));
        bytes.extend(client_frame(false, CONTINUATION, b"lo ", MASK));
        bytes.extend(client_frame(true, CONTINUATION, b"world", MASK));
        assert_eq!(
            one(&bytes).unwrap(),
            vec![
                Incoming::Ping(Bytes::new()),
                Incoming::Text("hello world".into())
            ]
        );
    }

    #[test]
    fn a_character_split_across_fragments_is_valid_utf8() {
        let word = "é".as_bytes();
        let mut bytes = client_frame(false, TEXT, &word[..1], MASK);
        bytes.extend(client_frame(true, CONTINUATION, &word[1..], MASK));
        assert_eq!(one(&bytes).unwrap(), vec![Incoming::Text("é".into())]);
    }

    #[test]
    fn each_violation_gets_the_close_code_the_rfc_names() {
        let cases: Vec<(Vec<u8>, u16)> = vec![
            (vec![0x81, 0x00], close_code::PROTOCOL_ERROR), // unmasked
            (
                {
                    let mut f = client_frame(true, TEXT, b"x", MASK);
                    f[0] |= 0x40; // RSV1
                    f
                },
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(true, 0x3, b"", MASK),
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(true, 0xB, b"", MASK),
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(false, PING, b"", MASK),
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(true, PING, &[0; 126], MASK),
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(true, CONTINUATION, b"x", MASK),
                close_code::PROTOCOL_ERROR,
            ),
            (
                {
                    let mut f = client_frame(false, TEXT, b"a", MASK);
                    f.extend(client_frame(true, TEXT, b"b", MASK));
                    f
                },
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(true, CLOSE, b"\x03", MASK),
                close_code::PROTOCOL_ERROR,
            ),
            (
                client_frame(true, CLOSE, b"\x03\xed", MASK),
                close_code::PROTOCOL_ERROR,
            ), // 1005
            (
                client_frame(true, CLOSE, b"\x03\xe8\xff", MASK),
                close_code::INVALID_DATA,
            ),
            (
                client_frame(true, TEXT, &[0xff, 0xfe], MASK),
                close_code::INVALID_DATA,
            ),
        ];
        for (bytes, code) in cases {
            let err = one(&bytes).expect_err("a violation");
            assert_eq!(err.code, code, "{bytes:x?}: {}", err.reason);
        }
    }

    #[test]
    fn a_message_over_the_limit_is_refused_from_its_header_alone() {
        let mut reader = Reader::new(100, false);
        let frame = client_frame(true, TEXT, &[b'a'; 101], MASK);
        assert_eq!(reader.decode(&mut frame[..4].to_vec()), Err(TOO_BIG));
        // A huge 64-bit length too, without a payload.
        let mut huge = vec![0x81, 0x80 | 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(Reader::new(100, false).decode(&mut huge), Err(TOO_BIG));
        // Fragments count together.
        let mut bytes = client_frame(false, TEXT, &[b'a'; 60], MASK);
        bytes.extend(client_frame(true, CONTINUATION, &[b'a'; 41], MASK));
        assert_eq!(
            read_all(&mut Reader::new(100, false), &bytes, 1000),
            Err(TOO_BIG)
        );
        // Exactly at the limit is fine.
        let at = client_frame(true, TEXT, &[b'a'; 100], MASK);
        assert!(read_all(&mut Reader::new(100, false), &at, 1000).is_ok());
    }

    /// A compressed client message's first frame (RSV1 set).
    fn compressed_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut frame = client_frame(fin, opcode, payload, MASK);
        frame[0] |= COMPRESSED;
        frame
    }

    fn inflating(bytes: &[u8]) -> Result<Vec<Incoming>, Violation> {
        read_all(&mut Reader::new(1 << 16, true), bytes, bytes.len())
    }

    /// RFC 7692 §7.2.3.1: "Hello" compressed, in one frame.
    const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

    #[test]
    fn a_compressed_header_sets_rsv1_as_in_the_rfc_example() {
        assert_eq!(Header::compressed(TEXT, 7).as_slice(), [0xc1, 0x07]);
    }

    #[test]
    fn compressed_messages_are_inflated_whole_or_in_fragments() {
        let mut bytes = compressed_frame(true, TEXT, &HELLO);
        bytes.extend(client_frame(true, TEXT, b"plain", MASK));
        // §7.2.3.1's fragmented form: RSV1 on the first frame only.
        bytes.extend(compressed_frame(false, TEXT, &HELLO[..3]));
        bytes.extend(client_frame(true, PING, b"", MASK));
        bytes.extend(client_frame(true, CONTINUATION, &HELLO[3..], MASK));
        let long = "{\"type\":\"add\"}".repeat(50);
        bytes.extend(compressed_frame(
            true,
            TEXT,
            &deflate::compress(long.as_bytes()).unwrap(),
        ));
        assert_eq!(
            inflating(&bytes).unwrap(),
            vec![
                Incoming::Text("Hello".into()),
                Incoming::Text("plain".into()),
                Incoming::Ping(Bytes::new()),
                Incoming::Text("Hello".into()),
                Incoming::Text(long),
            ]
        );
    }

    #[test]
    fn compression_violations_get_the_close_code_the_rfcs_name() {
        let zeros = deflate::compress(&[b' '; 1 << 20]).unwrap();
        let cases: Vec<(Vec<u8>, u16)> = vec![
            // RSV1 on a continuation frame.
            (
                {
                    let mut f = compressed_frame(false, TEXT, &HELLO[..3]);
                    f.extend(compressed_frame(true, CONTINUATION, &HELLO[3..]));
                    f
                },
                close_code::PROTOCOL_ERROR,
            ),
            // RSV1 on control frames.
            (
                compressed_frame(true, PING, b""),
                close_code::PROTOCOL_ERROR,
            ),
            (
                compressed_frame(true, CLOSE, b"\x03\xe8"),
                close_code::PROTOCOL_ERROR,
            ),
            // RSV2 and RSV3 stay reserved.
            (
                {
                    let mut f = client_frame(true, TEXT, b"x", MASK);
                    f[0] |= 0x20;
                    f
                },
                close_code::PROTOCOL_ERROR,
            ),
            // A bomb: 1 MiB of spaces in under 8 KB, inflating past 64 KiB.
            (compressed_frame(true, TEXT, &zeros), close_code::TOO_BIG),
            // Not DEFLATE.
            (
                compressed_frame(true, TEXT, &[0xff, 0xff, 0xff]),
                close_code::INVALID_DATA,
            ),
            // DEFLATE of bytes that are not UTF-8.
            (
                compressed_frame(true, TEXT, &[0x00, 0x02, 0x00, 0xfd, 0xff, 0xff, 0xfe]),
                close_code::INVALID_DATA,
            ),
        ];
        assert!(zeros.len() < 8_000, "{}", zeros.len());
        for (bytes, code) in cases {
            let err = inflating(&bytes).expect_err("a violation");
            assert_eq!(err.code, code, "{bytes:x?}: {}", err.reason);
        }
    }

    proptest! {
        #[test]
        fn any_split_of_the_bytes_reads_the_same_messages(
            texts in proptest::collection::vec(".{0,300}", 1..6),
            fragment in 1usize..50,
            chunk in 1usize..64,
            mask in any::<[u8; 4]>(),
        ) {
            let mut bytes = Vec::new();
            for text in &texts {
                let pieces: Vec<&[u8]> = text.as_bytes().chunks(fragment).collect();
                if pieces.is_empty() {
                    bytes.extend(client_frame(true, TEXT, b"", mask));
                }
                for (i, piece) in pieces.iter().enumerate() {
                    let opcode = if i == 0 { TEXT } else { CONTINUATION };
                    bytes.extend(client_frame(i + 1 == pieces.len(), opcode, piece, mask));
                }
            }
            let read = read_all(&mut Reader::new(1 << 20, false), &bytes, chunk).unwrap();
            let expected: Vec<Incoming> = texts.into_iter().map(Incoming::Text).collect();
            prop_assert_eq!(read, expected);
        }

        #[test]
        fn any_split_of_compressed_messages_reads_the_same_texts(
            texts in proptest::collection::vec("[a-z ]{0,2000}", 1..4),
            fragment in 1usize..200,
            chunk in 1usize..512,
        ) {
            let mut bytes = Vec::new();
            for text in &texts {
                let packed = deflate::compress(text.as_bytes());
                let payload = packed.as_deref().unwrap_or(text.as_bytes());
                let pieces: Vec<&[u8]> = payload.chunks(fragment).collect();
                if pieces.is_empty() {
                    bytes.extend(client_frame(true, TEXT, b"", MASK));
                }
                for (i, piece) in pieces.iter().enumerate() {
                    let fin = i + 1 == pieces.len();
                    bytes.extend(match (i, &packed) {
                        (0, Some(_)) => compressed_frame(fin, TEXT, piece),
                        (0, None) => client_frame(fin, TEXT, piece, MASK),
                        _ => client_frame(fin, CONTINUATION, piece, MASK),
                    });
                }
            }
            let read = read_all(&mut Reader::new(1 << 16, true), &bytes, chunk).unwrap();
            let expected: Vec<Incoming> = texts.into_iter().map(Incoming::Text).collect();
            prop_assert_eq!(read, expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            inflate in any::<bool>(),
        ) {
            let mut reader = Reader::new(64, inflate);
            let mut buf = bytes;
            while let Ok(Decoded::Frame { used, .. }) = reader.decode(&mut buf) {
                buf.drain(..used);
            }
        }
    }
}
