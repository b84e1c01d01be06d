//! Roster protocol v1: versioned snapshots and changes, acknowledged
//! idempotent requests, heartbeats and presence, on the same URL as the seed
//! protocol (`/api/v1/users/ws`).
//!
//! # Negotiation
//! The client offers the WebSocket subprotocol [`SUBPROTOCOL`]
//! (`roster.v1`). A Roster server selects it and both sides speak v1. A
//! server that selects none (every seed server) is spoken to in the seed
//! protocol; a Roster server serves the seed protocol to clients that offer
//! nothing. Both kinds of client see the same list.
//!
//! # Frames
//! Every frame is a JSON text object tagged by `"type"`. Fields not listed
//! are ignored, so either side may add fields without breaking the other.
//! Binary frames are refused with an `error`.
//!
//! ## Client → server
//! | type | example | answer |
//! |---|---|---|
//! | `hello` | `{"type":"hello"}` or `{"type":"hello","since":41,"epoch":"9f2c…"}` | the missed `change`s when the server still has them (and they are few enough to beat a snapshot; Roster's server: 1000), else a `snapshot`; then `presence` |
//! | `add` | `{"type":"add","request_id":"r-1","name":"Ada","email":"ada@example.com"}` (`name`, `email` optional; the server generates what is missing) | `ack` with the new user; a retried `request_id` gets the original ack, never a second user |
//! | `remove` | `{"type":"remove","request_id":"r-2","id":"7"}` | `ack` with the removed user, or an error ack `not_found` |
//! | `ping` | `{"type":"ping","nonce":3}` (`nonce` optional) | `pong` echoing the nonce |
//!
//! A client sends `hello` first: the server sends no list and no changes
//! until it has. Requests before `hello` are still served.
//!
//! ## Server → client
//! | type | example |
//! |---|---|
//! | `snapshot` | `{"type":"snapshot","epoch":"9f2c…","version":42,"users":[{"id":"1","name":"Ada Lovelace","email":"ada.lovelace.1@roster.test"}]}` |
//! | `change` | `{"type":"change","version":43,"op":"added","user":{"id":"2","name":"Grace Hopper","email":"grace.hopper.2@roster.test"}}` (`op` is `added` or `removed`) |
//! | `ack` | `{"type":"ack","request_id":"r-1","version":43,"user":{…}}`, a replay adds `"replayed":true`; failed: `{"type":"ack","request_id":"r-1","error":{"code":"invalid_name","message":"a name may have at most 64 characters"}}` |
//! | `pong` | `{"type":"pong","nonce":3}` |
//! | `presence` | `{"type":"presence","viewers":5}` (open connections of both protocols) |
//! | `error` | `{"type":"error","code":"malformed_json","message":"…"}` for a frame that is not a request (bad JSON, unknown type, binary) |
//!
//! # Versions
//! The list starts at version 0 and every change adds exactly one, so a
//! client that holds version `v` applies a change only if it carries
//! `v + 1`; anything else is a gap, and the client sends `hello` again
//! (with `since`) to catch up. The `epoch` names the store's history: a
//! client resuming with another epoch (the server's data was reset or it is
//! another deployment) gets a snapshot, never changes from a different
//! history.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::tagged::{self, body, Tagged};
use crate::user::{User, UserId};
use crate::validate::RequestId;

/// The WebSocket subprotocol name a client offers to speak v1.
pub const SUBPROTOCOL: &str = "roster.v1";

/// A machine-readable reason, sent in `error` frames, error acks and HTTP
/// error bodies. Unknown codes from a newer peer decode as [`ErrorCode::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The frame is not JSON.
    MalformedJson,
    /// The frame is JSON but not a valid message of its type.
    InvalidMessage,
    /// The `type` is missing or not one this server knows.
    UnknownType,
    /// A binary frame; v1 is text only.
    BinaryFrame,
    /// A frame or body larger than the server accepts.
    FrameTooLarge,
    InvalidName,
    InvalidEmail,
    InvalidRequestId,
    /// No user has that id.
    NotFound,
    /// A request id was reused for a different request.
    IdempotencyKeyReused,
    /// Too many adds too quickly on this connection; retry later.
    RateLimited,
    /// The store could not commit; nothing was changed.
    StorageFailed,
    /// The shared store (Redis) cannot be reached; nothing was changed.
    /// Send the same request again, with the same id, after
    /// `retry_after_ms` (and then less and less often).
    StoreUnavailable,
    /// The server is shutting down; retry on another connection.
    ShuttingDown,
    Other(String),
}

