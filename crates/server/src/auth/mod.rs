//! Who may see and change the list.
//!
//! A client presents a signed token (a JWT): in `hello` on the socket,
//! in `Authorization: Bearer` over HTTP. [`Auth::verify`] checks it with
//! the keys configured (`keys`: an HS256 secret, public keys from a JWKS)
//! and turns its claims (`claims`) into a [`Grant`]: whose it is, whether
//! it may write, and until when. A client without a token gets what
//! `--anonymous` says ([`Anonymous`]).
//!
//! Every refusal has a [`Refusal`] reason: it labels
//! `roster_auth_failures_total{reason}`, is logged once (with the token's
//! `sub` when it has one, never the token), and decides the answer: close
//! code 4401 or 4403 on a socket, 401 or 403 over HTTP.

mod claims;
mod keys;
mod mint;
mod rights;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use roster_protocol::auth::{Scope, Session, MAX_TOKEN_BYTES};
use roster_protocol::{close_code, ListName, ListPattern};

pub use keys::KeySet;
pub use mint::{mint_hs256, Mint};
pub use rights::{Level, Rights, MAX_SCOPES};

/// What a client without a token may do (`--anonymous`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Anonymous {
    /// Nothing: a token is needed to see the list.
    None,
    /// See the list.
    Read,
    /// See, add and remove.
    Write,
}

/// What a connection or request may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The token's subject; `None` without a token.
    pub sub: Option<String>,
    /// Which lists, at which level.
    pub rights: Rights,
    /// When the token expires (seconds since the Unix epoch); `None`
    /// without a token.
    pub expires_at: Option<u64>,
}

impl Grant {
    /// The highest level this grant has on `list`, if any.
    pub fn level_on(&self, list: &ListName) -> Option<Level> {
        self.rights.level_on(list)
    }

    /// Whether this grant reaches `list` at `need` or higher.
    pub fn allows(&self, list: &ListName, need: Level) -> bool {
        self.level_on(list).is_some_and(|level| level >= need)
    }

    /// The `session` message for this grant on a socket of `list`.
    pub fn session(&self, list: &ListName) -> Session {
        let scope = match self.level_on(list) {
            None => vec![],
            Some(Level::Read) => vec![Scope::Read],
            Some(Level::Write) => vec![Scope::Read, Scope::Write],
            Some(Level::Admin) => vec![Scope::Read, Scope::Write, Scope::Admin],
        };
        Session {
            sub: self.sub.clone(),
            scope,
            expires_at: self.expires_at.map(|seconds| seconds.saturating_mul(1_000)),
            server_time: self.expires_at.map(|_| unix_millis()),
        }
    }
}

/// The server's clock, in milliseconds since the Unix epoch.
fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

/// Why a client was refused. The names are stable: they label the
/// failures metric and appear in logs.
#[derive(
    Clone, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter, strum::EnumMessage,
)]
#[strum(serialize_all = "snake_case")]
pub enum Refusal {
    #[strum(message = "no token was presented and this server does not serve clients without one")]
    Missing,
    #[strum(message = "the token is larger than 8192 bytes")]
    TooLarge,
    #[strum(message = "the token is not a JWT")]
    Malformed,
    #[strum(message = "the token's algorithm is not one this server accepts")]
    Algorithm,
    #[strum(message = "the token names a key this server does not have")]
    UnknownKey,
    #[strum(message = "the token's signature does not match")]
    BadSignature,
    #[strum(message = "the token has expired")]
    Expired,
    #[strum(message = "the token is not valid yet")]
    NotYetValid,
    #[strum(message = "the token is for another audience")]
    Audience,
    #[strum(message = "the token is from another issuer")]
    Issuer,
    #[strum(message = "the token's claims are missing or of the wrong type (exp, sub, aud)")]
    Claims,
    #[strum(
        message = "the token does not allow reading this list (roster:read or roster:read:<list>)"
    )]
    NoReadScope,
    #[strum(message = "the token has more than 32 scopes")]
    TooManyScopes,
    #[strum(message = "the token has a roster: scope whose list pattern is not valid")]
    BadScope,
    #[strum(message = "a refreshed token must be for the same subject")]
    OtherSubject,
    #[strum(message = "the page's origin may not open a Roster socket")]
    Origin,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// What went wrong, in words: logs, close frames and HTTP bodies.
    pub fn words(&self) -> &'static str {
        strum::EnumMessage::get_message(self).unwrap_or(self.reason())
    }

    /// The reason's stable name.
    pub fn reason(&self) -> &'static str {
        self.into()
    }

    /// The close code a socket gets: 4403 "do not retry" when a new token
    /// cannot help, 4401 "get a new token" otherwise.
    pub fn close_code(&self) -> u16 {
        match self {
            Self::NoReadScope | Self::Origin | Self::TooManyScopes | Self::BadScope => {
                close_code::FORBIDDEN
            }
            _ => close_code::UNAUTHORIZED,
        }
    }
}

