//! The client's copy of the list, built so that no operation costs more as
//! the list grows: a 100,000-user dashboard applies a change, or reads the
//! rows on screen, in O(log n).
//!
//! - [`UserList`] holds the users in the server's order, keyed by id. Adds
//!   append (the server orders users by when they were added), an add of an
//!   id already present replaces that user in place, and removes leave a
//!   hole that a [`Ranks`] tree skips over. Looking a row up by its position,
//!   or a user's position by id, walks that tree.
//! - A [`Filter`] typed by the reader narrows what the list shows: a second
//!   tree counts only the users it lets through, so the rows on screen are
//!   still found in O(log n), and a change costs one match.
//! - The list also knows which users arrived since the reader last saw its
//!   end ([`UserList::new_since_seen`]), for the "N new" indicator.
//! - [`ListEdit`] is what the connection engine tells the view to do to it
//!   (which version the list is at is the engine's own business).
//! - [`HeldEdits`] keeps edits back while the reader has paused.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::user::{User, UserId};
use crate::v1::{Change, ChangeOp};

mod filter;
mod ranks;

use filter::Filtered;
pub use filter::{Filter, Fold};
use ranks::Ranks;

/// One edit to the list on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListEdit {
    /// A snapshot or a seed server's whole-list frame.
    Replace(Vec<User>),
    /// A user added (or, if the id is present, replaced in place).
    Upsert(User),
    /// A user removed; an unknown id is ignored.
    Remove(UserId),
}

impl ListEdit {
    /// The edit a v1 change makes.
    pub fn from_change(change: Change) -> Self {
        match change.op {
            ChangeOp::Added => Self::Upsert(change.user),
            ChangeOp::Removed => Self::Remove(change.user.id),
        }
    }
}

/// Holes (removed users) allowed before the slots are compacted, as a share
/// of the live users; compaction is O(n) but happens at most once per n
/// removals, so removes stay O(log n) amortised.
const MIN_HOLES_BEFORE_COMPACTING: usize = 64;

/// The users in the server's order, keyed by id.
#[derive(Clone, Debug, Default)]
pub struct UserList {
    /// Every user ever appended since the last compaction, in order;
    /// `None` where one was removed.
    slots: Vec<Option<User>>,
    /// The slots of the present users, found by hashing their ids. The
    /// table holds slot numbers, not ids: a 100,000-user snapshot then
    /// costs no second copy of every id (the list's build was 15–30 ms of
    /// a 100,000-user load with one).
    slot_of: HashTable<usize>,
    /// Counts the present users over slot ranges: position ↔ slot.
    ranks: Ranks,
    /// The reader's filter and the slots it shows; `None` shows everyone.
    filter: Option<Filtered>,
    /// Where the list ended when the reader last saw its end: users in
    /// slots from here on are new to them. Adds only ever append, so a
    /// boundary between slots is all it takes.
    seen_end: usize,
    /// How many snapshots replaced the list, so that a view can tell a
    /// new list from a changed one.
    replaced: u64,
}

impl PartialEq for UserList {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for UserList {}

impl UserList {
    /// A list of `users` in this order. A repeated id keeps its first
    /// position and its last value, as if the users were added one by one.
    pub fn from_users(users: Vec<User>) -> Self {
        let mut list = Self {
            slots: Vec::with_capacity(users.len()),
            slot_of: HashTable::with_capacity(users.len()),
            ..Self::default()
        };
        for user in users {
            match list.find(&user.id) {
                Some(slot) => list.slots[slot] = Some(user),
                None => list.append(user),
            }
        }
        // Every slot is present: built in O(n), not n pushes.
        list.ranks = Ranks::all_present(list.slots.len());
        list.seen_end = list.slots.len();
        list
    }

    /// Rebuilds the list from `users`, keeping the filter, the snapshot
    /// count, and where the reader's seen boundary falls among `users`.
    fn rebuild(&mut self, users: Vec<User>, seen: usize) {
        let filter = self.filter.take().map(|filtered| filtered.filter);
        let replaced = self.replaced;
        *self = Self::from_users(users);
        self.seen_end = seen.min(self.slots.len());
        self.replaced = replaced;
        self.filter = filter.map(|filter| Filtered::build(filter, &self.slots));
    }

    /// The slot of the user with `id`, if present.
    fn find(&self, id: &UserId) -> Option<usize> {
        let slots = &self.slots;
        self.slot_of
            .find(hash(id), |&slot| id_in(slots, slot) == id)
            .copied()
    }

    /// Puts `user`, whose id is not present, in a new slot at the end (the
    /// caller keeps `ranks`).
    fn append(&mut self, user: User) {
        let hash = hash(&user.id);
        let slot = self.slots.len();
        self.slots.push(Some(user));
        let slots = &self.slots;
        self.slot_of
            .insert_unique(hash, slot, |&slot| self::hash(id_in(slots, slot)));
    }

    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// The user at `position` (0-based, in the server's order).
    pub fn get(&self, position: usize) -> Option<&User> {
        if position >= self.len() {
            return None;
        }
        self.slots[self.ranks.slot_of_rank(position)].as_ref()
    }

    /// Where the user with `id` is, if present.
    pub fn position(&self, id: &UserId) -> Option<usize> {
        self.find(id).map(|slot| self.ranks.live_before(slot))
    }

