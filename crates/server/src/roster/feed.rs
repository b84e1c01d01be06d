//! Following Redis' stream of changes: every instance, the writer
//! included, applies and publishes changes only as it reads them here, in
//! version order. A version the feed skips, a new epoch or a version that
//! went backwards (Redis lost data) reload the whole list.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use roster_protocol::v1::Change;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::frames::change_frame;
use super::live::LiveList;
use super::locks::lock;
use super::Followed;
use crate::store::{Loaded, RedisStore, StoreError};
use crate::text::Text;

/// Changes kept in memory for resumes; older resumes read Redis' stream
/// (`XRANGE`).
const RECENT_CHANGES: usize = 256;

/// How long a write waits for this instance's feed to apply the change it
/// made before answering anyway (it is stored either way).
const APPLY_WAIT: Duration = Duration::from_secs(5);

/// How far this instance has followed the stream.
pub struct Progress {
    /// The last changes applied, oldest first (taken while holding the
    /// list's lock).
    recent: Mutex<VecDeque<Change>>,
    /// The version applied, for writers waiting to read their own write.
    applied: watch::Sender<u64>,
    /// When the feed last heard from Redis: the moment it asked the
    /// question whose answer it has applied (the answer shows Redis as it
    /// was then or later). A process frozen and woken (SIGSTOP, a paused
    /// VM) finds this old and asks again before greeting anyone.
    heard: watch::Sender<Option<Instant>>,
    /// How old `heard` may be while the list counts as current: the
    /// feed asks at least every [`crate::store::FEED_BLOCK`], and each
    /// question may take the command deadline.
    current_within: Duration,
    /// Whether the feed last found this list's Redis reachable.
    up: AtomicBool,
}

impl Progress {
    /// Nothing followed yet; the list, loaded just now, is at `version`.
    /// It counts as current while the feed has heard from Redis within
    /// `current_within`.
    pub fn new(version: u64, current_within: Duration) -> Self {
        Self {
            recent: Mutex::new(VecDeque::with_capacity(RECENT_CHANGES)),
            applied: watch::Sender::new(version),
            heard: watch::Sender::new(Some(Instant::now())),
            current_within,
            up: AtomicBool::new(true),
        }
    }

    /// Whether the feed last found Redis reachable.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Relaxed)
    }

    /// Records what the feed found, counted in `metrics` once per change;
    /// returns whether it changed.
    pub fn set_up(&self, metrics: &crate::metrics::Metrics, up: bool) -> bool {
        let changed = self.up.swap(up, Ordering::Relaxed) != up;
        if changed {
            metrics.list_store_up(up);
        }
        changed
    }

    /// How long ago the feed last heard from Redis.
    pub fn silent_for(&self) -> Duration {
        self.heard.borrow().map_or(Duration::MAX, |at| at.elapsed())
    }

    /// Whether the list in memory is known to be Redis' of a moment ago.
    pub fn is_current(&self) -> bool {
        self.silent_for() <= self.current_within
    }

    /// Waits (up to `patience`) until the feed has heard from Redis
    /// recently; whether it has.
    pub async fn until_current(&self, patience: Duration) -> bool {
        let within = self.current_within;
        let mut heard = self.heard.subscribe();
        let current = heard.wait_for(|at| at.is_some_and(|at| at.elapsed() <= within));
        tokio::time::timeout(patience, current)
            .await
            .is_ok_and(|seen| seen.is_ok())
    }

    fn heard_at(&self, asked: Instant) {
        self.heard.send_replace(Some(asked));
    }

    /// Waits (up to [`APPLY_WAIT`]) until this instance has applied
    /// `version`, so that what a client reads next includes its write.
    pub fn wait_applied(&self, runtime: &tokio::runtime::Handle, version: u64) {
        let mut applied = self.applied.subscribe();
        let reached = runtime.block_on(async {
            tokio::time::timeout(APPLY_WAIT, applied.wait_for(|at| *at >= version)).await
        });
        if reached.is_err() {
            tracing::warn!(version, "the change feed is behind; answering anyway");
        }
    }

    /// The frames of the changes after `since`, up to `version`, when
    /// memory still has every one of them. The caller holds the list's
    /// lock, so `version` is where the list is.
    pub fn recent_since(&self, since: u64, version: u64) -> Option<Vec<Text>> {
        let recent = lock(&self.recent);
        let complete = recent
            .front()
            .is_some_and(|first| first.version <= since + 1)
            || since == version;
        complete.then(|| {
            recent
                .iter()
                .filter(|change| change.version > since)
                .cloned()
                .map(change_frame)
                .collect()
        })
    }

    fn remember(&self, change: &Change) {
        let mut recent = lock(&self.recent);
        if recent.len() == RECENT_CHANGES {
            recent.pop_front();
        }
        recent.push_back(change.clone());
        drop(recent);
        self.applied.send_replace(change.version);
    }
}

