//! The shared list: commits each change to the store, then applies it in
//! memory and publishes it, so that versions, the store and every client
//! agree on one order.
//!
//! # Layout
//! - this file: the API the transports call ([`Roster`]), the types it
//!   answers with, and the [`Backend`] trait a store implements;
//! - `live`: the list in memory and the channel its changes go out on,
//!   which every backend shares;
//! - `frames`: the frames the list is sent as, each encoded once;
//! - `locks`: taking the locks even after a panic elsewhere;
//! - [`local`]: one instance, SQLite, the default;
//! - [`shared`] and `feed`: several instances, Redis.
//!
//! A store is chosen once, when the server starts (`AppState::open`), and
//! from then on every call goes through its [`Backend`]. Another store is
//! one more file implementing the trait and one more arm there.
//!
//! # Locks (local)
//! Two, always taken in this order:
//! - the **store** mutex serialises writes (and resumes, which read the
//!   log). It is held across a commit's fsync, so it is only taken on the
//!   blocking pool.
//! - the **directory** lock guards the list in memory and is held only for
//!   moments: to plan a change, to apply and publish a committed one, and
//!   to read. Readers (HTTP, seed frames, snapshots, metrics) never wait
//!   for a disk write.
//!
//! # Fan-out
//! Each change is encoded once as a v1 `change` frame and published on a
//! `broadcast` channel; every v1 connection sends the same shared bytes.
//! Seed connections need the whole list instead, which is encoded at most
//! once per version, and only when a seed connection asks for it.
//!
//! The methods that touch the store block (SQLite does I/O; they say
//! "Blocks."); async callers run them with [`Roster::blocking`]. The others
//! only read memory and are called directly.
//!
//! # Shared (Redis)
//! With several instances the order comes from Redis instead: a write runs
//! Redis' script (which gives it its version), and every instance, the
//! writer included, applies and publishes changes only as it reads them
//! from Redis' stream ([`Roster::follow_feed`]), in version order. A write
//! is answered once Redis has the change and this instance has applied it,
//! so a client reads its own write on the same instance. A version the feed
//! skips, a new epoch or a version that went backwards (Redis lost data)
//! reload the whole list, and every client gets it as a snapshot.

mod feed;
mod frames;
mod live;
pub mod local;
mod locks;
pub mod shared;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use roster_protocol::seed::SeedCommand;
use roster_protocol::v1::{Change, ErrorBody, ErrorCode};
use roster_protocol::validate::{Email, RequestId, UserName};
use roster_protocol::{User, UserId};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use frames::Published;
pub use live::{LiveList, Resume};

use crate::metrics::Metrics;
use crate::store::{Loaded, StoreError, StoredRequest};
use crate::text::Text;

/// A request that took effect (now, or earlier when `replayed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub change: Change,
    pub replayed: bool,
}

pub type Outcome = Result<Committed, ErrorBody>;

/// A remove that took effect, or `None` when there was nobody to remove.
pub type Removed = Result<Option<Committed>, ErrorBody>;

/// What a v1 client gets after its `hello`, and the subscription that
/// carries on exactly where it ends.
pub type Greeted = (Greeting, broadcast::Receiver<Published>);

/// What a v1 client gets after its `hello`.
#[derive(Debug)]
pub enum Greeting {
    /// The whole list.
    Snapshot { version: u64, frame: Text },
    /// Only the changes after the client's `since`, oldest first.
    Changes { version: u64, frames: Vec<Text> },
}

/// What makes a write idempotent: the client's request id, if it gave
/// one, and what was asked, so that an id reused for something else is
/// refused rather than answered with the first answer.
pub struct Request {
    pub id: Option<RequestId>,
    pub fingerprint: String,
}

impl Request {
    /// A write no client named (seed commands, demo users): never replayed.
    pub fn unnamed() -> Self {
        Self {
            id: None,
            fingerprint: String::new(),
        }
    }
}

/// A user to add, as the client gave it (checked); the backend generates
/// what is missing.
pub struct NewUser {
    pub name: Option<UserName>,
    pub email: Option<Email>,
}

