//! The client's copy of the list, built so that no operation costs more as
//! the list grows: a 100,000-user dashboard applies a change, or reads the
//! rows on screen, in O(log n).
//!
//! - [`UserList`] holds the users in the server's order, keyed by id. Adds
//!   append (the server orders users by when they were added), an add of an
//!   id already present replaces that user in place, and removes leave a
//!   hole that a [`Ranks`] tree skips over. Looking a row up by its position,
//!   or a user's position by id, walks that tree.
//! - [`ListEdit`] is what the connection engine tells the view to do to it.
//! - [`ListVersion`] is the engine's side: which v1 version the list is at,
//!   and whether a change is the next one.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::user::{User, UserId};
use crate::v1::{Change, ChangeOp};

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
            ranks: Ranks::default(),
        };
        for user in users {
            match list.find(&user.id) {
                Some(slot) => list.slots[slot] = Some(user),
                None => list.append(user),
            }
        }
        // Every slot is present: built in O(n), not n pushes.
        list.ranks = Ranks::all_present(list.slots.len());
        list
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
            self.slots[slot] = Some(user);
            return;
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
            ListEdit::Replace(users) => *self = Self::from_users(users),
            ListEdit::Upsert(user) => self.upsert(user),
            ListEdit::Remove(id) => {
                self.remove(&id);
            }
        }
    }

    fn compact(&mut self) {
        let users = std::mem::take(&mut self.slots).into_iter().flatten();
        *self = Self::from_users(users.collect());
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

/// A Fenwick (binary indexed) tree over the slots, each counting 1 while
/// its user is present: prefix sums give a slot's position, and a descent
/// finds the slot at a position, both in O(log n). It grows by appending.
#[derive(Clone, Debug, Default)]
struct Ranks {
    /// 1-based: `tree[i - 1]` sums the slots `(i - lowbit(i), i]`.
    tree: Vec<i64>,
}

fn lowbit(i: usize) -> usize {
    i & i.wrapping_neg()
}

impl Ranks {
    /// `count` slots, each counting 1: node `i` covers `lowbit(i)` slots.
    fn all_present(count: usize) -> Self {
        Self {
            tree: (1..=count).map(|i| lowbit(i) as i64).collect(),
        }
    }

    /// Appends a slot counting `value`.
    fn push(&mut self, value: i64) {
        let i = self.tree.len() + 1;
        // The new node covers (i - lowbit(i), i]: its own value plus the
        // slots before it in that range.
        let covered = self.prefix(i - 1) - self.prefix(i - lowbit(i));
        self.tree.push(value + covered);
    }

    /// Adds `delta` to slot `slot` (0-based).
    fn add(&mut self, slot: usize, delta: i64) {
        let mut i = slot + 1;
        while i <= self.tree.len() {
            self.tree[i - 1] += delta;
            i += lowbit(i);
        }
    }

    /// The sum over the first `count` slots.
    fn prefix(&self, count: usize) -> i64 {
        let mut sum = 0;
        let mut i = count;
        while i > 0 {
            sum += self.tree[i - 1];
            i -= lowbit(i);
        }
        sum
    }

    /// How many present slots come before `slot`.
    fn live_before(&self, slot: usize) -> usize {
        self.prefix(slot) as usize
    }

    /// The slot holding the present user at `rank` (0-based); the caller
    /// checks that there are more than `rank` present users.
    fn slot_of_rank(&self, rank: usize) -> usize {
        let n = self.tree.len();
        let mut remaining = rank as i64;
        let mut pos = 0;
        let mut step = if n == 0 { 0 } else { 1 << n.ilog2() };
        while step > 0 {
            let next = pos + step;
            if next <= n && self.tree[next - 1] <= remaining {
                pos = next;
                remaining -= self.tree[next - 1];
            }
            step >>= 1;
        }
        pos
    }
}

/// What checking a change's version found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The change is the next version: apply it.
    Changed,
    /// An old or repeated change (version not above ours): ignore it.
    Stale,
    /// A version was skipped: the caller must ask for the missing changes
    /// (a `hello` with `since`).
    Gap { have: u64, got: u64 },
    /// No snapshot yet, so there is nothing to apply the change to.
    NoBase,
}

