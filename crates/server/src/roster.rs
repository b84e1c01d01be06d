//! The shared user list and its fan-out.
//!
//! Every change re-encodes the list once and publishes the bytes on a
//! `watch` channel; each connection clones the (reference-counted) bytes
//! and sends them. A connection that falls behind skips straight to the
//! newest list instead of queueing old ones, which is all a seed client
//! needs (each frame replaces the whole list) and keeps memory per slow
//! client constant.

use std::sync::Mutex;

use axum::extract::ws::Utf8Bytes;
use roster_protocol::seed::{encode_user_list, SeedCommand};
use roster_protocol::User;
use tokio::sync::watch;

use crate::directory::Directory;

pub struct Roster {
    /// A std mutex, not tokio's: it is held only to change the list and
    /// encode it, never across an await.
    directory: Mutex<Directory>,
    /// The latest list as one JSON text frame.
    snapshot: watch::Sender<Utf8Bytes>,
}

impl Default for Roster {
    fn default() -> Self {
        Self::new()
    }
}

impl Roster {
    pub fn new() -> Self {
        let directory = Directory::default();
        let snapshot = watch::Sender::new(encode(&directory));
        Self {
            directory: Mutex::new(directory),
            snapshot,
        }
    }

    /// Carries out a seed command; returns whether the list changed. No
    /// frame is published when nothing changed, as in the seed server.
    pub fn apply(&self, command: SeedCommand) -> bool {
        let mut directory = self
            .directory
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let changed = match command {
            SeedCommand::AddUser => {
                let user = directory.add_generated();
                tracing::info!(id = %user.id, name = %user.name, "user added");
                true
            }
            SeedCommand::RemoveUser => match directory.remove_latest() {
                Some(user) => {
                    tracing::info!(id = %user.id, "user removed");
                    true
                }
                None => false,
            },
        };
        if changed {
            // Published under the lock so frames go out in the order of changes.
            self.snapshot.send_replace(encode(&directory));
        }
        changed
    }

    /// The current list.
    pub fn users(&self) -> Vec<User> {
        self.directory
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .users()
            .to_vec()
    }

    /// The latest list as a JSON frame, shared, not copied.
    pub fn snapshot(&self) -> Utf8Bytes {
        self.snapshot.borrow().clone()
    }

    /// A receiver that sees each new list frame; the current one counts as
    /// already seen.
    pub fn subscribe(&self) -> watch::Receiver<Utf8Bytes> {
        self.snapshot.subscribe()
    }
}

fn encode(directory: &Directory) -> Utf8Bytes {
    Utf8Bytes::from(encode_user_list(directory.users()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_add_publishes_the_new_list() {
        let roster = Roster::new();
        let mut frames = roster.subscribe();
        assert!(roster.apply(SeedCommand::AddUser));
        assert!(frames.has_changed().unwrap());
        let frame = frames.borrow_and_update().clone();
        assert_eq!(
            roster_protocol::seed::decode_user_list(frame.as_str()).unwrap(),
            roster.users()
        );
    }

    #[test]
    fn removing_from_an_empty_list_publishes_nothing() {
        let roster = Roster::new();
        let frames = roster.subscribe();
        assert!(!roster.apply(SeedCommand::RemoveUser));
        assert!(!frames.has_changed().unwrap());
        assert_eq!(roster.snapshot().as_str(), "[]");
    }
}
