//! The user list in memory: who is in it, in the order they were added, the
//! version it is at, and the ids and names given to new users. Pure logic,
//! no I/O and no locking: [`crate::roster`] plans a change here, commits it
//! to the store, and only then applies it.

use std::collections::{BTreeMap, HashMap};

use roster_protocol::v1::{Change, ChangeOp};
use roster_protocol::validate::{Email, UserName};
use roster_protocol::{User, UserId};

use crate::store::Loaded;

/// The users in the order their adds were committed, which is the order
/// every client applies them in. That is not always the order of their
/// ids: with Redis, ids are given out before versions are taken, so two
/// instances adding at once can commit id 8 before id 7. (Keyed by id, the
/// server's list once disagreed with its clients'; the chaos test found
/// it.)
#[derive(Debug)]
pub struct Directory {
    /// By place in the order: a counter that only goes up.
    users: BTreeMap<u64, User>,
    /// Each user's place, by numeric id.
    place_of: HashMap<u64, u64>,
    next_place: u64,
    version: u64,
    /// The next id to give out. Ids are never reused, so a client that saw
    /// user 3 removed never mistakes a new user for it.
    next_id: u64,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            users: BTreeMap::new(),
            place_of: HashMap::new(),
            next_place: 0,
            version: 0,
            next_id: 1,
        }
    }
}

impl Directory {
    /// The list a store loaded, in the order it was loaded in.
    pub fn from_loaded(loaded: &Loaded) -> Self {
        let mut directory = Self {
            version: loaded.version,
            next_id: loaded.next_id,
            ..Self::default()
        };
        for user in &loaded.users {
            directory.insert(user.clone());
        }
        directory
    }

    /// Puts `user` at the end, or in its place if its id is present.
    fn insert(&mut self, user: User) {
        let Ok(id) = user.id.as_str().parse::<u64>() else {
            return;
        };
        let place = *self.place_of.entry(id).or_insert_with(|| {
            self.next_place += 1;
            self.next_place
        });
        self.users.insert(place, user);
    }

    pub fn users(&self) -> impl ExactSizeIterator<Item = &User> {
        self.users.values()
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    pub fn get(&self, id: &UserId) -> Option<&User> {
        let place = self.place_of.get(&id.as_str().parse().ok()?)?;
        self.users.get(place)
    }

    /// The change that adds a user with the next id; a missing name or
    /// email is generated. Nothing changes until [`Directory::apply`].
    pub fn plan_add(&self, name: Option<UserName>, email: Option<Email>) -> Change {
        let mut change = self.generated_add(0);
        if let Some(name) = name {
            change.user.name = name.into_string();
        }
        if let Some(email) = email {
            change.user.email = email.into_string();
        }
        change
    }

    /// User `id` with `name` and `email`, or generated ones (shared mode,
    /// where Redis gives out the id).
    pub fn user_for(id: u64, name: Option<UserName>, email: Option<Email>) -> User {
        let (generated_name, generated_email) = generated_identity(id);
        User {
            id: UserId::from(id),
            name: name.map_or(generated_name, UserName::into_string),
            email: email.map_or(generated_email, Email::into_string),
        }
    }

    /// The changes that add `count` generated users, one after another;
    /// nothing changes until each is applied.
    pub fn plan_generated_adds(&self, count: usize) -> Vec<Change> {
        (0..count as u64)
            .map(|offset| self.generated_add(offset))
            .collect()
    }

    /// The change that adds a generated user `offset` adds from now.
    fn generated_add(&self, offset: u64) -> Change {
        let id = self.next_id + offset;
        let (name, email) = generated_identity(id);
        Change {
            version: self.version + 1 + offset,
            op: ChangeOp::Added,
            user: User {
                id: UserId::from(id),
                name,
                email,
            },
        }
    }

    /// The change that removes user `id`, if there is one.
    pub fn plan_remove(&self, id: &UserId) -> Option<Change> {
        self.get(id).map(|user| self.removal(user))
    }

    /// The change that removes the most recently added user, as the seed
    /// server's `__removeUser__` does.
    pub fn plan_remove_latest(&self) -> Option<Change> {
        self.users
            .values()
            .next_back()
            .map(|user| self.removal(user))
    }

    fn removal(&self, user: &User) -> Change {
        Change {
            version: self.version + 1,
            op: ChangeOp::Removed,
            user: user.clone(),
        }
    }

    /// The id counter once `change` is applied.
    pub fn next_id_after(&self, change: &Change) -> u64 {
        match change.user.id.as_str().parse::<u64>() {
            Ok(id) if change.op == ChangeOp::Added => self.next_id.max(id + 1),
            _ => self.next_id,
        }
    }

    /// Applies a planned (and committed) change.
    pub fn apply(&mut self, change: &Change) {
        self.next_id = self.next_id_after(change);
        self.version = change.version;
        match change.op {
            ChangeOp::Added => self.insert(change.user.clone()),
            ChangeOp::Removed => {
                let place = (change.user.id.as_str().parse::<u64>().ok())
                    .and_then(|id| self.place_of.remove(&id));
                if let Some(place) = place {
                    self.users.remove(&place);
                }
            }
        }
    }
}

const FIRST_NAMES: [&str; 12] = [
    "Ada",
    "Grace",
    "Alan",
    "Barbara",
    "Edsger",
    "Frances",
    "Margaret",
    "Dennis",
    "Radia",
    "Donald",
    "Katherine",
    "Tim",
];
const LAST_NAMES: [&str; 12] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Liskov",
    "Dijkstra",
    "Allen",
    "Hamilton",
    "Ritchie",
    "Perlman",
    "Knuth",
    "Johnson",
    "Berners-Lee",
];

