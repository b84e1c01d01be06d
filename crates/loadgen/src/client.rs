//! One load-generating connection on tokio-tungstenite: connect, say hello,
//! wait for the snapshot. The writer and the reconnect storm use it; the
//! many watchers use the leaner [`crate::raw`] client.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use roster_protocol::v1::{ClientMessage, ServerMessage};
use roster_protocol::validate::RequestId;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Which protocol a watching client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    V1,
    Seed,
}

/// Something a watcher saw, and when.
#[derive(Clone, Copy, Debug)]
pub struct Arrival {
    /// The change's version (v1); 0 for a seed list frame.
    pub version: u64,
    pub at: Instant,
}

/// Why a connection could not be made.
#[derive(Debug)]
pub struct Failed(pub String);

/// Connects to `url` and, for v1, says hello and waits for the snapshot
/// (for seed, for the first list): the client is then in step.
pub async fn connect(url: &str, protocol: Protocol) -> Result<Socket, Failed> {
    let mut request = url
        .into_client_request()
        .map_err(|err| Failed(err.to_string()))?;
    if protocol == Protocol::V1 {
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(roster_protocol::SUBPROTOCOL),
        );
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|err| Failed(err.to_string()))?;
    if protocol == Protocol::V1 {
        let hello = ClientMessage::Hello {
            since: None,
            epoch: None,
            token: None,
        };
        ws.send(Message::text(hello.to_frame()))
            .await
            .map_err(|err| Failed(err.to_string()))?;
    }
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                if protocol == Protocol::Seed || text.as_str().starts_with(r#"{"type":"snapshot""#)
                {
                    return Ok(ws);
                }
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => return Err(Failed(err.to_string())),
            None => return Err(Failed("closed before the snapshot".into())),
        }
    }
}

/// The version of a `change` frame, read without decoding the whole frame
/// when it starts as Roster's server and the baseline write it.
pub(crate) fn change_version(frame: &str) -> Option<u64> {
    if let Some(rest) = frame.strip_prefix(r#"{"type":"change","version":"#) {
        let digits = rest.split(|c: char| !c.is_ascii_digit()).next()?;
        return digits.parse().ok();
    }
    match ServerMessage::decode(frame) {
        Ok(ServerMessage::Change(change)) => Some(change.version),
        _ => None,
    }
}

/// The viewer count of a `presence` frame.
pub fn presence_viewers(frame: &str) -> Option<u64> {
    match ServerMessage::decode(frame) {
        Ok(ServerMessage::Presence { viewers }) => Some(viewers),
        _ => None,
    }
}

/// An `add` frame with request id `id`.
pub fn add_frame(id: &str) -> Message {
    let request_id = RequestId::parse(id).expect("a valid request id");
    Message::text(
        ClientMessage::Add {
            request_id,
            name: None,
            email: None,
        }
        .to_frame(),
    )
}

/// The version an ack reports for `request_id`, if `frame` is that ack.
pub fn acked_version(frame: &str) -> Option<(String, u64)> {
    match ServerMessage::decode(frame) {
        Ok(ServerMessage::Ack(ack)) => Some((ack.request_id.to_string(), ack.version?)),
        _ => None,
    }
}
