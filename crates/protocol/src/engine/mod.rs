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
mod connecting;
mod events;
mod heartbeat;
mod outbox;
mod phase;
mod receiving;
mod shown;
mod sync;
#[cfg(test)]
mod tests;
mod token;

pub use crate::problem::{Close, Problem};
pub use backoff::{ceiling, retry_delay, retry_window, Rng, CROWD_CONNECTS_PER_S};
pub use config::{EngineConfig, QUERY_PARAMETERS};
pub use events::{Action, Event, Millis};
pub use outbox::{Entry, Outbox, OutboxFull, SavedWrite, Write};
pub use token::TokenSource;

use phase::Phase;
use shown::{Showing, Shown};
use sync::ListSync;
use token::Tokens;

use crate::auth::Access;
use crate::close_code;
use crate::connection::{ConnectionStatus, Protocol};

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
    /// The token `hello` carries, and when to ask for a fresh one.
    tokens: Tokens,
    /// What the server's last `session` allows.
    access: Access,
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
            tokens: Tokens::default(),
            access: Access::default(),
            shown: Shown::default(),
        }
    }

    /// Says where the page's token comes from (by default nowhere: `hello`
    /// carries none). Call it before [`Event::Start`].
    pub fn use_tokens(&mut self, source: TokenSource) {
        self.tokens = Tokens::new(source);
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
            access: self.access,
        }
    }

    /// Adds and removes not yet done.
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

    /// Puts back the adds and removes the page kept from before a reload
    /// (see [`Action::SaveWrites`]): they are sent again under their ids,
    /// so each is one change however often the server sees it.
    pub fn restore_writes(&mut self, saved: Vec<SavedWrite>) -> Vec<Action> {
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
            Event::Add => self.write(now, Write::Add, &mut out),
            Event::Remove(id) => self.write(now, Write::Remove(id), &mut out),
            Event::TokenAnswered { request, answer } => {
                self.token_answered(now, request, answer, &mut out);
            }
            Event::TokenGiven(token) => self.token_given(now, token, &mut out),
            Event::Refresh => match &self.phase {
                Phase::Open(link) if link.protocol == Protocol::V1 => self.tokens.ask(&mut out),
                Phase::Open(_) | Phase::Idle | Phase::Opening { .. } => {}
                Phase::Authorizing { .. } => {}
                _ => {
                    self.attempt = 0;
                    self.open(now, true, &mut out);
                }
            },
            Event::Retry => match self.phase {
                Phase::Closed | Phase::Suspended => {
                    self.attempt = 0;
                    self.open(now, true, &mut out);
                }
                Phase::Waiting { .. } | Phase::Offline => self.open(now, true, &mut out),
                Phase::Idle
                | Phase::Authorizing { .. }
                | Phase::Opening { .. }
                | Phase::Open(_) => {}
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

    /// When something is next due, if anything is: the driver's timer must
    /// always be armed for exactly this (the engine fuzz target checks it).
    pub fn next_deadline(&self) -> Option<Millis> {
        let phase = self.phase.next_deadline(&self.config, &self.outbox);
        let refresh = match &self.phase {
            Phase::Open(link) if link.protocol == Protocol::V1 => self.tokens.next_deadline(),
            _ => None,
        };
        [phase, refresh, self.outbox.next_expiry()]
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