impl ErrorCode {
    /// Every code this version defines, for metrics labels and docs.
    pub const KNOWN: [ErrorCode; 14] = [
        Self::MalformedJson,
        Self::InvalidMessage,
        Self::UnknownType,
        Self::BinaryFrame,
        Self::FrameTooLarge,
        Self::InvalidName,
        Self::InvalidEmail,
        Self::InvalidRequestId,
        Self::NotFound,
        Self::IdempotencyKeyReused,
        Self::RateLimited,
        Self::StorageFailed,
        Self::StoreUnavailable,
        Self::ShuttingDown,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::InvalidMessage => "invalid_message",
            Self::UnknownType => "unknown_type",
            Self::BinaryFrame => "binary_frame",
            Self::FrameTooLarge => "frame_too_large",
            Self::InvalidName => "invalid_name",
            Self::InvalidEmail => "invalid_email",
            Self::InvalidRequestId => "invalid_request_id",
            Self::NotFound => "not_found",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::RateLimited => "rate_limited",
            Self::StorageFailed => "storage_failed",
            Self::StoreUnavailable => "store_unavailable",
            Self::ShuttingDown => "shutting_down",
            Self::Other(code) => code,
        }
    }

    pub fn parse(code: &str) -> Self {
        Self::KNOWN
            .iter()
            .find(|known| known.as_str() == code)
            .cloned()
            .unwrap_or_else(|| Self::Other(code.to_owned()))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(deserializer)?))
    }
}

/// What went wrong: a code for programs, a message for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message} ({code})")]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
    /// How long to wait before sending the same request again, when the
    /// server knows (`rate_limited`). Peers that do not know the field
    /// ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// The same error, naming the wait before a retry.
    pub fn retry_after(self, wait_ms: u64) -> Self {
        Self {
            retry_after_ms: Some(wait_ms),
            ..self
        }
    }
}

impl From<crate::validate::InvalidValue> for ErrorBody {
    fn from(invalid: crate::validate::InvalidValue) -> Self {
        Self::new(invalid.code, invalid.message)
    }
}

/// Whether a change added or removed its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Added,
    Removed,
}

impl ChangeOp {
    const NAMES: &'static [&'static str] = &["added", "removed"];
}

/// Read as serde reads a unit enum from a `serde_json::Value` (a name, or
/// a map of one name to `null`), with the same messages; serde_json's own
/// text reader would answer a number with a bare "expected value".
impl<'de> Deserialize<'de> for ChangeOp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, Unexpected, Visitor};
        struct OpVisitor;
        impl<'de> Visitor<'de> for OpVisitor {
            type Value = ChangeOp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("string or map")
            }
            fn visit_str<E: Error>(self, name: &str) -> Result<ChangeOp, E> {
                match name {
                    "added" => Ok(ChangeOp::Added),
                    "removed" => Ok(ChangeOp::Removed),
                    _ => Err(E::unknown_variant(name, ChangeOp::NAMES)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ChangeOp, A::Error> {
                let single = || A::Error::invalid_value(Unexpected::Map, &"map with a single key");
                let name: String = map.next_key()?.ok_or_else(single)?;
                let op = self.visit_str(&name)?;
                map.next_value::<()>()?;
                match map.next_key::<serde::de::IgnoredAny>()? {
                    None => Ok(op),
                    Some(_) => Err(single()),
                }
            }
        }
        deserializer.deserialize_any(OpVisitor)
    }
}

/// One change to the list, and the version it produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub version: u64,
    pub op: ChangeOp,
    pub user: User,
}

