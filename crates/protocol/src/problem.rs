//! What went wrong, as the connection's status carries it.
//!
//! A [`Problem`] is typed so that a page can tell a refused connection from
//! a bad frame or a full outbox (and choose its words, its urgency and what
//! to offer) without reading English. Its `Display` is the sentence the
//! page shows; [`Problem::kind`] is a stable name for programs and CSS.

use std::fmt;

use crate::error::ErrorBody;
use crate::seed::DecodeError;
use crate::v1::FrameError;

/// How a socket closed: its code and the server's reason, if it gave one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl fmt::Display for Close {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.reason.as_str() {
            "" => write!(f, "code {}", self.code),
            reason => write!(f, "code {}: {reason}", self.code),
        }
    }
}

/// One problem the client met, most recent first in the status.
///
/// Its kinds are the variants' names in `snake_case`, derived, so no table
/// can fall out of step with the variants.
#[derive(
    Clone, Debug, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr, strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum Problem {
    /// The socket failed before it opened.
    #[error("could not connect to {url}")]
    CannotConnect { url: String },
    /// The socket did not open in time.
    #[error("{url} did not answer within {timeout_ms} ms")]
    ConnectTimeout { url: String, timeout_ms: u64 },
    /// An open connection ended; the client tries again.
    #[error("the server closed the connection ({close})")]
    ConnectionLost { close: Close },
    /// The server closed with 1008, 4401 or 4403: it will not serve this
    /// client, so nothing is retried until the user asks.
    #[error("the server refused this client ({close}); press retry to try again")]
    Refused { close: Close },
    /// The server has no list of this name (4404): nothing is retried
    /// until the user asks (once someone has created it).
    #[error("No list named {list}")]
    NoSuchList { list: String },
    /// The list was deleted while it was open (4410): nothing is retried.
    #[error("This list was deleted")]
    ListDeleted { list: String },
    /// A server that has spoken v1 answered without it while adds were
    /// waiting: they need v1's request ids, so the client tries again.
    #[error(
        "the server answered without roster.v1; adds are waiting for it, so Roster tries again"
    )]
    V1Expected,
    /// No frame arrived within the pong timeout of a ping.
    #[error("the server stopped answering (nothing within {timeout_ms} ms of a ping)")]
    StoppedAnswering { timeout_ms: u64 },
    /// A binary frame, which neither protocol uses.
    #[error("{}", DecodeError::Binary)]
    BinaryFrame,
    /// A v1 frame that is not a valid message; the list is kept as it was.
    #[error("the server sent a frame Roster cannot read: {0}")]
    UnreadableFrame(FrameError),
    /// A seed frame that is not a list of users; the list is kept.
    #[error("{0}")]
    UnreadableList(DecodeError),
    /// A `rate_limited` ack: the add waits and is sent again.
    #[error("the server asked to slow down; sending again in {wait_ms} ms")]
    SlowedDown { wait_ms: u64 },
    /// An add or remove the server refused, with its reason.
    #[error("the server refused a request: {}", .0.message)]
    RequestRefused(ErrorBody),
    /// An `error` frame that answered no request.
    #[error("the server reported: {}", .0.message)]
    ServerReported(ErrorBody),
    /// An add made while the outbox was full; it was not queued.
    #[error("{max} adds are already waiting to be sent; this one was not queued")]
    OutboxFull { max: usize },
    /// Adds that found no connection within the outbox's time to live.
    #[error(
        "{count} {} waited more than {ttl_ms} ms for a connection and {} dropped",
        if *count == 1 { "add" } else { "adds" },
        if *count == 1 { "was" } else { "were" }
    )]
    AddsExpired { count: usize, ttl_ms: u64 },
    /// The server's address cannot be used at all.
    #[error("{reason}")]
    Unusable { reason: String },
    /// Settings that were given but not valid (and were replaced by their
    /// defaults); shown whenever there is no other problem.
    #[error("{}", .0.join("; "))]
    Settings(Vec<String>),
    /// A `store_unavailable` ack: the server cannot save right now; the add
    /// waits and is sent again under the same request id.
    #[error(
        "the server cannot save changes right now; your add is kept and sent again in {wait_ms} ms"
    )]
    StoreUnavailable { wait_ms: u64 },
    /// The page could not give a token when the connection needed one
    /// (its `getToken` failed, gave nothing, or did not answer in time).
    /// Nothing is retried until the user or the page asks.
    #[error("could not get a token to connect with: {reason}; press retry to try again")]
    NoToken { reason: String },
}

impl Problem {
    /// Every [`Problem::kind`], in the order declared, for documentation
    /// and tests.
    pub const KINDS: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;

