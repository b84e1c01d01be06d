//! The frames the list is sent as, each encoded once: a committed change
//! as every v1 connection sends it, and the whole list (a v1 snapshot or
//! a seed list), kept until the list moves on.

use std::sync::Mutex;

use roster_protocol::v1::{Change, ServerMessage};

use super::locks::lock;
use crate::text::Text;

/// A committed change as every v1 connection sends it, or a whole new
/// list (`reset`) after a reload, which every connection sends whatever
/// version it is at, or the news that the list was deleted (`deleted`:
/// every connection closes with 4410; it carries no frame).
#[derive(Clone, Debug)]
pub struct Published {
    pub version: u64,
    pub frame: Text,
    pub reset: bool,
    pub deleted: bool,
}

impl Published {
    /// `change`, encoded once for every connection.
    pub fn change(change: &Change) -> Self {
        Self {
            version: change.version,
            frame: change_frame(change.clone()),
            reset: false,
            deleted: false,
        }
    }

    /// The list was deleted: its connections close.
    pub fn deleted() -> Self {
        Self {
            version: u64::MAX,
            frame: Text::from(String::new()),
            reset: false,
            deleted: true,
        }
    }
}

/// The v1 `change` frame of `change`.
pub fn change_frame(change: Change) -> Text {
    Text::from(ServerMessage::Change(change).to_frame())
}

/// An encoded frame of the list at one version, reused until it changes.
#[derive(Default)]
pub struct FrameCache(Mutex<Option<(u64, Text)>>);

impl FrameCache {
    /// Forgets the cached frame (the list was replaced, perhaps at a
    /// version it had before).
    pub fn clear(&self) {
        *lock(&self.0) = None;
    }

    /// The frame at `version`: the cached one, or `encode`'s, kept.
    pub fn get(&self, version: u64, encode: impl FnOnce() -> String) -> Text {
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