    /// Every user, in order.
    pub fn iter(&self) -> impl Iterator<Item = &User> {
        self.slots.iter().flatten()
    }

    /// Adds `user` at the end, or replaces the user with its id in place.
    pub fn upsert(&mut self, user: User) {
        if let Some(slot) = self.find(&user.id) {
            if let Some(filtered) = &mut self.filter {
                filtered.update(slot, Some(&user));
            }
            self.slots[slot] = Some(user);
            return;
        }
        if let Some(filtered) = &mut self.filter {
            filtered.push(&user);
        }
        self.append(user);
        self.ranks.push(1);
    }

    /// Removes the user with `id`, if present.
    pub fn remove(&mut self, id: &UserId) -> Option<User> {
        let slots = &self.slots;
        let entry = self
            .slot_of
            .find_entry(hash(id), |&slot| id_in(slots, slot) == id)
            .ok()?;
        let (slot, _) = entry.remove();
        self.ranks.add(slot, -1);
        if let Some(filtered) = &mut self.filter {
            filtered.update(slot, None);
        }
        let user = self.slots[slot].take();
        let holes = self.slots.len() - self.len();
        if holes > MIN_HOLES_BEFORE_COMPACTING && holes > self.len() {
            self.compact();
        }
        user
    }

    /// Applies one edit from the engine.
    pub fn edit(&mut self, edit: ListEdit) {
        match edit {
            ListEdit::Replace(users) => {
                // Who in a snapshot is new cannot be told: none is.
                self.rebuild(users, usize::MAX);
                self.replaced += 1;
            }
            ListEdit::Upsert(user) => self.upsert(user),
            ListEdit::Remove(id) => {
                self.remove(&id);
            }
        }
    }

    fn compact(&mut self) {
        let seen = self.ranks.live_before(self.seen_end);
        let users = std::mem::take(&mut self.slots).into_iter().flatten();
        self.rebuild(users.collect(), seen);
    }

    /// Shows only the users `filter` matches; `None` shows everyone. O(n),
    /// and while the reader types more, O(n) cheap steps plus a match per
    /// user still shown.
    pub fn set_filter(&mut self, filter: Option<Filter>) {
        let previous = self.filter.take();
        self.filter = filter.map(|filter| match previous {
            Some(previous) => previous.refine(filter, &self.slots),
            None => Filtered::build(filter, &self.slots),
        });
    }

    /// The filter's text, when one is set.
    pub fn filter(&self) -> Option<&str> {
        self.filter.as_ref().map(|filtered| filtered.filter.text())
    }

    /// Counts the users shown: every present user, or the filter's.
    fn shown_ranks(&self) -> &Ranks {
        self.filter
            .as_ref()
            .map_or(&self.ranks, |filtered| &filtered.ranks)
    }

    /// How many users the list shows (all of them without a filter).
    pub fn shown_len(&self) -> usize {
        match &self.filter {
            Some(filtered) => filtered.ranks.total(),
            None => self.len(),
        }
    }

    /// The user at `position` among those shown.
    pub fn shown(&self, position: usize) -> Option<&User> {
        if position >= self.shown_len() {
            return None;
        }
        self.slots[self.shown_ranks().slot_of_rank(position)].as_ref()
    }

    /// Where the user with `id` is among those shown, if shown.
    pub fn shown_position(&self, id: &UserId) -> Option<usize> {
        let slot = self.find(id)?;
        if let Some(filtered) = &self.filter {
            if !filtered.shows(slot) {
                return None;
            }
        }
        Some(self.shown_ranks().live_before(slot))
    }

    /// The reader has seen the end of the list: nobody in it is new.
    pub fn mark_seen(&mut self) {
        self.seen_end = self.slots.len();
    }

    /// How many users shown were added since the reader last saw the end
    /// of the list ([`Self::mark_seen`]).
    pub fn new_since_seen(&self) -> usize {
        let ranks = self.shown_ranks();
        ranks.total() - ranks.live_before(self.seen_end)
    }

    /// How many snapshots have replaced the list.
    pub fn replaced(&self) -> u64 {
        self.replaced
    }
}

fn hash(id: &UserId) -> u64 {
    FxBuildHasher.hash_one(id)
}

/// The id of the user in `slot`, which the index only ever names while it
/// holds one.
fn id_in(slots: &[Option<User>], slot: usize) -> &UserId {
    &slots[slot]
        .as_ref()
        .expect("the index names only present slots")
        .id
}

/// Edits held back while the reader has paused live updates: none is
/// dropped, and they are applied in order on resume. A `Replace` makes
/// everything held before it moot, so a long pause costs at most one
/// snapshot and the changes after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeldEdits {
    edits: Vec<ListEdit>,
}

impl HeldEdits {
    pub fn hold(&mut self, edit: ListEdit) {
        if matches!(edit, ListEdit::Replace(_)) {
            self.edits.clear();
        }
        self.edits.push(edit);
    }

    /// How many edits wait.
    pub fn len(&self) -> usize {
        self.edits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Applies every held edit to `list`, oldest first, and holds nothing.
    pub fn apply_to(&mut self, list: &mut UserList) {
        for edit in self.edits.drain(..) {
            list.edit(edit);
        }
    }
}

#[cfg(test)]
mod tests;
