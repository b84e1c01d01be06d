//! The keys tokens are checked with, and the checking.
//!
//! Each algorithm has exactly one kind of key, so no token can choose how
//! it is checked: HS256 only with the configured secret; RS256, ES256 and
//! EdDSA only with the JWKS key its `kid` names, and only with the
//! algorithm that key is for. `none` and everything else are refused
//! before any key is looked at. (Algorithm confusion, such as an HS256
//! token whose "secret" is an RSA public key, has no key to be checked
//! with.)

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};

use super::claims::Claims;
use super::{AuthConfig, Denied, Refusal};

/// The algorithms accepted, each with its kind of key.
const ACCEPTED: [Algorithm; 4] = [
    Algorithm::HS256,
    Algorithm::RS256,
    Algorithm::ES256,
    Algorithm::EdDSA,
];

/// The least time between two fetches of a JWKS for a key it lacks, so a
/// flood of tokens naming made-up keys cannot make the server flood the
/// key server.
const REFETCH_EVERY: Duration = Duration::from_secs(30);

/// Clock skew allowed on `exp` and `nbf`, in seconds.
const LEEWAY_S: u64 = 5;

/// The shortest HS256 secret accepted (256 bits).
const MIN_SECRET_BYTES: usize = 32;

pub struct KeySet {
    hs256: Option<DecodingKey>,
    jwks: Option<Jwks>,
    audience: String,
    issuer: Option<String>,
}

impl KeySet {
    /// The keys `config` names, or `None` when it names none.
    pub async fn open(config: &AuthConfig) -> Result<Option<Self>, String> {
        let hs256 = match &config.auth_hs256_secret_file {
            Some(path) => Some(hs256_key(&read_secret(path)?)?),
            None => None,
        };
        let jwks = match &config.auth_jwks {
            Some(source) => Some(Jwks::open(source).await?),
            None => None,
        };
        if hs256.is_none() && jwks.is_none() {
            return Ok(None);
        }
        Ok(Some(Self {
            hs256,
            jwks,
            audience: config.auth_audience.clone(),
            issuer: config.auth_issuer.clone(),
        }))
    }

    /// The claims of `token` once its signature, algorithm, expiry,
    /// audience and issuer are checked.
    pub async fn verify(&self, token: &str) -> Result<Claims, Denied> {
        let (alg, kid) = header(token)?;
        let (key, alg) = match alg {
            Algorithm::HS256 => {
                let key = self.hs256.as_ref().ok_or(Denied::new(Refusal::Algorithm))?;
                (Arc::new(key.clone()), alg)
            }
            _ => {
                let jwks = self.jwks.as_ref().ok_or(Denied::new(Refusal::Algorithm))?;
                jwks.key_for(kid.as_deref(), alg).await?
            }
        };
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_S;
        validation.validate_nbf = true;
        validation.set_audience(&[&self.audience]);
        let mut required = vec!["exp", "sub", "aud"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|err| denied(token, err.kind()))
    }
}

/// The refusal for a token `decode` failed on, with its subject when the
/// signature held (the claims were checked after it).
fn denied(token: &str, kind: &ErrorKind) -> Denied {
    let refusal = match kind {
        ErrorKind::InvalidSignature => Refusal::BadSignature,
        ErrorKind::ExpiredSignature => Refusal::Expired,
        ErrorKind::ImmatureSignature => Refusal::NotYetValid,
        ErrorKind::InvalidAudience => Refusal::Audience,
        ErrorKind::InvalidIssuer => Refusal::Issuer,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm => Refusal::Algorithm,
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::InvalidSubject
        | ErrorKind::Json(_) => Refusal::Claims,
        _ => Refusal::Malformed,
    };
    let signed = matches!(
        refusal,
        Refusal::Expired | Refusal::NotYetValid | Refusal::Audience | Refusal::Issuer
    );
    let sub = signed
        .then(|| jsonwebtoken::dangerous::insecure_decode_claims::<serde_json::Value>(token).ok())
        .flatten()
        .and_then(|claims| claims.get("sub")?.as_str().map(str::to_owned));
    Denied { refusal, sub }
}

/// The token's algorithm, if accepted, and key id, read from its header
/// before anything else: `alg: none` and the like go no further.
fn header(token: &str) -> Result<(Algorithm, Option<String>), Denied> {
    let malformed = || Denied::new(Refusal::Malformed);
    let encoded = token.split('.').next().ok_or_else(malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| malformed())?;
    let header: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
    let alg = header
        .get("alg")
        .and_then(|alg| alg.as_str())
        .ok_or_else(malformed)?;
    let alg = ACCEPTED
        .into_iter()
        .find(|accepted| format!("{accepted:?}") == alg)
        .ok_or(Denied::new(Refusal::Algorithm))?;
    if token.split('.').count() != 3 {
        return Err(malformed());
    }
    let kid = header
        .get("kid")
        .and_then(|kid| kid.as_str())
        .map(str::to_owned);
    Ok((alg, kid))
}

fn read_secret(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path)
        .map_err(|err| format!("cannot read the HS256 secret {}: {err}", path.display()))?;
    let secret = bytes.trim_ascii().to_vec();
    if secret.len() < MIN_SECRET_BYTES {
        return Err(format!(
            "the HS256 secret in {} has {} bytes; use at least {MIN_SECRET_BYTES} \
             (e.g. `head -c 48 /dev/urandom | base64 > {}`)",
            path.display(),
            secret.len(),
            path.display()
        ));
    }
    Ok(secret)
}

