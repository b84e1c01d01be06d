//! permessage-deflate (RFC 7692) from a raw TCP client that offers it as a
//! browser does: the handshake's answer, compressed frames both ways (read
//! and written here with flate2, not the server's codec), small frames
//! left plain, a compression bomb refused, the seed protocol compressed
//! too, and the switch that turns it off.

use std::io::{Read, Write};

use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use roster_protocol::v1::ServerMessage;
use roster_server::Config;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::framing::{masked, read_frame_whole, upgrade_on};
use crate::helpers::TestApp;

/// What Chromium and Firefox send.
const BROWSER_OFFER: &str =
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";

/// A server frame as read: whether RSV1 (compressed) was set, the opcode
/// and the payload as the application sees it (inflated).
#[derive(Debug)]
struct Frame {
    compressed: bool,
    opcode: u8,
    wire_len: usize,
    payload: Vec<u8>,
}

impl Frame {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.payload).expect("UTF-8")
    }
}

/// Reads until the server's close frame; its code.
async fn close_code(stream: &mut TcpStream) -> u16 {
    loop {
        let frame = next_frame(stream).await;
        if frame.opcode == 0x8 {
            return u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
        }
    }
}

async fn next_frame(stream: &mut TcpStream) -> Frame {
    let (first, payload) = read_frame_whole(stream).await;
    assert_eq!(first & 0xB0, 0x80, "FIN set, RSV2 and RSV3 clear");
    let compressed = first & 0x40 != 0;
    let wire_len = payload.len();
    let payload = if compressed {
        let mut with_tail = payload;
        with_tail.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out = Vec::new();
        // The tail is an unfinished stream's end: read what inflates.
        let mut decoder = DeflateDecoder::new(&with_tail[..]);
        let mut chunk = [0; 8192];
        loop {
            match decoder.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(err) => panic!("the server's compressed frame does not inflate: {err}"),
            }
        }
        out
    } else {
        payload
    };
    Frame {
        compressed,
        opcode: first & 0x0F,
        wire_len,
        payload,
    }
}

/// A client text frame, compressed (RSV1) as one final DEFLATE block.
fn compressed_text(text: &str) -> Vec<u8> {
    let mut encoder = DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    masked(0xC1, &encoder.finish().unwrap())
}

/// Connects offering roster.v1 and `offer`; the `101`'s head.
async fn connect(app: &TestApp, offer: &str) -> (TcpStream, String) {
    let addr = app.addr.to_string();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = upgrade_on(
        &mut stream,
        &addr,
        &format!("Sec-WebSocket-Protocol: roster.v1\r\n{offer}"),
    )
    .await;
    (stream, head.to_ascii_lowercase())
}

/// Says hello (compressed when `compress`) and reads up to the snapshot.
async fn greet(stream: &mut TcpStream, compress: bool) -> Frame {
    let hello = r#"{"type":"hello"}"#;
    let frame = if compress {
        compressed_text(hello)
    } else {
        masked(0x81, hello.as_bytes())
    };
    stream.write_all(&frame).await.unwrap();
    loop {
        let frame = next_frame(stream).await;
        if frame.text().starts_with(r#"{"type":"snapshot""#) {
            return frame;
        }
    }
}

fn with_users(users: usize) -> Config {
    Config {
        demo_users: users,
        ..Config::default()
    }
}

#[tokio::test]
async fn a_browsers_offer_gets_the_snapshot_compressed_to_a_sixth_and_the_same_list() {
    let app = TestApp::spawn_with(with_users(10_000)).await;
    let (mut plain, head) = connect(&app, "").await;
    assert!(!head.contains("sec-websocket-extensions"), "{head}");
    let (mut packed, head) = connect(&app, BROWSER_OFFER).await;
    assert!(
        head.contains(
            "sec-websocket-extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"
        ),
        "{head}"
    );
    let expected = greet(&mut plain, false).await;
    assert!(!expected.compressed);
    let snapshot = greet(&mut packed, true).await;
    assert!(snapshot.compressed && snapshot.opcode == 0x1);
    assert_eq!(snapshot.text(), expected.text());
    let ServerMessage::Snapshot { users, .. } = ServerMessage::decode(snapshot.text()).unwrap()
    else {
        panic!("a snapshot");
    };
    assert_eq!(users.len(), 10_000);
    eprintln!(
        "snapshot of 10,000: {} bytes plain, {} compressed",
        expected.wire_len, snapshot.wire_len
    );
    assert!(
        snapshot.wire_len * 6 <= expected.wire_len,
        "{} bytes compressed, {} plain",
        snapshot.wire_len,
        expected.wire_len
    );
}

