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
//! | `hello` | `{"type":"hello"}`, `{"type":"hello","token":"eyJ…"}` or `{"type":"hello","since":41,"epoch":"9f2c…","token":"eyJ…"}` | a `session`; then the missed `change`s when the server still has them (and they are few enough to beat a snapshot; Roster's server: 1000), else a `snapshot`; then `presence` |
//! | `auth` | `{"type":"auth","token":"eyJ…"}` (a fresh token for the same subject) | a new `session` |
//! | `add` | `{"type":"add","request_id":"r-1","name":"Ada","email":"ada@example.com"}` (`name`, `email` optional; the server generates what is missing) | `ack` with the new user; a retried `request_id` gets the original ack, never a second user |
//! | `remove` | `{"type":"remove","request_id":"r-2","id":"7"}` | `ack` with the removed user, or an error ack `not_found` |
//! | `ping` | `{"type":"ping","nonce":3}` (`nonce` optional) | `pong` echoing the nonce |
//!
//! A client sends `hello` first: the server sends no list and no changes
//! until it has. Requests before `hello` are served only where the server
//! lets clients without a token write.
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
//! | `session` | `{"type":"session","sub":"ada","scope":["read","write"],"expires_at":1767225600000}` (`sub` and `expires_at` are `null` without a token) |
//!
//! # Access
//! A token (see [`crate::auth`]) travels in `hello`, never in the URL, and
//! is replaced on a live connection with `auth` before it expires. The
//! server closes with **4401** when there is no valid token where one is
//! needed (missing, bad, expired, or expired on the live connection past
//! its grace): get a new one and connect again. It closes with **4403**
//! when it refuses the client outright (a page of a foreign origin, a token
//! without `roster:read`): do not retry. A write the session may not make
//! gets an error ack `forbidden` (`unauthorized` before any `hello`), and
//! the connection stays open.
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

use serde::{Deserialize, Deserializer, Serialize};

use crate::auth::{Session, Token};
pub use crate::error::{ErrorBody, ErrorCode};
pub use crate::tagged::FrameError;
use crate::tagged::{self, body, Tagged};
use crate::user::{User, UserId};
use crate::validate::RequestId;

/// The WebSocket subprotocol name a client offers to speak v1.
pub const SUBPROTOCOL: &str = "roster.v1";

/// The `hello` of a client with no list yet and no token: what Roster's
/// page sends from its first script, before its module has loaded
/// (`index.html`, adopted by the client's `socket/early.rs`).
pub const FRESH_HELLO: &str = r#"{"type":"hello"}"#;

/// Whether a change added or removed its user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, strum::VariantNames)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ChangeOp {
    Added,
    Removed,
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
                    _ => Err(E::unknown_variant(
                        name,
                        <ChangeOp as strum::VariantNames>::VARIANTS,
                    )),
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
///
/// Its `type` names are the variants' (`snake_case`), for serde and for
/// the decoder alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, strum::VariantNames)]
#[cfg_attr(test, derive(Deserialize))]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// What the connection may do, after an accepted `hello` or `auth`.
    Session(Session),
}

/// Everything a client sends in v1. Read with [`ClientMessage::decode`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, strum::VariantNames)]
#[cfg_attr(test, derive(Deserialize))]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ClientMessage {
    Hello {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch: Option<String>,
        /// Who is asking (see [`crate::auth`]); without one, the server's
        /// rules for anonymous clients apply.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<Token>,
    },
    /// Replaces the connection's token with a fresh one (for the same
    /// subject) before the old one expires.
    Auth {
        token: Token,
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
        #[serde(default)]
        pub token: Option<Token>,
    }

    #[derive(Deserialize)]
    pub struct Auth {
        pub token: Token,
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
    const TYPES: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

    fn decode_as(kind: &str, frame: &str) -> Option<serde_json::Result<Self>> {
        Some(match kind {
            "snapshot" => body(frame).map(
                |bodies::Snapshot {
                     epoch,
                     version,
                     users,
                     ..
                 }| Self::Snapshot {
                    epoch,
                    version,
                    users,
                },
            ),
            "change" => body(frame).map(Self::Change),
            "ack" => body(frame).map(Self::Ack),
            "pong" => body(frame).map(|bodies::Nonce { nonce }| Self::Pong { nonce }),
            "presence" => {
                body(frame).map(|bodies::Presence { viewers }| Self::Presence { viewers })
            }
            "error" => body(frame).map(Self::Error),
            "session" => body(frame).map(Self::Session),
            _ => return None,
        })
    }

    /// A snapshot of 100,000 users is 7 MB: read it in one pass when it
    /// starts with its type. A second `type` key later on is refused by the
    /// body, so this never accepts what the full path would not.
    fn fast_path(frame: &str) -> Option<Self> {
        if !frame.starts_with(r#"{"type":"snapshot","#) {
            return None;
        }
        Self::decode_as("snapshot", frame)?.ok()
    }
}

impl Tagged for ClientMessage {
    const TYPES: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

    fn decode_as(kind: &str, frame: &str) -> Option<serde_json::Result<Self>> {
        Some(match kind {
            "hello" => body(frame).map(
                |bodies::Hello {
                     since,
                     epoch,
                     token,
                 }| Self::Hello {
                    since,
                    epoch,
                    token,
                },
            ),
            "auth" => body(frame).map(|bodies::Auth { token }| Self::Auth { token }),
            "add" => body(frame).map(
                |bodies::Add {
                     request_id,
                     name,
                     email,
                 }| Self::Add {
                    request_id,
                    name,
                    email,
                },
            ),
            "remove" => {
                body(frame).map(|bodies::Remove { request_id, id }| Self::Remove { request_id, id })
            }
            "ping" => body(frame).map(|bodies::Nonce { nonce }| Self::Ping { nonce }),
            _ => return None,
        })
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
mod tests;