/// Which history (epoch) and version a v1 list is at; `None` until the
/// first snapshot. The users themselves live in the view's [`UserList`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListVersion {
    position: Option<(String, u64)>,
}

impl ListVersion {
    pub fn version(&self) -> Option<u64> {
        self.position.as_ref().map(|(_, version)| *version)
    }

    pub fn epoch(&self) -> Option<&str> {
        self.position.as_ref().map(|(epoch, _)| epoch.as_str())
    }

    /// A snapshot puts the list at `version` of `epoch`.
    pub fn reset(&mut self, epoch: String, version: u64) {
        self.position = Some((epoch, version));
    }

    /// Moves to `version` if it is the next one.
    pub fn advance(&mut self, version: u64) -> Applied {
        let Some((_, have)) = self.position.as_mut() else {
            return Applied::NoBase;
        };
        if version <= *have {
            return Applied::Stale;
        }
        if version != *have + 1 {
            return Applied::Gap {
                have: *have,
                got: version,
            };
        }
        *have = version;
        Applied::Changed
    }
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
mod tests {
    use super::*;
    use crate::fixtures::user;
    use proptest::prelude::*;

    fn ids(list: &UserList) -> Vec<String> {
        list.iter().map(|u| u.id.to_string()).collect()
    }

    fn list_of(ids: impl IntoIterator<Item = u64>) -> UserList {
        UserList::from_users(ids.into_iter().map(user).collect())
    }

    #[test]
    fn held_edits_are_applied_in_order_and_a_replace_supersedes_what_came_before() {
        let mut list = UserList::from_users(vec![user(1), user(2)]);
        let mut held = HeldEdits::default();
        held.hold(ListEdit::Upsert(user(3)));
        held.hold(ListEdit::Remove(UserId::from(1)));
        assert_eq!(held.len(), 2);
        let before = list.clone();
        assert_eq!(list, before, "nothing applied while held");
        held.apply_to(&mut list);
        assert!(held.is_empty());
        let ids: Vec<_> = list.iter().map(|u| u.id.clone()).collect();
        assert_eq!(ids, [UserId::from(2), UserId::from(3)]);

        held.hold(ListEdit::Upsert(user(4)));
        held.hold(ListEdit::Replace(vec![user(7)]));
        held.hold(ListEdit::Upsert(user(8)));
        assert_eq!(held.len(), 2, "the add before the snapshot is in it");
        held.apply_to(&mut list);
        let ids: Vec<_> = list.iter().map(|u| u.id.clone()).collect();
        assert_eq!(ids, [UserId::from(7), UserId::from(8)]);
    }

    #[test]
    fn users_keep_the_servers_order_and_adds_append() {
        let mut list = list_of([3, 1, 2]);
        list.upsert(user(7));
        assert_eq!(ids(&list), ["3", "1", "2", "7"]);
        assert_eq!(list.get(0), Some(&user(3)));
        assert_eq!(list.get(3), Some(&user(7)));
        assert_eq!(list.get(4), None);
        assert_eq!(list.position(&UserId::from(2)), Some(2));
    }

    #[test]
    fn an_add_of_a_present_id_replaces_it_in_place() {
        let mut list = list_of([1, 2, 3]);
        let renamed = User {
            name: "Renamed".into(),
            ..user(2)
        };
        list.upsert(renamed.clone());
        assert_eq!(list.len(), 3);
        assert_eq!(list.get(1), Some(&renamed));
    }

    #[test]
    fn removes_close_the_gap_and_unknown_ids_are_ignored() {
        let mut list = list_of([1, 2, 3, 4]);
        assert_eq!(list.remove(&UserId::from(2)), Some(user(2)));
        assert_eq!(list.remove(&UserId::from(9)), None);
        assert_eq!(ids(&list), ["1", "3", "4"]);
        assert_eq!(list.get(1), Some(&user(3)));
        assert_eq!(list.position(&UserId::from(4)), Some(2));
        assert_eq!(list.position(&UserId::from(2)), None);
    }

    #[test]
    fn a_snapshot_with_a_repeated_id_shows_it_once() {
        let list = UserList::from_users(vec![user(1), user(2), user(1)]);
        assert_eq!(ids(&list), ["1", "2"]);
    }

