//! The connection engine: everything the client decides about its socket,
//! as a state machine with no I/O.
//!
//! The browser driver (`src/socket/`) owns the socket, one timer and the
//! window's listeners. It feeds each [`Event`] in with the wall-clock time
//! and carries out the [`Action`]s that come back, in order. Nothing here
//! reads a clock, a random source or a socket, so every rule below is
//! tested natively with a fake clock and a seeded [`Rng`].
//!
//! # Rules
//! - **Backoff**: after a lost or failed connection the next try waits
//!   `random(0, min(cap, base * 2^attempt))` (full jitter), the window
//!   widened for a crowd: see [`retry_window`]. `attempt`
//!   resets only once a connection has stayed open `healthy_after_ms` or
//!   delivered its v1 snapshot (or, from a seed server, its first list), so
//!   a server that accepts and drops at once backs off like a dead one.
//!   Retries never stop by themselves; [`Event::Retry`] skips the wait.
//! - **Opening**: each try first offers `roster.v1`. Chromium fails a
//!   handshake whose offer the server ignores, which every seed server
//!   does, so a refused v1 offer is followed at once by a plain open within
//!   the same try. After a v1 connection, that fallback is only made from
//!   the third failed try on, so a restarting Roster server is not mistaken
//!   for a seed server. A socket that has not opened after
//!   `connect_timeout_ms` is abandoned.
//! - **Heartbeat** (v1 only; some seed servers add a user for every frame):
//!   a ping every `ping_ms`; if no frame at all arrives within
//!   `pong_timeout_ms` of a ping the connection is closed with 4000 and
//!   replaced. Deadlines are compared with the time of every event, not
//!   trusted to timers, which browsers throttle in background tabs.
//! - **Browser events**: offline closes the socket and waits without
//!   timers until online, which resets the backoff and connects at once;
//!   becoming visible checks deadlines and skips a pending wait; pagehide
//!   closes (1001) and pageshow reopens.
//! - **Close codes**: 1008, 4401 and 4403 mean the server refuses this
//!   client: the state becomes `closed` until the user retries. Any other
//!   close is retried with backoff. The user's own disconnect is never
//!   undone automatically.
//! - **Outbox**: every add gets a request id and waits in a bounded
//!   [`Outbox`]. With a v1 server it is sent when a connection is open,
//!   resent on every new connection until acknowledged (the server's
//!   idempotency makes that exactly once) and held back for the wait a
//!   `rate_limited` ack names. With a seed server, which acknowledges
//!   nothing, it is sent once on an open socket and forgotten, unless the
//!   server has spoken v1 before: then no add goes over a plain
//!   connection, which closes so that v1 is tried again. An add
//!   never sent expires after `outbox_ttl_ms`, with an error shown.
//! - **List**: a snapshot replaces the list; a change applies only if it is
//!   the next version; changes before the first snapshot are held and
//!   applied after it; a gap asks the server to resend (`hello` with
//!   `since`), and every new connection resumes from the version held.
//!
//! # Layout
//! This file holds the phases and the rules between them. Each part with
//! state of its own has its module: `backoff` (the waits), `heartbeat` (pings
//! and the wait for life), `sync` (the list's version, held changes, gaps),
//! `outbox` (adds waiting for their acks) and `events` (what goes in and
//! comes out). What the status reports is [`crate::problem`].

mod backoff;
mod config;
mod events;
mod heartbeat;
mod outbox;
mod phase;
mod shown;
mod sync;
#[cfg(test)]
mod tests;

pub use crate::problem::{Close, Problem};
pub use backoff::{ceiling, retry_delay, retry_window, Rng, CROWD_CONNECTS_PER_S};
pub use config::{EngineConfig, QUERY_PARAMETERS};
pub use events::{Action, Event, Millis};
pub use outbox::{Entry, Outbox, OutboxFull, SavedAdd};

use heartbeat::Heartbeat;
use phase::{Link, Phase};
use shown::{Showing, Shown};
use sync::ListSync;

use crate::close_code;
use crate::connection::{ConnectionStatus, Protocol};
use crate::list::ListEdit;
use crate::seed::{decode_user_list, SeedCommand};
use crate::v1::{ClientMessage, ServerMessage};
use crate::validate::RequestId;