fn hs256_key(secret: &[u8]) -> Result<DecodingKey, String> {
    DecodingKey::from_secret(secret)
        .map_err(|err| format!("the HS256 secret cannot be used: {err}"))
}

/// Public keys from a JWKS file or URL, by `kid`.
struct Jwks {
    source: String,
    keys: RwLock<HashMap<String, (Arc<DecodingKey>, Algorithm)>>,
    /// When the set was last fetched; one fetch at a time.
    fetched: tokio::sync::Mutex<Instant>,
    client: reqwest::Client,
}

impl Jwks {
    async fn open(source: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|err| err.to_string())?;
        let jwks = Self {
            source: source.to_owned(),
            keys: RwLock::default(),
            // The first key it lacks may be fetched at once; the limit is
            // between fetches for keys it lacks.
            fetched: tokio::sync::Mutex::new(
                Instant::now()
                    .checked_sub(REFETCH_EVERY)
                    .unwrap_or_else(Instant::now),
            ),
            client,
        };
        let keys = jwks.fetch().await?;
        if keys.is_empty() {
            return Err(format!(
                "the JWKS at {source} has no key Roster can use (RS256, ES256 or EdDSA, with a kid)"
            ));
        }
        tracing::info!(source, keys = keys.len(), "JWKS loaded");
        *jwks.keys.write().unwrap_or_else(|p| p.into_inner()) = keys;
        Ok(jwks)
    }

    /// The key `kid` names, for `alg` only; fetched again (at most every
    /// [`REFETCH_EVERY`]) when the set does not have it.
    async fn key_for(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<(Arc<DecodingKey>, Algorithm), Denied> {
        let kid = kid.ok_or(Denied::new(Refusal::UnknownKey))?;
        if let Some(found) = self.lookup(kid, alg)? {
            return Ok(found);
        }
        let mut fetched = self.fetched.lock().await;
        // Another connection may have fetched it while this one waited.
        if let Some(found) = self.lookup(kid, alg)? {
            return Ok(found);
        }
        if fetched.elapsed() < REFETCH_EVERY {
            return Err(Denied::new(Refusal::UnknownKey));
        }
        *fetched = Instant::now();
        match self.fetch().await {
            Ok(keys) => *self.keys.write().unwrap_or_else(|p| p.into_inner()) = keys,
            Err(err) => {
                tracing::warn!(source = %self.source, %err, "JWKS could not be fetched again")
            }
        }
        self.lookup(kid, alg)?
            .ok_or(Denied::new(Refusal::UnknownKey))
    }

    fn lookup(
        &self,
        kid: &str,
        alg: Algorithm,
    ) -> Result<Option<(Arc<DecodingKey>, Algorithm)>, Denied> {
        let keys = self.keys.read().unwrap_or_else(|p| p.into_inner());
        match keys.get(kid) {
            Some((key, key_alg)) if *key_alg == alg => Ok(Some((Arc::clone(key), alg))),
            // The key is for another algorithm than the token claims.
            Some(_) => Err(Denied::new(Refusal::Algorithm)),
            None => Ok(None),
        }
    }

    /// Reads the set from its file or URL: every key with a `kid` whose
    /// algorithm Roster accepts.
    async fn fetch(&self) -> Result<HashMap<String, (Arc<DecodingKey>, Algorithm)>, String> {
        let text = if self.source.starts_with("http://") || self.source.starts_with("https://") {
            let answer = self
                .client
                .get(&self.source)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|err| format!("cannot fetch the JWKS at {}: {err}", self.source))?;
            answer.text().await.map_err(|err| err.to_string())?
        } else {
            std::fs::read_to_string(&self.source)
                .map_err(|err| format!("cannot read the JWKS {}: {err}", self.source))?
        };
        let set: JwkSet = serde_json::from_str(&text)
            .map_err(|err| format!("the JWKS at {} is not a JWK set: {err}", self.source))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let Some(kid) = jwk.common.key_id.clone() else {
                continue;
            };
            let alg = match jwk.common.key_algorithm {
                Some(named) => Algorithm::try_from(named).ok(),
                None => match &jwk.algorithm {
                    AlgorithmParameters::RSA(_) => Some(Algorithm::RS256),
                    AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
                        Some(Algorithm::ES256)
                    }
                    AlgorithmParameters::OctetKeyPair(_) => Some(Algorithm::EdDSA),
                    _ => None,
                },
            };
            let Some(alg) = alg.filter(|alg| *alg != Algorithm::HS256 && ACCEPTED.contains(alg))
            else {
                continue;
            };
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.insert(kid, (Arc::new(key), alg));
            }
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_part(json: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn only_the_four_algorithms_pass_the_header() {
        for (alg, accepted) in [
            ("HS256", true),
            ("RS256", true),
            ("ES256", true),
            ("EdDSA", true),
            ("none", false),
            ("HS512", false),
            ("PS256", false),
        ] {
            let token = format!("{}.e30.sig", encode_part(&format!(r#"{{"alg":"{alg}"}}"#)));
            assert_eq!(header(&token).is_ok(), accepted, "{alg}");
            if !accepted {
                assert_eq!(header(&token).unwrap_err().refusal, Refusal::Algorithm);
            }
        }
        for malformed in [
            "",
            "abc",
            "!!!.e30.x",
            &format!("{}.e30", encode_part(r#"{"alg":"HS256"}"#)),
        ] {
            assert_eq!(
                header(malformed).unwrap_err().refusal,
                Refusal::Malformed,
                "{malformed}"
            );
        }
    }
}
