//! The client's copy of a v1 list: a snapshot, then changes applied strictly
//! in version order. Pure data; the socket task feeds it and shows the
//! result.

use crate::user::User;
use crate::v1::{Change, ChangeOp};

/// What applying a change did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The change was the next version and the list now includes it.
    Changed,
    /// An old or repeated change (version not above ours): ignored.
    Stale,
    /// A version was skipped: the list is untouched and the caller must ask
    /// for the missing changes (a `hello` with `since`).
    Gap { have: u64, got: u64 },
    /// No snapshot yet, so there is nothing to apply the change to.
    NoBase,
}

/// A list with the version and epoch it is at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionedList {
    users: Vec<User>,
    /// `None` until the first snapshot.
    position: Option<(String, u64)>,
}

impl VersionedList {
    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn version(&self) -> Option<u64> {
        self.position.as_ref().map(|(_, version)| *version)
    }

    pub fn epoch(&self) -> Option<&str> {
        self.position.as_ref().map(|(epoch, _)| epoch.as_str())
    }

    /// Replaces everything with a snapshot.
    pub fn replace(&mut self, epoch: String, version: u64, users: Vec<User>) {
        self.users = users;
        self.position = Some((epoch, version));
    }

    /// Applies `change` if it is the next version.
    pub fn apply(&mut self, change: &Change) -> Applied {
        let Some((_, version)) = self.position.as_mut() else {
            return Applied::NoBase;
        };
        if change.version <= *version {
            return Applied::Stale;
        }
        if change.version != *version + 1 {
            return Applied::Gap {
                have: *version,
                got: change.version,
            };
        }
        *version = change.version;
        match change.op {
            ChangeOp::Added => {
                // An add of an id already shown replaces it rather than
                // showing one user twice.
                match self.users.iter_mut().find(|u| u.id == change.user.id) {
                    Some(existing) => *existing = change.user.clone(),
                    None => self.users.push(change.user.clone()),
                }
            }
            ChangeOp::Removed => self.users.retain(|u| u.id != change.user.id),
        }
        Applied::Changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::user;

    fn change(version: u64, op: ChangeOp, id: u64) -> Change {
        Change {
            version,
            op,
            user: user(id),
        }
    }

    fn at(version: u64, users: Vec<User>) -> VersionedList {
        let mut list = VersionedList::default();
        list.replace("e".into(), version, users);
        list
    }

    #[test]
    fn changes_apply_in_order() {
        let mut list = at(4, vec![user(1)]);
        assert_eq!(list.apply(&change(5, ChangeOp::Added, 2)), Applied::Changed);
        assert_eq!(
            list.apply(&change(6, ChangeOp::Removed, 1)),
            Applied::Changed
        );
        assert_eq!(list.users(), [user(2)]);
        assert_eq!(list.version(), Some(6));
    }

    #[test]
    fn old_changes_are_ignored_and_gaps_reported() {
        let mut list = at(4, vec![user(1)]);
        assert_eq!(list.apply(&change(4, ChangeOp::Removed, 1)), Applied::Stale);
        assert_eq!(
            list.apply(&change(6, ChangeOp::Added, 2)),
            Applied::Gap { have: 4, got: 6 }
        );
        assert_eq!(list, at(4, vec![user(1)]));
    }

    #[test]
    fn nothing_applies_before_a_snapshot() {
        let mut list = VersionedList::default();
        assert_eq!(list.apply(&change(1, ChangeOp::Added, 1)), Applied::NoBase);
        assert!(list.users().is_empty());
    }

    #[test]
    fn a_repeated_add_of_one_id_does_not_duplicate_it() {
        let mut list = at(0, vec![user(1)]);
        list.apply(&change(1, ChangeOp::Added, 1));
        assert_eq!(list.users().len(), 1);
    }
}
