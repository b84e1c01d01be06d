//! Where the engine stands between events, and what each phase has due
//! next. The rules that move between phases are the engine's (its module
//! docs); this is the state they move, and what follows from it alone.

use super::config::EngineConfig;
use super::events::Millis;
use super::heartbeat::Heartbeat;
use super::outbox::Outbox;
use crate::connection::{ConnectionState, Protocol};

/// Where the engine stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Before `Event::Start`.
    Idle,
    /// Waiting for the page's token before opening.
    Authorizing {
        offer_v1: bool,
        deadline: Millis,
    },
    Opening {
        offer_v1: bool,
        deadline: Millis,
    },
    Open(Link),
    /// Waiting to try again.
    Waiting {
        retry_at: Millis,
    },
    /// The browser has no network.
    Offline,
    /// The page is hidden in the back/forward cache.
    Suspended,
    /// Closed by the user or refused by the server: nothing happens until
    /// `Event::Retry`.
    Closed,
}

/// One open socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Link {
    pub protocol: Protocol,
    pub opened_at: Millis,
    /// Counted as a healthy connection (the attempt counter was reset).
    pub healthy: bool,
    /// Used with v1 servers only.
    pub heartbeat: Heartbeat,
}

impl Phase {
    /// The state a person is shown; `attempt` is the failed tries so far
    /// (a first try shows as connecting, later ones as reconnecting).
    pub(super) fn state(&self, attempt: u32) -> ConnectionState {
        match self {
            Self::Idle | Self::Suspended => ConnectionState::Connecting,
            Self::Authorizing { .. } | Self::Opening { .. } if attempt == 0 => {
                ConnectionState::Connecting
            }
            Self::Authorizing { .. } | Self::Opening { .. } | Self::Waiting { .. } => {
                ConnectionState::Reconnecting
            }
            Self::Open(_) => ConnectionState::Connected,
            Self::Offline => ConnectionState::Offline,
            Self::Closed => ConnectionState::Closed,
        }
    }

    /// When this phase next has something due: a connect timeout, a
    /// retry, or on an open socket its healthy mark, heartbeat or an add
    /// held back by the server. (The outbox's own expiries are the
    /// engine's to add.)
    pub(super) fn next_deadline(&self, config: &EngineConfig, outbox: &Outbox) -> Option<Millis> {
        match self {
            Self::Authorizing { deadline, .. } | Self::Opening { deadline, .. } => Some(*deadline),
            Self::Waiting { retry_at } => Some(*retry_at),
            Self::Open(link) => {
                let healthy =
                    (!link.healthy).then(|| link.opened_at.saturating_add(config.healthy_after_ms));
                let (heartbeat, release) = match link.protocol {
                    Protocol::V1 => (Some(link.heartbeat.next_deadline()), outbox.next_release()),
                    Protocol::Seed => (None, None),
                };
                [healthy, heartbeat, release].into_iter().flatten().min()
            }
            Self::Idle | Self::Offline | Self::Suspended | Self::Closed => None,
        }
    }
}
