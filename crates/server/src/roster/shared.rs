//! Several instances share one list in Redis, which orders the changes:
//! a write runs Redis' script (which gives it its version) and is
//! answered once this instance's feed (`feed`) has applied it, so a
//! client reads its own write on the same instance.

use std::sync::Arc;
use std::time::Instant;

use roster_protocol::v1::{ErrorBody, ErrorCode};
use roster_protocol::UserId;
use tokio_util::sync::CancellationToken;

use super::feed::{self, Progress};
use super::frames::change_frame;
use super::live::LiveList;
use super::{
    replayed, Backend, Committed, Following, Greeted, Greeting, NewUser, Outcome, Removed, Request,
    Resume, STORE_RETRY_MS,
};
use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::store::{Durability, Loaded, RedisStore, StoreError, Written, FEED_BLOCK};

/// The list in Redis (see the module docs).
pub struct SharedBackend {
    store: RedisStore,
    /// The runtime the writes wait on, from the blocking pool.
    runtime: tokio::runtime::Handle,
    progress: Progress,
    durability: Durability,
    /// To give back this list's part of `roster_store_up` when it leaves
    /// memory while its store is down.
    metrics: Arc<Metrics>,
}

impl Drop for SharedBackend {
    fn drop(&mut self) {
        self.progress.set_up(&self.metrics, true);
    }
}

impl SharedBackend {
    /// Loads the list `store` is for; [`Backend::follow`] then keeps it
    /// current. `durability` is what Redis said at start.
    pub async fn open(
        store: RedisStore,
        durability: Durability,
        metrics: Arc<Metrics>,
    ) -> Result<(Self, Loaded), StoreError> {
        let loaded = store.load().await?;
        let timeout = store.timeout();
        let backend = Self {
            store,
            runtime: tokio::runtime::Handle::current(),
            progress: Progress::new(loaded.version, FEED_BLOCK + timeout),
            durability,
            metrics,
        };
        Ok((backend, loaded))
    }

    /// An add through Redis: a new id, then the script (which answers a
    /// request made before with its first answer).
    fn add_user(&self, live: &LiveList, request: Request, user: NewUser) -> Outcome {
        self.refuse_while_down()?;
        let started = Instant::now();
        // The script answers a retried request itself; the id taken for it
        // is then skipped (ids are never reused, so a gap is harmless), and
        // a first request costs two round trips, not three.
        let epoch = live.epoch();
        let written = self.runtime.block_on(async {
            let id = self.store.next_id().await?;
            let user = Directory::user_for(id, user.name, user.email);
            self.store
                .add(&user, request.id.as_ref(), &request.fingerprint, &epoch)
                .await
        });
        let committed = self.written(live, written, started, &request.fingerprint)?;
        let committed = committed.expect("an add always writes or replays");
        if !committed.replayed {
            live.metrics().added();
        }
        Ok(committed)
    }

    /// A remove through Redis; `Ok(None)` when the user is not there.
    fn remove_user(&self, live: &LiveList, request: Request, id: &UserId) -> Removed {
        self.refuse_while_down()?;
        let started = Instant::now();
        let written = self.runtime.block_on(self.store.remove(
            id,
            request.id.as_ref(),
            &request.fingerprint,
            &live.epoch(),
        ));
        let committed = self.written(live, written, started, &request.fingerprint)?;
        if committed.as_ref().is_some_and(|c| !c.replayed) {
            live.metrics().removed();
        }
        Ok(committed)
    }

    /// What a write ended in, once this instance has applied it.
    fn written(
        &self,
        live: &LiveList,
        written: Result<Written, StoreError>,
        started: Instant,
        fingerprint: &str,
    ) -> Result<Option<Committed>, ErrorBody> {
        live.metrics().store_latency(started.elapsed());
        // Whether Redis is up is the feed's to say: one failed write must
        // not mark it down with nothing to mark it up.
        let written = written.map_err(|err| store_unavailable(&err))?;
        match written {
            Written::Done(change) => {
                tracing::info!(
                    version = change.version,
                    op = ?change.op,
                    id = %change.user.id,
                    "change stored in redis"
                );
                self.progress.wait_applied(&self.runtime, change.version);
                Ok(Some(Committed {
                    change,
                    replayed: false,
                }))
            }
            Written::Replayed(stored) => replayed(live, stored, fingerprint).map(Some),
            Written::Missing => Ok(None),
            // Deleted, or Redis lost it and it was made again: the feed
            // finds out which and tells the clients (4410, or a snapshot).
            Written::NoSuchList => Err(ErrorBody::new(
                ErrorCode::StoreUnavailable,
                "the list changed in the store while this was on its way (deleted, or the store lost data); nothing was changed",
            )
            .retry_after(STORE_RETRY_MS)),
        }
    }
}

impl SharedBackend {
    /// Refuses a write at once while the feed finds Redis down or has not
    /// heard from it lately, instead of trying it: a client's writes come
    /// in batches (`ws::v1`), and each tried against a silent Redis waited
    /// the whole command deadline, so a batch of ten went unanswered for
    /// 20 s (found by `tests/e2e/faults/redis.spec.js`). The feed finds
    /// Redis back within a second of it answering, and writes go on.
    fn refuse_while_down(&self) -> Result<(), ErrorBody> {
        self.feed_state().map_err(|err| store_unavailable(&err))
    }

