//! The user list: who is in it, in the order they were added, and the ids
//! and names given to new users. No I/O and no locking; [`crate::roster`]
//! shares it.

use roster_protocol::{User, UserId};

/// The users, oldest first.
#[derive(Debug)]
pub struct Directory {
    users: Vec<User>,
    /// The next id to give out. Ids are never reused, so a client that saw
    /// user 3 removed never mistakes a new user for it.
    next_id: u64,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            next_id: 1,
        }
    }
}

impl Directory {
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Adds a user with the next id and a generated name and email.
    pub fn add_generated(&mut self) -> User {
        let id = self.next_id;
        self.next_id += 1;
        let (name, email) = generated_identity(id);
        let user = User {
            id: UserId::from(id),
            name,
            email,
        };
        self.users.push(user.clone());
        user
    }

    /// Removes the most recently added user, as the seed server does.
    pub fn remove_latest(&mut self) -> Option<User> {
        self.users.pop()
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

    #[test]
    fn ids_count_up_from_one_as_strings() {
        let mut directory = Directory::default();
        let ids: Vec<_> = (0..3)
            .map(|_| directory.add_generated().id.to_string())
            .collect();
        assert_eq!(ids, ["1", "2", "3"]);
    }

    #[test]
    fn remove_takes_the_most_recent_user() {
        let mut directory = Directory::default();
        directory.add_generated();
        let second = directory.add_generated();
        assert_eq!(directory.remove_latest(), Some(second));
        assert_eq!(directory.users().len(), 1);
    }

    #[test]
    fn removing_from_an_empty_list_does_nothing() {
        assert_eq!(Directory::default().remove_latest(), None);
    }

    #[test]
    fn ids_are_not_reused_after_a_removal() {
        let mut directory = Directory::default();
        directory.add_generated();
        directory.remove_latest();
        assert_eq!(directory.add_generated().id.as_str(), "2");
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