#[tokio::test]
async fn a_compressed_add_is_stored_and_its_small_answers_go_plain() {
    let app = TestApp::spawn().await;
    let (mut stream, _) = connect(&app, BROWSER_OFFER).await;
    greet(&mut stream, true).await;
    stream
        .write_all(&compressed_text(
            r#"{"type":"add","request_id":"r1","user":{"name":"Ada Lovelace","email":"ada@example.com"}}"#,
        ))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let frame = next_frame(&mut stream).await;
        match ServerMessage::decode(frame.text()).unwrap() {
            ServerMessage::Ack(_) | ServerMessage::Change(_) => {
                assert!(
                    !frame.compressed,
                    "{} bytes: below the threshold",
                    frame.wire_len
                );
                seen.push(frame.text().to_owned());
            }
            _ => {}
        }
    }
    let users = app.users().await;
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "Ada Lovelace");
}

#[tokio::test]
async fn a_compression_bomb_is_refused_with_1009_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let (mut stream, _) = connect(&app, BROWSER_OFFER).await;
    greet(&mut stream, true).await;
    // 10 MiB of spaces inside an add: a few kilobytes on the wire, far
    // over the 64 KiB limit once inflated.
    let bomb = format!(
        r#"{{"type":"add","request_id":"r1","user":{{"name":"{}","email":"a@b.c"}}}}"#,
        " ".repeat(10 << 20)
    );
    let frame = compressed_text(&bomb);
    assert!(frame.len() < 64 * 1024, "{}", frame.len());
    stream.write_all(&frame).await.unwrap();
    assert_eq!(close_code(&mut stream).await, 1009);
    assert!(app.users().await.is_empty());
}

#[tokio::test]
async fn a_compressed_frame_that_is_not_deflate_is_refused_with_1007() {
    let app = TestApp::spawn().await;
    let (mut stream, _) = connect(&app, BROWSER_OFFER).await;
    greet(&mut stream, true).await;
    stream.write_all(&masked(0xC1, &[0xff; 20])).await.unwrap();
    assert_eq!(close_code(&mut stream).await, 1007);
}

#[tokio::test]
async fn seed_clients_that_offer_it_get_their_lists_compressed() {
    let app = TestApp::spawn_with(with_users(100)).await;
    let addr = app.addr.to_string();
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    let head = upgrade_on(&mut stream, &addr, BROWSER_OFFER).await;
    assert!(
        head.to_ascii_lowercase().contains("permessage-deflate"),
        "{head}"
    );
    let list = next_frame(&mut stream).await;
    assert!(list.compressed);
    let users: Vec<roster_protocol::User> =
        roster_protocol::seed::decode_user_list(list.text()).unwrap();
    assert_eq!(users.len(), 100);
}

#[tokio::test]
async fn turned_off_no_extension_is_agreed_and_frames_go_plain() {
    let app = TestApp::spawn_with(Config {
        permessage_deflate: false,
        ..with_users(100)
    })
    .await;
    let (mut stream, head) = connect(&app, BROWSER_OFFER).await;
    assert!(!head.contains("sec-websocket-extensions"), "{head}");
    let snapshot = greet(&mut stream, false).await;
    assert!(!snapshot.compressed);
    // And a compressed frame is then a protocol error (RSV1 unagreed).
    stream
        .write_all(&compressed_text(r#"{"type":"ping"}"#))
        .await
        .unwrap();
    assert_eq!(close_code(&mut stream).await, 1002);
}
