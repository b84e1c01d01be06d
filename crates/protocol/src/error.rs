//! The error vocabulary both sides share: a code for programs, a message
//! for people. v1's `error` frames and error acks carry it, and the
//! server's HTTP error bodies have the same shape.
//!
//! It sits below everything that reports errors ([`crate::validate`],
//! `tagged`, [`crate::v1`], [`crate::problem`]) and imports none of them.
//! (A frame that cannot be read is a [`crate::v1::FrameError`]: it names
//! the request, so it lives above the request id's type.)

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A machine-readable reason, sent in `error` frames, error acks and HTTP
/// error bodies. Unknown codes from a newer peer decode as
/// [`ErrorCode::Other`].
///
/// The names are derived from the variants (`snake_case`), in both
/// directions, so a variant cannot be added without its name, nor a name
/// renamed by reordering a table.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, strum::AsRefStr, strum::EnumString, strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
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
    /// No valid token was presented where one is needed: send `hello` (or
    /// the HTTP request) with one.
    Unauthorized,
    /// The token is valid but does not allow this (a write without
    /// `roster:write`).
    Forbidden,
    /// A list name outside the grammar (`roster_protocol::list_name`).
    InvalidList,
    /// No list has that name (a socket on it closes with 4404).
    NoSuchList,
    /// The server holds as many lists as it may (`--max-lists`), or has
    /// as many in memory as it may (`--max-loaded-lists`, with
    /// `retry_after_ms`).
    TooManyLists,
    /// The list `default` cannot be deleted.
    ListProtected,
    /// A code this version does not know, kept as it was sent.
    #[strum(default, transparent)]
    Other(String),
}

impl ErrorCode {
    /// Every code this version defines (all but [`ErrorCode::Other`]), in
    /// the order declared: for metrics labels, docs and tests.
    pub fn known() -> impl Iterator<Item = ErrorCode> {
        <Self as strum::IntoEnumIterator>::iter().filter(|code| !matches!(code, Self::Other(_)))
    }

    pub fn as_str(&self) -> &str {
        self.as_ref()
    }

    pub fn parse(code: &str) -> Self {
        match code.parse() {
            Ok(code) => code,
            // Unreachable: the `default` variant takes every other name.
            Err(_) => Self::Other(code.to_owned()),
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        for code in ErrorCode::known() {
            assert_eq!(ErrorCode::parse(code.as_str()), code);
        }
    }

    #[test]
    fn the_known_codes_are_the_documented_names() {
        let names: Vec<String> = ErrorCode::known().map(|code| code.to_string()).collect();
        assert_eq!(
            names,
            [
                "malformed_json",
                "invalid_message",
                "unknown_type",
                "binary_frame",
                "frame_too_large",
                "invalid_name",
                "invalid_email",
                "invalid_request_id",
                "not_found",
                "idempotency_key_reused",
                "rate_limited",
                "storage_failed",
                "store_unavailable",
                "shutting_down",
                "unauthorized",
                "forbidden",
                "invalid_list",
                "no_such_list",
                "too_many_lists",
                "list_protected",
            ]
        );
    }
}
