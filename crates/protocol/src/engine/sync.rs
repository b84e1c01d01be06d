//! Keeping the v1 list in step with the server.
//!
//! A snapshot sets the version; a change applies only if it is the next
//! one; changes that arrive before the first snapshot are held and applied
//! after it; a gap asks the server again (`hello` with `since`), once until
//! the list moves. The users themselves are the view's: this only says what
//! to do to them ([`Action::EditUsers`]).

use super::events::Action;
use crate::auth::Token;
use crate::list::ListEdit;
use crate::v1::{Change, ClientMessage};
use crate::User;

/// Changes held while waiting for the first snapshot, at most; the
/// snapshot makes older ones stale anyway.
const MAX_HELD_CHANGES: usize = 1_000;

/// What checking a change's version found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Applied {
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
/// first snapshot. The users themselves live in the view's `UserList`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ListVersion {
    position: Option<(String, u64)>,
}

impl ListVersion {
    pub(super) fn version(&self) -> Option<u64> {
        self.position.as_ref().map(|(_, version)| *version)
    }

    pub(super) fn epoch(&self) -> Option<&str> {
        self.position.as_ref().map(|(epoch, _)| epoch.as_str())
    }

    /// A snapshot puts the list at `version` of `epoch`.
    pub(super) fn reset(&mut self, epoch: String, version: u64) {
        self.position = Some((epoch, version));
    }

    /// Moves to `version` if it is the next one.
    pub(super) fn advance(&mut self, version: u64) -> Applied {
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

#[derive(Clone, Debug, Default)]
pub(super) struct ListSync {
    list: ListVersion,
    /// Changes that arrived before the first snapshot.
    held: Vec<Change>,
    /// A `hello` was sent to fill a gap; no more until the list moves.
    resyncing: bool,
}

impl ListSync {
    /// The `hello` that resumes from the version held (or asks for a
    /// snapshot when none is), presenting `token` when there is one.
    pub(super) fn hello(&self, token: Option<Token>) -> String {
        ClientMessage::Hello {
            since: self.list.version(),
            epoch: self.list.epoch().map(str::to_owned),
            token,
        }
        .to_frame()
    }

    /// A new v1 connection: its `hello` answers any gap.
    pub(super) fn connected(&mut self) {
        self.resyncing = false;
    }

    /// A seed server: it has no versions to resume from.
    pub(super) fn forget(&mut self) {
        *self = Self::default();
    }

    pub(super) fn snapshot(
        &mut self,
        epoch: String,
        version: u64,
        users: Vec<User>,
        out: &mut Vec<Action>,
    ) {
        self.list.reset(epoch, version);
        self.resyncing = false;
        out.push(Action::EditUsers(ListEdit::Replace(users)));
        let mut held = std::mem::take(&mut self.held);
        held.sort_unstable_by_key(|change| change.version);
        for change in held {
            self.change(change, out);
        }
    }

    pub(super) fn change(&mut self, change: Change, out: &mut Vec<Action>) {
        match self.list.advance(change.version) {
            Applied::Changed => {
                self.resyncing = false;
                out.push(Action::EditUsers(ListEdit::from_change(change)));
            }
            Applied::Stale => {}
            Applied::NoBase => {
                if self.held.len() < MAX_HELD_CHANGES {
                    self.held.push(change);
                }
            }
            Applied::Gap { .. } => {
                if !self.resyncing {
                    self.resyncing = true;
                    out.push(Action::Send(self.hello(None)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
