//! The engine's rules for sockets: opening (with a token first, when the
//! page gives one), the seed fallback, closes and their codes, retries
//! with backoff, and every deadline. See the engine's module docs.

use super::heartbeat::Heartbeat;
use super::phase::{Link, Phase};
use super::{Action, Engine, Millis, FALLBACK_AFTER_ATTEMPTS};
use crate::auth::Token;
use crate::close_code;
use crate::connection::Protocol;
use crate::endpoint;
use crate::engine::backoff::retry_delay;
use crate::problem::{Close, Problem};
use crate::seed::SeedCommand;
use crate::v1::ClientMessage;

impl Engine {
    /// Starts a try: asks for a token first when the page can give one
    /// (waiting for a request already in flight), then opens.
    pub(super) fn open(&mut self, now: Millis, offer_v1: bool, out: &mut Vec<Action>) {
        if self.tokens.asks() {
            self.phase = Phase::Authorizing {
                offer_v1,
                deadline: now.saturating_add(self.config.connect_timeout_ms),
            };
            self.tokens.ask(out);
            return;
        }
        self.open_socket(now, offer_v1, out);
    }

    fn open_socket(&mut self, now: Millis, offer_v1: bool, out: &mut Vec<Action>) {
        self.phase = Phase::Opening {
            offer_v1,
            deadline: now.saturating_add(self.config.connect_timeout_ms),
        };
        out.push(Action::Open { offer_v1 });
    }

    /// Closes the socket, if there is one.
    pub(super) fn drop_socket(&mut self, code: u16, reason: &str, out: &mut Vec<Action>) {
        if matches!(self.phase, Phase::Opening { .. } | Phase::Open(_)) {
            out.push(Action::Close {
                code,
                reason: reason.to_owned(),
            });
        }
        self.tokens.session_ended();
    }

    pub(super) fn opened(&mut self, now: Millis, protocol: Protocol, out: &mut Vec<Action>) {
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
                out.push(Action::Send(self.sync.hello(self.tokens.current())));
                for frame in self.outbox.send_ready(now) {
                    out.push(Action::Send(frame));
                }
            }
            Protocol::Seed => {
                self.sync.forget();
                self.viewers = None;
                self.access = Default::default();
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

    pub(super) fn closed(&mut self, now: Millis, code: u16, reason: &str, out: &mut Vec<Action>) {
        // A timer throttled in a background tab may not have credited the
        // uptime yet.
        self.credit_uptime(now);
        self.tokens.session_ended();
        let close = Close {
            code,
            reason: reason.to_owned(),
        };
        let problem = match &self.phase {
            Phase::Opening { offer_v1: true, .. } if self.may_fall_back() => {
                return self.open_socket(now, false, out);
            }
            Phase::Opening { .. } => Problem::CannotConnect {
                url: self.url.clone(),
            },
            Phase::Open(_) => Problem::ConnectionLost {
                close: close.clone(),
            },
            _ => return,
        };
        if code == close_code::UNAUTHORIZED && self.tokens.asks() {
            // The token was refused or ran out: the next try asks for a
            // new one.
            self.tokens.refused();
            self.retry_later(now, Problem::ConnectionLost { close });
        } else if close_code::is_refusal(code) {
            self.tokens.refused();
            self.phase = Phase::Closed;
            let list = endpoint::list_of(&self.url).to_owned();
            self.last_error = Some(match code {
                close_code::NO_SUCH_LIST => Problem::NoSuchList { list },
                close_code::LIST_DELETED => Problem::ListDeleted { list },
                _ => Problem::Refused { close },
            });
        } else {
            self.retry_later(now, problem);
        }
    }

    /// Leaves a plain connection to a server that has spoken v1, because
    /// adds wait that need request ids, and tries v1 again with backoff.
    pub(super) fn back_to_v1(&mut self, now: Millis, out: &mut Vec<Action>) {
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
    /// the crowd the server last reported (see
    /// [`super::retry_window`]), and counts the attempt.
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

    /// The page answered the request for a token: a connect waiting for
    /// it opens; a live v1 connection presents it (`auth`). Without a
    /// token, a connect stops until the user or the page asks again; a
    /// live connection goes on until the server ends it.
    pub(super) fn token_answered(
        &mut self,
        now: Millis,
        request: u64,
        answer: Result<Option<Token>, String>,
        out: &mut Vec<Action>,
    ) {
        let Some(answer) = self.tokens.answered(request, answer) else {
            return;
        };
        match (answer, &self.phase) {
            (Ok(_), Phase::Authorizing { offer_v1, .. }) => {
                let offer_v1 = *offer_v1;
                self.open_socket(now, offer_v1, out);
            }
            (Ok(token), Phase::Open(link)) if link.protocol == Protocol::V1 => {
                out.push(Action::Send(ClientMessage::Auth { token }.to_frame()));
            }
            (Ok(_), _) => {}
            (Err(reason), Phase::Authorizing { .. }) => {
                self.phase = Phase::Closed;
                self.last_error = Some(Problem::NoToken { reason });
            }
            (Err(reason), _) => self.last_error = Some(Problem::NoToken { reason }),
        }
    }

    /// The page replaced its own token: a live v1 connection presents it
    /// at once, and a connection refused for its old one tries again.
    pub(super) fn token_given(&mut self, now: Millis, token: Token, out: &mut Vec<Action>) {
        self.tokens.given(token.clone());
        match &self.phase {
            Phase::Open(link) if link.protocol == Protocol::V1 => {
                out.push(Action::Send(ClientMessage::Auth { token }.to_frame()));
            }
            Phase::Closed | Phase::Waiting { .. } => {
                self.attempt = 0;
                self.open(now, true, out);
            }
            _ => {}
        }
    }

    /// Acts on every deadline that has passed by `now`.
    pub(super) fn check_deadlines(&mut self, now: Millis, out: &mut Vec<Action>) {
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
            Phase::Authorizing { deadline, .. } if now >= *deadline => {
                self.phase = Phase::Closed;
                self.last_error = Some(Problem::NoToken {
                    reason: format!("no answer within {} ms", config.connect_timeout_ms),
                });
            }
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
                    self.tokens.session_ended();
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
                for frame in self.outbox.released(now) {
                    out.push(Action::Send(frame));
                }
                if self.tokens.refresh_due(now) {
                    self.tokens.ask(out);
                }
            }
            _ => {}
        }
    }
}
