//! The list model against its rules, and against a naive vector.

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
