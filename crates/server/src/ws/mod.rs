//! The WebSocket endpoint at `/api/v1/users/ws`.
//!
//! Before the upgrade: the Origin check (403) and the connection limit
//! (503). The subprotocol decides what is spoken: `roster.v1` when the
//! client offers it ([`v1`]), the seed protocol otherwise ([`seed`]).
//!
//! Each connection is a reader loop (the protocol module) and a writer task
//! joined by a bounded queue ([`Outbound`]). A burst that fills the queue
//! only makes the loop wait (and stop reading that client); a client whose
//! queue stays full for `--send-timeout-ms` is not reading and is dropped,
//! so it costs at most `--send-queue` shared frames of memory.

mod seed;
mod v1;

use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use roster_protocol::SUBPROTOCOL;
use tokio::sync::mpsc;
use tokio::sync::OwnedSemaphorePermit;

use crate::limits::origin_allowed;
use crate::metrics::{Protocol, Refusal};
use crate::AppState;

/// Bytes each connection reads from its socket at a time. Client frames
/// are a few hundred bytes; a larger one is read in several steps.
/// tungstenite's 128 KiB default would dominate an idle connection's
/// memory, and 4 KiB still did: idle connections measured 11.0 KB each at
/// 4 KiB and 7.9 KB at 1 KiB (10,000 of them, `roster-loadgen idle-memory`).
const READ_BUFFER_BYTES: usize = 1024;

/// How long a closing connection's writer may take to send what is queued.
const WRITER_DRAIN: Duration = Duration::from_secs(2);

/// Checks the limits, then upgrades and hands the socket to its protocol.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    headers: HeaderMap,
    State(state): State<AppState>,
) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !origin_allowed(origin, host, &state.config.allowed_origins) {
        state.metrics.refused(Refusal::Origin);
        tracing::warn!(origin, "websocket refused: origin not allowed");
        return (
            StatusCode::FORBIDDEN,
            format!(
                "origin {} may not open a Roster socket; start the server with --allowed-origin to allow it\n",
                origin.unwrap_or_default()
            ),
        )
            .into_response();
    }
    let Ok(slot) = state.slots.clone().try_acquire_owned() else {
        state.metrics.refused(Refusal::Capacity);
        tracing::warn!(
            max = state.config.max_connections,
            "websocket refused: connection limit reached"
        );
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "the server has reached its connection limit; try again shortly\n",
        )
            .into_response();
    };
    let ws = ws.protocols([SUBPROTOCOL]);
    let protocol = if ws.selected_protocol().is_some() {
        Protocol::V1
    } else {
        Protocol::Seed
    };
    let max = state.config.max_frame_bytes;
    let sockets = state.sockets.clone();
    ws.read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(max)
        .max_frame_size(max)
        .on_failed_upgrade(|err| tracing::warn!(%err, "websocket upgrade failed"))
        .on_upgrade(move |socket| sockets.track_future(serve(socket, state, protocol, slot)))
}

/// How a protocol loop ended, and so how the connection closes.
pub enum Ending {
    /// Send this close frame, then stop.
    Close(u16, &'static str),
    /// The client went away or the socket failed: nothing more to send.
    Gone,
    /// The client stopped reading and its queue is full: drop the TCP
    /// connection (a close frame could not reach a client that does not
    /// read).
    SlowConsumer,
}

/// The bounded queue of frames waiting for the writer task.
pub struct Outbound {
    queue: mpsc::Sender<Message>,
    /// How long a full queue may stay full before the client counts as
    /// not reading.
    patience: Duration,
}

/// The queue stayed full for the whole send timeout (the client is not
/// reading), or the writer has stopped.
#[derive(Debug)]
pub struct Stalled;

impl Outbound {
    /// Queues `frame`, waiting while the queue is full, up to the send
    /// timeout. While it waits, nothing more is read from this client:
    /// a client that does not read is not listened to either.
    pub async fn push(&self, frame: Message) -> Result<(), Stalled> {
        match self.queue.try_send(frame) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Stalled),
            Err(mpsc::error::TrySendError::Full(frame)) => {
                match tokio::time::timeout(self.patience, self.queue.reserve()).await {
                    Ok(Ok(permit)) => {
                        permit.send(frame);
                        Ok(())
                    }
                    _ => Err(Stalled),
                }
            }
        }
    }

    pub async fn text(&self, frame: impl Into<Utf8Bytes>) -> Result<(), Stalled> {
        self.push(Message::Text(frame.into())).await
    }

    /// Queues a close frame if there is room; a client that is not reading
    /// would never see it anyway.
    fn close(&self, frame: CloseFrame) {
        let _ = self.queue.try_send(Message::Close(Some(frame)));
    }
}

/// Owns one connection from upgrade to close.
async fn serve(
    socket: WebSocket,
    state: AppState,
    protocol: Protocol,
    _slot: OwnedSemaphorePermit,
) {
    let _gauge = state.metrics.connection_opened(protocol);
    let _viewer = state.presence.join();
    tracing::debug!(protocol = protocol.as_str(), "socket opened");
    let (sink, stream) = futures_util::StreamExt::split(socket);
    let (queue, pending) = mpsc::channel(state.config.send_queue.max(1));
    let outbound = Outbound {
        queue,
        patience: Duration::from_millis(state.config.send_timeout_ms),
    };
    let writer = tokio::spawn(write_frames(sink, pending, state.clone(), protocol));
    let ending = match protocol {
        Protocol::Seed => seed::serve(stream, &outbound, &state).await,
        Protocol::V1 => v1::serve(stream, &outbound, &state).await,
    };
    match ending {
        Ending::Close(code, reason) => {
            tracing::debug!(code, reason, "closing socket");
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            outbound.close(frame);
        }
        Ending::Gone => {}
        Ending::SlowConsumer => {
            state.metrics.refused(Refusal::SlowConsumer);
            tracing::warn!(
                queue = state.config.send_queue,
                timeout_ms = state.config.send_timeout_ms,
                "dropping a client that stopped reading (send queue stayed full)"
            );
            writer.abort();
        }
    }
    drop(outbound);
    let _ = tokio::time::timeout(WRITER_DRAIN, writer).await;
    tracing::debug!(protocol = protocol.as_str(), "socket closed");
}

/// Writes queued frames in order until the queue closes, a close frame is
/// written, or the socket fails.
async fn write_frames(
    mut sink: SplitSink<WebSocket, Message>,
    mut pending: mpsc::Receiver<Message>,
    state: AppState,
    protocol: Protocol,
) {
    while let Some(frame) = pending.recv().await {
        let closing = matches!(frame, Message::Close(_));
        if sink.send(frame).await.is_err() {
            return;
        }
        state.metrics.frame_out(protocol);
        if closing {
            return;
        }
    }
    let _ = sink.close().await;
}

/// What a read error means for the connection: an oversize frame is
/// answered with 1009 (message too big), anything else means it is gone.
pub fn read_failed(err: &axum::Error, state: &AppState) -> Ending {
    let too_big = std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|err| matches!(err, tungstenite::Error::Capacity(_)));
    if too_big {
        state.metrics.refused(Refusal::FrameTooLarge);
        state
            .metrics
            .error(&roster_protocol::v1::ErrorCode::FrameTooLarge);
        tracing::warn!(
            max = state.config.max_frame_bytes,
            "closing socket: frame too large"
        );
        return Ending::Close(close_code::SIZE, "frame too large");
    }
    Ending::Gone
}
