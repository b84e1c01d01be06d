//! Many named lists on one server: which exist, which are in memory, and
//! who may make new ones.
//!
//! A list lives in the store ([`Stores`]) for as long as it exists, and in
//! memory ([`List`]: its [`Roster`], its viewer count, its feed) only
//! while it is used: it is loaded by the first socket or request that
//! names it, and dropped a while (`--list-idle-ms`) after the last one
//! let go of it. `default` stays: it is the list of every single-list
//! URL, `/healthz` and `/metrics`. Nothing else holds a [`List`], so "nobody uses it" is
//! "the registry holds the only reference", checked under the registry's
//! lock, which is also the only way to get a new reference.
//!
//! `--max-loaded-lists` bounds memory: past it, the list unused the
//! longest is dropped first, and when every list is in use the request
//! is refused (`too_many_lists`, retry later). `--max-lists` bounds the
//! store.
//!
//! Lists are created by an admin (`PUT /api/v1/lists/{list}`), by name at
//! start (`--list`), or, with `--lists open`, by the first add of a
//! writer whose scope names the list. Never by a read or a socket: a
//! socket on a name that does not exist is closed with 4404.

mod stores;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use roster_protocol::v1::{ErrorBody, ErrorCode};
use roster_protocol::ListName;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

pub use stores::Stores;

use crate::metrics::Metrics;
use crate::presence::Presence;
use crate::roster::{Followed, Roster, STORE_RETRY_MS};
use crate::store::{ListFigures, StoreError};

/// Who may create a list (`--lists`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Creation {
    /// An admin (`PUT /api/v1/lists/{list}`), or `--list` at start.
    #[default]
    Declared,
    /// Also a writer whose scope names the list, by its first add.
    Open,
}

/// The limits and rules of [`Lists`], from the command line.
#[derive(Clone, Debug)]
pub struct ListSettings {
    pub creation: Creation,
    /// Lists that exist from the start (created if missing), besides
    /// `default`.
    pub named: Vec<ListName>,
    pub max_lists: u64,
    pub max_loaded: usize,
    /// How long a list nobody uses stays in memory.
    pub idle: Duration,
}

/// One list in memory.
pub struct List {
    name: ListName,
    roster: Arc<Roster>,
    presence: Arc<Presence>,
    /// Cancelled when the list is deleted (its sockets are told through
    /// its change channel, and close with 4410).
    deleted: CancellationToken,
    /// Cancelled when the list leaves memory: stops its feed and its
    /// presence frames.
    tasks: CancellationToken,
    /// When it was last seen in use.
    used: Mutex<Instant>,
}

impl List {
    pub fn name(&self) -> &ListName {
        &self.name
    }

    pub fn roster(&self) -> &Arc<Roster> {
        &self.roster
    }

    /// How many have this list open.
    pub fn presence(&self) -> &Arc<Presence> {
        &self.presence
    }

    /// Whether the list was deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted.is_cancelled()
    }

    /// Marks the list deleted and tells its connections.
    fn mark_deleted(&self) {
        self.deleted.cancel();
        self.roster.announce_deleted();
    }

    fn touch(&self) {
        *lock(&self.used) = Instant::now();
    }

    fn unused_for(&self) -> Duration {
        lock(&self.used).elapsed()
    }
}

impl Drop for List {
    fn drop(&mut self) {
        self.tasks.cancel();
    }
}

/// A list being loaded, or loaded.
type Slot = OnceCell<Arc<List>>;

