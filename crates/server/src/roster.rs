//! The shared list: commits each change to the store, then applies it in
//! memory and publishes it, so that versions, the store and every client
//! agree on one order.
//!
//! # Locks
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

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use crate::ws::Text;
use roster_protocol::seed::{encode_user_list, SeedCommand};
use roster_protocol::v1::{Change, ErrorBody, ErrorCode, ServerMessage};
use roster_protocol::validate::{Email, RequestId, UserName};
use roster_protocol::{User, UserId};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::store::{Loaded, RedisStore, Store, StoreError, StoredRequest, Written};

fn not_found(id: &UserId) -> ErrorBody {
    ErrorBody::new(
        ErrorCode::NotFound,
        format!("there is no user with id {id}"),
    )
}

/// Changes a connection may fall behind before it is resynchronised with a
/// snapshot (v1) or the latest list (seed).
const EVENT_BUFFER: usize = 1024;

/// The most missed changes a resume is answered with; beyond that a
/// snapshot is smaller and quicker to apply.
const MAX_RESUME_CHANGES: u64 = 1_000;

/// Changes kept in memory for resumes in shared mode; older resumes read
/// Redis' stream (`XRANGE`).
const RECENT_CHANGES: usize = 256;

/// How long a shared write waits for this instance's feed to apply the
/// change it made before answering anyway (it is stored either way).
const APPLY_WAIT: Duration = Duration::from_secs(5);

/// The wait a client is asked to leave before retrying a write the shared
/// store could not take (its own backoff doubles it from there).
const STORE_RETRY_MS: u64 = 500;

/// A committed change as every v1 connection sends it, or a whole new
/// list (`reset`) after a reload, which every connection sends whatever
/// version it is at.
#[derive(Clone, Debug)]
pub struct Published {
    pub version: u64,
    pub frame: Text,
    pub reset: bool,
}

/// A request that took effect (now, or earlier when `replayed`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub change: Change,
    pub replayed: bool,
}

pub type Outcome = Result<Committed, ErrorBody>;

/// What a v1 client gets after its `hello`.
#[derive(Debug)]
pub enum Greeting {
    /// The whole list.
    Snapshot { version: u64, frame: Text },
    /// Only the changes after the client's `since`, oldest first.
    Changes { version: u64, frames: Vec<Text> },
}

/// An encoded frame of the list at one version, reused until it changes.
#[derive(Default)]
struct FrameCache(Mutex<Option<(u64, Text)>>);

impl FrameCache {
    /// Forgets the cached frame (the list was replaced, perhaps at a
    /// version it had before).
    fn clear(&self) {
        *lock(&self.0) = None;
    }

    fn get(&self, version: u64, encode: impl FnOnce() -> String) -> Text {
        let mut cached = lock(&self.0);
        match &*cached {
            Some((at, frame)) if *at == version => frame.clone(),
            _ => {
                let frame = Text::from(encode());
                *cached = Some((version, frame.clone()));
                frame
            }
        }
    }
}

/// Locks a mutex, taking the data even if a panicking thread poisoned it:
/// every critical section here leaves the data consistent at each step.
/// (The same holds for [`read`] and [`write`].)
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poison| poison.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|poison| poison.into_inner())
}

/// Where the list is stored.
enum Backend {
    /// One instance: SQLite. Taken first; see the module docs.
    Local(Mutex<Box<dyn Store>>),
    /// Several instances: Redis orders the changes.
    Shared {
        store: Box<RedisStore>,
        runtime: tokio::runtime::Handle,
    },
}