/// The access settings, from flags or the environment (see `Config`).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct AuthConfig {
    /// A file holding the shared secret for HS256 tokens (at least 32
    /// bytes; surrounding whitespace is trimmed), for a dashboard backend
    /// that signs its widgets' tokens.
    #[arg(long, env = "ROSTER_AUTH_HS256_SECRET_FILE", global = true)]
    pub auth_hs256_secret_file: Option<PathBuf>,

    /// Public keys (RS256, ES256, EdDSA) from a JWKS file or an
    /// `http(s)://` URL; a token names its key by `kid`. Cached, fetched
    /// again (at most every 30 s) when a token names a key not in it.
    #[arg(long, env = "ROSTER_AUTH_JWKS", global = true)]
    pub auth_jwks: Option<String>,

    /// The audience (`aud`) a token must name.
    #[arg(
        long,
        env = "ROSTER_AUTH_AUDIENCE",
        default_value = "roster",
        global = true
    )]
    pub auth_audience: String,

    /// The issuer (`iss`) a token must name, when set.
    #[arg(long, env = "ROSTER_AUTH_ISSUER", global = true)]
    pub auth_issuer: Option<String>,

    /// What a client without a token may do: `none`, `read` or `write`.
    /// Default: `none` when a key is configured; `write` on a loopback
    /// address without one; elsewhere it must be said.
    #[arg(long, env = "ROSTER_ANONYMOUS", value_enum)]
    pub anonymous: Option<Anonymous>,

    /// Lists besides `default` that `--anonymous` applies to: a name, or a
    /// prefix ending in `*` (`demo-*`; `*` for every list). Repeat the
    /// flag, or comma-separate in the environment.
    #[arg(
        long = "anonymous-lists",
        env = "ROSTER_ANONYMOUS_LISTS",
        value_delimiter = ','
    )]
    pub anonymous_lists: Vec<ListPattern>,

    /// How long a socket may stay open past its token's expiry without a
    /// fresh token (`auth`), in milliseconds; at most 30,000. Then it is
    /// closed with 4401.
    #[arg(long, env = "ROSTER_AUTH_GRACE_MS", default_value_t = 30_000)]
    pub auth_grace_ms: u64,
}

/// The access rules the server starts with.
pub struct Auth {
    keys: Option<KeySet>,
    anonymous: Anonymous,
    /// The lists `anonymous` applies to besides `default`.
    anonymous_lists: Vec<ListPattern>,
    grace: Duration,
}

/// Why the server cannot start with the access settings given.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Keys(String),
    #[error(
        "refusing to serve {addr} to anyone without a token: either configure a key \
         (--auth-hs256-secret-file or --auth-jwks) or say what clients without one may do \
         (--anonymous none|read|write)"
    )]
    OpenToAll { addr: SocketAddr },
    #[error("--auth-grace-ms may be at most 30000, not {0}")]
    Grace(u64),
}

/// The longest grace a socket gets past its token's expiry.
const MAX_GRACE_MS: u64 = 30_000;

impl Auth {
    /// The rules `config` describes for a server on `addr`; reads the key
    /// files (and fetches a JWKS URL) once.
    pub async fn open(config: &AuthConfig, addr: SocketAddr) -> Result<Self, SetupError> {
        if config.auth_grace_ms > MAX_GRACE_MS {
            return Err(SetupError::Grace(config.auth_grace_ms));
        }
        let keys = KeySet::open(config).await.map_err(SetupError::Keys)?;
        let anonymous = anonymous_rule(config.anonymous, keys.is_some(), addr)?;
        if keys.is_none() && anonymous != Anonymous::Write {
            tracing::warn!(?anonymous, "no key configured: every client is anonymous");
        }
        Ok(Self {
            keys,
            anonymous,
            anonymous_lists: config.anonymous_lists.clone(),
            grace: Duration::from_millis(config.auth_grace_ms),
        })
    }

    /// Every client may do everything: the quick start's rules, and
    /// tests'.
    pub fn open_to_all() -> Self {
        Self {
            keys: None,
            anonymous: Anonymous::Write,
            anonymous_lists: vec![ListPattern::StartsWith(String::new())],
            grace: Duration::from_millis(MAX_GRACE_MS),
        }
    }

    /// The grant of a client without a token, if it gets one: `default`,
    /// and the lists of `--anonymous-lists`, at the `--anonymous` level.
    /// Never `admin`.
    pub fn anonymous_grant(&self) -> Option<Grant> {
        let level = match self.anonymous {
            Anonymous::None => return None,
            Anonymous::Read => Level::Read,
            Anonymous::Write => Level::Write,
        };
        let lists = std::iter::once(ListPattern::Exactly(ListName::default_list()))
            .chain(self.anonymous_lists.iter().cloned());
        Some(Grant {
            sub: None,
            rights: Rights::on(level, lists),
            expires_at: None,
        })
    }

    /// Whether a client without a token reaches `list` at `need`.
    pub fn anonymous_may(&self, list: &ListName, need: Level) -> bool {
        self.anonymous_grant()
            .is_some_and(|grant| grant.allows(list, need))
    }

