//! What a verified token says: its subject, its expiry, and its scopes.

use serde::Deserialize;

use super::Refusal;

/// A token's scope that sees the list.
pub const READ_SCOPE: &str = "roster:read";
/// A token's scope that adds and removes (and sees).
pub const WRITE_SCOPE: &str = "roster:write";

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Read,
    Write,
}

/// The claims Roster reads. `aud` and `iss` are checked by the verifier;
/// `exp` and `sub` must be there with their types (a string `exp` is
/// refused, not read as a number).
#[derive(Debug, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    /// Space-separated, as OAuth writes it: `roster:read roster:write`.
    #[serde(default)]
    pub scope: Option<String>,
}

impl Claims {
    /// What the token's scopes allow: `roster:write` implies reading.
    pub fn level(&self) -> Result<Level, Refusal> {
        let scopes = self.scope.as_deref().unwrap_or_default();
        let has = |wanted| scopes.split_ascii_whitespace().any(|scope| scope == wanted);
        if has(WRITE_SCOPE) {
            Ok(Level::Write)
        } else if has(READ_SCOPE) {
            Ok(Level::Read)
        } else {
            Err(Refusal::NoReadScope)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_scope(scope: Option<&str>) -> Claims {
        Claims {
            sub: "ada".into(),
            exp: 0,
            scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn write_implies_read_and_other_scopes_grant_nothing() {
        assert_eq!(with_scope(Some("roster:write")).level(), Ok(Level::Write));
        assert_eq!(
            with_scope(Some("roster:read roster:write")).level(),
            Ok(Level::Write)
        );
        assert_eq!(
            with_scope(Some("openid  roster:read")).level(),
            Ok(Level::Read)
        );
        for refused in [None, Some(""), Some("roster:readx"), Some("admin roster")] {
            assert_eq!(
                with_scope(refused).level(),
                Err(Refusal::NoReadScope),
                "{refused:?}"
            );
        }
    }
}