/// Applies Redis' changes to `live`, in order, and publishes them, until
/// `shutdown`. Reconnects after an outage (catching up from the last
/// version applied) and reloads when Redis' history is not the one this
/// instance has.
pub async fn follow(
    store: &RedisStore,
    live: &LiveList,
    progress: &Progress,
    shutdown: CancellationToken,
) -> Followed {
    let mut wait = Duration::from_millis(50);
    let list = store.name();
    loop {
        let err = tokio::select! {
            () = shutdown.cancelled() => return Followed::Stopped,
            Err(err) = follow_until_error(store, live, progress) => err,
        };
        if let StoreError::NoSuchList(_) = err {
            tracing::info!(%list, "the list was deleted; closing its sockets");
            return Followed::Deleted;
        }
        // Quickly after an outage begins, then less and less often.
        if progress.set_up(live.metrics(), false) {
            tracing::error!(%list, %err, "redis unreachable; reads go on from memory, writes are refused");
            wait = Duration::from_millis(50);
        } else {
            wait = (wait * 2).min(Duration::from_secs(1));
        }
        tokio::select! {
            () = shutdown.cancelled() => return Followed::Stopped,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Connects to the stream and applies its changes until an error ends
/// it (it never ends otherwise).
async fn follow_until_error(
    store: &RedisStore,
    live: &LiveList,
    progress: &Progress,
) -> Result<Infallible, StoreError> {
    let mut feed = store.feed().await?;
    // Where Redis is now: a new history or a version behind ours means it
    // lost data.
    let (epoch, version) = store.load_head().await?;
    if epoch != live.epoch() || version < live.directory().version() {
        reload(live, progress, load_or_recreate(store).await?);
    }
    if progress.set_up(live.metrics(), true) {
        tracing::info!(list = %store.name(), "redis reachable; following its changes");
    }
    loop {
        let after = live.directory().version();
        let asked = Instant::now();
        let changes = feed.next(after).await?;
        if !live.apply_in_order(changes, |change| progress.remember(change)) {
            tracing::warn!(list = %store.name(), after, "the change feed skipped a version; reloading");
            reload(live, progress, load_or_recreate(store).await?);
        }
        progress.heard_at(asked);
    }
}

/// The list as Redis has it. `default` always exists: a Redis that lost
/// it (restarted without its data) gets it back, empty, with a new epoch.
/// Any other list that is not there was deleted.
async fn load_or_recreate(store: &RedisStore) -> Result<Loaded, StoreError> {
    match store.load().await {
        Err(StoreError::NoSuchList(list)) if list.is_default() => {
            store.create().await?;
            store.load().await
        }
        loaded => loaded,
    }
}

/// Replaces the list with `loaded` and sends it to every connection.
fn reload(live: &LiveList, progress: &Progress, loaded: Loaded) {
    tracing::warn!(
        version = loaded.version,
        epoch = %loaded.epoch,
        users = loaded.users.len(),
        "reloading the list from redis"
    );
    let version = live.replace(loaded, || lock(&progress.recent).clear());
    progress.applied.send_replace(version);
}
