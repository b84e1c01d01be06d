//! Roster protocol v1 on one connection (see `roster_protocol::v1` for the
//! message catalogue).
//!
//! Nothing is broadcast to the client until its `hello`; then it gets the
//! missed changes or a snapshot, the viewer count, and every change after.
//! Each `add`/`remove` is answered with an ack once committed; a bad frame
//! with an error (or an error ack when it named a request id). Nothing a
//! client sends closes the connection except an oversize frame (1009).

use std::time::Instant;

use roster_protocol::close_code;
use roster_protocol::v1::{Ack, ClientMessage, ErrorBody, ErrorCode, FrameError, ServerMessage};
use roster_protocol::validate::RequestId;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::socket::{Ending, Socket};
use super::wire::Incoming;
use crate::limits::TokenBucket;
use crate::metrics::Protocol;
use crate::roster::{Greeting, Outcome, Published};
use crate::AppState;

/// The most requests committed in one trip to the blocking pool.
const WRITE_BATCH: usize = 64;

/// One connection's state.
struct Session<'a> {
    socket: &'a mut Socket,
    /// A message read while gathering a batch of writes, handled next.
    deferred: Option<Result<Incoming, Ending>>,
    state: &'a AppState,
    /// Changes to forward; `None` until `hello`.
    events: Option<broadcast::Receiver<Published>>,
    /// The last version this client has been sent.
    sent_version: u64,
    writes: TokenBucket,
}

pub async fn serve(socket: &mut Socket, state: &AppState) -> Ending {
    let mut presence = state.presence.subscribe();
    let mut session = Session {
        socket,
        deferred: None,
        state,
        events: None,
        sent_version: 0,
        writes: state.write_limit(),
    };
    // Made once: a new one each turn takes the token's lock twice.
    let shutdown = state.shutdown.cancelled();
    tokio::pin!(shutdown);
    loop {
        if let Some(incoming) = session.deferred.take() {
            if let Some(ending) = session.receive(incoming.map(Some)).await {
                return ending;
            }
            continue;
        }
        let room = session.socket.has_room();
        // Biased: the socket first, so what the last turn queued is
        // written before more is taken.
        tokio::select! {
            biased;
            () = &mut shutdown => {
                return Ending::Close(close_code::GOING_AWAY, "server shutting down");
            }
            incoming = session.socket.next() => {
                if let Some(ending) = session.receive(incoming).await {
                    return ending;
                }
            }
            event = next_event(&mut session.events), if room => {
                session.forward(event);
                // Whatever else is waiting goes out in the same write.
                while session.socket.has_room() {
                    let Some(event) = session.try_event() else { break };
                    session.forward(event);
                }
            }
            changed = presence.changed(), if room && session.events.is_some() => {
                if changed.is_err() {
                    return Ending::Gone;
                }
                let frame = presence.borrow_and_update().clone();
                session.socket.send(frame);
            }
        }
    }
}

/// A change a client asked for.
enum Write {
    Add {
        name: Option<String>,
        email: Option<String>,
    },
    Remove {
        id: roster_protocol::UserId,
    },
}

impl Write {
    fn apply(self, roster: &crate::Roster, request_id: RequestId) -> Outcome {
        match self {
            Self::Add { name, email } => {
                roster.add(Some(request_id), name.as_deref(), email.as_deref())
            }
            Self::Remove { id } => roster.remove(Some(request_id), &id),
        }
    }
}

/// The next broadcast change, or never before `hello`.
async fn next_event(
    events: &mut Option<broadcast::Receiver<Published>>,
) -> Result<Published, RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

