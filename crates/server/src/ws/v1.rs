//! Roster protocol v1 on one connection (see `roster_protocol::v1` for the
//! message catalogue).
//!
//! Nothing is broadcast to the client until its `hello`; then, once its
//! token (or the anonymous rule) is accepted, it gets its `session`, the
//! missed changes or a snapshot, the viewer count, and every change after.
//! Each `add`/`remove` is answered with an ack once committed; a bad frame
//! with an error (or an error ack when it named a request id).
//!
//! What closes the connection: an oversize frame (1009); a `hello` or
//! `auth` whose token is refused (4401, or 4403 when a new token cannot
//! help); and a token that expires, past the grace, without an `auth`
//! bringing a fresh one (4401). A write the session may not make is
//! answered with an error ack, `forbidden` (or `unauthorized` before any
//! `hello`), and the connection stays.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use roster_protocol::auth::Token;
use roster_protocol::close_code;
use roster_protocol::v1::{Ack, ClientMessage, ErrorBody, ErrorCode, FrameError, ServerMessage};
use roster_protocol::validate::RequestId;
use roster_protocol::ListName;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::sync::watch;
use tokio::time::Sleep;

use super::socket::{Ending, Socket};
use super::wire::Incoming;
use crate::auth::{Denied, Grant, Level, Refusal};
use crate::limits::TokenBucket;
use crate::metrics::Protocol;
use crate::presence::Viewer;
use crate::roster::{Greeting, Outcome, Published};
use crate::text::Text;
use crate::{AppState, List, Roster};

/// Token refreshes (`auth`) a connection may make at once, and then one
/// every [`REFRESH_EVERY`]: a page refreshes once per token lifetime.
const REFRESH_BURST: u32 = 3;
const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// The most requests committed in one trip to the blocking pool.
const WRITE_BATCH: usize = 64;

/// One connection's state.
struct Session<'a> {
    socket: &'a mut Socket,
    /// The list the socket was opened on.
    name: ListName,
    /// That list, once opened (after `hello`, or a first write before it).
    list: Option<Arc<List>>,
    /// The list's viewer count frames, from `hello` on.
    presence: Option<watch::Receiver<Text>>,
    /// Counts this connection among the list's viewers once it is open.
    _viewer: Option<Viewer>,
    /// A message read while gathering a batch of writes, handled next.
    deferred: Option<Result<Incoming, Ending>>,
    state: &'a AppState,
    /// Changes to forward; `None` until `hello`.
    events: Option<broadcast::Receiver<Published>>,
    /// The last version this client has been sent.
    sent_version: u64,
    writes: TokenBucket,
    /// What this connection may do; `None` until an accepted `hello`.
    grant: Option<Grant>,
    /// Token refreshes (`auth`) allowed.
    refreshes: TokenBucket,
    /// When the token runs out, grace included: the connection closes
    /// with 4401 unless `auth` brings a fresh one first.
    expiry: Option<Pin<Box<Sleep>>>,
}

