//! Adds and removes the user asked for that the server has not done yet:
//! bounded in size, and an add in how long it may wait for a connection.
//!
//! A remove never expires: it names a user the person saw, and asking the
//! server again is harmless (a remove of a user already gone is done).
//! Seed servers remove only "the latest user", so removes wait for a v1
//! connection.

use std::collections::VecDeque;

use crate::error::ErrorCode;
use crate::problem::Problem;
use crate::user::UserId;
use crate::v1::{Ack, ClientMessage};
use crate::validate::RequestId;

/// The longest wait between tries of an add the server could not save:
/// short, so that adds kept through a store outage are in within seconds
/// of the store coming back (the fault tests' goal is 10 s).
pub const MAX_UNSAVED_WAIT_MS: u64 = 5_000;

/// How long to hold an add back after a `rate_limited` or
/// `store_unavailable` ack that names no wait (`retry_after_ms`).
const DEFAULT_WAIT_MS: u64 = 1_000;

/// What a person asked the server to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Add a user (the server generates the name and email).
    Add,
    /// Remove this user.
    Remove(UserId),
}

impl Write {
    /// The v1 frame that asks for it under `request_id`.
    pub fn frame(&self, request_id: RequestId) -> String {
        match self {
            Self::Add => ClientMessage::Add {
                request_id,
                name: None,
                email: None,
            },
            Self::Remove(id) => ClientMessage::Remove {
                request_id,
                id: id.clone(),
            },
        }
        .to_frame()
    }
}

/// One add or remove, from the click until the server has done it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub request_id: RequestId,
    pub write: Write,
    /// When the user asked for it (ms since the Unix epoch).
    pub queued_at: u64,
    /// Handed to a v1 server at least once. From then on it is kept until
    /// acknowledged, never expired: the server may already have done it,
    /// and only its acknowledgement can say so.
    pub sent: bool,
    /// Not to be sent before this instant (the server asked to slow down,
    /// or could not save).
    pub hold_until: Option<u64>,
    /// How many times in a row the server could not save it
    /// (`store_unavailable`): each doubles the wait before the next try.
    pub unsaved: u32,
    /// Kept from before a reload, perhaps by another tab that may send it
    /// too: like a sent add, it goes only to a v1 server, whose request
    /// ids make the two sends one user.
    pub restored: bool,
}

/// An add or remove as the page keeps it across a reload, so that it is
/// sent again under the same request id (and the server's idempotency
/// makes it one change, however many times it arrives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedWrite {
    pub request_id: RequestId,
    pub write: Write,
    pub queued_at: u64,
    pub sent: bool,
}

impl SavedWrite {
    /// The stored text (the request id is in the storage key):
    /// `queued_at,sent` for an add, `queued_at,sent,remove,<user id>` for
    /// a remove.
    pub fn to_stored(&self) -> String {
        let sent = u8::from(self.sent);
        match &self.write {
            Write::Add => format!("{},{sent}", self.queued_at),
            Write::Remove(id) => format!("{},{sent},remove,{id}", self.queued_at),
        }
    }

    /// Reads what [`Self::to_stored`] wrote for `request_id`; `None` for
    /// anything else, which is then left alone.
    pub fn from_stored(request_id: &str, text: &str) -> Option<Self> {
        let mut fields = text.splitn(4, ',');
        let queued_at = fields.next()?.parse().ok()?;
        let sent = match fields.next()? {
            "0" => false,
            "1" => true,
            _ => return None,
        };
        let write = match (fields.next(), fields.next()) {
            (None, _) => Write::Add,
            (Some("remove"), Some(id)) if !id.is_empty() => Write::Remove(UserId::new(id)),
            _ => return None,
        };
        Some(Self {
            request_id: RequestId::parse(request_id).ok()?,
            write,
            queued_at,
            sent,
        })
    }
}

/// Why an add was not queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxFull {
    pub max: usize,
}

#[derive(Clone, Debug)]
pub struct Outbox {
    entries: VecDeque<Entry>,
    max: usize,
    ttl_ms: u64,
}

