//! The WebSocket endpoint at `/api/v1/users/ws`, speaking the seed protocol:
//! the whole list on connect and after every change; `__addUser__` and
//! `__removeUser__` from clients; everything else ignored without a reply.

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use roster_protocol::SeedCommand;

use crate::AppState;

/// The largest frame or message a client may send. Seed commands are a few
/// bytes; anything near this is a mistake or an attack, and the connection
/// is closed with 1009 (too big) by the WebSocket layer.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Upgrades the request and hands the socket to [`serve_socket`], tracked so
/// that shutdown can wait for it to close.
pub async fn upgrade(ws: WebSocketUpgrade, State(state): State<AppState>) -> Response {
    let sockets = state.sockets.clone();
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_failed_upgrade(|err| tracing::warn!(%err, "websocket upgrade failed"))
        .on_upgrade(move |socket| sockets.track_future(serve_socket(socket, state)))
}

/// Owns one connection from its first frame to its close.
async fn serve_socket(mut socket: WebSocket, state: AppState) {
    let mut snapshots = state.roster.subscribe();
    let first = snapshots.borrow_and_update().clone();
    tracing::debug!("socket opened");
    if socket.send(Message::Text(first)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => {
                let goodbye = CloseFrame { code: close_code::AWAY, reason: "server shutting down".into() };
                let _ = socket.send(Message::Close(Some(goodbye))).await;
                break;
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
                let frame = snapshots.borrow_and_update().clone();
                if socket.send(Message::Text(frame)).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(command) = SeedCommand::parse(text.as_str()) {
                        state.roster.apply(command);
                    }
                }
                // Binary frames, pings and pongs change nothing; tungstenite
                // answers pings by itself.
                Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(err)) => {
                    tracing::debug!(%err, "socket error");
                    break;
                }
            },
        }
    }
    tracing::debug!("socket closed");
}