pub struct Roster {
    backend: Backend,
    directory: RwLock<Directory>,
    /// The last changes applied, oldest first (shared mode only; taken
    /// while holding the directory lock).
    recent: Mutex<VecDeque<Change>>,
    /// The version applied, for writers waiting to read their own write.
    applied: watch::Sender<u64>,
    epoch: RwLock<String>,
    events: broadcast::Sender<Published>,
    seed_frames: FrameCache,
    snapshots: FrameCache,
    metrics: Arc<Metrics>,
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

fn storage_failed(err: &StoreError) -> ErrorBody {
    tracing::error!(%err, "store failed; change not made");
    ErrorBody::new(
        ErrorCode::StorageFailed,
        "the server could not save the change; nothing was changed, try again",
    )
}

fn published(change: &Change) -> Published {
    Published {
        version: change.version,
        frame: change_frame(change.clone()),
        reset: false,
    }
}

fn change_frame(change: Change) -> Text {
    Text::from(ServerMessage::Change(change).to_frame())
}

impl Roster {
    /// Loads the list from `store`.
    pub fn open(mut store: Box<dyn Store>, metrics: Arc<Metrics>) -> Result<Self, StoreError> {
        let loaded = store.load()?;
        Ok(Self::with(
            Backend::Local(Mutex::new(store)),
            &loaded,
            metrics,
        ))
    }

    /// Loads the list from Redis; [`Roster::follow_feed`] then keeps it
    /// current. Called from async code: the writes later block on
    /// `runtime` from the blocking pool.
    pub async fn open_shared(store: RedisStore, metrics: Arc<Metrics>) -> Result<Self, StoreError> {
        let loaded = store.load().await?;
        let backend = Backend::Shared {
            store: Box::new(store),
            runtime: tokio::runtime::Handle::current(),
        };
        Ok(Self::with(backend, &loaded, metrics))
    }

    fn with(backend: Backend, loaded: &Loaded, metrics: Arc<Metrics>) -> Self {
        tracing::info!(
            users = loaded.users.len(),
            version = loaded.version,
            epoch = %loaded.epoch,
            "list loaded"
        );
        Self {
            backend,
            directory: RwLock::new(Directory::from_loaded(loaded)),
            recent: Mutex::new(VecDeque::with_capacity(RECENT_CHANGES)),
            applied: watch::Sender::new(loaded.version),
            epoch: RwLock::new(loaded.epoch.clone()),
            events: broadcast::Sender::new(EVENT_BUFFER),
            seed_frames: FrameCache::default(),
            snapshots: FrameCache::default(),
            metrics,
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
        read(&self.epoch).clone()
    }

    /// Whether the list lives in Redis.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Shared { .. })
    }

    /// The local store, or `None` in shared mode.
    fn local(&self) -> Option<MutexGuard<'_, Box<dyn Store>>> {
        match &self.backend {
            Backend::Local(store) => Some(lock(store)),
            Backend::Shared { .. } => None,
        }
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
        let Some(mut store) = self.local() else {
            return self.shared_add(request, name, email, &fingerprint);
        };
        if let Some(replay) = self.replay(&mut **store, request.as_ref(), &fingerprint)? {
            return Ok(replay);
        }
        // Holding the store lock keeps the plan valid: no other write can
        // come between it and the commit.
        let change = read(&self.directory).plan_add(name, email);
        let committed = self.commit(&mut **store, change, request, fingerprint)?;
        self.metrics.added();
        Ok(committed)
    }

    /// Removes user `id`; `request` makes the removal idempotent. Blocks.
    pub fn remove(&self, request: Option<RequestId>, id: &UserId) -> Outcome {
        let fingerprint = format!("remove\n{id}");
        let Some(mut store) = self.local() else {
            return self
                .shared_remove(request, id, &fingerprint)?
                .ok_or_else(|| not_found(id));
        };
        if let Some(replay) = self.replay(&mut **store, request.as_ref(), &fingerprint)? {
            return Ok(replay);
        }
        let planned = read(&self.directory).plan_remove(id);
        let Some(change) = planned else {
            return Err(not_found(id));
        };
        let committed = self.commit(&mut **store, change, request, fingerprint)?;
        self.metrics.removed();
        Ok(committed)
    }