/// How many failed tries on a known v1 server before the seed fallback is
/// tried again (the server may have been replaced by a seed server).
const FALLBACK_AFTER_ATTEMPTS: u32 = 3;

/// The connection engine. See the [module docs](self) for its rules.
#[derive(Clone, Debug)]
pub struct Engine {
    config: EngineConfig,
    /// Named in errors a person reads.
    url: String,
    rng: Rng,
    phase: Phase,
    attempt: u32,
    last_protocol: Option<Protocol>,
    /// This server has spoken v1, on this page or (as the page remembers)
    /// an earlier one: the seed fallback waits, and the outbox's adds
    /// never go to a seed connection (see [`Engine::remember_v1`]).
    spoke_v1: bool,
    last_error: Option<Problem>,
    /// A problem with the settings, shown whenever there is no other error.
    settings_warning: Option<Problem>,
    rtt_ms: Option<u64>,
    viewers: Option<u64>,
    /// Where the v1 list is; without a version while on a seed server.
    /// The users themselves are the view's: the engine sends it
    /// [`Action::EditUsers`], so a change never copies the list.
    sync: ListSync,
    outbox: Outbox,
    next_nonce: u64,
    shown: Shown,
}

impl Engine {
    /// An engine for `url` (used in messages only), with randomness from
    /// `seed`.
    pub fn new(config: EngineConfig, url: impl Into<String>, seed: u64) -> Self {
        Self {
            outbox: Outbox::new(config.outbox_max, config.outbox_ttl_ms),
            config,
            url: url.into(),
            rng: Rng::new(seed),
            phase: Phase::Idle,
            attempt: 0,
            last_protocol: None,
            spoke_v1: false,
            last_error: None,
            settings_warning: None,
            rtt_ms: None,
            viewers: None,
            sync: ListSync::default(),
            next_nonce: 0,
            shown: Shown::default(),
        }
    }

    /// The status as it would be shown now.
    pub fn status(&self) -> ConnectionStatus {
        ConnectionStatus {
            state: self.phase.state(self.attempt),
            attempt: self.attempt,
            next_retry_at: match self.phase {
                Phase::Waiting { retry_at } => Some(retry_at),
                _ => None,
            },
            last_error: self
                .last_error
                .clone()
                .or_else(|| self.settings_warning.clone()),
            rtt_ms: self.rtt_ms,
            protocol: self.last_protocol,
        }
    }

    /// Adds not yet done.
    pub fn pending(&self) -> usize {
        self.outbox.len()
    }

    /// Shows problems with the settings (see [`EngineConfig::from_query`])
    /// as the last error whenever there is no other one, so a mistyped
    /// setting does not go unnoticed.
    pub fn warn_about_settings(&mut self, problems: &[String]) -> Vec<Action> {
        self.settings_warning =
            (!problems.is_empty()).then(|| Problem::Settings(problems.to_vec()));
        let mut out = Vec::new();
        self.publish(&mut out);
        out
    }

    /// Tells the engine that this server has spoken v1 before (the page
    /// remembers it across reloads): as after a v1 connection on this page,
    /// the seed fallback waits for the third failed try, and waiting adds
    /// go only to a v1 connection.
    pub fn remember_v1(&mut self) {
        self.spoke_v1 = true;
    }

    /// Puts back the adds the page kept from before a reload (see
    /// [`Action::SaveAdds`]): they are sent again under their ids, so each
    /// becomes one user however often the server sees it.
    pub fn restore_adds(&mut self, saved: Vec<SavedAdd>) -> Vec<Action> {
        self.outbox.restore(saved);
        let mut out = Vec::new();
        self.publish(&mut out);
        out
    }

