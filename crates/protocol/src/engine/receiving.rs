//! The engine's rules for what goes over an open socket: the person's adds
//! and removes, the frames that arrive, and when a connection counts as
//! healthy. See the engine's module docs.

use super::outbox::{OutboxFull, Write};
use super::phase::{Link, Phase};
use super::{Action, Engine, Millis};
use crate::auth::Access;
use crate::connection::Protocol;
use crate::list::ListEdit;
use crate::problem::Problem;
use crate::seed::{decode_user_list, SeedCommand};
use crate::v1::ServerMessage;
use crate::validate::RequestId;

impl Engine {
    fn new_request_id(&mut self) -> RequestId {
        let id = format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64());
        RequestId::parse(&id).expect("32 hex digits are a valid request id")
    }

    /// Queues an add or remove the person asked for, and sends it at once
    /// on a v1 connection.
    pub(super) fn write(&mut self, now: Millis, write: Write, out: &mut Vec<Action>) {
        let request_id = self.new_request_id();
        let adding = write == Write::Add;
        let frame = write.frame(request_id.clone());
        if let Err(OutboxFull { max }) = self.outbox.push_write(request_id.clone(), write, now) {
            self.last_error = Some(Problem::OutboxFull { max });
            return;
        }
        let Phase::Open(link) = &self.phase else {
            return;
        };
        match link.protocol {
            Protocol::V1 => {
                self.outbox.mark_sent(&request_id);
                out.push(Action::Send(frame));
            }
            // The plain open caught a server that has spoken v1, most
            // likely restarting. A seed add gets no ack, so one sent now
            // and lost to a crash would vanish silently (the chaos test
            // lost one in 248 this way). It waits in the outbox instead,
            // as waiting adds do in `opened`, and v1 is tried again.
            Protocol::Seed if self.spoke_v1 => self.back_to_v1(now, out),
            Protocol::Seed if adding => {
                self.outbox.settle(&request_id);
                out.push(Action::Send(SeedCommand::AddUser.as_frame().to_owned()));
            }
            // A seed server removes only its latest user: the remove waits
            // for a v1 connection.
            Protocol::Seed => {}
        }
    }

    pub(super) fn frame(&mut self, now: Millis, text: Option<&str>, out: &mut Vec<Action>) {
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
    pub(super) fn credit_uptime(&mut self, now: Millis) {
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
            ServerMessage::Session(session) => {
                self.access = Access::of(&session);
                self.tokens
                    .session(now, session.lifetime(now), &mut self.rng);
            }
        }
    }
}