    /// Carries out a seed command; `Ok(None)` when there was nothing to
    /// remove. Blocks.
    pub fn apply_seed(&self, command: SeedCommand) -> Result<Option<Committed>, ErrorBody> {
        match command {
            SeedCommand::AddUser => self.add(None, None, None).map(Some),
            SeedCommand::RemoveUser => {
                let Some(mut store) = self.local() else {
                    let latest = read(&self.directory).plan_remove_latest();
                    let Some(change) = latest else {
                        return Ok(None);
                    };
                    return self.shared_remove(None, &change.user.id, "");
                };
                let planned = read(&self.directory).plan_remove_latest();
                let Some(change) = planned else {
                    return Ok(None);
                };
                let committed = self.commit(&mut **store, change, None, String::new())?;
                self.metrics.removed();
                Ok(Some(committed))
            }
        }
    }

    /// Adds generated users until the list holds at least `wanted`, in one
    /// transaction, and returns how many were added. Blocks.
    pub fn fill_with_demo_users(&self, wanted: usize) -> Result<usize, ErrorBody> {
        let Some(mut store) = self.local() else {
            // One by one through Redis, like any add (start only one
            // instance with --demo-users).
            let missing = wanted.saturating_sub(read(&self.directory).len());
            for _ in 0..missing {
                self.shared_add(None, None, None, "")?;
            }
            return Ok(missing);
        };
        let (changes, next_id) = {
            let directory = read(&self.directory);
            let changes = directory.plan_generated_adds(wanted.saturating_sub(directory.len()));
            let Some(last) = changes.last() else {
                return Ok(0);
            };
            let next_id = directory.next_id_after(last);
            (changes, next_id)
        };
        let started = Instant::now();
        store
            .commit_batch(&changes, next_id)
            .map_err(|err| storage_failed(&err))?;
        self.metrics.store_latency(started.elapsed());
        let mut directory = write(&self.directory);
        // At start-up nobody has subscribed yet: then no frame is encoded.
        let publish = self.events.receiver_count() > 0;
        for change in &changes {
            directory.apply(change);
            self.metrics.added();
            if publish {
                // As in `commit`: published under the directory lock.
                let _ = self.events.send(published(change));
            }
        }
        tracing::info!(
            added = changes.len(),
            users = directory.len(),
            "demo users added"
        );
        Ok(changes.len())
    }

    /// The shared store and the runtime to wait on it with.
    fn shared(&self) -> (&RedisStore, &tokio::runtime::Handle) {
        match &self.backend {
            Backend::Shared { store, runtime } => (store, runtime),
            Backend::Local(_) => unreachable!("called in shared mode only"),
        }
    }

    /// An add through Redis: a new id, then the script (which answers a
    /// request made before with its first answer). Blocks.
    fn shared_add(
        &self,
        request: Option<RequestId>,
        name: Option<UserName>,
        email: Option<Email>,
        fingerprint: &str,
    ) -> Outcome {
        let (store, runtime) = self.shared();
        let started = Instant::now();
        // The script answers a retried request itself; the id taken for it
        // is then skipped (ids are never reused, so a gap is harmless), and
        // a first request costs two round trips, not three.
        let written = runtime.block_on(async {
            let id = store.next_id().await?;
            let user = Directory::user_for(id, name, email);
            store.add(&user, request.as_ref(), fingerprint).await
        });
        let committed = self.shared_written(written, started, fingerprint)?;
        let committed = committed.expect("an add always writes or replays");
        if !committed.replayed {
            self.metrics.added();
        }
        Ok(committed)
    }

    /// A remove through Redis; `Ok(None)` when the user is not there.
    /// Blocks.
    fn shared_remove(
        &self,
        request: Option<RequestId>,
        id: &UserId,
        fingerprint: &str,
    ) -> Result<Option<Committed>, ErrorBody> {
        let (store, runtime) = self.shared();
        let started = Instant::now();
        let written = runtime.block_on(store.remove(id, request.as_ref(), fingerprint));
        let committed = self.shared_written(written, started, fingerprint)?;
        if committed.as_ref().is_some_and(|c| !c.replayed) {
            self.metrics.removed();
        }
        Ok(committed)
    }