impl Session<'_> {
    /// A change already waiting, if any.
    fn try_event(&mut self) -> Option<Result<Published, RecvError>> {
        match self.events.as_mut()?.try_recv() {
            Ok(published) => Some(Ok(published)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Lagged(missed)) => Some(Err(RecvError::Lagged(missed))),
            Err(TryRecvError::Closed) => Some(Err(RecvError::Closed)),
        }
    }

    /// Handles what the socket gave; `Some` when the connection ends.
    async fn receive(&mut self, incoming: Result<Option<Incoming>, Ending>) -> Option<Ending> {
        let incoming = match incoming {
            // Room in the queue again: the loop takes broadcasts again.
            Ok(None) => return None,
            Ok(Some(incoming)) => Ok(incoming),
            Err(ending) => Err(ending),
        };
        match incoming {
            Ok(Incoming::Text(text)) => {
                self.state.metrics.frame_in(Protocol::V1);
                self.handle(&text).await;
            }
            Ok(Incoming::Binary(_)) => {
                self.state.metrics.frame_in(Protocol::V1);
                self.reject(FrameError::binary());
            }
            Ok(Incoming::Ping(_) | Incoming::Pong) => {}
            Ok(Incoming::Close(_)) => return Some(Ending::Gone),
            Err(ending) => return Some(ending),
        }
        None
    }

    async fn handle(&mut self, frame: &str) {
        let message = match ClientMessage::decode(frame) {
            Ok(message) => message,
            Err(err) => return self.reject(err),
        };
        match message {
            ClientMessage::Hello { since, epoch } => self.greet(since, epoch).await,
            ClientMessage::Ping { nonce } => self.send(&ServerMessage::Pong { nonce }),
            ClientMessage::Add {
                request_id,
                name,
                email,
            } => self.write(request_id, Write::Add { name, email }).await,
            ClientMessage::Remove { request_id, id } => {
                self.write(request_id, Write::Remove { id }).await;
            }
        }
    }

    /// Commits `first` together with the writes that arrived right behind
    /// it (already read, up to [`WRITE_BATCH`]), in one trip to the
    /// blocking pool. One trip each would let a client's queued adds (an
    /// outbox sent after a reconnect, a busy writer) through only one per
    /// turn of the scheduler, so each change would reach every other
    /// client in a write of its own; together, they share the writes.
    async fn write(&mut self, request_id: RequestId, first: Write) {
        let mut batch = Vec::new();
        self.admit(request_id, first, &mut batch);
        while batch.len() < WRITE_BATCH {
            let Some(incoming) = self.socket.buffered() else {
                break;
            };
            let Ok(Incoming::Text(text)) = &incoming else {
                self.deferred = Some(incoming);
                break;
            };
            match ClientMessage::decode(text) {
                Ok(ClientMessage::Add {
                    request_id,
                    name,
                    email,
                }) => self.admit(request_id, Write::Add { name, email }, &mut batch),
                Ok(ClientMessage::Remove { request_id, id }) => {
                    self.admit(request_id, Write::Remove { id }, &mut batch);
                }
                _ => {
                    self.deferred = Some(incoming);
                    break;
                }
            }
            self.state.metrics.frame_in(Protocol::V1);
        }
        if batch.is_empty() {
            return;
        }
        let ids: Vec<RequestId> = batch.iter().map(|(id, _)| id.clone()).collect();
        let outcomes = self
            .state
            .roster
            .blocking(move |roster| {
                Ok(batch
                    .into_iter()
                    .map(|(request_id, write)| write.apply(roster, request_id))
                    .collect::<Vec<_>>())
            })
            .await;
        match outcomes {
            Ok(outcomes) => {
                for (request_id, outcome) in ids.into_iter().zip(outcomes) {
                    self.ack(request_id, outcome);
                }
            }
            Err(error) => {
                for request_id in ids {
                    self.ack(request_id, Err(error.clone()));
                }
            }
        }
    }

    /// Adds a write to the batch if the rate limit allows it; otherwise
    /// answers it with `rate_limited` at once.
    fn admit(&mut self, request_id: RequestId, write: Write, batch: &mut Vec<(RequestId, Write)>) {
        if self.writes.try_take(Instant::now()) {
            batch.push((request_id, write));
            return;
        }
        let wait_ms = self.writes.wait().as_millis().max(1) as u64;
        tracing::warn!(%request_id, "write refused: rate limit");
        let error = ErrorBody::new(
            ErrorCode::RateLimited,
            format!("too many changes from this connection; retry in {wait_ms} ms"),
        )
        .retry_after(wait_ms);
        self.ack(request_id, Err(error));
    }

    fn ack(&mut self, request_id: RequestId, outcome: Outcome) {
        let ack = match outcome {
            Ok(committed) => {
                let mut ack = Ack::done(request_id, &committed.change);
                ack.replayed = committed.replayed;
                ack
            }
            Err(error) => {
                self.state.metrics.error(&error.code);
                Ack::failed(request_id, error)
            }
        };
        self.send(&ServerMessage::Ack(ack));
    }

    /// Answers a frame that is not a valid request.
    fn reject(&mut self, err: FrameError) {
        self.state.metrics.error(&err.error.code);
        tracing::debug!(code = %err.error.code, "bad frame from client");
        match err.request_id {
            Some(request_id) => self.send(&ServerMessage::Ack(Ack::failed(request_id, err.error))),
            None => self.send(&ServerMessage::Error(err.error)),
        }
    }

    async fn greet(&mut self, since: Option<u64>, epoch: Option<String>) {
        let greeting = self
            .state
            .roster
            .blocking(move |roster| roster.greet(since, epoch.as_deref()))
            .await;
        let (greeting, events) = match greeting {
            Ok(greeting) => greeting,
            Err(error) => {
                self.state.metrics.error(&error.code);
                return self.send(&ServerMessage::Error(error));
            }
        };
        self.events = Some(events);
        match greeting {
            Greeting::Snapshot { version, frame } => {
                self.sent_version = version;
                self.socket.send(frame);
            }
            Greeting::Changes { version, frames } => {
                self.sent_version = version;
                for frame in frames {
                    self.socket.send(frame);
                }
            }
        }
        self.socket.send(self.state.presence.now());
    }

    /// Sends a broadcast change unless the client already has it; after
    /// falling too far behind, a fresh snapshot.
    fn forward(&mut self, event: Result<Published, RecvError>) {
        match event {
            // A reloaded list replaces whatever the client had.
            Ok(published) if published.reset || published.version > self.sent_version => {
                self.sent_version = published.version;
                self.socket.send(published.frame);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "client fell behind; sending a snapshot");
                let (version, frame) = self.state.roster.snapshot();
                self.sent_version = version;
                self.socket.send(frame);
            }
            Err(RecvError::Closed) => self.events = None,
        }
    }

    fn send(&mut self, message: &ServerMessage) {
        self.socket.send(message.to_frame().into());
    }
}
