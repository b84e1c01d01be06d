//! A watching client with as little client-side cost as possible: its own
//! handshake and frame reading on a plain `TcpStream`, a 4 KiB buffer, and
//! only the change's version read out of each frame.
//!
//! Why not tokio-tungstenite, as the writer uses: with 10,000 watchers on
//! the same two cores as the server, the load generator spent as much CPU
//! as the server it measured (`/usr/bin/time` around `sustained` at 10,000
//! clients: 23.3 s of CPU against the server's 21.3 s), so the figures
//! were the load generator's, whichever server ran. Every byte here is
//! still checked: a frame the server should not send ends the scenario
//! with an error.
//!
//! A watcher may offer permessage-deflate as browsers do; compressed
//! frames are then inflated (each from an empty window, as the server
//! agrees to no context takeover) and their size on the wire kept.

use std::time::Instant;

use roster_protocol::auth::Token;
use roster_protocol::v1::ClientMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::client::{change_version, Arrival, Failed, Protocol};

/// Bytes read per call; frames larger than this grow the buffer.
const READ_CHUNK: usize = 4096;

/// A connected watcher that is in step (has its snapshot or first list).
pub struct Watcher {
    stream: TcpStream,
    /// Bytes read but not yet parsed.
    buf: Vec<u8>,
    protocol: Protocol,
    /// The server agreed to permessage-deflate.
    pub deflate: bool,
    /// The snapshot's (v1) or first list's (seed) payload on the wire.
    pub snapshot_wire_bytes: usize,
}

/// A whole server frame: its opcode and payload.
struct Frame<'a> {
    opcode: u8,
    /// RSV1: compressed with permessage-deflate.
    compressed: bool,
    payload: &'a [u8],
}

fn failed(what: impl std::fmt::Display) -> Failed {
    Failed(what.to_string())
}

/// `ws://host:port/path` as `(host:port, /path)`.
fn split_url(url: &str) -> Result<(&str, &str), Failed> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| failed(format!("{url}: only ws:// URLs are supported")))?;
    Ok(match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    })
}

