//! Signed tokens for the access tests, made with the fixture keys in
//! `tests/fixtures/keys/` (see its README), and a server that checks them.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use roster_server::auth::Anonymous;
use roster_server::Config;
use serde_json::{json, Value};

/// A fixture key file.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name)
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims for `sub` with `scope`, for the default audience, valid for
/// `ttl_s` seconds.
pub fn claims(sub: &str, scope: &str, ttl_s: u64) -> Value {
    json!({ "sub": sub, "scope": scope, "aud": "roster", "exp": now() + ttl_s })
}

/// The shared secret, as the server reads it.
pub fn secret() -> Vec<u8> {
    std::fs::read(fixture("hs256.secret"))
        .unwrap()
        .trim_ascii()
        .to_vec()
}

/// `claims` signed with the fixture HS256 secret.
pub fn hs256(claims: &Value) -> String {
    sign_with(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(&secret()).unwrap(),
    )
}

/// A token that can read and write, for `sub`, for ten minutes.
pub fn writer(sub: &str) -> String {
    hs256(&claims(sub, "roster:read roster:write", 600))
}

/// A token that can only read, for `sub`, for ten minutes.
pub fn reader(sub: &str) -> String {
    hs256(&claims(sub, "roster:read", 600))
}

/// `claims` signed with the private key in `pem` for `alg`, naming `kid`.
pub fn signed(alg: Algorithm, kid: &str, pem: &str, claims: &Value) -> String {
    let pem = std::fs::read(fixture(pem)).unwrap();
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
        other => panic!("no fixture key for {other:?}"),
    }
    .unwrap();
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    sign_with(&header, claims, &key)
}

pub fn sign_with(header: &Header, claims: &Value, key: &EncodingKey) -> String {
    encode(header, claims, key).unwrap()
}

/// A server with both kinds of key: the HS256 secret and the JWKS, and
/// nothing for clients without a token.
pub fn guarded() -> Config {
    let mut config = Config::default();
    config.auth.auth_hs256_secret_file = Some(fixture("hs256.secret"));
    config.auth.auth_jwks = Some(fixture("jwks.json").to_str().unwrap().to_owned());
    config.auth.anonymous = Some(Anonymous::None);
    config
}