    /// Takes in one event at `now` and returns what to do about it.
    pub fn handle(&mut self, now: Millis, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        match event {
            Event::Start { online } => {
                if self.phase == Phase::Idle {
                    if online {
                        self.open(now, true, &mut out);
                    } else {
                        self.phase = Phase::Offline;
                    }
                }
            }
            Event::Opened { protocol } => self.opened(now, protocol, &mut out),
            Event::Frame(text) => self.frame(now, Some(&text), &mut out),
            Event::BinaryFrame => self.frame(now, None, &mut out),
            Event::Closed { code, reason } => self.closed(now, code, &reason, &mut out),
            Event::Unusable { reason } => {
                self.phase = Phase::Closed;
                self.last_error = Some(Problem::Unusable { reason });
            }
            // The timer is spent (and may have fired early): arm it again
            // for whatever is still ahead.
            Event::Tick => self.shown.timer_fired(),
            Event::Hidden => {}
            Event::Offline => {
                if !matches!(self.phase, Phase::Closed) {
                    self.drop_socket(close_code::NORMAL, "the browser went offline", &mut out);
                    self.phase = Phase::Offline;
                }
            }
            Event::Online => {
                if matches!(self.phase, Phase::Offline | Phase::Waiting { .. }) {
                    self.attempt = 0;
                    self.open(now, true, &mut out);
                }
            }
            Event::Visible => {
                if matches!(self.phase, Phase::Waiting { .. }) {
                    self.open(now, true, &mut out);
                }
            }
            Event::PageHide => {
                if !matches!(self.phase, Phase::Closed | Phase::Offline) {
                    self.drop_socket(close_code::GOING_AWAY, "the page was hidden", &mut out);
                    self.phase = Phase::Suspended;
                }
            }
            Event::PageShow => {
                if self.phase == Phase::Suspended {
                    self.attempt = 0;
                    self.open(now, true, &mut out);
                }
            }
            Event::Add => self.add(now, &mut out),
            Event::Retry => match self.phase {
                Phase::Closed | Phase::Suspended => {
                    self.attempt = 0;
                    self.open(now, true, &mut out);
                }
                Phase::Waiting { .. } | Phase::Offline => self.open(now, true, &mut out),
                Phase::Idle | Phase::Opening { .. } | Phase::Open(_) => {}
            },
            Event::Disconnect => {
                self.drop_socket(close_code::NORMAL, "disconnected by the user", &mut out);
                self.phase = Phase::Closed;
                self.last_error = None;
            }
        }
        self.check_deadlines(now, &mut out);
        self.publish(&mut out);
        out
    }

    fn open(&mut self, now: Millis, offer_v1: bool, out: &mut Vec<Action>) {
        self.phase = Phase::Opening {
            offer_v1,
            deadline: now.saturating_add(self.config.connect_timeout_ms),
        };
        out.push(Action::Open { offer_v1 });
    }

    /// Closes the socket, if there is one.
    fn drop_socket(&mut self, code: u16, reason: &str, out: &mut Vec<Action>) {
        if matches!(self.phase, Phase::Opening { .. } | Phase::Open(_)) {
            out.push(Action::Close {
                code,
                reason: reason.to_owned(),
            });
        }
    }

    fn opened(&mut self, now: Millis, protocol: Protocol, out: &mut Vec<Action>) {
        if !matches!(self.phase, Phase::Opening { .. }) {
            return;
        }
        self.phase = Phase::Open(Link {
            protocol,
            opened_at: now,
            healthy: false,
            heartbeat: Heartbeat::new(now, self.config.ping_ms),
        });
        self.last_protocol = Some(protocol);
        self.spoke_v1 |= protocol == Protocol::V1;
        self.last_error = None;
        match protocol {
            Protocol::V1 => {
                self.sync.connected();
                out.push(Action::Send(self.sync.hello()));
                for request_id in self.outbox.send_ready(now) {
                    out.push(Action::Send(add_frame(request_id)));
                }
            }
            Protocol::Seed => {
                self.sync.forget();
                self.viewers = None;
                if !self.spoke_v1 {
                    for _ in 0..self.outbox.take_for_seed() {
                        out.push(Action::Send(SeedCommand::AddUser.as_frame().to_owned()));
                    }
                } else if !self.outbox.is_empty() {
                    // A server that has spoken v1 and now answers without
                    // it is most likely a Roster server caught restarting
                    // by the plain open. Its waiting adds need request ids
                    // to land once, so close and try again, with backoff,
                    // offering v1.
                    self.back_to_v1(now, out);
                }
            }
        }
    }

