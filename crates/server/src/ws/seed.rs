//! The seed protocol: the whole list on connect and after every change;
//! `__addUser__` and `__removeUser__` from clients; everything else,
//! binary frames included, ignored without a reply (the seed has no way to
//! report an error, and its clients send `{"type":"ping"}` heartbeats).

use std::time::Instant;

use roster_protocol::v1::ErrorCode;
use roster_protocol::{close_code, ListName, SeedCommand};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use super::socket::{Ending, Socket};
use super::wire::Incoming;
use crate::auth::Level;
use crate::metrics::Protocol;
use crate::AppState;

pub async fn serve(socket: &mut Socket, state: &AppState, name: ListName) -> Ending {
    // Boxed, as in v1: the load's state must not stay in the task.
    let opened = Box::pin(state.lists.open(&name, false)).await;
    let list = match opened {
        Ok(list) => list,
        Err(error) if error.code == ErrorCode::NoSuchList => {
            return Ending::Close(close_code::NO_SUCH_LIST, "No list by that name");
        }
        Err(error) => {
            state.metrics.error(&error.code);
            return Ending::Close(
                close_code::TRY_AGAIN_LATER,
                "the list cannot be loaded now; try again",
            );
        }
    };
    let _viewer = list.presence().join();
    let roster = list.roster();
    let mut events = roster.subscribe();
    if list.is_deleted() {
        return list_deleted();
    }
    socket.send(roster.seed_frame());
    let mut writes = state.write_limit();
    // Made once: a new one each turn takes the token's lock twice.
    let shutdown = state.shutdown.cancelled();
    tokio::pin!(shutdown);

    loop {
        let room = socket.has_room();
        tokio::select! {
            biased;
            () = &mut shutdown => {
                return Ending::Close(close_code::GOING_AWAY, "server shutting down");
            }
            incoming = socket.next() => match incoming {
                Ok(Some(Incoming::Text(text))) => {
                    state.metrics.frame_in(Protocol::Seed);
                    let Some(command) = SeedCommand::parse(&text) else { continue };
                    // Seed clients cannot present a token: they write only
                    // where everyone may.
                    if !state.auth.anonymous_may(&name, Level::Write) {
                        state.metrics.error(&ErrorCode::Forbidden);
                        tracing::warn!(?command, "seed command dropped: clients without a token may only read");
                        continue;
                    }
                    if !writes.try_take(Instant::now()) {
                        state.metrics.error(&ErrorCode::RateLimited);
                        tracing::warn!(?command, "seed command dropped: write rate limit");
                        continue;
                    }
                    if let Err(err) = roster.blocking(move |roster| roster.apply_seed(command)).await {
                        state.metrics.error(&err.code);
                        tracing::warn!(%err, "seed command failed");
                    }
                }
                Ok(Some(Incoming::Binary(_))) => state.metrics.frame_in(Protocol::Seed),
                Ok(Some(Incoming::Ping(_) | Incoming::Pong)) => {}
                // Room in the queue again: the loop takes broadcasts again.
                Ok(None) => {}
                Ok(Some(Incoming::Close(_))) => return Ending::Gone,
                Err(ending) => return ending,
            },
            event = events.recv(), if room => {
                match event {
                    Ok(published) if published.deleted => return list_deleted(),
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return Ending::Gone,
                }
                if list.is_deleted() {
                    return list_deleted();
                }
                // Each frame is the whole list, so one frame covers every
                // change that is already waiting.
                while !matches!(events.try_recv(), Err(TryRecvError::Empty | TryRecvError::Closed)) {}
                socket.send(roster.seed_frame());
            }
        }
    }
}

/// The close of a socket whose list was deleted.
fn list_deleted() -> Ending {
    Ending::Close(close_code::LIST_DELETED, "This list was deleted")
}
