//! The seed protocol: the whole list on connect and after every change;
//! `__addUser__` and `__removeUser__` from clients; everything else,
//! binary frames included, ignored without a reply (the seed has no way to
//! report an error, and its clients send `{"type":"ping"}` heartbeats).

use std::time::Instant;

use axum::extract::ws::{close_code, Message, WebSocket};
use futures_util::stream::SplitStream;
use futures_util::StreamExt;
use roster_protocol::v1::ErrorCode;
use roster_protocol::SeedCommand;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::{read_failed, Ending, Outbound};
use crate::limits::TokenBucket;
use crate::metrics::Protocol;
use crate::AppState;

pub async fn serve(mut stream: SplitStream<WebSocket>, out: &Outbound, state: &AppState) -> Ending {
    let mut events = state.roster.subscribe();
    if out.text(state.roster.seed_frame()).await.is_err() {
        return Ending::SlowConsumer;
    }
    let mut writes = TokenBucket::new(
        state.config.write_rate,
        state.config.write_burst,
        Instant::now(),
    );
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => {
                return Ending::Close(close_code::AWAY, "server shutting down");
            }
            event = events.recv() => {
                match event {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Ending::Gone,
                }
                // Each frame is the whole list, so one frame covers every
                // change that is already waiting.
                while !matches!(events.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
                if out.text(state.roster.seed_frame()).await.is_err() {
                    return Ending::SlowConsumer;
                }
            }
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    state.metrics.frame_in(Protocol::Seed);
                    let Some(command) = SeedCommand::parse(text.as_str()) else { continue };
                    if !writes.try_take(Instant::now()) {
                        state.metrics.error(&ErrorCode::RateLimited);
                        tracing::warn!(?command, "seed command dropped: write rate limit");
                        continue;
                    }
                    if let Err(err) = state.roster.blocking(move |roster| roster.apply_seed(command)).await {
                        state.metrics.error(&err.code);
                        tracing::warn!(%err, "seed command failed");
                    }
                }
                Some(Ok(Message::Binary(_))) => state.metrics.frame_in(Protocol::Seed),
                // tungstenite answers pings by itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) | None => return Ending::Gone,
                Some(Err(err)) => return read_failed(&err, state),
            },
        }
    }
}
