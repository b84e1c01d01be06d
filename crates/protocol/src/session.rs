//! What a v1 client keeps across connections, as pure data: the versioned
//! list and the adds the server has not acknowledged yet.
//!
//! The browser's socket task hands every frame to [`V1Session::receive`]
//! and sends what it is told to; it never interprets v1 itself. On each new
//! connection [`V1Session::opened`] says hello (resuming from the version
//! held) and resends every unacknowledged add under its original request
//! id, which the server's idempotency turns into exactly one user.

use crate::list::{Applied, VersionedList};
use crate::user::User;
use crate::v1::{ClientMessage, ServerMessage};
use crate::validate::RequestId;

/// What one frame from the server did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// The list changed; show [`V1Session::users`] again.
    pub list_changed: bool,
    /// Requests the frame settled (acked, successfully or not).
    pub settled: usize,
    /// Something to show the user.
    pub error: Option<String>,
    /// Frames to send in reply (a `hello` to catch up after a gap).
    pub replies: Vec<String>,
    /// The viewer count, when the frame carried one.
    pub viewers: Option<u64>,
}

#[derive(Clone, Debug, Default)]
pub struct V1Session {
    list: VersionedList,
    /// Adds sent (or to be sent) and not yet acknowledged, oldest first.
    unacked: Vec<ClientMessage>,
}

impl V1Session {
    pub fn users(&self) -> &[User] {
        self.list.users()
    }

    /// Requests not yet acknowledged.
    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    /// Forgets the list (not the unacked adds), as when a server without v1
    /// was in between: the next hello asks for a snapshot.
    pub fn forget_list(&mut self) {
        self.list = VersionedList::default();
    }

    fn hello(&self) -> String {
        ClientMessage::Hello {
            since: self.list.version(),
            epoch: self.list.epoch().map(str::to_owned),
        }
        .to_frame()
    }

    /// The frames to send when a v1 connection opens: hello, then every
    /// unacknowledged add again.
    pub fn opened(&self) -> Vec<String> {
        std::iter::once(self.hello())
            .chain(self.unacked.iter().map(ClientMessage::to_frame))
            .collect()
    }

    /// Records an add and returns its frame.
    pub fn add(&mut self, request_id: RequestId) -> String {
        let message = ClientMessage::Add {
            request_id,
            name: None,
            email: None,
        };
        let frame = message.to_frame();
        self.unacked.push(message);
        frame
    }

    /// Applies one frame from the server. A bad frame changes nothing and
    /// is reported.
    pub fn receive(&mut self, frame: &str) -> Received {
        let mut received = Received::default();
        let message = match ServerMessage::decode(frame) {
            Ok(message) => message,
            Err(err) => {
                received.error = Some(format!("the server sent a frame Roster cannot read: {err}"));
                return received;
            }
        };
        match message {
            ServerMessage::Snapshot {
                epoch,
                version,
                users,
            } => {
                self.list.replace(epoch, version, users);
                received.list_changed = true;
            }
            ServerMessage::Change(change) => match self.list.apply(&change) {
                Applied::Changed => received.list_changed = true,
                Applied::Stale | Applied::NoBase => {}
                Applied::Gap { .. } => received.replies.push(self.hello()),
            },
            ServerMessage::Ack(ack) => {
                let before = self.unacked.len();
                self.unacked.retain(|message| {
                    !matches!(message, ClientMessage::Add { request_id, .. } if *request_id == ack.request_id)
                });
                received.settled = before - self.unacked.len();
                if let Err(error) = ack.outcome() {
                    received.error =
                        Some(format!("the server refused a request: {}", error.message));
                }
            }
            ServerMessage::Presence { viewers } => received.viewers = Some(viewers),
            ServerMessage::Pong { .. } => {}
            ServerMessage::Error(error) => {
                received.error = Some(format!("the server reported: {}", error.message));
            }
        }
        received
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::user;
    use crate::v1::{Ack, Change, ChangeOp, ErrorBody, ErrorCode};

    fn frame(message: ServerMessage) -> String {
        message.to_frame()
    }

    fn snapshot(version: u64, users: Vec<User>) -> String {
        frame(ServerMessage::Snapshot {
            epoch: "e".into(),
            version,
            users,
        })
    }

    fn added(version: u64, id: u64) -> String {
        frame(ServerMessage::Change(Change {
            version,
            op: ChangeOp::Added,
            user: user(id),
        }))
    }

    fn rid(id: &str) -> RequestId {
        RequestId::parse(id).unwrap()
    }

    #[test]
    fn a_first_hello_asks_for_a_snapshot_and_a_later_one_resumes() {
        let mut session = V1Session::default();
        assert_eq!(session.opened(), [r#"{"type":"hello"}"#]);
        session.receive(&snapshot(3, vec![user(1)]));
        session.receive(&added(4, 2));
        assert_eq!(
            session.opened(),
            [r#"{"type":"hello","since":4,"epoch":"e"}"#]
        );
        assert_eq!(session.users(), [user(1), user(2)]);
    }

    #[test]
    fn unacked_adds_are_resent_on_open_until_acked() {
        let mut session = V1Session::default();
        let sent = session.add(rid("a"));
        assert_eq!(session.opened()[1], sent);
        let ack = Ack::done(
            rid("a"),
            &Change {
                version: 1,
                op: ChangeOp::Added,
                user: user(1),
            },
        );
        let received = session.receive(&frame(ServerMessage::Ack(ack)));
        assert_eq!((received.settled, received.error), (1, None));
        assert_eq!(session.opened().len(), 1);
    }

    #[test]
    fn an_error_ack_settles_the_add_and_says_why() {
        let mut session = V1Session::default();
        session.add(rid("a"));
        let ack = Ack::failed(
            rid("a"),
            ErrorBody::new(ErrorCode::RateLimited, "slow down"),
        );
        let received = session.receive(&frame(ServerMessage::Ack(ack)));
        assert_eq!(received.settled, 1);
        assert!(received.error.unwrap().contains("slow down"));
    }

    #[test]
    fn a_gap_asks_to_catch_up_and_leaves_the_list() {
        let mut session = V1Session::default();
        session.receive(&snapshot(1, vec![user(1)]));
        let received = session.receive(&added(3, 3));
        assert!(!received.list_changed);
        assert_eq!(
            received.replies,
            [r#"{"type":"hello","since":1,"epoch":"e"}"#]
        );
        assert_eq!(session.users(), [user(1)]);
    }

    #[test]
    fn bad_frames_are_reported_and_change_nothing() {
        let mut session = V1Session::default();
        session.receive(&snapshot(1, vec![user(1)]));
        for bad in ["nope", "[]", r#"{"type":"surprise"}"#] {
            let received = session.receive(bad);
            assert!(received.error.is_some(), "{bad}");
            assert!(!received.list_changed);
        }
        assert_eq!(session.users(), [user(1)]);
    }

    #[test]
    fn presence_is_passed_on() {
        let mut session = V1Session::default();
        let received = session.receive(&frame(ServerMessage::Presence { viewers: 3 }));
        assert_eq!(received.viewers, Some(3));
    }
}