/// Every list this server holds (see the module docs).
pub struct Lists {
    stores: Stores,
    settings: ListSettings,
    metrics: Arc<Metrics>,
    /// The server's: each list's tasks stop with it.
    shutdown: CancellationToken,
    loaded: Mutex<HashMap<ListName, Arc<Slot>>>,
    /// Itself, for the tasks a loaded list starts.
    me: Weak<Lists>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a store failure is to a client.
fn store_error(err: StoreError) -> ErrorBody {
    match err {
        StoreError::NoSuchList(list) => no_such_list(&list),
        StoreError::Redis(_) | StoreError::FeedReconnecting | StoreError::FeedSilent(_) => {
            tracing::warn!(%err, "list store unavailable");
            ErrorBody::new(
                ErrorCode::StoreUnavailable,
                "the server cannot reach its store right now; try again",
            )
            .retry_after(STORE_RETRY_MS)
        }
        err => {
            tracing::error!(%err, "list store failed");
            ErrorBody::new(ErrorCode::StorageFailed, err.to_string()).retry_after(STORE_RETRY_MS)
        }
    }
}

pub fn no_such_list(list: &ListName) -> ErrorBody {
    ErrorBody::new(ErrorCode::NoSuchList, format!("No list named {list}"))
}

impl Lists {
    /// The registry over `stores`, with nothing loaded yet.
    pub fn new(
        stores: Stores,
        settings: ListSettings,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            stores,
            settings,
            metrics,
            shutdown,
            loaded: Mutex::new(HashMap::new()),
            me: me.clone(),
        })
    }

    /// Whether the lists are in the embedded store (SQLite), which only
    /// this instance writes.
    pub fn is_embedded(&self) -> bool {
        matches!(self.stores, Stores::Sqlite(_))
    }

    /// `default`, then the lists named at start (`--list`), each once.
    pub fn named_at_start(&self) -> Vec<ListName> {
        let mut seen = std::collections::HashSet::new();
        std::iter::once(ListName::default_list())
            .chain(self.settings.named.iter().cloned())
            .filter(|name| seen.insert(name.clone()))
            .collect()
    }

    /// Creates the lists named at start if they are missing, and loads
    /// `default`.
    pub async fn start(&self) -> Result<(), ErrorBody> {
        let names = self.named_at_start();
        for name in &names[1..] {
            if self.create(name).await? {
                tracing::info!(list = %name, "list created (named at start)");
            }
        }
        self.open(&names[0], false).await?;
        Ok(())
    }

    /// List `name`, loaded if it is not in memory. `to_write`: with
    /// `--lists open`, a list that does not exist is created (the caller
    /// checked the scope). Otherwise a missing list is `no_such_list`.
    pub async fn open(&self, name: &ListName, to_write: bool) -> Result<Arc<List>, ErrorBody> {
        let slot = self.slot(name)?;
        let loaded = slot
            .get_or_try_init(|| self.load(name, to_write))
            .await
            .cloned();
        match loaded {
            Ok(list) => {
                list.touch();
                Ok(list)
            }
            Err(err) => {
                let mut loaded = lock(&self.loaded);
                if loaded
                    .get(name)
                    .is_some_and(|held| Arc::ptr_eq(held, &slot) && held.get().is_none())
                {
                    loaded.remove(name);
                }
                Err(err)
            }
        }
    }

    /// The slot of `name`, made if there is none; refused when memory
    /// holds as many lists as it may and every one is in use.
    fn slot(&self, name: &ListName) -> Result<Arc<Slot>, ErrorBody> {
        let mut loaded = lock(&self.loaded);
        if let Some(slot) = loaded.get(name) {
            return Ok(Arc::clone(slot));
        }
        if loaded.len() >= self.settings.max_loaded && !self.evict_least_used(&mut loaded) {
            tracing::warn!(
                max = self.settings.max_loaded,
                list = %name,
                "list refused: as many lists in memory as --max-loaded-lists allows, all in use"
            );
            return Err(ErrorBody::new(
                ErrorCode::TooManyLists,
                format!(
                    "the server holds {} lists in memory, all in use; try again later",
                    self.settings.max_loaded
                ),
            )
            .retry_after(1_000));
        }
        let slot = Arc::new(Slot::new());
        loaded.insert(name.clone(), Arc::clone(&slot));
        Ok(slot)
    }

    /// Loads `name` from the store (creating it first if `to_write` and
    /// lists are open) and starts its tasks.
    async fn load(&self, name: &ListName, to_write: bool) -> Result<Arc<List>, ErrorBody> {
        let loaded = match self.stores.load(name, &self.metrics).await {
            Err(StoreError::NoSuchList(_))
                if to_write && self.settings.creation == Creation::Open =>
            {
                if self.create(name).await? {
                    tracing::info!(list = %name, "list created by its first add (--lists open)");
                }
                self.stores.load(name, &self.metrics).await
            }
            loaded => loaded,
        };
        let (backend, loaded) = loaded.map_err(store_error)?;
        let roster = Arc::new(Roster::new(backend, &loaded, Arc::clone(&self.metrics)));
        let list = Arc::new(List {
            name: name.clone(),
            roster,
            presence: Arc::default(),
            deleted: CancellationToken::new(),
            tasks: self.shutdown.child_token(),
            used: Mutex::new(Instant::now()),
        });
        self.metrics.list_loaded();
        tokio::spawn(Arc::clone(&list.presence).publish(list.tasks.clone()));
        let following = Arc::clone(&list.roster).follow_feed(list.tasks.clone());
        let (lists, name, deleted) = (self.me.clone(), name.clone(), list.deleted.clone());
        let roster = Arc::clone(&list.roster);
        tokio::spawn(async move {
            if following.await == Followed::Deleted {
                deleted.cancel();
                roster.announce_deleted();
                if let Some(lists) = lists.upgrade() {
                    lists.unload(&name, false);
                    lists.metrics.list_deleted();
                }
            }
        });
        Ok(list)
    }

    /// Drops `name` from memory (its users keep their reference until
    /// they let go).
    fn unload(&self, name: &ListName, evicted: bool) {
        let removed = lock(&self.loaded).remove(name);
        if removed.is_some_and(|slot| slot.get().is_some()) {
            self.metrics.list_unloaded(evicted);
        }
    }

    /// Drops the loaded list unused the longest, if one is unused;
    /// whether one was.
    fn evict_least_used(&self, loaded: &mut HashMap<ListName, Arc<Slot>>) -> bool {
        let unused = loaded
            .iter()
            .filter_map(|(name, slot)| {
                let list = slot.get()?;
                (!name.is_default() && Arc::strong_count(slot) == 1 && Arc::strong_count(list) == 1)
                    .then(|| (list.unused_for(), name.clone()))
            })
            .max();
        let Some((_, name)) = unused else {
            return false;
        };
        loaded.remove(&name);
        self.metrics.list_unloaded(true);
        tracing::debug!(list = %name, "list dropped from memory to make room");
        true
    }

    /// Drops from memory the lists unused for `--list-idle-ms`, every
    /// quarter of that, until `shutdown`.
    pub async fn sweep(self: Arc<Self>, shutdown: CancellationToken) {
        let every = (self.settings.idle / 4).max(Duration::from_millis(100));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let mut evicted = Vec::new();
            lock(&self.loaded).retain(|name, slot| {
                let Some(list) = slot.get() else { return true };
                if name.is_default() || Arc::strong_count(slot) > 1 || Arc::strong_count(list) > 1 {
                    // In use: idle time counts from the last time it was.
                    list.touch();
                    return true;
                }
                let keep = list.unused_for() < self.settings.idle;
                if !keep {
                    evicted.push(name.clone());
                }
                keep
            });
            for name in evicted {
                self.metrics.list_unloaded(true);
                tracing::debug!(list = %name, "list dropped from memory: unused");
            }
        }
    }

    /// Creates list `name` unless it exists (then `false`); refused past
    /// `--max-lists`.
    pub async fn create(&self, name: &ListName) -> Result<bool, ErrorBody> {
        if !self.stores.exists(name).await.map_err(store_error)? {
            let count = self.stores.count().await.map_err(store_error)?;
            if count >= self.settings.max_lists {
                return Err(ErrorBody::new(
                    ErrorCode::TooManyLists,
                    format!(
                        "the server holds {count} lists, as many as --max-lists allows; delete one first"
                    ),
                ));
            }
        }
        let created = self.stores.create(name).await.map_err(store_error)?;
        if created {
            self.metrics.list_created();
        }
        Ok(created)
    }

    /// Deletes list `name`: from the store, then from memory, closing its
    /// sockets (4410). `default` cannot be deleted.
    pub async fn delete(&self, name: &ListName) -> Result<bool, ErrorBody> {
        if name.is_default() {
            return Err(ErrorBody::new(
                ErrorCode::ListProtected,
                "the list default always exists and cannot be deleted",
            ));
        }
        let existed = self.stores.delete(name).await.map_err(store_error)?;
        let slot = lock(&self.loaded).remove(name);
        if let Some(list) = slot.as_ref().and_then(|slot| slot.get()) {
            list.mark_deleted();
            self.metrics.list_unloaded(false);
        }
        if existed {
            self.metrics.list_deleted();
            tracing::info!(list = %name, "list deleted");
        }
        Ok(existed)
    }

    /// How many lists exist.
    pub async fn count(&self) -> Result<u64, ErrorBody> {
        self.stores.count().await.map_err(store_error)
    }

    /// Up to `limit` lists after `after`, in name order, that `keep` lets
    /// the caller see.
    pub async fn page(
        &self,
        after: String,
        limit: usize,
        keep: impl Fn(&ListName) -> bool + Send + Sync + 'static,
    ) -> Result<Vec<ListFigures>, ErrorBody> {
        self.stores
            .page(after, limit, keep)
            .await
            .map_err(store_error)
    }
}
