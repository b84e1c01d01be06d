//! What a verified token says: its subject, its expiry, and its scopes.

use serde::Deserialize;

use super::rights::Rights;
use super::Refusal;

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
    /// What the token's scopes allow ([`Rights`]); a token with no Roster
    /// scope at all is refused here, before any list is looked at.
    pub fn rights(&self) -> Result<Rights, Refusal> {
        let rights = Rights::parse(self.scope.as_deref().unwrap_or_default())?;
        if rights.is_empty() {
            return Err(Refusal::NoReadScope);
        }
        Ok(rights)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Level;

    fn with_scope(scope: Option<&str>) -> Claims {
        Claims {
            sub: "ada".into(),
            exp: 0,
            scope: scope.map(str::to_owned),
        }
    }

    #[test]
    fn write_implies_read_and_other_scopes_grant_nothing() {
        let default = roster_protocol::ListName::default_list();
        let level = |scope| with_scope(Some(scope)).rights().unwrap().level_on(&default);
        assert_eq!(level("roster:write"), Some(Level::Write));
        assert_eq!(level("roster:read roster:write"), Some(Level::Write));
        assert_eq!(level("openid  roster:read"), Some(Level::Read));
        for refused in [None, Some(""), Some("roster:readx"), Some("admin roster")] {
            assert_eq!(
                with_scope(refused).rights(),
                Err(Refusal::NoReadScope),
                "{refused:?}"
            );
        }
    }
}
