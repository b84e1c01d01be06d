//! Pausing live updates: while paused, the list on screen holds still and
//! every edit the engine sends is kept, in order; resuming shows them all.
//! The connection, its heartbeats and the adds go on either way.

use leptos::prelude::*;
use roster_protocol::list::{HeldEdits, ListEdit, UserList};

/// What pausing needs, shared by the socket's handle and its driver: the
/// list it holds edits back from, and the edits held.
#[derive(Clone, Copy)]
pub struct Pause {
    set_paused: WriteSignal<bool>,
    set_held: WriteSignal<usize>,
    edits: StoredValue<HeldEdits>,
    set_users: WriteSignal<UserList>,
}

impl Pause {
    /// A pause over the list `set_users` writes; returns it with whether
    /// it is paused and how many edits it holds.
    pub fn new(set_users: WriteSignal<UserList>) -> (Self, ReadSignal<bool>, ReadSignal<usize>) {
        let (paused, set_paused) = signal(false);
        let (held, set_held) = signal(0usize);
        let pause = Self {
            set_paused,
            set_held,
            edits: StoredValue::new(HeldEdits::default()),
            set_users,
        };
        (pause, paused, held)
    }

    /// The list on screen, for what changes it whether or not it is
    /// paused (the filter, the reader's seen mark).
    pub fn users(&self) -> WriteSignal<UserList> {
        self.set_users
    }

    /// Shows `edit` now, or holds it while paused.
    pub fn edit(&self, paused: bool, edit: ListEdit) {
        if paused {
            let held = self.edits.try_update_value(|held| {
                held.hold(edit);
                held.len()
            });
            self.set_held.set(held.unwrap_or(0));
        } else {
            self.set_users.update(|users| users.edit(edit));
        }
    }

    /// Pauses, or (when `paused`) resumes and shows every edit held, in
    /// order.
    pub fn toggle(&self, paused: bool) {
        if !paused {
            self.set_paused.set(true);
            return;
        }
        let set_users = self.set_users;
        self.edits.update_value(|held| {
            set_users.update(|users| held.apply_to(users));
        });
        self.set_held.set(0);
        self.set_paused.set(false);
    }
}
