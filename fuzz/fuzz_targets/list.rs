//! The client's list model (`UserList`: trees, holes, compaction, the
//! filter and the "N new" boundary) fed arbitrary snapshots, changes,
//! filters and reads, checked after every step against a naive model: a
//! plain vector searched from end to end.
#![no_main]

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use roster_protocol::list::{Filter, ListEdit, UserList};
use roster_protocol::{User, UserId};

/// Letters for names and filters, with some whose case folding is not
/// ASCII's.
const LETTERS: &[&str] = &["a", "B", "c", "é", "É", "ß", "K", "k", " ", "İ"];

/// The naive model: users in order, each with when it arrived.
#[derive(Default)]
struct Naive {
    users: Vec<(User, u64)>,
    arrivals: u64,
    seen: u64,
    filter: Option<String>,
    replaced: u64,
}

impl Naive {
    fn upsert(&mut self, user: User) {
        match self.users.iter_mut().find(|(u, _)| u.id == user.id) {
            Some((slot, _)) => *slot = user,
            None => {
                self.users.push((user, self.arrivals));
                self.arrivals += 1;
            }
        }
    }

    fn replace(&mut self, users: Vec<User>) {
        self.users.clear();
        for user in users {
            self.upsert(user);
        }
        self.seen = self.arrivals;
        self.replaced += 1;
    }

    fn shows(&self, user: &User) -> bool {
        match &self.filter {
            None => true,
            Some(text) => {
                let needle = text.to_lowercase();
                user.name.to_lowercase().contains(&needle)
                    || user.email.to_lowercase().contains(&needle)
            }
        }
    }

    fn shown(&self) -> Vec<&(User, u64)> {
        self.users
            .iter()
            .filter(|(user, _)| self.shows(user))
            .collect()
    }
}

fn text(u: &mut Unstructured, max: usize) -> Result<String> {
    let len = u.int_in_range(0..=max)?;
    (0..len)
        .map(|_| u.choose(LETTERS).map(|s| s.to_string()))
        .collect()
}

fn user(u: &mut Unstructured) -> Result<User> {
    Ok(User {
        id: UserId::from(u.int_in_range(0..=40u64)?),
        name: text(u, 4)?,
        email: text(u, 3)?,
    })
}

fn step(u: &mut Unstructured, list: &mut UserList, naive: &mut Naive) -> Result<()> {
    match u.int_in_range(0..=9)? {
        0 => {
            let users = (0..u.int_in_range(0..=30)?)
                .map(|_| user(u))
                .collect::<Result<Vec<_>>>()?;
            naive.replace(users.clone());
            list.edit(ListEdit::Replace(users));
        }
        1..=4 => {
            let user = user(u)?;
            naive.upsert(user.clone());
            list.edit(ListEdit::Upsert(user));
        }
        5..=6 => {
            let id = UserId::from(u.int_in_range(0..=40u64)?);
            naive.users.retain(|(user, _)| user.id != id);
            list.edit(ListEdit::Remove(id));
        }
        7 => {
            let typed = text(u, 3)?;
            let filter = Filter::new(&typed, str::to_lowercase);
            naive.filter = filter.as_ref().map(|f| f.text().to_owned());
            list.set_filter(filter);
        }
        8 => {
            naive.seen = naive.arrivals;
            list.mark_seen();
        }
        _ => {
            // Many removes in a row, to cross the compaction threshold.
            for _ in 0..u.int_in_range(0..=100)? {
                let id = UserId::from(u.int_in_range(0..=40u64)?);
                naive.users.retain(|(user, _)| user.id != id);
                list.remove(&id);
                let user = user(u)?;
                naive.upsert(user.clone());
                list.upsert(user);
            }
        }
    }
    Ok(())
}

fn check(list: &UserList, naive: &Naive) {
    let users: Vec<&User> = naive.users.iter().map(|(user, _)| user).collect();
    assert_eq!(list.iter().collect::<Vec<_>>(), users, "the order");
    assert_eq!(list.len(), users.len());
    for (position, user) in users.iter().enumerate() {
        assert_eq!(list.get(position), Some(*user));
        assert_eq!(list.position(&user.id), Some(position));
    }
    assert_eq!(list.get(users.len()), None);
    let shown = naive.shown();
    assert_eq!(list.shown_len(), shown.len(), "how many are shown");
    for (position, (user, _)) in shown.iter().enumerate() {
        assert_eq!(list.shown(position), Some(user), "shown row {position}");
        assert_eq!(list.shown_position(&user.id), Some(position));
    }
    for (user, _) in &naive.users {
        if !naive.shows(user) {
            assert_eq!(
                list.shown_position(&user.id),
                None,
                "a hidden user has a row"
            );
        }
    }
    let new = shown
        .iter()
        .filter(|(_, arrived)| *arrived >= naive.seen)
        .count();
    assert_eq!(list.new_since_seen(), new, "the new count");
    assert_eq!(list.filter(), naive.filter.as_deref());
    assert_eq!(list.replaced(), naive.replaced);
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let mut list = UserList::default();
    let mut naive = Naive::default();
    while !u.is_empty() {
        if step(&mut u, &mut list, &mut naive).is_err() {
            break;
        }
        check(&list, &naive);
    }
});