pub async fn serve(socket: &mut Socket, state: &AppState, name: ListName) -> Ending {
    let mut session = Session {
        socket,
        name,
        list: None,
        presence: None,
        _viewer: None,
        deferred: None,
        state,
        events: None,
        sent_version: 0,
        writes: state.write_limit(),
        grant: None,
        refreshes: TokenBucket::new(
            1.0 / REFRESH_EVERY.as_secs_f64(),
            REFRESH_BURST,
            Instant::now(),
        ),
        expiry: None,
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
            () = expired(&mut session.expiry) => {
                let refusal = Refusal::Expired;
                session.refused(&Denied {
                    refusal: refusal.clone(),
                    sub: session.grant.as_ref().and_then(|grant| grant.sub.clone()),
                });
                return Ending::Close(refusal.close_code(), refusal.words());
            }
            event = next_event(&mut session.events), if room => {
                if let Some(ending) = session.forward(event) {
                    return ending;
                }
                // Whatever else is waiting goes out in the same write.
                while session.socket.has_room() {
                    let Some(event) = session.try_event() else { break };
                    if let Some(ending) = session.forward(event) {
                        return ending;
                    }
                }
            }
            frame = next_presence(&mut session.presence), if room => match frame {
                Some(frame) => session.socket.send(frame),
                // The list left memory under this socket: it was deleted.
                None => return list_deleted(),
            },
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
    fn apply(self, roster: &Roster, request_id: RequestId) -> Outcome {
        match self {
            Self::Add { name, email } => {
                roster.add(Some(request_id), name.as_deref(), email.as_deref())
            }
            Self::Remove { id } => roster.remove(Some(request_id), &id),
        }
    }
}

/// The next `presence` frame of the list, once greeted; `None` when the
/// list's count is gone.
async fn next_presence(presence: &mut Option<watch::Receiver<Text>>) -> Option<Text> {
    match presence {
        Some(presence) => {
            presence.changed().await.ok()?;
            Some(presence.borrow_and_update().clone())
        }
        None => std::future::pending().await,
    }
}

/// The close of a socket whose list was deleted.
fn list_deleted() -> Ending {
    Ending::Close(close_code::LIST_DELETED, "This list was deleted")
}

/// Resolves when the token has run out, grace included; never without one.
async fn expired(expiry: &mut Option<Pin<Box<Sleep>>>) {
    match expiry {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
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
                return self.handle(&text).await;
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

    /// Handles one text frame; `Some` when it ends the connection.
    async fn handle(&mut self, frame: &str) -> Option<Ending> {
        let message = match ClientMessage::decode(frame) {
            Ok(message) => message,
            Err(err) => {
                self.reject(err);
                return None;
            }
        };
        match message {
            ClientMessage::Hello {
                since,
                epoch,
                token,
            } => {
                // A `hello` without a token on a connection that has a
                // session (a client catching up after a gap) keeps it.
                if token.is_some() || self.grant.is_none() {
                    match self.authorize(token.as_ref()).await {
                        Ok(grant) => self.grant(grant),
                        Err(ending) => return Some(ending),
                    }
                }
                if let Err(ending) = self.open_list(false).await {
                    return Some(ending);
                }
                self.greet(since, epoch).await;
                // Deleted before this socket subscribed to its news.
                if self.list.as_ref().is_some_and(|list| list.is_deleted()) {
                    return Some(list_deleted());
                }
            }
            ClientMessage::Auth { token } => return self.refresh(&token).await,
            ClientMessage::Ping { nonce } => self.send(&ServerMessage::Pong { nonce }),
            ClientMessage::Add {
                request_id,
                name,
                email,
            } => return self.write(request_id, Write::Add { name, email }).await,
            ClientMessage::Remove { request_id, id } => {
                return self.write(request_id, Write::Remove { id }).await;
            }
        }
        None
    }

    /// What `token` (or none) allows on this socket's list; the close
    /// that refuses it otherwise (4403 without read rights on the list,
    /// whether it exists or not).
    async fn authorize(&mut self, token: Option<&Token>) -> Result<Grant, Ending> {
        // Boxed: checking a token may wait on the key set (JWKS), and that
        // future's state is most of a kilobyte. Held inline it would be
        // part of every connection's task for its whole life, idle or not.
        let verified = Box::pin(self.state.auth.verify(token.map(Token::as_str))).await;
        let verified = verified.and_then(|grant| {
            if grant.allows(&self.name, Level::Read) {
                Ok(grant)
            } else {
                Err(Denied {
                    refusal: Refusal::NoReadScope,
                    sub: grant.sub,
                })
            }
        });
        verified.map_err(|denied| {
            self.refused(&denied);
            Ending::Close(denied.refusal.close_code(), denied.refusal.words())
        })
    }

    /// Opens the socket's list if it is not open yet (`to_write`: a first
    /// write may create it, with `--lists open`). A list that does not
    /// exist closes the socket with 4404; one that cannot be loaded now,
    /// with 1013 (try again later).
    async fn open_list(&mut self, to_write: bool) -> Result<Arc<List>, Ending> {
        if let Some(list) = &self.list {
            return Ok(Arc::clone(list));
        }
        // Boxed: loading a list may wait on the store (a SQLite read, or
        // Redis' scripts), and that future's state is kilobytes. Held
        // inline it would be part of every connection's task for its whole
        // life (it doubled the idle memory per connection).
        let opened = Box::pin(self.state.lists.open(&self.name, to_write)).await;
        match opened {
            Ok(list) => {
                self._viewer = Some(list.presence().join());
                self.list = Some(Arc::clone(&list));
                Ok(list)
            }
            Err(error) => {
                self.state.metrics.error(&error.code);
                tracing::debug!(list = %self.name, code = %error.code, "socket's list not opened");
                Err(match error.code {
                    ErrorCode::NoSuchList => {
                        Ending::Close(close_code::NO_SUCH_LIST, "No list by that name")
                    }
                    _ => Ending::Close(
                        close_code::TRY_AGAIN_LATER,
                        "the list cannot be loaded now; try again",
                    ),
                })
            }
        }
    }

    /// Counts and logs a refusal, once, with the token's subject when it
    /// has one (never the token).
    fn refused(&self, denied: &Denied) {
        self.state.metrics.auth_failed(&denied.refusal);
        tracing::warn!(
            reason = denied.refusal.reason(),
            sub = ?denied.sub,
            "socket refused: {}",
            denied.refusal
        );
    }

    /// Takes `grant` for this connection: tells the client its session,
    /// and closes when its token runs out (grace included).
    fn grant(&mut self, grant: Grant) {
        self.expiry = grant.expires_at.map(|expires_at| {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let left = Duration::from_secs(expires_at).saturating_sub(now);
            let deadline = tokio::time::Instant::now() + left + self.state.auth.grace();
            Box::pin(tokio::time::sleep_until(deadline))
        });
        self.send(&ServerMessage::Session(grant.session(&self.name)));
        self.grant = Some(grant);
    }

    /// An `auth`: a fresh token for the same subject replaces the
    /// session's. A refused token ends the connection as in `hello`; one
    /// for another subject, or too many refreshes, get an error and the
    /// session goes on as it was.
    async fn refresh(&mut self, token: &Token) -> Option<Ending> {
        if !self.refreshes.try_take(Instant::now()) {
            let wait_ms = self.refreshes.wait().as_millis().max(1) as u64;
            let error = ErrorBody::new(
                ErrorCode::RateLimited,
                format!("too many token refreshes; the next in {wait_ms} ms"),
            )
            .retry_after(wait_ms);
            self.state.metrics.error(&error.code);
            self.send(&ServerMessage::Error(error));
            return None;
        }
        let grant = match self.authorize(Some(token)).await {
            Ok(grant) => grant,
            Err(ending) => return Some(ending),
        };
        let current = self.grant.as_ref().and_then(|grant| grant.sub.as_ref());
        if current.is_some_and(|sub| grant.sub.as_ref() != Some(sub)) {
            let refusal = Refusal::OtherSubject;
            self.refused(&Denied {
                refusal: refusal.clone(),
                sub: grant.sub,
            });
            let error = ErrorBody::new(ErrorCode::Forbidden, refusal.words());
            self.state.metrics.error(&error.code);
            self.send(&ServerMessage::Error(error));
            return None;
        }
        self.grant(grant);
        None
    }

    /// Whether this connection may write now: with its session's scope,
    /// or before `hello` where everyone may.
    fn may_write(&self) -> Result<(), ErrorBody> {
        match &self.grant {
            Some(grant) if grant.allows(&self.name, Level::Write) => Ok(()),
            Some(_) => Err(ErrorBody::new(
                ErrorCode::Forbidden,
                "this session may only read the list (its token lacks roster:write)",
            )),
            None if self.state.auth.anonymous_may(&self.name, Level::Write) => Ok(()),
            None => Err(ErrorBody::new(
                ErrorCode::Unauthorized,
                "send hello (with a token) before adding or removing",
            )),
        }
    }

    /// Commits `first` together with the writes that arrived right behind
    /// it (already read, up to [`WRITE_BATCH`]), in one trip to the
    /// blocking pool. One trip each would let a client's queued adds (an
    /// outbox sent after a reconnect, a busy writer) through only one per
    /// turn of the scheduler, so each change would reach every other
    /// client in a write of its own; together, they share the writes.
    async fn write(&mut self, request_id: RequestId, first: Write) -> Option<Ending> {
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
            return None;
        }
        let list = match self.open_list(true).await {
            Ok(list) => list,
            Err(ending) => return Some(ending),
        };
        let ids: Vec<RequestId> = batch.iter().map(|(id, _)| id.clone()).collect();
        let outcomes = list
            .roster()
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
        None
    }

    /// Adds a write to the batch if the rate limit allows it; otherwise
    /// answers it with `rate_limited` at once.
    fn admit(&mut self, request_id: RequestId, write: Write, batch: &mut Vec<(RequestId, Write)>) {
        if let Err(error) = self.may_write() {
            tracing::debug!(%request_id, code = %error.code, "write refused: access");
            return self.ack(request_id, Err(error));
        }
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

    /// Sends what brings the client in step with the list (open by now),
    /// and its viewer count; from then on, every change and count.
    async fn greet(&mut self, since: Option<u64>, epoch: Option<String>) {
        let Some(list) = self.list.clone() else {
            return;
        };
        let greeting = list
            .roster()
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
        if self.presence.is_none() {
            let mut presence = list.presence().subscribe();
            presence.borrow_and_update();
            self.presence = Some(presence);
        }
        self.socket.send(list.presence().now());
    }

    /// Sends a broadcast change unless the client already has it; after
    /// falling too far behind, a fresh snapshot. `Some` when the list was
    /// deleted: the connection ends.
    fn forward(&mut self, event: Result<Published, RecvError>) -> Option<Ending> {
        match event {
            Ok(published) if published.deleted => return Some(list_deleted()),
            // A reloaded list replaces whatever the client had.
            Ok(published) if published.reset || published.version > self.sent_version => {
                self.sent_version = published.version;
                self.socket.send(published.frame);
            }
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "client fell behind; sending a snapshot");
                let list = self.list.as_ref()?;
                let (version, frame) = list.roster().snapshot();
                self.sent_version = version;
                self.socket.send(frame);
            }
            Err(RecvError::Closed) => self.events = None,
        }
        None
    }

    fn send(&mut self, message: &ServerMessage) {
        self.socket.send(message.to_frame().into());
    }
}
