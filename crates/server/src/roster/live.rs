//! The list in memory as every backend shares it: the directory, its
//! history's epoch, the channel that publishes each change, and the
//! frames cached for readers.
//!
//! Readers (HTTP, seed frames, snapshots, metrics) only take the
//! directory lock for a moment, and never wait for a store. A backend
//! changes the list only through the methods here, each of which applies
//! a change and publishes it under the same lock, so a client that
//! subscribes under that lock sees either the old list and the change, or
//! the new list and not the change.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use roster_protocol::seed::encode_user_list;
use roster_protocol::v1::{Change, ServerMessage};
use roster_protocol::{User, UserId};
use tokio::sync::broadcast;

use super::frames::{FrameCache, Published};
use super::locks::{read, write};
use crate::directory::Directory;
use crate::metrics::Metrics;
use crate::store::Loaded;
use crate::text::Text;

/// Changes a connection may fall behind before it is resynchronised with a
/// snapshot (v1) or the latest list (seed).
const EVENT_BUFFER: usize = 1024;

/// The most missed changes a resume is answered with; beyond that a
/// snapshot is smaller and quicker to apply.
pub const MAX_RESUME_CHANGES: u64 = 1_000;

/// Where a v1 client's `hello` says its list is: the version and the
/// history (epoch) it holds, if any.
#[derive(Clone, Copy, Debug)]
pub struct Resume<'a> {
    pub since: Option<u64>,
    pub epoch: Option<&'a str>,
}

pub struct LiveList {
    directory: RwLock<Directory>,
    epoch: RwLock<String>,
    events: broadcast::Sender<Published>,
    seed_frames: FrameCache,
    snapshots: FrameCache,
    metrics: Arc<Metrics>,
}

impl LiveList {
    /// The list as a store loaded it.
    pub fn new(loaded: &Loaded, metrics: Arc<Metrics>) -> Self {
        tracing::info!(
            users = loaded.users.len(),
            version = loaded.version,
            epoch = %loaded.epoch,
            "list loaded"
        );
        Self {
            directory: RwLock::new(Directory::from_loaded(loaded)),
            epoch: RwLock::new(loaded.epoch.clone()),
            events: broadcast::Sender::new(EVENT_BUFFER),
            seed_frames: FrameCache::default(),
            snapshots: FrameCache::default(),
            metrics,
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The directory, for planning a change or reading; held only for a
    /// moment.
    pub fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        read(&self.directory)
    }

    pub fn epoch(&self) -> String {
        read(&self.epoch).clone()
    }

    /// A receiver of every change published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Published> {
        self.events.subscribe()
    }

    /// Tells every connection of the list that it was deleted (they close
    /// with 4410).
    pub fn announce_deleted(&self) {
        let _ = self.events.send(Published::deleted());
    }

    /// Applies a committed `change` and publishes it. An error from the
    /// channel only means nobody is listening.
    pub fn apply(&self, change: &Change) {
        let published = Published::change(change);
        let mut directory = write(&self.directory);
        directory.apply(change);
        let _ = self.events.send(published);
    }

    /// Applies consecutive committed adds (demo users), publishing each
    /// only if somebody listens: at start-up nobody has subscribed yet,
    /// and then no frame is encoded.
    pub fn apply_all(&self, changes: &[Change]) -> usize {
        let mut directory = write(&self.directory);
        let publish = self.events.receiver_count() > 0;
        for change in changes {
            directory.apply(change);
            self.metrics.added();
            if publish {
                let _ = self.events.send(Published::change(change));
            }
        }
        directory.len()
    }

    /// Applies `changes` in version order from the next one on, skipping
    /// those already applied, and publishes each; `applied` is told of
    /// each once it is published, still under the lock. `false` at a skipped version (nothing after it
    /// is applied).
    pub fn apply_in_order(&self, changes: Vec<Change>, mut applied: impl FnMut(&Change)) -> bool {
        let mut directory = write(&self.directory);
        for change in changes {
            if change.version <= directory.version() {
                continue;
            }
            if change.version != directory.version() + 1 {
                return false;
            }
            directory.apply(&change);
            let _ = self.events.send(Published::change(&change));
            applied(&change);
        }
        true
    }

    /// Replaces the whole list with `loaded` and sends it to every
    /// connection as a snapshot, whatever version each is at. Returns the
    /// new version. `under_lock` runs while the list is held, for state
    /// that must change with it.
    pub fn replace(&self, loaded: Loaded, under_lock: impl FnOnce()) -> u64 {
        let mut directory = write(&self.directory);
        *directory = Directory::from_loaded(&loaded);
        *write(&self.epoch) = loaded.epoch;
        under_lock();
        self.snapshots.clear();
        self.seed_frames.clear();
        let frame = self.snapshot_of(&directory);
        let _ = self.events.send(Published {
            version: directory.version(),
            frame,
            reset: true,
            deleted: false,
        });
        directory.version()
    }

    /// The version a client resumes from, if the changes between it and
    /// `version` can bring it up to date: the same history, and at most
    /// [`MAX_RESUME_CHANGES`] of them.
    pub fn resumable(&self, resume: Resume, version: u64) -> Option<u64> {
        resume.since.filter(|since| {
            *since <= version
                && version - since <= MAX_RESUME_CHANGES
                && resume.epoch == Some(read(&self.epoch).as_str())
        })
    }

    /// The v1 snapshot frame of the current list, and its version.
    pub fn snapshot(&self) -> (u64, Text) {
        let directory = read(&self.directory);
        (directory.version(), self.snapshot_of(&directory))
    }

    /// The v1 snapshot frame of `directory` (the list, held by the caller).
    pub fn snapshot_of(&self, directory: &Directory) -> Text {
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
    pub fn seed_frame(&self) -> Text {
        let directory = read(&self.directory);
        self.seed_frames.get(directory.version(), || {
            encode_user_list(&directory.users().cloned().collect::<Vec<_>>())
        })
    }

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
}
