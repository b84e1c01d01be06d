//! Keeping the v1 list in step with the server.
//!
//! A snapshot sets the version; a change applies only if it is the next
//! one; changes that arrive before the first snapshot are held and applied
//! after it; a gap asks the server again (`hello` with `since`), once until
//! the list moves. The users themselves are the view's: this only says what
//! to do to them ([`Action::EditUsers`]).

use super::events::Action;
use crate::list::{Applied, ListEdit, ListVersion};
use crate::v1::{Change, ClientMessage};
use crate::User;

/// Changes held while waiting for the first snapshot, at most; the
/// snapshot makes older ones stale anyway.
const MAX_HELD_CHANGES: usize = 1_000;

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
    /// snapshot when none is).
    pub(super) fn hello(&self) -> String {
        ClientMessage::Hello {
            since: self.list.version(),
            epoch: self.list.epoch().map(str::to_owned),
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
                    out.push(Action::Send(self.hello()));
                }
            }
        }
    }
}