    /// What a shared write ended in, once this instance has applied it.
    fn shared_written(
        &self,
        written: Result<Written, StoreError>,
        started: Instant,
        fingerprint: &str,
    ) -> Result<Option<Committed>, ErrorBody> {
        self.metrics.store_latency(started.elapsed());
        // Whether Redis is up is the feed's to say (`follow_feed`): one
        // failed write must not mark it down with nothing to mark it up.
        let written = written.map_err(|err| store_unavailable(&err))?;
        match written {
            Written::Done(change) => {
                tracing::info!(
                    version = change.version,
                    op = ?change.op,
                    id = %change.user.id,
                    "change stored in redis"
                );
                self.wait_applied(change.version);
                Ok(Some(Committed {
                    change,
                    replayed: false,
                }))
            }
            Written::Replayed(stored) => self.replayed(stored, fingerprint).map(Some),
            Written::Missing => Ok(None),
        }
    }

    /// Waits (up to [`APPLY_WAIT`]) until this instance has applied
    /// `version`, so that what a client reads next includes its write.
    fn wait_applied(&self, version: u64) {
        let (_, runtime) = self.shared();
        let mut applied = self.applied.subscribe();
        let reached = runtime.block_on(async {
            tokio::time::timeout(APPLY_WAIT, applied.wait_for(|at| *at >= version)).await
        });
        if reached.is_err() {
            tracing::warn!(version, "the change feed is behind; answering anyway");
        }
    }