    /// What the change feed knows of Redis, without asking it: down, or
    /// not heard from within the deadline, or (`Ok`) current.
    fn feed_state(&self) -> Result<(), StoreError> {
        if !self.progress.is_up() {
            return Err(StoreError::FeedReconnecting);
        }
        if !self.progress.is_current() {
            return Err(StoreError::FeedSilent(self.progress.silent_for()));
        }
        Ok(())
    }

    /// Before the list in memory goes to anyone: if the feed believes
    /// Redis is up but has not heard from it lately (this process was
    /// frozen, or its host paused), waits until it has, or has found Redis
    /// down (then the list is served as the last known one, as during any
    /// outage, while `/healthz` says so). Without this, an instance woken
    /// after a minute greeted pages with the list of a minute ago.
    fn until_current(&self) {
        if self.progress.is_up() && !self.progress.is_current() {
            let patience = self.store.timeout() + FEED_BLOCK;
            let current = self.runtime.block_on(self.progress.until_current(patience));
            if !current {
                tracing::warn!(
                    silent_ms = self.progress.silent_for().as_millis() as u64,
                    "greeting from memory: the change feed has not heard from redis"
                );
            }
        }
    }
}

impl Backend for SharedBackend {
    fn add(&self, live: &LiveList, request: Request, user: NewUser) -> Outcome {
        self.add_user(live, request, user)
    }

    fn remove(&self, live: &LiveList, request: Request, id: &UserId) -> Removed {
        self.remove_user(live, request, id)
    }

    fn remove_latest(&self, live: &LiveList) -> Removed {
        let latest = live.directory().plan_remove_latest();
        let Some(change) = latest else {
            return Ok(None);
        };
        self.remove_user(live, Request::unnamed(), &change.user.id)
    }

    /// One by one through Redis, like any add (start only one instance
    /// with --demo-users).
    fn fill_with_demo_users(&self, live: &LiveList, wanted: usize) -> Result<usize, ErrorBody> {
        let missing = wanted.saturating_sub(live.directory().len());
        for _ in 0..missing {
            let user = NewUser {
                name: None,
                email: None,
            };
            self.add_user(live, Request::unnamed(), user)?;
        }
        Ok(missing)
    }

    /// The missed changes from memory, else from Redis' stream, else a
    /// snapshot.
    fn greet(&self, live: &LiveList, resume: Resume) -> Result<Greeted, ErrorBody> {
        self.until_current();
        let (events, version, since) = {
            let directory = live.directory();
            let events = live.subscribe();
            let version = directory.version();
            let Some(since) = live.resumable(resume, version) else {
                let frame = live.snapshot_of(&directory);
                return Ok((Greeting::Snapshot { version, frame }, events));
            };
            if let Some(frames) = self.progress.recent_since(since, version) {
                return Ok((Greeting::Changes { version, frames }, events));
            }
            (events, version, since)
        };
        // Older than memory holds: the stream has the changes up to
        // `version` for good, so the lock is not needed to read them.
        let changes = self
            .runtime
            .block_on(self.store.changes_between(since, version))
            .map_err(|err| store_unavailable(&err))?;
        match changes {
            Some(changes) => {
                let frames = changes.into_iter().map(change_frame).collect();
                Ok((Greeting::Changes { version, frames }, events))
            }
            // A snapshot taken now may be past `version`; the changes the
            // subscription then repeats are skipped by their versions.
            None => {
                let (version, frame) = live.snapshot();
                Ok((Greeting::Snapshot { version, frame }, events))
            }
        }
    }

    /// Redis answers, and the feed follows it.
    fn check(&self, _live: &LiveList) -> Result<(), ErrorBody> {
        let unavailable =
            |err: StoreError| ErrorBody::new(ErrorCode::StoreUnavailable, err.to_string());
        // What the feed knows first: a Redis it already found down is not
        // asked again (that would hold every health check for the whole
        // command deadline).
        self.feed_state().map_err(unavailable)?;
        self.runtime
            .block_on(self.store.check())
            .map_err(unavailable)
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": if self.store.is_cluster() { "redis-cluster" } else { "redis" },
            "durability": self.durability.describe(),
            "durability_safe": self.durability == Durability::Always,
        })
    }

    fn follow<'a>(&'a self, live: &'a LiveList, shutdown: CancellationToken) -> Following<'a> {
        Box::pin(feed::follow(&self.store, live, &self.progress, shutdown))
    }
}

/// A write the shared store could not take: retried by clients.
fn store_unavailable(err: &StoreError) -> ErrorBody {
    tracing::warn!(%err, "redis unavailable; change not made");
    ErrorBody::new(
        ErrorCode::StoreUnavailable,
        "the server cannot reach its store right now; nothing was changed, send it again",
    )
    .retry_after(STORE_RETRY_MS)
}