    fn closed(&mut self, now: Millis, code: u16, reason: &str, out: &mut Vec<Action>) {
        // A timer throttled in a background tab may not have credited the
        // uptime yet.
        self.credit_uptime(now);
        let close = Close {
            code,
            reason: reason.to_owned(),
        };
        let problem = match &self.phase {
            Phase::Opening { offer_v1: true, .. } if self.may_fall_back() => {
                return self.open(now, false, out);
            }
            Phase::Opening { .. } => Problem::CannotConnect {
                url: self.url.clone(),
            },
            Phase::Open(_) => Problem::ConnectionLost {
                close: close.clone(),
            },
            _ => return,
        };
        if close_code::is_refusal(code) {
            self.phase = Phase::Closed;
            self.last_error = Some(Problem::Refused { close });
        } else {
            self.retry_later(now, problem);
        }
    }

    /// Leaves a plain connection to a server that has spoken v1, because
    /// adds wait that need request ids, and tries v1 again with backoff.
    fn back_to_v1(&mut self, now: Millis, out: &mut Vec<Action>) {
        out.push(Action::Close {
            code: close_code::NORMAL,
            reason: "waiting adds need roster.v1".into(),
        });
        self.retry_later(now, Problem::V1Expected);
    }

    /// Whether a refused v1 offer should be followed by a plain open.
    fn may_fall_back(&self) -> bool {
        !self.spoke_v1 || self.attempt >= FALLBACK_AFTER_ATTEMPTS
    }

    /// Schedules the next try with full jitter, over a window widened by
    /// the crowd the server last reported (see [`retry_window`]), and
    /// counts the attempt.
    fn retry_later(&mut self, now: Millis, problem: Problem) {
        let delay = retry_delay(
            &mut self.rng,
            self.config.backoff_base_ms,
            self.config.backoff_cap_ms,
            self.attempt,
            self.viewers.unwrap_or(0),
        );
        self.attempt = self.attempt.saturating_add(1);
        self.last_error = Some(problem);
        self.phase = Phase::Waiting {
            retry_at: now.saturating_add(delay),
        };
    }

    fn new_request_id(&mut self) -> RequestId {
        let id = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        RequestId::parse(&id).expect("32 hex digits are a valid request id")
    }

    fn add(&mut self, now: Millis, out: &mut Vec<Action>) {
        let request_id = self.new_request_id();
        if let Err(OutboxFull { max }) = self.outbox.push(request_id.clone(), now) {
            self.last_error = Some(Problem::OutboxFull { max });
            return;
        }
        let Phase::Open(link) = &self.phase else {
            return;
        };
        match link.protocol {
            Protocol::V1 => {
                self.outbox.mark_sent(&request_id);
                out.push(Action::Send(add_frame(request_id)));
            }
            // The plain open caught a server that has spoken v1, most
            // likely restarting. A seed add gets no ack, so one sent now
            // and lost to a crash would vanish silently (the chaos test
            // lost one in 248 this way). It waits in the outbox instead,
            // as waiting adds do in `opened`, and v1 is tried again.
            Protocol::Seed if self.spoke_v1 => self.back_to_v1(now, out),
            Protocol::Seed => {
                self.outbox.settle(&request_id);
                out.push(Action::Send(SeedCommand::AddUser.as_frame().to_owned()));
            }
        }
    }

    fn frame(&mut self, now: Millis, text: Option<&str>, out: &mut Vec<Action>) {
        let Phase::Open(link) = &mut self.phase else {
            return;
        };
        link.heartbeat.frame_arrived();
        let protocol = link.protocol;
        let Some(text) = text else {
            self.last_error = Some(Problem::BinaryFrame);
            return;
        };
        match protocol {
            Protocol::Seed => match decode_user_list(text) {
                Ok(users) => {
                    out.push(Action::EditUsers(ListEdit::Replace(users)));
                    self.mark_healthy();
                }
                Err(err) => self.last_error = Some(Problem::UnreadableList(err)),
            },
            Protocol::V1 => match ServerMessage::decode(text) {
                Ok(message) => self.receive_v1(now, message, out),
                Err(err) => self.last_error = Some(Problem::UnreadableFrame(err)),
            },
        }
    }

    fn mark_healthy(&mut self) {
        if let Phase::Open(link) = &mut self.phase {
            link.healthy = true;
            self.attempt = 0;
        }
    }