    #[test]
    fn edits_apply_in_order() {
        let mut list = UserList::default();
        list.edit(ListEdit::Replace(vec![user(1), user(2)]));
        list.edit(ListEdit::Upsert(user(3)));
        list.edit(ListEdit::Remove(UserId::from(1)));
        assert_eq!(ids(&list), ["2", "3"]);
        list.edit(ListEdit::Replace(vec![]));
        assert!(list.is_empty());
    }

    #[test]
    fn a_hundred_thousand_users_stay_addressable_through_churn() {
        let n = 100_000;
        let mut list = list_of(1..=n);
        assert_eq!(list.len(), n as usize);
        assert_eq!(list.get(n as usize - 1), Some(&user(n)));
        // Remove every other user (forcing compactions), then add more.
        for id in (1..=n).step_by(2) {
            assert!(list.remove(&UserId::from(id)).is_some());
        }
        for id in n + 1..=n + 1_000 {
            list.upsert(user(id));
        }
        assert_eq!(list.len(), 51_000);
        assert_eq!(list.get(0), Some(&user(2)));
        assert_eq!(list.get(49_999), Some(&user(n)));
        assert_eq!(list.get(50_000), Some(&user(n + 1)));
        assert_eq!(list.position(&UserId::from(n + 1_000)), Some(50_999));
        assert_eq!(list.position(&UserId::from(50_000)), Some(24_999));
        // Compaction kept the holes bounded by the live users.
        assert!(list.slots.len() <= 2 * list.len() + MIN_HOLES_BEFORE_COMPACTING);
    }

    #[test]
    fn versions_apply_in_order_and_gaps_are_reported() {
        let mut version = ListVersion::default();
        assert_eq!(version.advance(1), Applied::NoBase);
        version.reset("e".into(), 4);
        assert_eq!(version.advance(4), Applied::Stale);
        assert_eq!(version.advance(6), Applied::Gap { have: 4, got: 6 });
        assert_eq!(version.version(), Some(4));
        assert_eq!(version.advance(5), Applied::Changed);
        assert_eq!(version.version(), Some(5));
        assert_eq!(version.epoch(), Some("e"));
    }

    /// One step of a random workload.
    #[derive(Clone, Debug)]
    enum Op {
        Upsert(u64, bool),
        Remove(u64),
        Replace(Vec<u64>),
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..200u64, any::<bool>()).prop_map(|(id, renamed)| Op::Upsert(id, renamed)),
            5 => (0..200u64).prop_map(Op::Remove),
            1 => prop::collection::vec(0..200u64, 0..50).prop_map(Op::Replace),
        ]
    }

    /// The obvious list: a vector searched linearly.
    fn naive_apply(naive: &mut Vec<User>, edit: &ListEdit) {
        match edit {
            ListEdit::Replace(users) => {
                naive.clear();
                for user in users {
                    naive_apply(naive, &ListEdit::Upsert(user.clone()));
                }
            }
            ListEdit::Upsert(user) => match naive.iter_mut().find(|u| u.id == user.id) {
                Some(existing) => *existing = user.clone(),
                None => naive.push(user.clone()),
            },
            ListEdit::Remove(id) => naive.retain(|u| &u.id != id),
        }
    }

    proptest! {
        #[test]
        fn matches_a_naive_list(ops in prop::collection::vec(any_op(), 0..400)) {
            let mut list = UserList::default();
            let mut naive = Vec::new();
            for op in ops {
                let edit = match op {
                    Op::Upsert(id, renamed) => {
                        let mut u = user(id);
                        if renamed { u.name.push('!'); }
                        ListEdit::Upsert(u)
                    }
                    Op::Remove(id) => ListEdit::Remove(UserId::from(id)),
                    Op::Replace(ids) => ListEdit::Replace(ids.into_iter().map(user).collect()),
                };
                naive_apply(&mut naive, &edit);
                list.edit(edit);
                prop_assert_eq!(list.len(), naive.len());
                for (position, expected) in naive.iter().enumerate() {
                    prop_assert_eq!(list.get(position), Some(expected));
                    prop_assert_eq!(list.position(&expected.id), Some(position));
                }
                prop_assert_eq!(list.get(naive.len()), None);
            }
        }
    }
}
