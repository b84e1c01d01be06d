//! Who may see and change the list, as both sides speak of it: the bearer
//! token a client presents, and the session the server grants for it.
//!
//! The token is whatever the server verifies (Roster's server: a JWT).
//! Neither side ever prints one: [`Token`]'s `Debug` shows its length only,
//! so a token cannot reach a log through a `{:?}` of a message.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest token either side accepts, in bytes. A JWT with a few
/// claims is a few hundred; a larger one is refused before it is read.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// A bearer token, as the client presents it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<{} bytes>)", self.0.len())
    }
}

/// One thing a session may do. `write` (add and remove) implies `read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// See the list.
    Read,
    /// Add and remove users.
    Write,
    /// Create and delete the list.
    Admin,
    /// A scope a newer server grants that this version does not know.
    #[serde(other)]
    Unknown,
}

/// What a server granted a connection: whose it is, what it may do and
/// until when. Sent as `session` after an accepted `hello`, and again
/// after each accepted `auth`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The token's subject; `None` for a connection without a token.
    #[serde(default)]
    pub sub: Option<String>,
    pub scope: Vec<Scope>,
    /// When the token expires, in milliseconds since the Unix epoch;
    /// `None` when it does not (no token).
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// The server's clock as it sent this, in milliseconds since the Unix
    /// epoch: the token's lifetime is `expires_at` minus this, whatever
    /// the client's own clock says or does later (a laptop waking, NTP
    /// stepping). Older servers leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<u64>,
}

impl Session {
    /// How long the token has left: by the server's clock alone, or, from
    /// an older server that does not say its time, by the client's `now`
    /// (milliseconds since the Unix epoch); `None` when it does not expire.
    pub fn lifetime(&self, now: u64) -> Option<u64> {
        Some(
            self.expires_at?
                .saturating_sub(self.server_time.unwrap_or(now)),
        )
    }

    /// Whether this session may add and remove.
    pub fn can_write(&self) -> bool {
        self.scope.contains(&Scope::Write)
    }
}

/// What the client lets a person do, as far as it knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Access {
    /// Add and remove (the default: seed servers and servers that grant
    /// every client writing say nothing else).
    #[default]
    Write,
    /// See the list only.
    Read,
}

impl Access {
    /// What `session` allows.
    pub fn of(session: &Session) -> Self {
        if session.can_write() {
            Self::Write
        } else {
            Self::Read
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_shows_in_debug_output() {
        let token = Token::new("eyJhbGciOiJIUzI1NiJ9.secret.signature");
        let shown = format!("{token:?} {:?}", Some(&token));
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("37 bytes"), "{shown}");
    }

    #[test]
    fn sessions_read_as_the_server_writes_them_and_unknown_scopes_are_kept_apart() {
        let session: Session = serde_json::from_str(
            r#"{"sub":"ada","scope":["read","write","admin","own"],"expires_at":1700000000000}"#,
        )
        .unwrap();
        assert_eq!(
            session.scope,
            [Scope::Read, Scope::Write, Scope::Admin, Scope::Unknown]
        );
        assert_eq!(Access::of(&session), Access::Write);
        let anonymous: Session = serde_json::from_str(r#"{"scope":["read"]}"#).unwrap();
        assert_eq!((anonymous.sub, anonymous.expires_at), (None, None));
        assert_eq!(
            Access::of(&Session {
                sub: None,
                scope: vec![Scope::Read],
                expires_at: None,
                server_time: None,
            }),
            Access::Read
        );
    }
}