/// A future a backend runs for as long as its list is in memory.
pub type Following<'a> = Pin<Box<dyn Future<Output = Followed> + Send + 'a>>;

/// Why a list stopped following its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Followed {
    /// Asked to stop (the list left memory, or the server stops), or
    /// there is nothing to follow.
    Stopped,
    /// The list was deleted (by another instance): its sockets close.
    Deleted,
}

/// Where the list is kept between restarts, and who decides the order of
/// its changes. Each method that may wait for the store blocks; [`Roster`]
/// runs them on the blocking pool. `live` is the list in memory, which a
/// backend changes only once its store has the change.
pub trait Backend: Send + Sync + 'static {
    /// Adds `user`, or answers a repeated `request` as it was answered.
    fn add(&self, live: &LiveList, request: Request, user: NewUser) -> Outcome;

    /// Removes user `id`; `Ok(None)` when there is no such user.
    fn remove(&self, live: &LiveList, request: Request, id: &UserId) -> Removed;

    /// Removes the most recently added user (the seed protocol's
    /// `__removeUser__`); `Ok(None)` when the list is empty.
    fn remove_latest(&self, live: &LiveList) -> Removed;

    /// Adds generated users until the list holds at least `wanted`;
    /// returns how many were added.
    fn fill_with_demo_users(&self, live: &LiveList, wanted: usize) -> Result<usize, ErrorBody>;

    /// Subscribes to changes and says what a v1 client must get first to
    /// be in step with them: the missed changes after `since` when they
    /// can still be had, they are at most
    /// [`live::MAX_RESUME_CHANGES`] and the epoch matches; else a snapshot.
    fn greet(&self, live: &LiveList, resume: Resume) -> Result<Greeted, ErrorBody>;

    /// Checks that the store answers, for `/healthz`, with the error code
    /// a client should act on when it does not.
    fn check(&self, live: &LiveList) -> Result<(), ErrorBody>;

    /// The store as `/healthz` describes it: `{"kind": …}` and what else
    /// an operator should know.
    fn describe(&self) -> serde_json::Value;

    /// Keeps `live` in step with changes made elsewhere, until `shutdown`
    /// or the list is deleted. A store that only this instance writes
    /// has nothing to follow.
    fn follow<'a>(&'a self, _live: &'a LiveList, _shutdown: CancellationToken) -> Following<'a> {
        Box::pin(std::future::ready(Followed::Stopped))
    }
}

pub struct Roster {
    live: LiveList,
    backend: Box<dyn Backend>,
}

impl Roster {
    /// Serves the list `backend` keeps, starting from what it `loaded`.
    pub fn new(backend: Box<dyn Backend>, loaded: &Loaded, metrics: Arc<Metrics>) -> Self {
        Self {
            live: LiveList::new(loaded, metrics),
            backend,
        }
    }

