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
//! - [`ListEdit`] is what the connection engine tells the view to do to it.
//! - [`ListVersion`] is the engine's side: which v1 version the list is at,
//!   and whether a change is the next one.

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

    fn shown_ids(list: &UserList) -> Vec<String> {
        (0..list.shown_len())
            .map(|position| list.shown(position).unwrap().id.to_string())
            .collect()
    }

    #[test]
    fn a_filter_shows_matching_users_in_order_and_follows_changes() {
        let mut list = list_of(1..=30);
        list.set_filter(Filter::new("u2", str::to_lowercase));
        assert_eq!(list.filter(), Some("u2"));
        assert_eq!(
            shown_ids(&list),
            ["2", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29"]
        );
        assert_eq!(list.shown_position(&UserId::from(21)), Some(2));
        assert_eq!(list.shown_position(&UserId::from(3)), None, "not shown");
        // Typing more narrows; deleting widens again.
        list.set_filter(Filter::new("U2 ", str::to_lowercase));
        assert_eq!(list.shown_len(), 11, "trimmed, case ignored");
        list.set_filter(Filter::new("u22", str::to_lowercase));
        assert_eq!(shown_ids(&list), ["22"]);
        list.set_filter(Filter::new("u2", str::to_lowercase));
        assert_eq!(list.shown_len(), 11);
        // Changes go through the filter.
        list.upsert(user(200));
        list.remove(&UserId::from(20));
        list.upsert(User {
            name: "Renamed".into(),
            email: "x@y".into(),
            ..user(21)
        });
        list.upsert(User {
            name: "now U2".into(),
            ..user(5)
        });
        assert_eq!(
            shown_ids(&list),
            ["2", "5", "22", "23", "24", "25", "26", "27", "28", "29", "200"]
        );
        // A snapshot keeps the filter.
        list.edit(ListEdit::Replace((1..=40).map(user).collect()));
        assert_eq!(list.filter(), Some("u2"));
        assert_eq!(list.shown_len(), 11);
        list.set_filter(Filter::new(" ", str::to_lowercase));
        assert_eq!(list.filter(), None);
        assert_eq!(list.shown_len(), 40);
        assert_eq!(list.shown(39), Some(&user(40)));
    }

    #[test]
    fn a_filter_and_the_seen_boundary_survive_compaction() {
        let n = 10_000;
        let mut list = list_of(1..=n);
        assert_eq!(list.new_since_seen(), 0, "a snapshot's users are not new");
        list.upsert(user(n + 1));
        list.upsert(user(n + 2));
        list.set_filter(Filter::new("@roster", str::to_lowercase));
        assert_eq!(list.new_since_seen(), 2);
        list.mark_seen();
        list.upsert(user(n + 3));
        list.upsert(user(n + 4));
        assert_eq!(list.new_since_seen(), 2);
        // Removing most users compacts the slots at least once.
        for id in 1..=n {
            list.remove(&UserId::from(id));
        }
        assert!(list.slots.len() < 100, "compacted");
        assert_eq!(
            shown_ids(&list),
            [
                (n + 1).to_string(),
                (n + 2).to_string(),
                (n + 3).to_string(),
                (n + 4).to_string()
            ]
        );
        assert_eq!(list.new_since_seen(), 2);
        list.set_filter(Filter::new(&format!("u{}", n + 4), str::to_lowercase));
        assert_eq!(list.new_since_seen(), 1, "the new users shown");
        list.mark_seen();
        assert_eq!(list.new_since_seen(), 0);
        let replaced = list.replaced();
        list.edit(ListEdit::Replace(vec![user(1)]));
        assert_eq!(list.replaced(), replaced + 1);
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
        Filter(String),
        MarkSeen,
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (0..200u64, any::<bool>()).prop_map(|(id, renamed)| Op::Upsert(id, renamed)),
            5 => (0..200u64).prop_map(Op::Remove),
            1 => prop::collection::vec(0..200u64, 0..50).prop_map(Op::Replace),
            1 => "[ uU1-3!@]{0,3}".prop_map(Op::Filter),
            1 => Just(Op::MarkSeen),
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

    /// The obvious filter: lower-case everything and search.
    fn naive_matches(filter: &str, user: &User) -> bool {
        let needle = filter.trim().to_lowercase();
        user.name.to_lowercase().contains(&needle) || user.email.to_lowercase().contains(&needle)
    }

    proptest! {
        #[test]
        fn matches_a_naive_list(ops in prop::collection::vec(any_op(), 0..400)) {
            let mut list = UserList::default();
            let mut naive: Vec<User> = Vec::new();
            // The ids added since the reader last saw the end.
            let mut new_ids: Vec<UserId> = Vec::new();
            let mut filter = String::new();
            for op in ops {
                let edit = match op {
                    Op::Filter(text) => {
                        list.set_filter(Filter::new(&text, str::to_lowercase));
                        filter = text;
                        continue;
                    }
                    Op::MarkSeen => {
                        list.mark_seen();
                        new_ids.clear();
                        continue;
                    }
                    Op::Upsert(id, renamed) => {
                        let mut u = user(id);
                        if renamed { u.name.push('!'); }
                        ListEdit::Upsert(u)
                    }
                    Op::Remove(id) => ListEdit::Remove(UserId::from(id)),
                    Op::Replace(ids) => ListEdit::Replace(ids.into_iter().map(user).collect()),
                };
                match &edit {
                    ListEdit::Replace(_) => new_ids.clear(),
                    ListEdit::Upsert(user) if !naive.iter().any(|u| u.id == user.id) => {
                        new_ids.push(user.id.clone());
                    }
                    ListEdit::Remove(id) => new_ids.retain(|new| new != id),
                    ListEdit::Upsert(_) => {}
                }
                naive_apply(&mut naive, &edit);
                list.edit(edit);
                prop_assert_eq!(list.len(), naive.len());
                for (position, expected) in naive.iter().enumerate() {
                    prop_assert_eq!(list.get(position), Some(expected));
                    prop_assert_eq!(list.position(&expected.id), Some(position));
                }
                prop_assert_eq!(list.get(naive.len()), None);

                let shown: Vec<&User> = naive.iter().filter(|u| naive_matches(&filter, u)).collect();
                prop_assert_eq!(list.shown_len(), shown.len());
                for (position, expected) in shown.iter().enumerate() {
                    prop_assert_eq!(list.shown(position), Some(*expected));
                    prop_assert_eq!(list.shown_position(&expected.id), Some(position));
                }
                prop_assert_eq!(list.shown(shown.len()), None);
                let new = shown.iter().filter(|u| new_ids.contains(&u.id)).count();
                prop_assert_eq!(list.new_since_seen(), new);
            }
        }
    }
}