    /// [`Roster::greet`] in shared mode: the missed changes from memory,
    /// else from Redis' stream, else a snapshot.
    fn shared_greet(
        &self,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> Result<(Greeting, broadcast::Receiver<Published>), ErrorBody> {
        let (events, version, since) = {
            let directory = read(&self.directory);
            let events = self.events.subscribe();
            let version = directory.version();
            let Some(since) = self.resumable(since, epoch, version) else {
                let frame = self.snapshot_of(&directory);
                return Ok((Greeting::Snapshot { version, frame }, events));
            };
            let recent = lock(&self.recent);
            if recent
                .front()
                .is_some_and(|first| first.version <= since + 1)
                || since == version
            {
                let frames = recent
                    .iter()
                    .filter(|change| change.version > since)
                    .cloned()
                    .map(change_frame)
                    .collect();
                return Ok((Greeting::Changes { version, frames }, events));
            }
            (events, version, since)
        };
        // Older than memory holds: the stream has the changes up to
        // `version` for good, so the lock is not needed to read them.
        let (store, runtime) = self.shared();
        let changes = runtime
            .block_on(store.changes_between(since, version))
            .map_err(|err| store_unavailable(&err))?;
        match changes {
            Some(changes) => {
                let frames = changes.into_iter().map(change_frame).collect();
                Ok((Greeting::Changes { version, frames }, events))
            }
            // A snapshot taken now may be past `version`; the changes the
            // subscription then repeats are skipped by their versions.
            None => {
                let (version, frame) = self.snapshot();
                Ok((Greeting::Snapshot { version, frame }, events))
            }
        }
    }

    /// Applies Redis' changes to this instance, in order, and publishes
    /// them, until `shutdown`. Reconnects after an outage (catching up
    /// from the last version applied) and reloads when Redis' history is
    /// not the one this instance has (see the module docs).
    pub async fn follow_feed(self: Arc<Self>, shutdown: CancellationToken) {
        let Backend::Shared { store, .. } = &self.backend else {
            return;
        };
        let mut wait = Duration::from_millis(50);
        loop {
            let err = tokio::select! {
                () = shutdown.cancelled() => return,
                Err(err) = self.follow(store) => err,
            };
            // Quickly after an outage begins, then less and less often.
            if self.metrics.store_up(false) {
                tracing::error!(%err, "redis unreachable; reads go on from memory, writes are refused");
                wait = Duration::from_millis(50);
            } else {
                wait = (wait * 2).min(Duration::from_secs(1));
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Connects to the stream and applies its changes until an error ends
    /// it (it never ends otherwise).
    async fn follow(&self, store: &RedisStore) -> Result<std::convert::Infallible, StoreError> {
        let mut feed = store.feed().await?;
        // Where Redis is now: a new history or a version behind ours
        // means it lost data.
        let (epoch, version) = store.load_head().await?;
        if epoch != self.epoch() || version < read(&self.directory).version() {
            self.reload(store.load().await?);
        }
        if self.metrics.store_up(true) {
            tracing::info!("redis reachable; following its changes");
        }
        loop {
            let after = read(&self.directory).version();
            let changes = feed.next(after).await?;
            if !self.apply_feed(changes) {
                tracing::warn!(after, "the change feed skipped a version; reloading");
                self.reload(store.load().await?);
            }
        }
    }

    /// Applies `changes` in order; `false` at a skipped version (nothing
    /// after it is applied).
    fn apply_feed(&self, changes: Vec<Change>) -> bool {
        let mut directory = write(&self.directory);
        for change in changes {
            if change.version <= directory.version() {
                continue;
            }
            if change.version != directory.version() + 1 {
                return false;
            }
            directory.apply(&change);
            let mut recent = lock(&self.recent);
            if recent.len() == RECENT_CHANGES {
                recent.pop_front();
            }
            recent.push_back(change.clone());
            drop(recent);
            let _ = self.events.send(published(&change));
            self.applied.send_replace(change.version);
        }
        true
    }

    /// Replaces the list with `loaded` and sends it to every connection.
    fn reload(&self, loaded: Loaded) {
        tracing::warn!(
            version = loaded.version,
            epoch = %loaded.epoch,
            users = loaded.users.len(),
            "reloading the list from redis"
        );
        let mut directory = write(&self.directory);
        *directory = Directory::from_loaded(&loaded);
        *write(&self.epoch) = loaded.epoch;
        lock(&self.recent).clear();
        self.snapshots.clear();
        self.seed_frames.clear();
        let frame = self.snapshot_of(&directory);
        let _ = self.events.send(Published {
            version: directory.version(),
            frame,
            reset: true,
        });
        self.applied.send_replace(directory.version());
    }

    /// The stored answer to `request`, if it was made before.
    fn replay(
        &self,
        store: &mut dyn Store,
        request: Option<&RequestId>,
        fingerprint: &str,
    ) -> Result<Option<Committed>, ErrorBody> {
        let Some(request) = request else {
            return Ok(None);
        };
        let stored = store
            .find_request(request)
            .map_err(|err| storage_failed(&err))?;
        stored
            .map(|stored| self.replayed(stored, fingerprint))
            .transpose()
    }

    /// The first answer to a request made again, if it is the same request.
    fn replayed(&self, stored: StoredRequest, fingerprint: &str) -> Outcome {
        if stored.fingerprint != fingerprint {
            return Err(ErrorBody::new(
                ErrorCode::IdempotencyKeyReused,
                format!(
                    "request id {} was already used for a different request",
                    stored.id
                ),
            ));
        }
        self.metrics.replayed();
        tracing::debug!(request = %stored.id, version = stored.change.version, "request replayed");
        Ok(Committed {
            change: stored.change,
            replayed: true,
        })
    }

    /// Commits, applies and publishes `change`, in that order. The caller
    /// holds the store lock (that is the `store` passed in).
    fn commit(
        &self,
        store: &mut dyn Store,
        change: Change,
        request: Option<RequestId>,
        fingerprint: String,
    ) -> Outcome {
        let next_id = read(&self.directory).next_id_after(&change);
        let stored = request.map(|id| StoredRequest {
            id,
            fingerprint,
            change: change.clone(),
        });
        let started = Instant::now();
        let result = store.commit(&change, next_id, stored.as_ref());
        self.metrics.store_latency(started.elapsed());
        result.map_err(|err| storage_failed(&err))?;
        tracing::info!(
            version = change.version,
            op = ?change.op,
            id = %change.user.id,
            name = %change.user.name,
            "change committed"
        );
        let published = published(&change);
        let mut directory = write(&self.directory);
        directory.apply(&change);
        // Sent under the directory lock, so that a client subscribing under
        // it sees either the old list and this change, or the new list and
        // not this change. An error only means nobody is listening.
        let _ = self.events.send(published);
        drop(directory);
        Ok(Committed {
            change,
            replayed: false,
        })
    }

    /// Subscribes to changes and says what a v1 client must get first to
    /// be in step with them: the missed changes after `since` when the log
    /// has them, they are at most [`MAX_RESUME_CHANGES`] and the epoch
    /// matches; else a snapshot. Blocks.
    pub fn greet(
        &self,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> Result<(Greeting, broadcast::Receiver<Published>), ErrorBody> {
        // The store lock holds off commits, so the log ends at the version
        // the directory shows; the directory lock makes the subscription
        // start exactly after that version.
        let Some(mut store) = self.local() else {
            return self.shared_greet(since, epoch);
        };
        let directory = read(&self.directory);
        let events = self.events.subscribe();
        let version = directory.version();
        if let Some(since) = self.resumable(since, epoch, version) {
            let changes = store
                .changes_since(since)
                .map_err(|err| storage_failed(&err))?;
            if let Some(changes) = changes {
                let frames = changes.into_iter().map(change_frame).collect();
                return Ok((Greeting::Changes { version, frames }, events));
            }
        }
        let frame = self.snapshot_of(&directory);
        Ok((Greeting::Snapshot { version, frame }, events))
    }

    /// `since`, if a client at `since` of `epoch` can be brought to
    /// `version` with the changes in between.
    fn resumable(&self, since: Option<u64>, epoch: Option<&str>, version: u64) -> Option<u64> {
        since.filter(|since| {
            *since <= version
                && version - since <= MAX_RESUME_CHANGES
                && epoch == Some(read(&self.epoch).as_str())
        })
    }

    /// The v1 snapshot frame of the current list, and its version. Does
    /// not wait for the store.
    pub fn snapshot(&self) -> (u64, Text) {
        let directory = read(&self.directory);
        (directory.version(), self.snapshot_of(&directory))
    }

    fn snapshot_of(&self, directory: &Directory) -> Text {
        self.snapshots.get(directory.version(), || {
            ServerMessage::Snapshot {
                epoch: self.epoch(),
                version: directory.version(),
                users: directory.users().cloned().collect(),
            }
            .to_frame()
        })
    }

    /// The whole list as a seed frame (a JSON array), shared, not copied.
    /// Does not wait for the store.
    pub fn seed_frame(&self) -> Text {
        let directory = read(&self.directory);
        self.seed_frames.get(directory.version(), || {
            encode_user_list(&directory.users().cloned().collect::<Vec<_>>())
        })
    }

    /// The current list.
    pub fn users(&self) -> Vec<User> {
        read(&self.directory).users().cloned().collect()
    }

    pub fn user(&self, id: &UserId) -> Option<User> {
        read(&self.directory).get(id).cloned()
    }

    /// How many users, at which version.
    pub fn stats(&self) -> (usize, u64) {
        let directory = read(&self.directory);
        (directory.len(), directory.version())
    }

    /// Checks the store answers (and, shared, that the feed does). Blocks.
    pub fn check(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Local(store) => lock(store).check(),
            Backend::Shared { store, runtime } => {
                runtime.block_on(store.check())?;
                if self.metrics.is_store_up() {
                    Ok(())
                } else {
                    Err(StoreError::FeedReconnecting)
                }
            }
        }
    }

    /// A receiver of every change committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.events.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;
    use roster_protocol::v1::ChangeOp;

    fn roster() -> Roster {
        let store = SqliteStore::open(":memory:", 100).unwrap();
        Roster::open(Box::new(store), Arc::new(Metrics::default())).unwrap()
    }

    fn rid(id: &str) -> Option<RequestId> {
        Some(RequestId::parse(id).unwrap())
    }

    #[test]
    fn an_add_is_published_once_as_a_change_frame() {
        let roster = roster();
        let mut events = roster.subscribe();
        let committed = roster.add(None, Some("Ada"), None).unwrap();
        assert_eq!(committed.change.version, 1);
        let event = events.try_recv().unwrap();
        assert_eq!(event.version, 1);
        assert!(event.frame.as_str().contains(r#""name":"Ada""#));
        assert!(events.try_recv().is_err());
    }

    #[test]
    fn a_retried_request_is_answered_from_the_record_and_stored_once() {
        let roster = roster();
        let first = roster.add(rid("r1"), None, None).unwrap();
        let again = roster.add(rid("r1"), None, None).unwrap();
        assert!(again.replayed);
        assert_eq!(again.change, first.change);
        assert_eq!(roster.users().len(), 1);
        let reused = roster
            .add(rid("r1"), Some("Someone else"), None)
            .unwrap_err();
        assert_eq!(reused.code, ErrorCode::IdempotencyKeyReused);
    }

    #[test]
    fn invalid_input_changes_nothing() {
        let roster = roster();
        let err = roster.add(rid("r1"), Some(""), None).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidName);
        let err = roster.add(rid("r1"), None, Some("nope")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidEmail);
        assert_eq!(roster.stats(), (0, 0));
        // The failed request id is still free for a valid request.
        assert!(!roster.add(rid("r1"), None, None).unwrap().replayed);
    }

    #[test]
    fn removing_an_unknown_user_is_not_found() {
        let roster = roster();
        let err = roster.remove(None, &UserId::new("9")).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
    }

    #[test]
    fn greeting_resumes_with_changes_only_in_the_same_history() {
        let roster = roster();
        for _ in 0..3 {
            roster.add(None, None, None).unwrap();
        }
        let epoch = roster.epoch().to_owned();
        let (greeting, _) = roster.greet(Some(1), Some(&epoch)).unwrap();
        let Greeting::Changes { version, frames } = greeting else {
            panic!("expected changes");
        };
        assert_eq!((version, frames.len()), (3, 2));
        for (since, epoch) in [
            (None, Some(epoch.as_str())),
            (Some(1), Some("other")),
            (Some(7), Some(epoch.as_str())),
            (Some(1), None),
        ] {
            let (greeting, _) = roster.greet(since, epoch).unwrap();
            assert!(
                matches!(greeting, Greeting::Snapshot { version: 3, .. }),
                "{since:?} {epoch:?}"
            );
        }
    }

    #[test]
    fn seed_commands_add_and_remove_the_latest() {
        let roster = roster();
        roster.apply_seed(SeedCommand::AddUser).unwrap();
        roster.apply_seed(SeedCommand::AddUser).unwrap();
        let removed = roster.apply_seed(SeedCommand::RemoveUser).unwrap().unwrap();
        assert_eq!(
            (removed.change.op, removed.change.user.id.as_str()),
            (ChangeOp::Removed, "2")
        );
        assert_eq!(
            roster.seed_frame().as_str(),
            encode_user_list(&roster.users())
        );
        roster.apply_seed(SeedCommand::RemoveUser).unwrap();
        assert!(roster
            .apply_seed(SeedCommand::RemoveUser)
            .unwrap()
            .is_none());
    }
}
