//! The WebSocket endpoint of each list, `/api/v1/lists/{list}/ws`
//! (`/api/v1/users/ws` is `default`'s).
//!
//! Before the upgrade: the handshake ([`handshake`]), the connection limit
//! (503) and the Origin check. A page of a foreign origin offering
//! `roster.v1` is upgraded and closed at once with 4403 ("refused: do not
//! retry"), which a browser can read, unlike a 403; any other client gets
//! 403. Seed clients cannot present a token, so where a token is needed
//! they get 401 instead of the upgrade. The subprotocol decides what is
//! spoken: `roster.v1` when the client offers it ([`v1`]), the seed
//! protocol otherwise ([`seed`]). Both get permessage-deflate when the
//! client offers it ([`extension`]), as every browser does.
//!
//! Each connection is one task: its protocol loop, which writes through
//! a [`Socket`] (framing in [`wire`]). `socket`'s docs say how a client
//! that stops reading is dropped and why an idle connection costs little.

mod extension;
mod handshake;
mod seed;
mod socket;
mod v1;
/// RFC 6455 framing, in the protocol crate (pure, and fuzzed there).
pub use roster_protocol::framing as wire;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_protocol::{close_code, SUBPROTOCOL};
use tokio::sync::OwnedSemaphorePermit;

use crate::auth::{self, Level};
use crate::limits::origin_allowed;
use crate::metrics::{Protocol, Refusal};
use crate::paths::ListAt;
use crate::AppState;
use roster_protocol::ListName;
pub use socket::Ending;
use socket::{Limits, Socket};

/// Checks the limits, answers the handshake and hands the socket to its
/// protocol.
pub async fn upgrade(State(state): State<AppState>, at: ListAt, request: Request) -> Response {
    let name = at.name;
    let headers = request.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let offers_v1 = handshake::offers(headers, SUBPROTOCOL);
    let foreign = !origin_allowed(origin, host, &state.config.allowed_origins);
    if foreign {
        state.metrics.refused(Refusal::Origin);
        state.metrics.auth_failed(&auth::Refusal::Origin);
        tracing::warn!(origin, "websocket refused: origin not allowed");
        if !offers_v1 {
            return (
                StatusCode::FORBIDDEN,
                format!(
                    "origin {} may not open a Roster socket; start the server with --allowed-origin to allow it\n",
                    origin.unwrap_or_default()
                ),
            )
                .into_response();
        }
    } else if !offers_v1 && !state.auth.anonymous_may(&name, Level::Read) {
        state.metrics.auth_failed(&auth::Refusal::Missing);
        tracing::warn!(
            reason = auth::Refusal::Missing.reason(),
            "seed socket refused: a token is needed"
        );
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "this server needs a token, which the seed protocol cannot carry; speak roster.v1\n",
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
    let protocol = if offers_v1 {
        Protocol::V1
    } else {
        Protocol::Seed
    };
    let deflate =
        extension::permessage_deflate(headers).filter(|_| state.config.permessage_deflate);
    let limits = socket_limits(&state, deflate.is_some());
    let upgraded = hyper::upgrade::on(request);
    state.sockets.clone().spawn(async move {
        match upgraded.await {
            Ok(io) if foreign => refuse(io, state, limits, slot).await,
            Ok(io) => serve(io, state, name, protocol, limits, slot).await,
            Err(err) => tracing::warn!(%err, "websocket upgrade failed"),
        }
    });
    let subprotocol = (protocol == Protocol::V1).then_some(SUBPROTOCOL);
    handshake::switching(&accept, subprotocol, deflate)
}

/// Closes a foreign page's socket with 4403 as soon as it is upgraded:
/// nothing of the list is sent.
async fn refuse(
    io: hyper::upgrade::Upgraded,
    state: AppState,
    limits: Limits,
    _slot: OwnedSemaphorePermit,
) {
    let socket = Socket::new(io, limits, state.metrics.clone(), Protocol::V1);
    let refusal = auth::Refusal::Origin;
    socket
        .finish(Ending::Close(refusal.close_code(), refusal.words()))
        .await;
}

fn socket_limits(state: &AppState, deflate: bool) -> Limits {
    Limits {
        max_message: state.config.max_frame_bytes,
        queue: state.config.send_queue.max(1),
        patience: std::time::Duration::from_millis(state.config.send_timeout_ms),
        deflate,
    }
}

/// Owns one connection from upgrade to close.
async fn serve(
    io: hyper::upgrade::Upgraded,
    state: AppState,
    name: ListName,
    protocol: Protocol,
    limits: Limits,
    _slot: OwnedSemaphorePermit,
) {
    let _gauge = state.metrics.connection_opened(protocol);
    tracing::debug!(
        protocol = protocol.as_str(),
        deflate = limits.deflate,
        "socket opened"
    );
    let mut socket = Socket::new(io, limits, state.metrics.clone(), protocol);
    let ending = match protocol {
        Protocol::Seed => seed::serve(&mut socket, &state, name).await,
        Protocol::V1 => v1::serve(&mut socket, &state, name).await,
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
    // Boxed, as the closing handshake's state is only needed at the end,
    // not in every idle connection's task.
    Box::pin(socket.finish(ending)).await;
    tracing::debug!(protocol = protocol.as_str(), "socket closed");
}