    /// A heading in plain words for the error view.
    pub fn title(&self) -> &'static str {
        match self {
            Self::CannotConnect { .. }
            | Self::ConnectTimeout { .. }
            | Self::ConnectionLost { .. }
            | Self::V1Expected
            | Self::StoppedAnswering { .. } => "Connection lost",
            Self::Refused { .. } => "The server refused this page",
            Self::NoSuchList { .. } => "No such list",
            Self::ListDeleted { .. } => "List deleted",
            Self::BinaryFrame | Self::UnreadableFrame(_) | Self::UnreadableList(_) => {
                "The server sent something Roster cannot read"
            }
            Self::SlowedDown { .. } => "Adding more slowly",
            Self::StoreUnavailable { .. } => "The server cannot save right now",
            Self::RequestRefused(_) => "An add was refused",
            Self::ServerReported(_) => "The server reported a problem",
            Self::OutboxFull { .. } => "Too many adds waiting",
            Self::AddsExpired { .. } => "Adds were dropped",
            Self::Unusable { .. } => "No server to connect to",
            Self::Settings(_) => "Some settings were ignored",
            Self::NoToken { .. } => "Not signed in",
        }
    }

    /// Whether the error view shows it. Losing the connection is not an
    /// alert: the status shows the retries, and an alert on every dropped
    /// connection would be noise. Being slowed down is only information.
    pub fn is_alert(&self) -> bool {
        !matches!(
            self,
            Self::CannotConnect { .. }
                | Self::ConnectTimeout { .. }
                | Self::ConnectionLost { .. }
                | Self::V1Expected
                | Self::StoppedAnswering { .. }
                | Self::SlowedDown { .. }
        )
    }

    /// A stable, machine-readable name for the kind of problem.
    pub fn kind(&self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn close(code: u16, reason: &str) -> Close {
        Close {
            code,
            reason: reason.into(),
        }
    }

    #[test]
    fn each_problem_reads_as_a_sentence_and_has_its_own_kind() {
        let refused = ErrorBody::new(
            ErrorCode::InvalidName,
            "a name may have at most 64 characters",
        );
        let cases = [
            (
                Problem::CannotConnect { url: "ws://h/".into() },
                "could not connect to ws://h/",
                "cannot_connect",
            ),
            (
                Problem::ConnectTimeout {
                    url: "ws://h/".into(),
                    timeout_ms: 10,
                },
                "ws://h/ did not answer within 10 ms",
                "connect_timeout",
            ),
            (
                Problem::ConnectionLost {
                    close: close(1006, ""),
                },
                "the server closed the connection (code 1006)",
                "connection_lost",
            ),
            (
                Problem::Refused {
                    close: close(4403, "go away"),
                },
                "the server refused this client (code 4403: go away); press retry to try again",
                "refused",
            ),
            (
                Problem::NoSuchList {
                    list: "team-a".into(),
                },
                "No list named team-a",
                "no_such_list",
            ),
            (
                Problem::ListDeleted {
                    list: "team-a".into(),
                },
                "This list was deleted",
                "list_deleted",
            ),
            (
                Problem::V1Expected,
                "the server answered without roster.v1; adds are waiting for it, so Roster tries again",
                "v1_expected",
            ),
            (
                Problem::StoppedAnswering { timeout_ms: 5 },
                "the server stopped answering (nothing within 5 ms of a ping)",
                "stopped_answering",
            ),
            (
                Problem::BinaryFrame,
                "the server sent a binary frame; Roster expects text",
                "binary_frame",
            ),
            (
                Problem::UnreadableFrame(FrameError::binary()),
                "the server sent a frame Roster cannot read: binary frames are not part of roster.v1; send JSON text (binary_frame)",
                "unreadable_frame",
            ),
            (
                Problem::UnreadableList(DecodeError::DuplicateId("7".into())),
                "the server sent a list in which user 7 appears twice",
                "unreadable_list",
            ),
            (
                Problem::SlowedDown { wait_ms: 250 },
                "the server asked to slow down; sending again in 250 ms",
                "slowed_down",
            ),
            (
                Problem::RequestRefused(refused.clone()),
                "the server refused a request: a name may have at most 64 characters",
                "request_refused",
            ),
            (
                Problem::ServerReported(refused),
                "the server reported: a name may have at most 64 characters",
                "server_reported",
            ),
            (
                Problem::OutboxFull { max: 3 },
                "3 adds are already waiting to be sent; this one was not queued",
                "outbox_full",
            ),
            (
                Problem::AddsExpired {
                    count: 1,
                    ttl_ms: 9,
                },
                "1 add waited more than 9 ms for a connection and was dropped",
                "adds_expired",
            ),
            (
                Problem::Unusable {
                    reason: "no host".into(),
                },
                "no host",
                "unusable",
            ),
            (
                Problem::Settings(vec!["a".into(), "b".into()]),
                "a; b",
                "settings",
            ),
            (
                Problem::StoreUnavailable { wait_ms: 2000 },
                "the server cannot save changes right now; your add is kept and sent again in 2000 ms",
                "store_unavailable",
            ),
            (
                Problem::NoToken {
                    reason: "getToken failed: offline".into(),
                },
                "could not get a token to connect with: getToken failed: offline; press retry to try again",
                "no_token",
            ),
        ];
        let kinds: Vec<_> = cases.iter().map(|(_, _, kind)| *kind).collect();
        assert_eq!(Problem::KINDS, kinds, "the documented kinds, in order");
        for (index, (problem, words, kind)) in cases.iter().enumerate() {
            assert_eq!(problem.to_string(), *words);
            assert_eq!(problem.kind(), *kind);
            assert_eq!(problem.kind(), Problem::KINDS[index]);
            assert!(!problem.title().is_empty());
        }
        let alerts: Vec<_> = cases
            .iter()
            .filter(|(problem, _, _)| problem.is_alert())
            .map(|(problem, _, _)| problem.kind())
            .collect();
        assert_eq!(
            alerts,
            [
                "refused",
                "no_such_list",
                "list_deleted",
                "binary_frame",
                "unreadable_frame",
                "unreadable_list",
                "request_refused",
                "server_reported",
                "outbox_full",
                "adds_expired",
                "unusable",
                "settings",
                "store_unavailable",
                "no_token"
            ]
        );
        let expired = Problem::AddsExpired {
            count: 2,
            ttl_ms: 9,
        };
        assert_eq!(
            expired.to_string(),
            "2 adds waited more than 9 ms for a connection and were dropped"
        );
    }
}