/// The answer to one `add` or `remove`: the user it produced (and the
/// change's version), or why it failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub request_id: RequestId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// True when this is the stored answer to a request id seen before.
    #[serde(default, skip_serializing_if = "is_false")]
    pub replayed: bool,
}

fn is_false(value: &bool) -> bool {
    !value
}

impl Ack {
    pub fn done(request_id: RequestId, change: &Change) -> Self {
        Self {
            request_id,
            version: Some(change.version),
            user: Some(change.user.clone()),
            error: None,
            replayed: false,
        }
    }

    pub fn failed(request_id: RequestId, error: ErrorBody) -> Self {
        Self {
            request_id,
            version: None,
            user: None,
            error: Some(error),
            replayed: false,
        }
    }

    /// The user on success, the error otherwise. An ack that carries
    /// neither (a broken peer) counts as an error.
    pub fn outcome(&self) -> Result<&User, ErrorBody> {
        match (&self.error, &self.user) {
            (Some(error), _) => Err(error.clone()),
            (None, Some(user)) => Ok(user),
            (None, None) => Err(ErrorBody::new(
                ErrorCode::InvalidMessage,
                "the server acknowledged a request without a user or an error",
            )),
        }
    }
}

/// Everything a server sends in v1. Read with [`ServerMessage::decode`]
/// (see `tagged.rs` for why it is not derived; tests derive it to compare).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(Deserialize))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Snapshot {
        epoch: String,
        version: u64,
        users: Vec<User>,
    },
    Change(Change),
    Ack(Ack),
    Pong {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
    Presence {
        viewers: u64,
    },
    Error(ErrorBody),
}

/// Everything a client sends in v1. Read with [`ClientMessage::decode`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(Deserialize))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
    },
    Add {
        request_id: RequestId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        email: Option<String>,
    },
    Remove {
        request_id: RequestId,
        id: UserId,
    },
    Ping {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nonce: Option<u64>,
    },
}

/// The fields of the variants that are not their own types, read from
/// the whole frame (the `type` key is an unknown field to them).
mod bodies {
    use super::*;

    #[derive(Deserialize)]
    pub struct Snapshot {
        /// Read only so that a repeated `type` is refused (see
        /// `ServerMessage::fast_path`).
        #[serde(default, rename = "type")]
        pub _kind: Option<serde::de::IgnoredAny>,
        pub epoch: String,
        pub version: u64,
        pub users: Vec<User>,
    }

    #[derive(Deserialize)]
    pub struct Nonce {
        #[serde(default)]
        pub nonce: Option<u64>,
    }

    #[derive(Deserialize)]
    pub struct Presence {
        pub viewers: u64,
    }

    #[derive(Deserialize)]
    pub struct Hello {
        #[serde(default)]
        pub since: Option<u64>,
        #[serde(default)]
        pub epoch: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Add {
        pub request_id: RequestId,
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub email: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Remove {
        pub request_id: RequestId,
        pub id: UserId,
    }
}

impl Tagged for ServerMessage {
    const TYPES: &'static [&'static str] =
        &["snapshot", "change", "ack", "pong", "presence", "error"];

    fn decode_as(kind: &str, frame: &str) -> serde_json::Result<Self> {
        Ok(match kind {
            "snapshot" => {
                let bodies::Snapshot {
                    epoch,
                    version,
                    users,
                    ..
                } = body(frame)?;
                Self::Snapshot {
                    epoch,
                    version,
                    users,
                }
            }
            "change" => Self::Change(body(frame)?),
            "ack" => Self::Ack(body(frame)?),
            "pong" => Self::Pong {
                nonce: body::<bodies::Nonce>(frame)?.nonce,
            },
            "presence" => Self::Presence {
                viewers: body::<bodies::Presence>(frame)?.viewers,
            },
            _ => Self::Error(body(frame)?),
        })
    }

