//! The v1 heartbeat of one open connection.
//!
//! A ping goes out every `ping_ms`. Once one is out, some frame (any frame,
//! not only the pong) must arrive within `pong_timeout_ms`, or the
//! connection is taken for dead. The pong that answers the ping in flight
//! gives the round-trip time.

use super::events::Millis;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Heartbeat {
    next_ping_at: Millis,
    /// A frame must arrive before this, since a ping was sent.
    alive_by: Option<Millis>,
    /// The ping awaiting its pong: nonce and when it was sent.
    in_flight: Option<(u64, Millis)>,
}

impl Heartbeat {
    /// The heartbeat of a connection opened at `now`: the first ping is due
    /// after `ping_ms`.
    pub(super) fn new(now: Millis, ping_ms: Millis) -> Self {
        Self {
            next_ping_at: now.saturating_add(ping_ms),
            alive_by: None,
            in_flight: None,
        }
    }

    /// Any frame shows the server is alive.
    pub(super) fn frame_arrived(&mut self) {
        self.alive_by = None;
    }

    /// Whether the server has said nothing for too long after a ping.
    pub(super) fn is_dead(&self, now: Millis) -> bool {
        self.alive_by.is_some_and(|by| now >= by)
    }

    /// Whether a ping is due at `now`; if so it is counted as sent, with
    /// `nonce`, and the next one is scheduled.
    pub(super) fn ping_due(
        &mut self,
        now: Millis,
        nonce: u64,
        ping_ms: Millis,
        pong_timeout_ms: Millis,
    ) -> bool {
        if now < self.next_ping_at {
            return false;
        }
        self.in_flight = Some((nonce, now));
        self.alive_by
            .get_or_insert(now.saturating_add(pong_timeout_ms));
        self.next_ping_at = now.saturating_add(ping_ms);
        true
    }

    /// The round-trip time, when `nonce` answers the ping in flight.
    pub(super) fn pong(&mut self, now: Millis, nonce: Option<u64>) -> Option<Millis> {
        match self.in_flight {
            Some((sent, at)) if nonce == Some(sent) => {
                self.in_flight = None;
                Some(now.saturating_sub(at))
            }
            _ => None,
        }
    }

    /// When something is next due: a ping, or the end of the wait for life.
    pub(super) fn next_deadline(&self) -> Millis {
        self.alive_by
            .map_or(self.next_ping_at, |by| by.min(self.next_ping_at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ping_is_due_every_interval_and_silence_after_it_is_death() {
        let mut beat = Heartbeat::new(0, 100);
        assert!(!beat.ping_due(99, 1, 100, 30));
        assert_eq!(beat.next_deadline(), 100);
        assert!(beat.ping_due(100, 1, 100, 30));
        assert_eq!(beat.next_deadline(), 130);
        assert!(!beat.is_dead(129));
        assert!(beat.is_dead(130));
        beat.frame_arrived();
        assert!(!beat.is_dead(1_000));
        assert_eq!(beat.next_deadline(), 200);
    }

    #[test]
    fn only_the_pong_for_the_ping_in_flight_gives_a_round_trip() {
        let mut beat = Heartbeat::new(0, 100);
        assert!(beat.ping_due(100, 7, 100, 30));
        assert_eq!(beat.pong(110, Some(6)), None);
        assert_eq!(beat.pong(110, None), None);
        assert_eq!(beat.pong(112, Some(7)), Some(12));
        assert_eq!(beat.pong(113, Some(7)), None, "answered once");
    }

    #[test]
    fn a_second_ping_keeps_the_first_deadline_for_life() {
        let mut beat = Heartbeat::new(0, 10);
        assert!(beat.ping_due(10, 1, 10, 100));
        assert!(beat.ping_due(20, 2, 10, 100));
        assert!(
            beat.is_dead(110),
            "life was due 100 ms after the first ping"
        );
    }
}
