//! The store every list is kept in, chosen once at start: SQLite (one
//! file for every list) or Redis (one Redis, each list under its own hash
//! tag). It opens one list's [`Backend`] and keeps the catalog of lists.

use std::sync::Arc;
use std::time::Duration;

use roster_protocol::ListName;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::roster::local::LocalBackend;
use crate::roster::shared::SharedBackend;
use crate::roster::Backend;
use crate::store::{Durability, ListFigures, Loaded, RedisStore, SqliteFile, StoreError};

/// Where the lists are kept.
#[derive(Clone)]
pub enum Stores {
    Sqlite(Arc<SqliteFile>),
    Redis {
        /// `default`'s store; every other list's is made from it.
        store: Box<RedisStore>,
        durability: Durability,
    },
}

impl Stores {
    /// Opens the store `config` names (`--redis` or `--redis-cluster`,
    /// else `--db`). With Redis, refuses a configuration that can lose acknowledged changes
    /// unless `--redis-allow-unsafe-durability`. `default` always exists
    /// afterwards.
    pub async fn open(config: &Config, metrics: &Metrics) -> Result<Self, StoreError> {
        let timeout = Duration::from_millis(config.redis_timeout_ms);
        let (store, url) = match &config.redis {
            Some(url) => (
                RedisStore::connect(url, config.change_log, timeout).await?,
                url.clone(),
            ),
            None if !config.redis_cluster.is_empty() => (
                RedisStore::connect_cluster(&config.redis_cluster, config.change_log, timeout)
                    .await?,
                config.redis_cluster.join(","),
            ),
            None => {
                let (db, change_log) = (config.db.clone(), config.change_log);
                let file = blocking(move || SqliteFile::open(&db, change_log)).await?;
                return Ok(Self::Sqlite(file));
            }
        };
        let durability = store.durability().await?;
        if let Durability::Unsafe { .. } = durability {
            if !config.redis_allow_unsafe_durability {
                return Err(StoreError::UnsafeDurability {
                    url,
                    setting: durability.describe(),
                });
            }
            tracing::warn!(durability = %durability.describe(), "redis may lose acknowledged changes");
            metrics.set_unsafe_durability();
        }
        if !store.is_cluster() {
            store.adopt_single_list_keys().await?;
        }
        store.create().await?;
        Ok(Self::Redis {
            store: Box::new(store),
            durability,
        })
    }

    /// Loads list `name` and the backend that keeps it;
    /// [`StoreError::NoSuchList`] when it does not exist.
    pub async fn load(
        &self,
        name: &ListName,
        metrics: &Arc<Metrics>,
    ) -> Result<(Box<dyn Backend>, Loaded), StoreError> {
        match self {
            Self::Sqlite(file) => {
                let store = file.list(name);
                let (backend, loaded) =
                    blocking(move || LocalBackend::open(Box::new(store))).await?;
                Ok((Box::new(backend), loaded))
            }
            Self::Redis { store, durability } => {
                let (backend, loaded) =
                    SharedBackend::open(store.list(name), durability.clone(), Arc::clone(metrics))
                        .await?;
                Ok((Box::new(backend), loaded))
            }
        }
    }

    /// Creates list `name`, empty; `false` when it already exists.
    pub async fn create(&self, name: &ListName) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(file) => {
                let (file, name) = (Arc::clone(file), name.clone());
                blocking(move || file.create(&name)).await
            }
            Self::Redis { store, .. } => store.list(name).create().await,
        }
    }

    /// Deletes list `name` and everything in it; `false` when there was
    /// no such list.
    pub async fn delete(&self, name: &ListName) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(file) => {
                let (file, name) = (Arc::clone(file), name.clone());
                blocking(move || file.delete(&name)).await
            }
            Self::Redis { store, .. } => store.list(name).delete().await,
        }
    }

    /// Whether list `name` exists.
    pub async fn exists(&self, name: &ListName) -> Result<bool, StoreError> {
        match self {
            Self::Sqlite(file) => {
                let (file, name) = (Arc::clone(file), name.clone());
                blocking(move || file.exists(&name)).await
            }
            Self::Redis { store, .. } => store.list(name).exists().await,
        }
    }

    /// How many lists exist.
    pub async fn count(&self) -> Result<u64, StoreError> {
        match self {
            Self::Sqlite(file) => {
                let file = Arc::clone(file);
                blocking(move || file.count()).await
            }
            Self::Redis { store, .. } => store.count().await,
        }
    }

    /// Up to `limit` lists after `after` in name order that `keep` says
    /// to show, with the store's figures for each.
    pub async fn page(
        &self,
        after: String,
        limit: usize,
        keep: impl Fn(&ListName) -> bool + Send + Sync + 'static,
    ) -> Result<Vec<ListFigures>, StoreError> {
        match self {
            Self::Sqlite(file) => {
                let file = Arc::clone(file);
                blocking(move || file.page(&after, limit, &keep)).await
            }
            Self::Redis { store, .. } => store.page(&after, limit, &keep).await,
        }
    }
}

/// Runs a SQLite call on the blocking pool; a panic there is a store
/// failure.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(call)
        .await
        .unwrap_or_else(|err| Err(StoreError::Other(err.to_string())))
}