    /// How long a socket may outlive its token.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// What `token` (or no token) allows; the refusal and the token's
    /// `sub` (when it could be read) otherwise.
    pub async fn verify(&self, token: Option<&str>) -> Result<Grant, Denied> {
        let Some(token) = token else {
            return self.anonymous_grant().ok_or(Denied::new(Refusal::Missing));
        };
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Denied::new(Refusal::TooLarge));
        }
        let Some(keys) = &self.keys else {
            // A token where none can be checked is not trusted with more
            // than no token gets.
            return self
                .anonymous_grant()
                .ok_or(Denied::new(Refusal::UnknownKey));
        };
        let claims = keys.verify(token).await?;
        let rights = claims.rights().map_err(|refusal| Denied {
            refusal,
            sub: Some(claims.sub.clone()),
        })?;
        Ok(Grant {
            sub: Some(claims.sub),
            rights,
            expires_at: Some(claims.exp),
        })
    }
}

/// A refusal, with the subject of the token refused when it was readable
/// (for the log line; never the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub refusal: Refusal,
    pub sub: Option<String>,
}

impl Denied {
    pub fn new(refusal: Refusal) -> Self {
        Self { refusal, sub: None }
    }
}

/// What a client without a token may do: as said, or by default `none`
/// with a key, `write` on a loopback address without one, and otherwise
/// nothing until the operator says.
pub fn anonymous_rule(
    given: Option<Anonymous>,
    has_key: bool,
    addr: SocketAddr,
) -> Result<Anonymous, SetupError> {
    match given {
        Some(rule) => Ok(rule),
        None if has_key => Ok(Anonymous::None),
        None if addr.ip().is_loopback() => Ok(Anonymous::Write),
        None => Err(SetupError::OpenToAll { addr }),
    }
}

/// Seconds since the Unix epoch, now.
fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_a_key_loopback_is_open_and_any_other_address_must_be_told() {
        let local = addr("127.0.0.1:8080");
        let public = addr("0.0.0.0:8080");
        assert_eq!(
            anonymous_rule(None, false, local).unwrap(),
            Anonymous::Write
        );
        assert_eq!(
            anonymous_rule(None, false, addr("[::1]:80")).unwrap(),
            Anonymous::Write
        );
        let refused = anonymous_rule(None, false, public).unwrap_err().to_string();
        assert!(
            refused.contains("--auth-hs256-secret-file")
                && refused.contains("--auth-jwks")
                && refused.contains("--anonymous"),
            "names both ways out: {refused}"
        );
        assert_eq!(
            anonymous_rule(Some(Anonymous::Read), false, public).unwrap(),
            Anonymous::Read
        );
    }

    #[test]
    fn with_a_key_nobody_is_anonymous_unless_told() {
        let public = addr("0.0.0.0:8080");
        assert_eq!(anonymous_rule(None, true, public).unwrap(), Anonymous::None);
        assert_eq!(
            anonymous_rule(Some(Anonymous::Read), true, public).unwrap(),
            Anonymous::Read
        );
    }

    #[test]
    fn refusals_close_with_4403_only_when_a_new_token_cannot_help() {
        use strum::IntoEnumIterator;
        for refusal in Refusal::iter() {
            let forbidden = matches!(
                refusal,
                Refusal::NoReadScope | Refusal::Origin | Refusal::TooManyScopes | Refusal::BadScope
            );
            let code = if forbidden { 4403 } else { 4401 };
            assert_eq!(refusal.close_code(), code, "{refusal:?}");
            assert!(!refusal.reason().is_empty());
            assert!(
                refusal.words().len() <= 123,
                "fits a close frame: {refusal:?}"
            );
        }
    }

    #[test]
    fn a_grant_becomes_the_session_the_client_is_told() {
        let grant = Grant {
            sub: Some("ada".into()),
            rights: Rights::parse("roster:read roster:admin:team-*").unwrap(),
            expires_at: Some(1_700_000_000),
        };
        let default = ListName::default_list();
        let session = grant.session(&default);
        assert_eq!(session.scope, [Scope::Read]);
        assert_eq!(session.expires_at, Some(1_700_000_000_000));
        assert!(!grant.allows(&default, Level::Write));
        let team = ListName::parse("team-a").unwrap();
        assert_eq!(
            grant.session(&team).scope,
            [Scope::Read, Scope::Write, Scope::Admin]
        );
    }

    #[test]
    fn anonymous_rights_cover_default_and_the_named_patterns_never_admin() {
        let config = AuthConfig {
            anonymous: Some(Anonymous::Read),
            anonymous_lists: vec![ListPattern::parse("demo-*").unwrap()],
            ..AuthConfig::default()
        };
        let auth = tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(Auth::open(&config, addr("127.0.0.1:1")))
            .unwrap();
        let list = |name| ListName::parse(name).unwrap();
        assert!(auth.anonymous_may(&list("default"), Level::Read));
        assert!(auth.anonymous_may(&list("demo-1"), Level::Read));
        assert!(!auth.anonymous_may(&list("demo-1"), Level::Write));
        assert!(!auth.anonymous_may(&list("team-a"), Level::Read));
        let open = Auth::open_to_all();
        assert!(open.anonymous_may(&list("team-a"), Level::Write));
        assert!(!open.anonymous_may(&list("team-a"), Level::Admin));
    }
}