    /// A snapshot of 100,000 users is 7 MB: read it in one pass when it
    /// starts with its type. A second `type` key later on is refused by the
    /// body, so this never accepts what the full path would not.
    fn fast_path(frame: &str) -> Option<Self> {
        if !frame.starts_with(r#"{"type":"snapshot","#) {
            return None;
        }
        Self::decode_as("snapshot", frame).ok()
    }
}

impl Tagged for ClientMessage {
    const TYPES: &'static [&'static str] = &["hello", "add", "remove", "ping"];

    fn decode_as(kind: &str, frame: &str) -> serde_json::Result<Self> {
        Ok(match kind {
            "hello" => {
                let bodies::Hello { since, epoch } = body(frame)?;
                Self::Hello { since, epoch }
            }
            "add" => {
                let bodies::Add {
                    request_id,
                    name,
                    email,
                } = body(frame)?;
                Self::Add {
                    request_id,
                    name,
                    email,
                }
            }
            "remove" => {
                let bodies::Remove { request_id, id } = body(frame)?;
                Self::Remove { request_id, id }
            }
            _ => Self::Ping {
                nonce: body::<bodies::Nonce>(frame)?.nonce,
            },
        })
    }
}

/// A frame that could not be read as a message.
///
/// `request_id` is set when the frame named one, so the sender can answer
/// with an error ack that settles the request instead of a bare error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct FrameError {
    pub error: ErrorBody,
    pub request_id: Option<RequestId>,
}

impl FrameError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody::new(code, message),
            request_id: None,
        }
    }

    /// A binary frame, which v1 does not use.
    pub fn binary() -> Self {
        Self::new(
            ErrorCode::BinaryFrame,
            "binary frames are not part of roster.v1; send JSON text",
        )
    }
}

impl ClientMessage {
    /// Reads a client's text frame.
    pub fn decode(frame: &str) -> Result<Self, FrameError> {
        tagged::decode(frame)
    }

    pub fn to_frame(&self) -> String {
        to_json(self)
    }
}

impl ServerMessage {
    /// Reads a server's text frame.
    pub fn decode(frame: &str) -> Result<Self, FrameError> {
        tagged::decode(frame)
    }

    pub fn to_frame(&self) -> String {
        to_json(self)
    }
}

