//! Where the list lives between restarts, behind one small trait.
//!
//! The [`crate::roster::Roster`] keeps the list in memory and calls the
//! store to commit each change *before* anyone is told about it, so an
//! acknowledged change is never lost. The trait is synchronous: SQLite is,
//! and the roster calls it from a blocking thread.
//!
//! Several instances share [`RedisStore`] instead, which orders the changes
//! itself (see its module): there the roster writes through it and learns
//! of every change, its own included, from the stream it keeps.

mod redis_link;
mod redis_store;
mod sqlite;

use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use roster_protocol::v1::Change;
use roster_protocol::validate::RequestId;
use roster_protocol::{ListName, User};

pub use redis_store::{Durability, Feed, RedisStore, Written, FEED_BLOCK};
pub use sqlite::{SqliteFile, SqliteStore};

/// A random name for a new history; `RandomState` is seeded from the OS.
pub(crate) fn new_epoch() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}

/// A store failed; nothing was changed. The source error is kept, so logs
/// show SQLite's or Redis' own message and callers can tell the kinds
/// apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage failed: sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Redis could not be reached, or refused a command.
    #[error("storage failed: redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The store holds something Roster cannot read.
    #[error("storage failed: the store holds {0}")]
    Unreadable(String),
    /// The change feed from Redis is reconnecting: writes wait for it.
    #[error("storage failed: redis: the change feed is reconnecting")]
    FeedReconnecting,
    /// The change feed has had no answer from Redis for this long.
    #[error("storage failed: redis: the change feed has heard nothing for {} ms", .0.as_millis())]
    FeedSilent(std::time::Duration),
    /// Redis is set up so that it can lose acknowledged changes.
    #[error("storage failed: redis at {url} runs with {setting}. Set `appendonly yes` and `appendfsync always`, or pass --redis-allow-unsafe-durability")]
    UnsafeDurability { url: String, setting: String },
    /// The list is not in the store (never created, or deleted).
    #[error("there is no list named {0}")]
    NoSuchList(ListName),
    /// Anything else: the blocking task that ran the store panicked, or
    /// a start-up step (demo users) failed.
    #[error("storage failed: {0}")]
    Other(String),
}

/// Everything needed to start serving.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Loaded {
    /// Names this store's history; resuming clients from another history
    /// get a snapshot.
    pub epoch: String,
    /// The version of the last committed change (0 for a new store).
    pub version: u64,
    /// The next id to give out. Ids are never reused.
    pub next_id: u64,
    /// The users, in the order they were added.
    pub users: Vec<User>,
}

/// A list's name and where it stands, for `GET /api/v1/lists`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ListFigures {
    pub name: ListName,
    pub users: u64,
    pub version: u64,
}

/// A request that produced a change, kept so that a retry with the same id
/// gets the same answer instead of a second change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRequest {
    pub id: RequestId,
    /// What was asked, so a reused id with a different request is refused.
    pub fingerprint: String,
    pub change: Change,
}

pub trait Store: Send + 'static {
    /// Reads the whole state; [`StoreError::NoSuchList`] when the list
    /// does not exist.
    fn load(&mut self) -> Result<Loaded, StoreError>;

    /// Commits `change` (and the request that caused it) durably and
    /// atomically. `next_id` is the id counter after the change.
    fn commit(
        &mut self,
        change: &Change,
        next_id: u64,
        request: Option<&StoredRequest>,
    ) -> Result<(), StoreError>;

    /// Commits `changes` (consecutive adds with no request ids, e.g. demo
    /// users) in one transaction: all or nothing. `next_id` is the id
    /// counter after the last.
    fn commit_batch(&mut self, changes: &[Change], next_id: u64) -> Result<(), StoreError>;

    /// The changes after version `since`, oldest first, or `None` when the
    /// log no longer holds all of them.
    fn changes_since(&mut self, since: u64) -> Result<Option<Vec<Change>>, StoreError>;

    /// The stored request with this id, if any.
    fn find_request(&mut self, id: &RequestId) -> Result<Option<StoredRequest>, StoreError>;

    /// Checks that the store answers, for `/healthz`.
    fn check(&mut self) -> Result<(), StoreError>;
}