    /// Runs a blocking roster call on the blocking pool. A panic there is
    /// reported as a storage failure rather than taking the caller down.
    pub async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        call: impl FnOnce(&Roster) -> Result<T, ErrorBody> + Send + 'static,
    ) -> Result<T, ErrorBody> {
        let roster = Arc::clone(self);
        tokio::task::spawn_blocking(move || call(&roster))
            .await
            .unwrap_or_else(|err| Err(storage_failed(&StoreError::Other(err.to_string()))))
    }

    pub fn epoch(&self) -> String {
        self.live.epoch()
    }

    /// Adds a user; `request` makes the add idempotent. Blocks.
    pub fn add(
        &self,
        request: Option<RequestId>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> Outcome {
        let name = name.map(UserName::parse).transpose()?;
        let email = email.map(Email::parse).transpose()?;
        let fingerprint = format!(
            "add\n{}\n{}",
            name.as_ref().map_or("", UserName::as_str),
            email.as_ref().map_or("", Email::as_str)
        );
        let request = Request {
            id: request,
            fingerprint,
        };
        self.backend
            .add(&self.live, request, NewUser { name, email })
    }

    /// Removes user `id`; `request` makes the removal idempotent. Blocks.
    pub fn remove(&self, request: Option<RequestId>, id: &UserId) -> Outcome {
        let request = Request {
            id: request,
            fingerprint: format!("remove\n{id}"),
        };
        self.backend
            .remove(&self.live, request, id)?
            .ok_or_else(|| not_found(id))
    }

    /// Carries out a seed command; `Ok(None)` when there was nothing to
    /// remove. Blocks.
    pub fn apply_seed(&self, command: SeedCommand) -> Removed {
        match command {
            SeedCommand::AddUser => self.add(None, None, None).map(Some),
            SeedCommand::RemoveUser => self.backend.remove_latest(&self.live),
        }
    }

    /// Adds generated users until the list holds at least `wanted`, and
    /// returns how many were added (none when it already does). Blocks.
    pub fn fill_with_demo_users(&self, wanted: usize) -> Result<usize, ErrorBody> {
        self.backend.fill_with_demo_users(&self.live, wanted)
    }

    /// Subscribes to changes and says what a v1 client must get first to
    /// be in step with them (see [`Backend::greet`]). Blocks.
    pub fn greet(&self, since: Option<u64>, epoch: Option<&str>) -> Result<Greeted, ErrorBody> {
        self.backend.greet(&self.live, Resume { since, epoch })
    }

    /// Keeps this instance's list in step with the store until
    /// `shutdown` (with Redis: the changes other instances make); returns
    /// at once for a store only this instance writes.
    pub async fn follow_feed(self: Arc<Self>, shutdown: CancellationToken) -> Followed {
        self.backend.follow(&self.live, shutdown).await
    }

    /// The v1 snapshot frame of the current list, and its version. Does
    /// not wait for the store.
    pub fn snapshot(&self) -> (u64, Text) {
        self.live.snapshot()
    }

    /// The whole list as a seed frame (a JSON array), shared, not copied.
    /// Does not wait for the store.
    pub fn seed_frame(&self) -> Text {
        self.live.seed_frame()
    }

    /// The current list.
    pub fn users(&self) -> Vec<User> {
        self.live.users()
    }

    pub fn user(&self, id: &UserId) -> Option<User> {
        self.live.user(id)
    }

    /// How many users, at which version.
    pub fn stats(&self) -> (usize, u64) {
        self.live.stats()
    }

    /// Checks the store answers (and, shared, that the feed does). Blocks.
    pub fn check(&self) -> Result<(), ErrorBody> {
        self.backend.check(&self.live)
    }

    /// The store, as `/healthz` describes it.
    pub fn describe_store(&self) -> serde_json::Value {
        self.backend.describe()
    }

    /// Tells every connection of the list that it was deleted.
    pub fn announce_deleted(&self) {
        self.live.announce_deleted();
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.live.subscribe()
    }
}

fn not_found(id: &UserId) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::NotFound,
        format!("there is no user with id {id}"),
    )
}

/// A store that failed to commit: nothing was changed.
fn storage_failed(err: &StoreError) -> ErrorBody {
    if let StoreError::NoSuchList(list) = err {
        return ErrorBody::new(
            ErrorCode::NoSuchList,
            format!("the list {list} was deleted; nothing was changed"),
        );
    }
    tracing::error!(%err, "store failed; change not made");
    ErrorBody::new(
        ErrorCode::StorageFailed,
        "the server could not save the change; nothing was changed, try again",
    )
    .retry_after(STORE_RETRY_MS)
}

/// The wait a client is asked to leave before retrying a write the store
/// could not take (its own backoff doubles it from there).
pub const STORE_RETRY_MS: u64 = 500;

/// The first answer to a request made again, if it is the same request.
fn replayed(live: &LiveList, stored: StoredRequest, fingerprint: &str) -> Outcome {
    if stored.fingerprint != fingerprint {
        return Err(ErrorBody::new(
            ErrorCode::IdempotencyKeyReused,
            format!(
                "request id {} was already used for a different request",
                stored.id
            ),
        ));
    }
    live.metrics().replayed();
    tracing::debug!(request = %stored.id, version = stored.change.version, "request replayed");
    Ok(Committed {
        change: stored.change,
        replayed: true,
    })
}
