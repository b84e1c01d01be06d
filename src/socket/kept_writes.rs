//! The adds and removes waiting for the server, kept where a reload finds
//! them.

use roster_protocol::engine::SavedWrite;

/// Adds and removes not yet done, kept in `localStorage` so a reload sends
/// them again under the same request ids: one key per write,
/// `roster:adds:<server URL> <request id>` (the name is older than
/// removes, and kept so a reload after an upgrade finds what was kept),
/// holding [`SavedWrite::to_stored`]. Every tab on the same server reads
/// them all after a reload; a write sent by two tabs is still one change,
/// because the server answers a repeated request id with the first answer.
///
/// Storage that is missing or full (private windows, quotas) only loses
/// this safety net, never the adds in memory.
pub struct KeptWrites {
    prefix: String,
    /// `roster:v1:<server URL>`: present once this server has spoken v1.
    v1_key: String,
    storage: Option<web_sys::Storage>,
    /// What this page wrote: key → value.
    written: Vec<(String, String)>,
}

impl KeptWrites {
    pub fn new(url: &str) -> Self {
        Self {
            prefix: format!("roster:adds:{url} "),
            v1_key: format!("roster:v1:{url}"),
            storage: web_sys::window().and_then(|window| window.local_storage().ok().flatten()),
            written: Vec::new(),
        }
    }

    /// Whether this server has spoken v1 to a page of this browser.
    pub fn spoke_v1(&self) -> bool {
        self.storage
            .as_ref()
            .is_some_and(|storage| storage.get_item(&self.v1_key).ok().flatten().is_some())
    }

    /// Remembers that this server speaks v1 (see [`Engine::remember_v1`]).
    pub fn remember_v1(&self) {
        if let Some(storage) = &self.storage {
            let _ = storage.set_item(&self.v1_key, "1");
        }
    }

    /// Every add kept for this server, by any tab.
    pub fn load(&self) -> Vec<SavedWrite> {
        let Some(storage) = &self.storage else {
            return Vec::new();
        };
        let count = storage.length().unwrap_or(0);
        (0..count)
            .filter_map(|index| storage.key(index).ok().flatten())
            .filter_map(|key| {
                let id = key.strip_prefix(&self.prefix)?;
                let text = storage.get_item(&key).ok().flatten()?;
                SavedWrite::from_stored(id, &text)
            })
            .collect()
    }

    /// Keeps exactly `adds` of those this page is responsible for.
    pub fn save(&mut self, adds: &[SavedWrite]) {
        let Some(storage) = &self.storage else {
            return;
        };
        let wanted: Vec<(String, String)> = adds
            .iter()
            .map(|add| {
                let key = format!("{}{}", self.prefix, add.request_id);
                (key, add.to_stored())
            })
            .collect();
        for (key, _) in &self.written {
            if !wanted.iter().any(|(wanted, _)| wanted == key) {
                let _ = storage.remove_item(key);
            }
        }
        for entry in &wanted {
            if !self.written.contains(entry) {
                let _ = storage.set_item(&entry.0, &entry.1);
            }
        }
        self.written = wanted;
    }
}
