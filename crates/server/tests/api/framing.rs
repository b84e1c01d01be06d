//! The server's own WebSocket framing, byte by byte, from a raw TCP
//! client: what a browser or tungstenite never sends, but a hostile or
//! broken peer may.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, PATIENCE};

/// A seed-protocol connection after the handshake, its first list read.
pub async fn raw_socket(app: &TestApp) -> TcpStream {
    let mut stream = raw_upgrade(&app.addr.to_string(), None, None).await;
    assert_eq!(read_frame(&mut stream).await, (0x1, b"[]".to_vec()));
    stream
}

/// A raw TCP connection to `addr` after a WebSocket handshake offering
/// `protocol`, with a receive buffer of `receive_buffer` bytes if given.
pub async fn raw_upgrade(
    addr: &str,
    protocol: Option<&str>,
    receive_buffer: Option<u32>,
) -> TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes).unwrap();
    }
    let mut stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    let offer = protocol.map_or(String::new(), |p| {
        format!("Sec-WebSocket-Protocol: {p}\r\n")
    });
    upgrade_on(&mut stream, addr, &offer).await;
    stream
}

/// Sends the handshake on `stream` with `headers` (whole lines) added;
/// checks the `101` and returns its head.
pub async fn upgrade_on(stream: &mut TcpStream, addr: &str, headers: &str) -> String {
    let request = format!(
        "GET /api/v1/users/ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "{head}");
    head
}

/// The next server frame: its opcode and payload (server frames are
/// whole and unmasked).
pub async fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let (first, payload) = read_frame_whole(stream).await;
    assert_eq!(first & 0xF0, 0x80, "FIN set, no reserved bits");
    (first & 0x0F, payload)
}

/// The next server frame: its first byte (FIN, reserved bits, opcode)
/// and payload.
pub async fn read_frame_whole(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    tokio::time::timeout(PATIENCE, async {
        let first = stream.read_u8().await.unwrap();
        let len = match stream.read_u8().await.unwrap() {
            126 => usize::from(stream.read_u16().await.unwrap()),
            127 => stream.read_u64().await.unwrap() as usize,
            short => usize::from(short),
        };
        let mut payload = vec![0; len];
        stream.read_exact(&mut payload).await.unwrap();
        (first, payload)
    })
    .await
    .expect("a frame in time")
}

/// A masked client frame with `first` as its first byte, in the
/// shortest length form.
pub fn masked(first: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [9, 8, 7, 6];
    let mut frame = vec![first];
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n => match u16::try_from(n) {
            Ok(short) => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&short.to_be_bytes());
            }
            Err(_) => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        },
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Sends `bytes`, then expects a close frame with `code` and the end of
/// the connection.
async fn closes_with(app: &TestApp, bytes: &[u8], code: u16) {
    let mut stream = raw_socket(app).await;
    stream.write_all(bytes).await.unwrap();
    let (opcode, payload) = read_frame(&mut stream).await;
    assert_eq!(opcode, 0x8, "a close frame");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
    // The client's close answer ends it.
    stream
        .write_all(&masked(0x88, &payload[..2]))
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "the server ended the connection"
    );
}

#[tokio::test]
async fn a_ping_gets_a_pong_with_its_payload_even_when_split_across_writes() {
    let app = TestApp::spawn().await;
    let mut stream = raw_socket(&app).await;
    let ping = masked(0x89, b"hello");
    for byte in &ping {
        stream.write_all(&[*byte]).await.unwrap();
        stream.flush().await.unwrap();
    }
    assert_eq!(read_frame(&mut stream).await, (0xA, b"hello".to_vec()));
}

#[tokio::test]
async fn broken_frames_close_with_the_code_the_rfc_names_and_others_carry_on() {
    let app = TestApp::spawn().await;
    // Unmasked.
    closes_with(&app, &[0x81, 0x01, b'x'], 1002).await;
    // An opcode that does not exist.
    closes_with(&app, &masked(0x83, b""), 1002).await;
    // A continuation with no message to continue.
    closes_with(&app, &masked(0x80, b"x"), 1002).await;
    // Text that is not UTF-8.
    closes_with(&app, &masked(0x81, &[0xC3, 0x28]), 1007).await;
    // Bigger than --max-frame-bytes, refused from the header alone.
    let mut huge = vec![0x81, 0x80 | 127];
    huge.extend_from_slice(&(1u64 << 40).to_be_bytes());
    huge.extend_from_slice(&[0, 0, 0, 0]);
    closes_with(&app, &huge, 1009).await;
    // The server still serves.
    let mut fine = raw_socket(&app).await;
    fine.write_all(&masked(0x81, br#"__addUser__"#))
        .await
        .unwrap();
    let (opcode, list) = read_frame(&mut fine).await;
    assert_eq!(opcode, 0x1);
    assert!(String::from_utf8(list).unwrap().contains(r#""id":"1""#));
}