    /// Counts the open connection as healthy once it has stayed up
    /// `healthy_after_ms`.
    fn credit_uptime(&mut self, now: Millis) {
        let healthy_after = self.config.healthy_after_ms;
        if let Phase::Open(link) = &self.phase {
            if !link.healthy && now >= link.opened_at.saturating_add(healthy_after) {
                self.mark_healthy();
            }
        }
    }

    fn link_mut(&mut self) -> Option<&mut Link> {
        match &mut self.phase {
            Phase::Open(link) => Some(link),
            _ => None,
        }
    }

    fn receive_v1(&mut self, now: Millis, message: ServerMessage, out: &mut Vec<Action>) {
        match message {
            ServerMessage::Snapshot {
                epoch,
                version,
                users,
            } => {
                self.sync.snapshot(epoch, version, users, out);
                self.mark_healthy();
            }
            ServerMessage::Change(change) => self.sync.change(change, out),
            ServerMessage::Ack(ack) => {
                if let Some(problem) = self.outbox.acknowledged(&ack, now) {
                    self.last_error = Some(problem);
                }
            }
            ServerMessage::Pong { nonce } => {
                let rtt = self
                    .link_mut()
                    .and_then(|link| link.heartbeat.pong(now, nonce));
                if rtt.is_some() {
                    self.rtt_ms = rtt;
                }
            }
            ServerMessage::Presence { viewers } => self.viewers = Some(viewers),
            ServerMessage::Error(error) => {
                self.last_error = Some(Problem::ServerReported(error));
            }
        }
    }

    /// Acts on every deadline that has passed by `now`.
    fn check_deadlines(&mut self, now: Millis, out: &mut Vec<Action>) {
        let expired = self.outbox.expire(now);
        if expired > 0 {
            self.last_error = Some(Problem::AddsExpired {
                count: expired,
                ttl_ms: self.config.outbox_ttl_ms,
            });
        }
        self.credit_uptime(now);
        let config = self.config;
        match &mut self.phase {
            Phase::Opening { deadline, .. } if now >= *deadline => {
                out.push(Action::Close {
                    code: close_code::DEAD,
                    reason: "connect timeout".into(),
                });
                let problem = Problem::ConnectTimeout {
                    url: self.url.clone(),
                    timeout_ms: config.connect_timeout_ms,
                };
                self.retry_later(now, problem);
            }
            Phase::Waiting { retry_at } if now >= *retry_at => self.open(now, true, out),
            Phase::Open(link) => {
                if link.protocol != Protocol::V1 {
                    return;
                }
                if link.heartbeat.is_dead(now) {
                    out.push(Action::Close {
                        code: close_code::DEAD,
                        reason: "no reply to ping".into(),
                    });
                    let problem = Problem::StoppedAnswering {
                        timeout_ms: config.pong_timeout_ms,
                    };
                    self.retry_later(now, problem);
                    return;
                }
                let nonce = self.next_nonce + 1;
                if link
                    .heartbeat
                    .ping_due(now, nonce, config.ping_ms, config.pong_timeout_ms)
                {
                    self.next_nonce = nonce;
                    out.push(Action::Send(
                        ClientMessage::Ping {
                            nonce: Some(self.next_nonce),
                        }
                        .to_frame(),
                    ));
                }
                for request_id in self.outbox.released(now) {
                    out.push(Action::Send(add_frame(request_id)));
                }
            }
            _ => {}
        }
    }

    /// When something is next due, if anything is: the driver's timer must
    /// always be armed for exactly this (the engine fuzz target checks it).
    pub fn next_deadline(&self) -> Option<Millis> {
        let phase = self.phase.next_deadline(&self.config, &self.outbox);
        [phase, self.outbox.next_expiry()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Tells the driver what changed since it was last told.
    fn publish(&mut self, out: &mut Vec<Action>) {
        let showing = Showing {
            status: self.status(),
            pending: self.outbox.len(),
            viewers: self.viewers,
            timer: self.next_deadline(),
        };
        self.shown.tell(showing, &self.outbox, out);
    }
}

fn add_frame(request_id: RequestId) -> String {
    ClientMessage::Add {
        request_id,
        name: None,
        email: None,
    }
    .to_frame()
}