/// A name and email for user `id`: the first twelve are the pioneers the
/// names come from; later ids mix them, and the id in the email keeps every
/// address unique.
fn generated_identity(id: u64) -> (String, String) {
    let n = FIRST_NAMES.len() as u64;
    let index = id.saturating_sub(1);
    let first = FIRST_NAMES[(index % n) as usize];
    let last = LAST_NAMES[((index + index / n) % n) as usize];
    let local = format!("{first}.{last}").to_lowercase();
    (
        format!("{first} {last}"),
        format!("{local}.{id}@roster.test"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn add(directory: &mut Directory) -> User {
        let change = directory.plan_add(None, None);
        directory.apply(&change);
        change.user
    }

    #[test]
    fn adds_committed_out_of_id_order_keep_the_order_they_were_committed_in() {
        let mut directory = Directory::default();
        let added = |version, id| Change {
            version,
            op: ChangeOp::Added,
            user: Directory::user_for(id, None, None),
        };
        // Shared mode: id 2 was given out after id 1 but committed first.
        directory.apply(&added(1, 2));
        directory.apply(&added(2, 1));
        directory.apply(&added(3, 3));
        let ids = |d: &Directory| d.users().map(|u| u.id.to_string()).collect::<Vec<_>>();
        assert_eq!(ids(&directory), ["2", "1", "3"]);
        assert_eq!(directory.get(&UserId::from(1)).unwrap().id, UserId::from(1));
        // The most recently added is the last committed.
        let latest = directory.plan_remove_latest().unwrap();
        assert_eq!(latest.user.id, UserId::from(3));
        directory.apply(&latest);
        directory.apply(&directory.plan_remove(&UserId::from(2)).unwrap());
        assert_eq!(ids(&directory), ["1"]);
        assert!(directory.get(&UserId::from(2)).is_none());
    }

    #[test]
    fn ids_count_up_from_one_and_versions_by_one_per_change() {
        let mut directory = Directory::default();
        let ids: Vec<_> = (0..3).map(|_| add(&mut directory).id.to_string()).collect();
        assert_eq!(ids, ["1", "2", "3"]);
        assert_eq!(directory.version(), 3);
    }

    #[test]
    fn planning_changes_nothing_until_applied() {
        let directory = Directory::default();
        let change = directory.plan_add(None, None);
        assert_eq!(change.version, 1);
        assert!(directory.is_empty());
        assert_eq!(directory.version(), 0);
    }

    #[test]
    fn given_names_and_emails_are_kept() {
        let directory = Directory::default();
        let change = directory.plan_add(
            Some(UserName::parse("Ada").unwrap()),
            Some(Email::parse("ada@example.com").unwrap()),
        );
        assert_eq!(change.user.name, "Ada");
        assert_eq!(change.user.email, "ada@example.com");
    }

    #[test]
    fn remove_latest_takes_the_most_recent_user() {
        let mut directory = Directory::default();
        add(&mut directory);
        let second = add(&mut directory);
        let change = directory.plan_remove_latest().unwrap();
        assert_eq!(change.user, second);
        directory.apply(&change);
        assert_eq!(directory.len(), 1);
    }

    #[test]
    fn removing_what_is_not_there_plans_nothing() {
        let directory = Directory::default();
        assert_eq!(directory.plan_remove_latest(), None);
        assert_eq!(directory.plan_remove(&UserId::new("4")), None);
        assert_eq!(directory.plan_remove(&UserId::new("not-a-number")), None);
    }

    #[test]
    fn ids_are_not_reused_after_a_removal() {
        let mut directory = Directory::default();
        add(&mut directory);
        let change = directory.plan_remove_latest().unwrap();
        directory.apply(&change);
        assert_eq!(add(&mut directory).id.as_str(), "2");
    }

    #[test]
    fn generated_names_and_emails_look_like_people() {
        let (name, email) = generated_identity(1);
        assert_eq!(name, "Ada Lovelace");
        assert_eq!(email, "ada.lovelace.1@roster.test");
    }

    #[test]
    fn emails_stay_unique_across_many_users() {
        let emails: HashSet<_> = (1..=500).map(|id| generated_identity(id).1).collect();
        assert_eq!(emails.len(), 500);
    }
}