impl Outbox {
    pub fn new(max: usize, ttl_ms: u64) -> Self {
        Self {
            entries: VecDeque::new(),
            max,
            ttl_ms,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Queues an add, oldest first, unless `max` are already waiting.
    pub fn push(&mut self, request_id: RequestId, now: u64) -> Result<(), OutboxFull> {
        self.push_write(request_id, Write::Add, now)
    }

    /// Queues `write`, oldest first, unless `max` are already waiting.
    pub fn push_write(
        &mut self,
        request_id: RequestId,
        write: Write,
        now: u64,
    ) -> Result<(), OutboxFull> {
        if self.entries.len() >= self.max {
            return Err(OutboxFull { max: self.max });
        }
        self.entries.push_back(Entry {
            request_id,
            write,
            queued_at: now,
            sent: false,
            hold_until: None,
            unsaved: 0,
            restored: false,
        });
        Ok(())
    }

    /// Drops the adds never sent that have waited `ttl_ms`; returns how
    /// many.
    pub fn expire(&mut self, now: u64) -> usize {
        let before = self.entries.len();
        let ttl = self.ttl_ms;
        self.entries
            .retain(|entry| !entry.expires() || now < entry.queued_at.saturating_add(ttl));
        before - self.entries.len()
    }

    /// When the next unsent add expires.
    pub fn next_expiry(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter(|entry| entry.expires())
            .map(|entry| entry.queued_at.saturating_add(self.ttl_ms))
            .min()
    }

    /// When the next held add may be sent again.
    pub fn next_release(&self) -> Option<u64> {
        self.entries
            .iter()
            .filter_map(|entry| entry.hold_until)
            .min()
    }

    /// What the server's `ack` means for its add or remove: done or
    /// refused settles it (a remove of a user already gone is done); `rate_limited` holds it for the wait named, and
    /// `store_unavailable` or `storage_failed` (the server changed nothing:
    /// its store is unreachable, or its disk full) for a wait that doubles
    /// with each refusal, after which it is sent again under the same id. Returns the problem to
    /// show, if any.
    pub fn acknowledged(&mut self, ack: &Ack, now: u64) -> Option<Problem> {
        let error = match ack.outcome() {
            Ok(_) => {
                self.settle(&ack.request_id);
                return None;
            }
            Err(error) => error,
        };
        let wait_ms = error.retry_after_ms.unwrap_or(DEFAULT_WAIT_MS);
        let removing = self
            .entries
            .iter()
            .any(|e| e.request_id == ack.request_id && matches!(e.write, Write::Remove(_)));
        match error.code {
            ErrorCode::NotFound if removing => {
                self.settle(&ack.request_id);
                None
            }
            ErrorCode::StoreUnavailable | ErrorCode::StorageFailed => self
                .hold_unsaved(&ack.request_id, now, wait_ms)
                .map(|wait_ms| Problem::StoreUnavailable { wait_ms }),
            ErrorCode::RateLimited => {
                self.hold(&ack.request_id, now.saturating_add(wait_ms));
                Some(Problem::SlowedDown { wait_ms })
            }
            _ => {
                self.settle(&ack.request_id);
                Some(Problem::RequestRefused(error))
            }
        }
    }

    /// Removes the write with this id (acknowledged); `false` if unknown.
    pub fn settle(&mut self, request_id: &RequestId) -> bool {
        let before = self.entries.len();
        self.entries.retain(|entry| entry.request_id != *request_id);
        before != self.entries.len()
    }

    /// Marks the add with this id as handed to a v1 server.
    pub fn mark_sent(&mut self, request_id: &RequestId) {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.request_id == *request_id)
        {
            entry.sent = true;
        }
    }

    /// Keeps the add with this id back until `until`.
    pub fn hold(&mut self, request_id: &RequestId, until: u64) -> bool {
        match self
            .entries
            .iter_mut()
            .find(|e| e.request_id == *request_id)
        {
            Some(entry) => {
                entry.hold_until = Some(until);
                true
            }
            None => false,
        }
    }

    /// Keeps the add with this id back after the server could not save it:
    /// `base_ms` the first time, twice as long each time after, up to
    /// [`MAX_UNSAVED_WAIT_MS`]. Returns the wait, if the add is here.
    pub fn hold_unsaved(&mut self, request_id: &RequestId, now: u64, base_ms: u64) -> Option<u64> {
        let entry = self
            .entries
            .iter_mut()
            .find(|e| e.request_id == *request_id)?;
        let wait = base_ms
            .saturating_mul(1 << entry.unsaved.min(16))
            .min(MAX_UNSAVED_WAIT_MS);
        entry.unsaved = entry.unsaved.saturating_add(1);
        entry.hold_until = Some(now.saturating_add(wait));
        Some(wait)
    }

    /// The v1 frames of every write that may be sent at `now`, oldest
    /// first, marked as sent (v1: they stay until acknowledged).
    pub fn send_ready(&mut self, now: u64) -> Vec<String> {
        self.send_where(|entry| entry.hold_until.is_none_or(|until| until <= now))
    }

    /// Like [`Self::send_ready`], but only writes that were held and are
    /// now due (the rest are already in flight on this connection).
    pub fn released(&mut self, now: u64) -> Vec<String> {
        self.send_where(|entry| entry.hold_until.is_some_and(|until| until <= now))
    }

    fn send_where(&mut self, due: impl Fn(&Entry) -> bool) -> Vec<String> {
        self.entries
            .iter_mut()
            .filter(|entry| due(entry))
            .map(|entry| {
                entry.sent = true;
                entry.hold_until = None;
                entry.write.frame(entry.request_id.clone())
            })
            .collect()
    }

    /// Every write, as it is kept across a reload.
    pub fn saved(&self) -> Vec<SavedWrite> {
        self.entries
            .iter()
            .map(|entry| SavedWrite {
                request_id: entry.request_id.clone(),
                write: entry.write.clone(),
                queued_at: entry.queued_at,
                sent: entry.sent,
            })
            .collect()
    }

    /// Whether [`Self::saved`] would give exactly `saved`, without building
    /// it (the engine asks after every event).
    pub fn is_saved_as(&self, saved: &[SavedWrite]) -> bool {
        self.entries.len() == saved.len()
            && self.entries.iter().zip(saved).all(|(entry, kept)| {
                entry.request_id == kept.request_id
                    && entry.write == kept.write
                    && entry.queued_at == kept.queued_at
                    && entry.sent == kept.sent
            })
    }

    /// Puts back writes kept from before a reload, oldest first, after any
    /// already here; an id already queued is skipped, and so is anything
    /// beyond `max`.
    pub fn restore(&mut self, mut saved: Vec<SavedWrite>) {
        saved.sort_unstable_by_key(|kept| kept.queued_at);
        for kept in saved {
            if self.entries.len() >= self.max
                || self.entries.iter().any(|e| e.request_id == kept.request_id)
            {
                continue;
            }
            self.entries.push_back(Entry {
                request_id: kept.request_id,
                write: kept.write,
                queued_at: kept.queued_at,
                sent: kept.sent,
                hold_until: None,
                unsaved: 0,
                restored: true,
            });
        }
    }

    /// Takes out the adds a seed server may be sent (once, with nothing to
    /// wait for) and says how many. Adds a v1 server may already have done
    /// (sent) or that another tab may send (restored) stay for the next v1
    /// connection: a seed server has no request ids, so sending them there
    /// could make a second user. Removes stay too: a seed server removes
    /// only the latest user, not a chosen one.
    pub fn take_for_seed(&mut self) -> usize {
        let before = self.entries.len();
        self.entries.retain(|entry| {
            entry.sent || entry.restored || matches!(entry.write, Write::Remove(_))
        });
        before - self.entries.len()
    }
}

impl Entry {
    /// Whether it may still expire: an add never handed to a server.
    fn expires(&self) -> bool {
        !self.sent && self.write == Write::Add
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorBody;

    fn rid(n: u32) -> RequestId {
        RequestId::parse(&format!("r{n}")).unwrap()
    }

    #[test]
    fn a_full_outbox_refuses_and_keeps_what_it_has() {
        let mut outbox = Outbox::new(2, 1_000);
        outbox.push(rid(1), 0).unwrap();
        outbox.push(rid(2), 0).unwrap();
        assert_eq!(outbox.push(rid(3), 0), Err(OutboxFull { max: 2 }));
        assert_eq!(outbox.len(), 2);
    }

    #[test]
    fn only_unsent_adds_expire() {
        let mut outbox = Outbox::new(10, 1_000);
        outbox.push(rid(1), 0).unwrap();
        outbox.push(rid(2), 500).unwrap();
        assert_eq!(outbox.next_expiry(), Some(1_000));
        assert_eq!(outbox.expire(999), 0);
        assert_eq!(outbox.expire(1_000), 1);
        outbox.send_ready(1_000);
        assert_eq!(outbox.next_expiry(), None);
        assert_eq!(outbox.expire(10_000), 0, "a sent add waits for its ack");
        assert!(outbox.settle(&rid(2)));
        assert!(outbox.is_empty());
    }

    #[test]
    fn saved_adds_come_back_once_in_order_within_the_bound() {
        let mut outbox = Outbox::new(3, 1_000);
        outbox.push(rid(1), 50).unwrap();
        outbox.send_ready(60);
        let saved = outbox.saved();
        assert!(outbox.is_saved_as(&saved));
        assert!(!outbox.is_saved_as(&[]));
        assert_eq!(
            saved,
            [SavedWrite {
                request_id: rid(1),
                write: Write::Add,
                queued_at: 50,
                sent: true
            }]
        );
        let stored = saved[0].to_stored();
        assert_eq!(stored, "50,1");
        assert_eq!(
            SavedWrite::from_stored("r1", &stored),
            Some(saved[0].clone())
        );
        for bad in ["", "50", "x,1", "50,2", "50,1,0"] {
            assert_eq!(SavedWrite::from_stored("r1", bad), None, "{bad:?}");
        }
        assert_eq!(
            SavedWrite::from_stored("", "50,1"),
            None,
            "not a request id"
        );

        let mut reloaded = Outbox::new(3, 1_000);
        reloaded.push(rid(9), 100).unwrap();
        let later = |n, at| SavedWrite {
            request_id: rid(n),
            write: Write::Add,
            queued_at: at,
            sent: false,
        };
        reloaded.restore(vec![
            later(3, 30),
            saved[0].clone(),
            later(9, 1),
            later(4, 40),
        ]);
        let ids: Vec<_> = reloaded.saved().into_iter().map(|a| a.request_id).collect();
        assert_eq!(
            ids,
            [rid(9), rid(3), rid(4)],
            "r9 once; r1 is beyond the bound"
        );
    }

    #[test]
    fn a_held_add_is_released_when_due() {
        let mut outbox = Outbox::new(10, 1_000);
        outbox.push(rid(1), 0).unwrap();
        outbox.send_ready(0);
        outbox.hold(&rid(1), 300);
        assert!(outbox.send_ready(100).is_empty());
        assert!(outbox.released(299).is_empty());
        assert_eq!(outbox.next_release(), Some(300));
        assert_eq!(outbox.released(300), [Write::Add.frame(rid(1))]);
        assert_eq!(outbox.next_release(), None);
    }

    #[test]
    fn a_remove_is_kept_with_its_user_never_expires_and_waits_for_v1() {
        let mut outbox = Outbox::new(10, 1_000);
        let ada = UserId::new("7");
        outbox
            .push_write(rid(1), Write::Remove(ada.clone()), 0)
            .unwrap();
        outbox.push(rid(2), 0).unwrap();
        assert_eq!(outbox.next_expiry(), Some(1_000), "only the add expires");
        assert_eq!(outbox.expire(5_000), 1);
        assert_eq!(
            outbox.take_for_seed(),
            0,
            "a seed server cannot remove user 7"
        );
        assert_eq!(
            outbox.send_ready(5_000),
            [r#"{"type":"remove","request_id":"r1","id":"7"}"#]
        );
        let kept = &outbox.saved()[0];
        assert_eq!(kept.write, Write::Remove(ada));
        assert_eq!(kept.to_stored(), "0,1,remove,7");
        assert_eq!(
            SavedWrite::from_stored("r1", &kept.to_stored()).as_ref(),
            Some(kept)
        );
        // An id with commas in it is read back whole.
        let odd = SavedWrite::from_stored("r3", "5,0,remove,a,b").unwrap();
        assert_eq!(odd.write, Write::Remove(UserId::new("a,b")));
        assert_eq!(SavedWrite::from_stored("r3", "5,0,remove,"), None);
    }

    #[test]
    fn a_remove_of_a_user_already_gone_is_done_and_other_refusals_are_shown() {
        let mut outbox = Outbox::new(10, 1_000);
        outbox
            .push_write(rid(1), Write::Remove(UserId::new("7")), 0)
            .unwrap();
        outbox.push(rid(2), 0).unwrap();
        let gone = Ack::failed(rid(1), ErrorBody::new(ErrorCode::NotFound, "no user 7"));
        assert_eq!(outbox.acknowledged(&gone, 10), None);
        let refused = Ack::failed(rid(2), ErrorBody::new(ErrorCode::NotFound, "?"));
        assert!(matches!(
            outbox.acknowledged(&refused, 10),
            Some(Problem::RequestRefused(_))
        ));
        assert!(outbox.is_empty());
    }
}