/// Serialising these types cannot fail: every map key is a string and no
/// `Serialize` impl here returns an error.
fn to_json<T: Serialize>(message: &T) -> String {
    serde_json::to_string(message).unwrap_or_else(|err| {
        format!(r#"{{"type":"error","code":"invalid_message","message":"cannot encode: {err}"}}"#)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::user;

    fn rid(id: &str) -> RequestId {
        RequestId::parse(id).unwrap()
    }

    #[test]
    fn server_messages_have_the_documented_shapes() {
        let cases = [
            (
                ServerMessage::Snapshot {
                    epoch: "e".into(),
                    version: 2,
                    users: vec![user(1)],
                },
                r#"{"type":"snapshot","epoch":"e","version":2,"users":[{"id":"1","name":"U1","email":"u1@roster.test"}]}"#,
            ),
            (
                ServerMessage::Change(Change {
                    version: 3,
                    op: ChangeOp::Removed,
                    user: user(1),
                }),
                r#"{"type":"change","version":3,"op":"removed","user":{"id":"1","name":"U1","email":"u1@roster.test"}}"#,
            ),
            (
                ServerMessage::Ack(Ack::failed(
                    rid("r"),
                    ErrorBody::new(ErrorCode::NotFound, "no user 9"),
                )),
                r#"{"type":"ack","request_id":"r","error":{"code":"not_found","message":"no user 9"}}"#,
            ),
            (
                ServerMessage::Pong { nonce: Some(4) },
                r#"{"type":"pong","nonce":4}"#,
            ),
            (
                ServerMessage::Presence { viewers: 5 },
                r#"{"type":"presence","viewers":5}"#,
            ),
            (
                ServerMessage::Error(ErrorBody::new(ErrorCode::UnknownType, "x")),
                r#"{"type":"error","code":"unknown_type","message":"x"}"#,
            ),
        ];
        for (message, json) in cases {
            assert_eq!(message.to_frame(), json);
            assert_eq!(ServerMessage::decode(json).unwrap(), message);
        }
    }

    #[test]
    fn a_successful_ack_carries_user_and_version() {
        let change = Change {
            version: 7,
            op: ChangeOp::Added,
            user: user(3),
        };
        let mut ack = Ack::done(rid("r-1"), &change);
        assert_eq!(ack.outcome(), Ok(&user(3)));
        ack.replayed = true;
        let json = ServerMessage::Ack(ack).to_frame();
        assert!(json.contains(r#""version":7"#) && json.contains(r#""replayed":true"#));
    }

    #[test]
    fn an_ack_with_neither_user_nor_error_is_an_error_that_says_so() {
        let ack = match ServerMessage::decode(r#"{"type":"ack","request_id":"r"}"#).unwrap() {
            ServerMessage::Ack(ack) => ack,
            other => panic!("{other:?}"),
        };
        let error = ack.outcome().unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidMessage);
        assert!(!error.message.is_empty());
    }

    #[test]
    fn client_messages_decode_with_optional_fields() {
        assert_eq!(
            ClientMessage::decode(r#"{"type":"hello"}"#).unwrap(),
            ClientMessage::Hello {
                since: None,
                epoch: None
            }
        );
        assert_eq!(
            ClientMessage::decode(r#"{"type":"add","request_id":"a","extra":1}"#).unwrap(),
            ClientMessage::Add {
                request_id: rid("a"),
                name: None,
                email: None
            }
        );
        assert_eq!(
            ClientMessage::decode(r#"{"type":"remove","request_id":"b","id":7}"#).unwrap(),
            ClientMessage::Remove {
                request_id: rid("b"),
                id: UserId::new("7")
            }
        );
        assert_eq!(
            ClientMessage::decode(r#"{"type":"ping"}"#).unwrap(),
            ClientMessage::Ping { nonce: None }
        );
    }

    #[test]
    fn each_kind_of_bad_frame_gets_its_own_code() {
        let cases = [
            ("not json", ErrorCode::MalformedJson),
            ("{\"type\":", ErrorCode::MalformedJson),
            ("[1,2]", ErrorCode::InvalidMessage),
            ("\"hello\"", ErrorCode::InvalidMessage),
            ("{}", ErrorCode::UnknownType),
            (r#"{"type":5}"#, ErrorCode::UnknownType),
            (r#"{"type":"dance"}"#, ErrorCode::UnknownType),
            (r#"{"type":"add"}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"add","request_id":""}"#,
                ErrorCode::InvalidMessage,
            ),
            (
                r#"{"type":"add","request_id":"r","name":5}"#,
                ErrorCode::InvalidMessage,
            ),
            (r#"{"type":"hello","since":-1}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"remove","request_id":"r","id":null}"#,
                ErrorCode::InvalidMessage,
            ),
        ];
        for (frame, code) in cases {
            let err = ClientMessage::decode(frame).unwrap_err();
            assert_eq!(err.error.code, code, "{frame}: {err}");
            assert!(!err.error.message.is_empty());
        }
    }

    #[test]
    fn a_bad_request_keeps_its_request_id_for_the_error_ack() {
        let err =
            ClientMessage::decode(r#"{"type":"add","request_id":"r9","email":[]}"#).unwrap_err();
        assert_eq!(err.request_id, Some(rid("r9")));
    }

    #[test]
    fn unknown_error_codes_survive_a_round_trip() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"brand_new","message":"m"}"#).unwrap();
        assert_eq!(body.code, ErrorCode::Other("brand_new".into()));
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":"brand_new","message":"m"}"#
        );
    }

    #[test]
    fn every_known_code_parses_back_to_itself() {
        for code in ErrorCode::KNOWN {
            assert_eq!(ErrorCode::parse(code.as_str()), code);
        }
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::fixtures::any_user;
    use proptest::prelude::*;

    fn any_request_id() -> impl Strategy<Value = RequestId> {
        "[a-zA-Z0-9-]{1,40}".prop_map(|id| RequestId::parse(&id).unwrap())
    }

    fn any_error() -> impl Strategy<Value = ErrorBody> {
        (0..ErrorCode::KNOWN.len(), "\\PC{0,30}")
            .prop_map(|(i, message)| ErrorBody::new(ErrorCode::KNOWN[i].clone(), message))
    }

    fn any_server_message() -> impl Strategy<Value = ServerMessage> {
        prop_oneof![
            (
                "[a-f0-9]{0,16}",
                any::<u64>(),
                proptest::collection::vec(any_user(), 0..8)
            )
                .prop_map(|(epoch, version, users)| ServerMessage::Snapshot {
                    epoch,
                    version,
                    users
                }),
            (any::<u64>(), any::<bool>(), any_user()).prop_map(|(version, added, user)| {
                let op = if added {
                    ChangeOp::Added
                } else {
                    ChangeOp::Removed
                };
                ServerMessage::Change(Change { version, op, user })
            }),
            (any_request_id(), any::<u64>(), any_user(), any::<bool>()).prop_map(
                |(id, version, user, replayed)| {
                    let mut ack = Ack::done(
                        id,
                        &Change {
                            version,
                            op: ChangeOp::Added,
                            user,
                        },
                    );
                    ack.replayed = replayed;
                    ServerMessage::Ack(ack)
                }
            ),
            (any_request_id(), any_error())
                .prop_map(|(id, error)| ServerMessage::Ack(Ack::failed(id, error))),
            proptest::option::of(any::<u64>()).prop_map(|nonce| ServerMessage::Pong { nonce }),
            any::<u64>().prop_map(|viewers| ServerMessage::Presence { viewers }),
            any_error().prop_map(ServerMessage::Error),
        ]
    }

    fn any_client_message() -> impl Strategy<Value = ClientMessage> {
        prop_oneof![
            (
                proptest::option::of(any::<u64>()),
                proptest::option::of("[a-f0-9]{1,16}")
            )
                .prop_map(|(since, epoch)| ClientMessage::Hello { since, epoch }),
            (
                any_request_id(),
                proptest::option::of("\\PC{0,70}"),
                proptest::option::of("\\PC{0,30}")
            )
                .prop_map(|(request_id, name, email)| ClientMessage::Add {
                    request_id,
                    name,
                    email
                }),
            (any_request_id(), prop_oneof!["[0-9]{1,6}", "\\PC{1,12}"]).prop_map(
                |(request_id, id)| ClientMessage::Remove {
                    request_id,
                    id: UserId::new(id)
                }
            ),
            proptest::option::of(any::<u64>()).prop_map(|nonce| ClientMessage::Ping { nonce }),
        ]
    }

    proptest! {
        #[test]
        fn server_messages_round_trip(message in any_server_message()) {
            prop_assert_eq!(ServerMessage::decode(&message.to_frame()).unwrap(), message);
        }

        #[test]
        fn client_messages_round_trip(message in any_client_message()) {
            prop_assert_eq!(ClientMessage::decode(&message.to_frame()).unwrap(), message);
        }

        #[test]
        fn numeric_and_string_ids_decode_alike(id in any::<u64>()) {
            let as_number = format!(r#"{{"type":"remove","request_id":"r","id":{id}}}"#);
            let as_string = format!(r#"{{"type":"remove","request_id":"r","id":"{id}"}}"#);
            prop_assert_eq!(
                ClientMessage::decode(&as_number).unwrap(),
                ClientMessage::decode(&as_string).unwrap()
            );
            let change = format!(r#"{{"type":"change","version":1,"op":"added","user":{{"id":{id},"name":"A","email":"a@b.c"}}}}"#);
            let ServerMessage::Change(change) = ServerMessage::decode(&change).unwrap() else {
                panic!("not a change");
            };
            prop_assert_eq!(change.user.id, UserId::from(id));
        }

        #[test]
        fn arbitrary_text_never_panics_and_errors_say_why(frame in "\\PC{0,200}") {
            if let Err(err) = ClientMessage::decode(&frame) {
                prop_assert!(!err.error.message.is_empty());
            }
            let _ = ServerMessage::decode(&frame);
        }
    }
}
