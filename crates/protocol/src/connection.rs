//! The connection states the client shows.
//!
//! Their names are a stable interface: the client renders them as the
//! `data-state` attribute of its `connection-status` element, which tests
//! and embedding pages select on.

use crate::auth::Access;
use crate::problem::Problem;

/// Where the client's connection to the server stands. Its names
/// (`snake_case` of the variants) are derived, as is the list of all states.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum ConnectionState {
    /// Opening the first socket.
    #[default]
    Connecting,
    /// A socket is open and the list is live.
    Connected,
    /// The socket was lost; a new one is being tried.
    Reconnecting,
    /// The browser reports no network; waiting for it to come back.
    Offline,
    /// Stopped for good: the server refused the client, the address is
    /// unusable, or the user disconnected. Nothing is retried on its own.
    Closed,
}

impl ConnectionState {
    /// Every state, in the order above.
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The machine-readable name, used as `data-state`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Connecting => "Connecting…",
            Self::Connected => "Live",
            Self::Reconnecting => "Reconnecting…",
            Self::Offline => "Offline",
            Self::Closed => "Disconnected",
        }
    }
}

/// Which protocol a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Roster protocol v1 (subprotocol `roster.v1`): acks, versions, pings.
    V1,
    /// The seed protocol of the Dart Frog servers: whole lists, no acks.
    Seed,
}

impl Protocol {
    /// The name shown to people and in `data-protocol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => crate::v1::SUBPROTOCOL,
            Self::Seed => "seed",
        }
    }
}

/// Everything the client shows about its connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionStatus {
    pub state: ConnectionState,
    /// Failed tries since the last healthy connection: the number of the
    /// try being made or waited for while `reconnecting`.
    pub attempt: u32,
    /// When the next try starts (milliseconds since the Unix epoch), while
    /// waiting between tries.
    pub next_retry_at: Option<u64>,
    /// The most recent problem: why the last connection ended, or a bad
    /// frame on the current one. Its `Display` is for a person to read, its
    /// [`Problem::kind`] for programs. Cleared when a new connection opens.
    pub last_error: Option<Problem>,
    /// The last round-trip time measured by ping and pong (v1 only).
    pub rtt_ms: Option<u64>,
    /// The protocol of the current connection, or of the last one.
    pub protocol: Option<Protocol>,
    /// What the server lets this page do, from its last `session`.
    pub access: Access,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_are_the_documented_data_state_values() {
        let names: Vec<_> = ConnectionState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "connecting",
                "connected",
                "reconnecting",
                "offline",
                "closed"
            ]
        );
    }

    #[test]
    fn every_state_has_a_distinct_label() {
        let labels: std::collections::HashSet<_> =
            ConnectionState::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(labels.len(), ConnectionState::ALL.len());
    }
}