/// The frame at the front of `buf` and its length, if it has all arrived.
fn parse(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, Failed> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    if first & 0x80 == 0 || second & 0x80 != 0 {
        return Err(failed("the server sent a fragmented or masked frame"));
    }
    if first & 0x30 != 0 {
        return Err(failed("the server set RSV2 or RSV3"));
    }
    let (len, start) = match second & 0x7F {
        126 => match buf.get(2..4) {
            Some(b) => (usize::from(u16::from_be_bytes([b[0], b[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(b) => (
                usize::try_from(u64::from_be_bytes(b.try_into().expect("8 bytes")))
                    .map_err(failed)?,
                10,
            ),
            None => return Ok(None),
        },
        short => (usize::from(short), 2),
    };
    Ok(buf.get(start..start + len).map(|payload| {
        (
            Frame {
                opcode: first & 0x0F,
                compressed: first & 0x40 != 0,
                payload,
            },
            start + len,
        )
    }))
}

/// Largest message a raw watcher inflates: far above any snapshot the
/// benchmarks send (100,000 users are about 8 MB), so that only a broken
/// frame stops it.
const MAX_MESSAGE: usize = 1 << 30;

/// A compressed message's payload, inflated (RFC 7692 §7.2.2), with the
/// server's own codec.
fn inflate(payload: &[u8]) -> Result<Vec<u8>, Failed> {
    roster_protocol::deflate::inflate(payload, MAX_MESSAGE)
        .map_err(|err| failed(format!("a compressed frame does not inflate: {err:?}")))
}

/// A masked client text frame.
fn text_frame(text: &str) -> Vec<u8> {
    let mask = [0x5a, 0x17, 0xc3, 0x08];
    let mut frame = vec![0x81];
    match text.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&u16::try_from(n).expect("a short frame").to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(text.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

impl Watcher {
    /// Connects, says hello (v1), and reads until the client is in step.
    /// With `deflate`, offers permessage-deflate as browsers do.
    pub async fn connect(url: &str, protocol: Protocol, deflate: bool) -> Result<Self, Failed> {
        Self::connect_with(url, protocol, None, deflate).await
    }

    /// [`Watcher::connect`], presenting `token` in `hello`.
    pub async fn connect_with(
        url: &str,
        protocol: Protocol,
        token: Option<Token>,
        deflate: bool,
    ) -> Result<Self, Failed> {
        let (host, path) = split_url(url)?;
        let mut stream = TcpStream::connect(host).await.map_err(failed)?;
        stream.set_nodelay(true).map_err(failed)?;
        let subprotocol = match protocol {
            Protocol::V1 => format!(
                "Sec-WebSocket-Protocol: {}\r\n",
                roster_protocol::SUBPROTOCOL
            ),
            Protocol::Seed => String::new(),
        };
        let extension = if deflate {
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
        } else {
            ""
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{subprotocol}{extension}\r\n"
        );
        stream.write_all(request.as_bytes()).await.map_err(failed)?;
        let mut watcher = Self {
            stream,
            buf: Vec::with_capacity(READ_CHUNK),
            protocol,
            deflate: false,
            snapshot_wire_bytes: 0,
        };
        let end = loop {
            if let Some(at) = watcher.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if !watcher.read().await? {
                return Err(failed("closed during the handshake"));
            }
        };
        let head = String::from_utf8_lossy(&watcher.buf[..end]).to_ascii_lowercase();
        if !head.starts_with("http/1.1 101") {
            return Err(failed(format!("handshake refused: {head}")));
        }
        watcher.deflate = head.contains("sec-websocket-extensions: permessage-deflate");
        watcher.buf.drain(..end);
        if protocol == Protocol::V1 {
            let hello = ClientMessage::Hello {
                since: None,
                epoch: None,
                token,
            };
            let frame = text_frame(&hello.to_frame());
            watcher.stream.write_all(&frame).await.map_err(failed)?;
        }
        loop {
            let in_step = match watcher.next_text().await? {
                Some((text, wire_bytes)) => {
                    watcher.snapshot_wire_bytes = wire_bytes;
                    protocol == Protocol::Seed || text.starts_with(br#"{"type":"snapshot""#)
                }
                None => return Err(failed("closed before the snapshot")),
            };
            if in_step {
                return Ok(watcher);
            }
        }
    }

    /// Reads until the connection ends, sending each change (v1) or list
    /// frame (seed) to `arrivals` with the moment it was read.
    pub async fn watch(mut self, arrivals: mpsc::UnboundedSender<Arrival>) {
        loop {
            let version = match self.next_text().await {
                Ok(Some((text, _))) => match self.protocol {
                    Protocol::Seed => Some(0),
                    Protocol::V1 => std::str::from_utf8(&text).ok().and_then(change_version),
                },
                Ok(None) | Err(_) => return,
            };
            let Some(version) = version else { continue };
            let at = Instant::now();
            if arrivals.send(Arrival { version, at }).is_err() {
                return;
            }
        }
    }

    /// The next text frame's payload (inflated) and its length on the
    /// wire; `None` once the connection ends.
    async fn next_text(&mut self) -> Result<Option<(Vec<u8>, usize)>, Failed> {
        loop {
            if let Some((frame, used)) = parse(&self.buf)? {
                if frame.compressed && !(self.deflate && frame.opcode == 0x1) {
                    return Err(failed("RSV1 set on a frame that may not be compressed"));
                }
                let text = match (frame.opcode, frame.compressed) {
                    (0x1, true) => Some((inflate(frame.payload)?, frame.payload.len())),
                    (0x1, false) => Some((frame.payload.to_vec(), frame.payload.len())),
                    _ => None,
                };
                let close = frame.opcode == 0x8;
                self.buf.drain(..used);
                if close {
                    return Ok(None);
                }
                if text.is_some() {
                    return Ok(text);
                }
                continue;
            }
            if !self.read().await? {
                return Ok(None);
            }
        }
    }

    /// Reads more onto the buffer; `false` at the end of the stream.
    async fn read(&mut self) -> Result<bool, Failed> {
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        let n = self.stream.read_buf(&mut self.buf).await.map_err(failed)?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_of_each_length_form_are_found_whole_or_not_at_all() {
        let mut bytes = vec![0x81, 3, b'a', b'b', b'c'];
        bytes.extend([0x81, 126, 0, 200]);
        bytes.extend([b'x'; 200]);
        let (frame, used) = parse(&bytes).unwrap().unwrap();
        assert_eq!((frame.opcode, frame.payload, used), (1, &b"abc"[..], 5));
        assert!(!frame.compressed);
        let (frame, used) = parse(&bytes[5..]).unwrap().unwrap();
        assert_eq!((frame.payload.len(), used), (200, 204));
        assert!(parse(&bytes[5..100]).unwrap().is_none());
        assert!(parse(&bytes[..1]).unwrap().is_none());
        assert!(parse(&[0x01, 0]).is_err(), "fragment");
        assert!(parse(&[0x81, 0x80]).is_err(), "masked");
        assert!(parse(&[0xA1, 0]).is_err(), "RSV2");
        assert!(parse(&[0xC1, 0]).unwrap().unwrap().0.compressed);
    }

    #[test]
    fn compressed_payloads_inflate_as_the_rfc_example_does() {
        // RFC 7692 §7.2.3.1: "Hello".
        let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(inflate(&hello).unwrap(), b"Hello");
        assert!(inflate(&[0xff, 0xff]).is_err());
    }

    #[test]
    fn urls_split_into_address_and_path() {
        assert_eq!(
            split_url("ws://127.0.0.1:9/api/v1/users/ws").unwrap(),
            ("127.0.0.1:9", "/api/v1/users/ws")
        );
        assert_eq!(split_url("ws://h:1").unwrap(), ("h:1", "/"));
        assert!(split_url("wss://h:1/").is_err());
    }
}
