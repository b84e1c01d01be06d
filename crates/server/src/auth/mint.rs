//! Minting HS256 tokens, for `roster-server token` and for tests: what a
//! dashboard backend does in a few lines of its own language.

use std::time::Duration;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Serialize;

/// What a minted token says.
pub struct Mint<'a> {
    pub sub: &'a str,
    /// Space-separated scopes, e.g. `roster:read roster:write`.
    pub scope: &'a str,
    pub ttl: Duration,
    pub audience: &'a str,
    pub issuer: Option<&'a str>,
}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    scope: &'a str,
    aud: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    iat: u64,
    exp: u64,
}

/// A token for `mint`, signed with `secret` (HS256).
pub fn mint_hs256(secret: &[u8], mint: &Mint) -> Result<String, String> {
    let iat = super::now_seconds();
    let claims = Claims {
        sub: mint.sub,
        scope: mint.scope,
        aud: mint.audience,
        iss: mint.issuer,
        iat,
        exp: iat.saturating_add(mint.ttl.as_secs()),
    };
    let key = EncodingKey::from_secret(secret).map_err(|err| err.to_string())?;
    encode(&Header::new(Algorithm::HS256), &claims, &key).map_err(|err| err.to_string())
}
