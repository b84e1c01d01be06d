//! One instance owns the list: it orders the changes itself and commits
//! each to its embedded store (SQLite) before anyone hears of it.
//!
//! A write takes the store lock, answers a repeated request from its
//! record, plans the change against the list in memory, commits it and
//! only then applies and publishes it. Holding the store lock from plan
//! to commit keeps the plan valid: no other write can come between.

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use roster_protocol::v1::{Change, ErrorBody, ErrorCode};
use roster_protocol::UserId;

use super::frames::change_frame;
use super::live::LiveList;
use super::locks::lock;
use super::{
    replayed, storage_failed, Backend, Committed, Greeted, Greeting, NewUser, Outcome, Removed,
    Request, Resume,
};
use crate::store::{Loaded, Store, StoreError, StoredRequest};

/// The list in a store only this instance writes (see the module docs).
pub struct LocalBackend {
    store: Mutex<Box<dyn Store>>,
}

impl LocalBackend {
    /// Loads the list from `store`.
    pub fn open(mut store: Box<dyn Store>) -> Result<(Self, Loaded), StoreError> {
        let loaded = store.load()?;
        let backend = Self {
            store: Mutex::new(store),
        };
        Ok((backend, loaded))
    }

    fn store(&self) -> MutexGuard<'_, Box<dyn Store>> {
        lock(&self.store)
    }

    /// The stored answer to `request`, if it was made before.
    fn replay(live: &LiveList, store: &mut dyn Store, request: &Request) -> Removed {
        let Some(id) = &request.id else {
            return Ok(None);
        };
        let stored = store.find_request(id).map_err(|err| storage_failed(&err))?;
        stored
            .map(|stored| replayed(live, stored, &request.fingerprint))
            .transpose()
    }

    /// Commits the removal planned, if there was one.
    fn commit_removal(
        live: &LiveList,
        store: &mut dyn Store,
        planned: Option<Change>,
        request: Request,
    ) -> Removed {
        let Some(change) = planned else {
            return Ok(None);
        };
        let committed = Self::commit(live, store, change, request)?;
        live.metrics().removed();
        Ok(Some(committed))
    }

    /// Commits, applies and publishes `change`, in that order. The caller
    /// holds the store lock (that is the `store` passed in).
    fn commit(live: &LiveList, store: &mut dyn Store, change: Change, request: Request) -> Outcome {
        let next_id = live.directory().next_id_after(&change);
        let stored = request.id.map(|id| StoredRequest {
            id,
            fingerprint: request.fingerprint,
            change: change.clone(),
        });
        if planted_ack_before_commit(&change) {
            return Ok(Committed {
                change,
                replayed: false,
            });
        }
        let started = Instant::now();
        let result = store.commit(&change, next_id, stored.as_ref());
        live.metrics().store_latency(started.elapsed());
        result.map_err(|err| storage_failed(&err))?;
        tracing::info!(
            version = change.version,
            op = ?change.op,
            id = %change.user.id,
            name = %change.user.name,
            "change committed"
        );
        live.apply(&change);
        Ok(Committed {
            change,
            replayed: false,
        })
    }
}

/// A bug planted on purpose, to show that the history checker of the fault
/// tests catches it (`tests/e2e/specs/history-checker.spec.js`): with
/// `ROSTER_PLANTED_BUG=ack-before-commit`, a debug build acknowledges every
/// fourth add without committing it, as a server that answers before its
/// commit and then dies would. Release builds never read the variable.
fn planted_ack_before_commit(change: &Change) -> bool {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ADDS: AtomicU64 = AtomicU64::new(0);
    cfg!(debug_assertions)
        && change.op == roster_protocol::v1::ChangeOp::Added
        && std::env::var("ROSTER_PLANTED_BUG").is_ok_and(|bug| bug == "ack-before-commit")
        && ADDS.fetch_add(1, Ordering::Relaxed) % 4 == 3
}

impl Backend for LocalBackend {
    fn add(&self, live: &LiveList, request: Request, user: NewUser) -> Outcome {
        let mut store = self.store();
        if let Some(replay) = Self::replay(live, &mut **store, &request)? {
            return Ok(replay);
        }
        let change = live.directory().plan_add(user.name, user.email);
        let committed = Self::commit(live, &mut **store, change, request)?;
        live.metrics().added();
        Ok(committed)
    }

    fn remove(&self, live: &LiveList, request: Request, id: &UserId) -> Removed {
        let mut store = self.store();
        if let Some(replay) = Self::replay(live, &mut **store, &request)? {
            return Ok(Some(replay));
        }
        let planned = live.directory().plan_remove(id);
        Self::commit_removal(live, &mut **store, planned, request)
    }

    fn remove_latest(&self, live: &LiveList) -> Removed {
        let mut store = self.store();
        let planned = live.directory().plan_remove_latest();
        Self::commit_removal(live, &mut **store, planned, Request::unnamed())
    }

    /// In one transaction: 100,000 users take about a second.
    fn fill_with_demo_users(&self, live: &LiveList, wanted: usize) -> Result<usize, ErrorBody> {
        let mut store = self.store();
        let (changes, next_id) = {
            let directory = live.directory();
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
        live.metrics().store_latency(started.elapsed());
        let users = live.apply_all(&changes);
        tracing::info!(added = changes.len(), users, "demo users added");
        Ok(changes.len())
    }

    fn greet(&self, live: &LiveList, resume: Resume) -> Result<Greeted, ErrorBody> {
        // The store lock holds off commits, so the log ends at the version
        // the directory shows; the directory lock makes the subscription
        // start exactly after that version.
        let mut store = self.store();
        let directory = live.directory();
        let events = live.subscribe();
        let version = directory.version();
        if let Some(since) = live.resumable(resume, version) {
            let changes = store
                .changes_since(since)
                .map_err(|err| storage_failed(&err))?;
            if let Some(changes) = changes {
                let frames = changes.into_iter().map(change_frame).collect();
                return Ok((Greeting::Changes { version, frames }, events));
            }
        }
        let frame = live.snapshot_of(&directory);
        Ok((Greeting::Snapshot { version, frame }, events))
    }

    fn check(&self, _live: &LiveList) -> Result<(), ErrorBody> {
        self.store()
            .check()
            .map_err(|err| ErrorBody::new(ErrorCode::StorageFailed, err.to_string()))
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({ "kind": "sqlite" })
    }
}
