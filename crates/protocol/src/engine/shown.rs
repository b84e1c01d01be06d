//! What the driver was last told, so that only differences are sent: a
//! page re-renders, and `localStorage` is written, only when something
//! it shows or keeps has changed.

use super::events::{Action, Millis};
use super::outbox::{Outbox, SavedWrite};
use crate::connection::ConnectionStatus;

/// What the driver should show now.
pub(super) struct Showing {
    pub status: ConnectionStatus,
    pub pending: usize,
    pub viewers: Option<u64>,
    /// When the timer must fire, if anything is due.
    pub timer: Option<Millis>,
}

/// What the driver was last told; `None` for what it was never told.
#[derive(Clone, Debug, Default)]
pub(super) struct Shown {
    status: Option<ConnectionStatus>,
    pending: Option<usize>,
    saved: Option<Vec<SavedWrite>>,
    viewers: Option<Option<u64>>,
    timer: Option<Millis>,
}

impl Shown {
    /// Tells the driver what differs between `showing` (and the adds
    /// `outbox` must keep across a reload) and what it was last told.
    pub(super) fn tell(&mut self, showing: Showing, outbox: &Outbox, out: &mut Vec<Action>) {
        let Showing {
            status,
            pending,
            viewers,
            timer,
        } = showing;
        if self.status.as_ref() != Some(&status) {
            self.status = Some(status.clone());
            out.push(Action::ShowStatus(status));
        }
        if self.pending != Some(pending) {
            self.pending = Some(pending);
            out.push(Action::ShowPending(pending));
        }
        let saved_already = (self.saved.as_deref()).is_some_and(|shown| outbox.is_saved_as(shown));
        if !saved_already {
            let saved = outbox.saved();
            self.saved = Some(saved.clone());
            out.push(Action::SaveWrites(saved));
        }
        if self.viewers != Some(viewers) {
            self.viewers = Some(viewers);
            out.push(Action::ShowViewers(viewers));
        }
        if self.timer != timer {
            self.timer = timer;
            out.push(match timer {
                Some(at) => Action::ArmTimer { at },
                None => Action::DisarmTimer,
            });
        }
    }

    /// The timer fired and is spent: whatever is due next is armed again.
    pub(super) fn timer_fired(&mut self) {
        self.timer = None;
    }
}
