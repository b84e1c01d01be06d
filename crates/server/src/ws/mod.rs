//! The WebSocket endpoint at `/api/v1/users/ws`.
//!
//! Before the upgrade: the Origin check (403), the handshake
//! ([`handshake`]) and the connection limit (503). The subprotocol decides
//! what is spoken: `roster.v1` when the client offers it ([`v1`]), the seed
//! protocol otherwise ([`seed`]).
//!
//! Each connection is one task: its protocol loop, which writes through
//! a [`Socket`] (framing in [`wire`]). `socket`'s docs say how a client
//! that stops reading is dropped and why an idle connection costs little.

mod handshake;
mod seed;
mod socket;
mod v1;
pub mod wire;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_protocol::{close_code, SUBPROTOCOL};
use tokio::sync::OwnedSemaphorePermit;

use crate::limits::origin_allowed;
use crate::metrics::{Protocol, Refusal};
use crate::AppState;
pub use socket::Ending;
use socket::{Limits, Socket};

/// Checks the limits, answers the handshake and hands the socket to its
/// protocol.
pub async fn upgrade(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers();
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
    let accept = match handshake::accept_key(headers) {
        Ok(accept) => accept,
        Err(refusal) => return refusal.into_response(),
    };
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
    let protocol = if handshake::offers(headers, SUBPROTOCOL) {
        Protocol::V1
    } else {
        Protocol::Seed
    };
    let upgraded = hyper::upgrade::on(request);
    state.sockets.clone().spawn(async move {
        match upgraded.await {
            Ok(io) => serve(io, state, protocol, slot).await,
            Err(err) => tracing::warn!(%err, "websocket upgrade failed"),
        }
    });
    let subprotocol = (protocol == Protocol::V1).then_some(SUBPROTOCOL);
    handshake::switching(&accept, subprotocol)
}

/// Owns one connection from upgrade to close.
async fn serve(
    io: hyper::upgrade::Upgraded,
    state: AppState,
    protocol: Protocol,
    _slot: OwnedSemaphorePermit,
) {
    let _gauge = state.metrics.connection_opened(protocol);
    let _viewer = state.presence.join();
    tracing::debug!(protocol = protocol.as_str(), "socket opened");
    let limits = Limits {
        max_message: state.config.max_frame_bytes,
        queue: state.config.send_queue.max(1),
        patience: std::time::Duration::from_millis(state.config.send_timeout_ms),
    };
    let mut socket = Socket::new(io, limits, state.metrics.clone(), protocol);
    let ending = match protocol {
        Protocol::Seed => seed::serve(&mut socket, &state).await,
        Protocol::V1 => v1::serve(&mut socket, &state).await,
    };
    match ending {
        Ending::Close(close_code::TOO_BIG, _) => {
            state.metrics.refused(Refusal::FrameTooLarge);
            state
                .metrics
                .error(&roster_protocol::v1::ErrorCode::FrameTooLarge);
            tracing::warn!(
                max = state.config.max_frame_bytes,
                "closing socket: frame too large"
            );
        }
        Ending::Close(code, reason) => tracing::debug!(code, reason, "closing socket"),
        Ending::Gone => {}
        Ending::SlowConsumer => {
            state.metrics.refused(Refusal::SlowConsumer);
            tracing::warn!(
                queue = state.config.send_queue,
                timeout_ms = state.config.send_timeout_ms,
                "dropping a client that stopped reading (send queue stayed full)"
            );
        }
    }
    socket.finish(ending).await;
    tracing::debug!(protocol = protocol.as_str(), "socket closed");
}
