//! Who may see and change the list: every kind of bad token refused with
//! 4401 (socket) or 401 (HTTP) before anything of the list is sent; read
//! and write scopes; refreshes on a live socket; expiry; foreign origins;
//! the anonymous rules; CORS.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use roster_protocol::auth::{Scope, Session};
use roster_protocol::close_code;
use roster_protocol::v1::{ErrorCode, ServerMessage};
use roster_server::auth::Anonymous;
use roster_server::Config;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use crate::clients::{connect_v1_from, SeedClient, V1Client};
use crate::helpers::{rid, TestApp};
use crate::tokens::{claims, fixture, guarded, hs256, now, reader, sign_with, signed, writer};

/// What a socket gets after `hello` with `token`: its session, or the
/// close it ended with (and nothing else before it).
async fn hello(
    app: &TestApp,
    token: Option<&str>,
) -> Result<(V1Client, Session), Option<CloseFrame>> {
    let mut client = app.connect_v1().await;
    client.hello_with(token).await;
    match client.next_or_close().await? {
        ServerMessage::Session(session) => Ok((client, session)),
        other => panic!("expected a session or a close first, got {other:?}"),
    }
}

/// The close code a refused `hello` ended with.
async fn refused_with(app: &TestApp, token: Option<&str>) -> u16 {
    match hello(app, token).await {
        Ok((_, session)) => panic!("accepted: {session:?}"),
        Err(close) => close.expect("a close frame").code.into(),
    }
}

/// `GET /api/v1/users` with `token`.
async fn list(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url("/api/v1/users"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// The error code of a JSON error answer.
async fn code_of(answer: reqwest::Response) -> String {
    let body: Value = answer.json().await.unwrap();
    body["code"].as_str().unwrap().to_owned()
}

/// An unsigned token (`alg: none`).
fn unsigned(claims: &Value) -> String {
    use base64::Engine as _;
    let part =
        |json: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string());
    format!(
        "{}.{}.",
        part(&json!({"alg": "none", "typ": "JWT"})),
        part(claims)
    )
}

#[tokio::test]
async fn every_bad_token_is_refused_with_4401_and_401_and_nothing_of_the_list_is_sent() {
    let mut config = guarded();
    config.auth.auth_issuer = Some("https://id.example".into());
    let app = TestApp::spawn_with(config).await;
    let good = |mut claims: Value| {
        claims["iss"] = json!("https://id.example");
        claims
    };
    let valid = good(claims("ada", "roster:read roster:write", 600));
    // The good one first, so a refusal below is about the token alone.
    let (_, session) = hello(&app, Some(&hs256(&valid))).await.unwrap();
    assert_eq!(session.sub.as_deref(), Some("ada"));

    let rsa_public = std::fs::read(fixture("rsa.pub.pem")).unwrap();
    let mut confused = Header::new(Algorithm::HS256);
    confused.kid = Some("rsa-1".into());
    let other_secret = EncodingKey::from_secret(b"not-the-server-secret-but-long-enough").unwrap();
    let mut expired = valid.clone();
    expired["exp"] = json!(now() - 3_600);
    let mut early = valid.clone();
    early["nbf"] = json!(now() + 3_600);
    let mut audience = valid.clone();
    audience["aud"] = json!("someone-else");
    let mut issuer = valid.clone();
    issuer["iss"] = json!("https://evil.example");
    let mut text_exp = valid.clone();
    text_exp["exp"] = json!((now() + 600).to_string());
    let mut no_sub = valid.clone();
    no_sub.as_object_mut().unwrap().remove("sub");
    let mut huge = valid.clone();
    huge["padding"] = json!("x".repeat(9_000));
    let cases = [
        ("signed with none", unsigned(&valid)),
        (
            "wrong HS256 secret",
            sign_with(&Header::new(Algorithm::HS256), &valid, &other_secret),
        ),
        (
            "wrong RSA key",
            signed(Algorithm::RS256, "rsa-1", "other-rsa.pem", &valid),
        ),
        (
            "HS256 keyed with the RSA public key",
            sign_with(
                &confused,
                &valid,
                &EncodingKey::from_secret(&rsa_public).unwrap(),
            ),
        ),
        (
            "a key the server lacks",
            signed(Algorithm::RS256, "rsa-9", "rsa.pem", &valid),
        ),
        ("expired", hs256(&expired)),
        ("not yet valid", hs256(&early)),
        ("wrong audience", hs256(&audience)),
        ("wrong issuer", hs256(&issuer)),
        ("exp as a string", hs256(&text_exp)),
        ("no sub", hs256(&no_sub)),
        ("huge", hs256(&huge)),
        ("not a JWT", "hello".to_owned()),
    ];
    for (what, token) in &cases {
        assert_eq!(
            refused_with(&app, Some(token)).await,
            close_code::UNAUTHORIZED,
            "{what}"
        );
        let answer = list(&app, Some(token)).await;
        assert_eq!(answer.status(), 401, "{what}");
        assert!(
            answer.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"),
            "{what}"
        );
        assert_eq!(code_of(answer).await, "unauthorized", "{what}");
    }
    let metrics = app.get_text("/metrics").await;
    for reason in [
        "algorithm",
        "bad_signature",
        "unknown_key",
        "expired",
        "not_yet_valid",
        "audience",
        "issuer",
        "claims",
        "too_large",
        "malformed",
    ] {
        let line = format!("roster_auth_failures_total{{reason=\"{reason}\"}} ");
        let count: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("no {line} in /metrics"))
            .parse()
            .unwrap();
        assert!(count >= 2, "{reason}: {count}");
    }
}

#[tokio::test]
async fn the_three_kinds_of_public_key_are_found_by_kid_and_only_for_their_algorithm() {
    let app = TestApp::spawn_with(guarded()).await;
    let valid = claims("grace", "roster:read", 600);
    for (alg, kid, pem) in [
        (Algorithm::RS256, "rsa-1", "rsa.pem"),
        (Algorithm::ES256, "ec-1", "ec.pem"),
        (Algorithm::EdDSA, "ed-1", "ed25519.pem"),
    ] {
        let (_, session) = hello(&app, Some(&signed(alg, kid, pem, &valid)))
            .await
            .unwrap();
        assert_eq!(session.sub.as_deref(), Some("grace"), "{alg:?}");
        assert_eq!(
            list(&app, Some(&signed(alg, kid, pem, &valid)))
                .await
                .status(),
            200
        );
    }
    // The EC key's kid on an RSA-signed token: refused, never tried.
    let mismatched = signed(Algorithm::RS256, "ec-1", "rsa.pem", &valid);
    assert_eq!(
        refused_with(&app, Some(&mismatched)).await,
        close_code::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_reader_lists_and_cannot_write_a_writer_adds_and_removes() {
    let app = TestApp::spawn_with(guarded()).await;
    let (mut writing, session) = hello(&app, Some(&writer("ada"))).await.unwrap();
    assert_eq!(session.scope, [Scope::Read, Scope::Write]);
    assert!(session.expires_at.unwrap() > now() * 1_000);
    writing.next_snapshot().await;
    writing.add("w-1").await;
    let added = writing.next_ack().await.user.expect("added");

    let (mut reading, session) = hello(&app, Some(&reader("bob"))).await.unwrap();
    assert_eq!(session.scope, [Scope::Read]);
    let (_, users) = reading.next_snapshot().await;
    assert_eq!(users, std::slice::from_ref(&added));
    reading.add("r-1").await;
    let refused = reading.next_ack().await;
    assert_eq!(refused.error.unwrap().code, ErrorCode::Forbidden);
    // The socket stays: it still reads.
    writing.add("w-2").await;
    assert_eq!(reading.next_change().await.version, 2);

    writing
        .send(&roster_protocol::v1::ClientMessage::Remove {
            request_id: rid("w-3"),
            id: added.id.clone(),
        })
        .await;
    assert!(writing.next_ack().await.error.is_none());

    // The same over HTTP.
    let http = reqwest::Client::new();
    let post = |token: String| {
        http.post(app.url("/api/v1/users"))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
    };
    let answer = post(reader("bob")).await.unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(code_of(answer).await, "forbidden");
    let answer = post(writer("ada")).await.unwrap();
    assert_eq!(answer.status(), 201);
    let user: Value = answer.json().await.unwrap();
    let url = app.url(&format!("/api/v1/users/{}", user["id"].as_str().unwrap()));
    let status = |method: reqwest::Method, token: String| {
        let request = http.request(method, &url).bearer_auth(token);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(reqwest::Method::GET, reader("bob")).await, 200);
    assert_eq!(status(reqwest::Method::DELETE, reader("bob")).await, 403);
    assert_eq!(status(reqwest::Method::DELETE, writer("ada")).await, 200);
}

#[tokio::test]
async fn a_token_that_cannot_read_gets_4403_and_403() {
    let app = TestApp::spawn_with(guarded()).await;
    let blind = hs256(&claims("eve", "openid profile", 600));
    assert_eq!(
        refused_with(&app, Some(&blind)).await,
        close_code::FORBIDDEN
    );
    let answer = list(&app, Some(&blind)).await;
    assert_eq!(answer.status(), 403);
    assert_eq!(code_of(answer).await, "forbidden");
}

#[tokio::test]
async fn where_a_token_is_needed_nothing_is_served_without_one() {
    let app = TestApp::spawn_with(guarded()).await;
    app_add(&app).await;
    assert_eq!(refused_with(&app, None).await, close_code::UNAUTHORIZED);
    // A request before hello is refused, and no list comes with it.
    let mut early = app.connect_v1().await;
    early.add("before-hello").await;
    match early.next().await {
        ServerMessage::Ack(ack) => assert_eq!(ack.error.unwrap().code, ErrorCode::Unauthorized),
        other => panic!("expected an error ack, got {other:?}"),
    }
    let answer = list(&app, None).await;
    assert_eq!(answer.status(), 401);
    assert_eq!(
        answer.headers()["www-authenticate"],
        "Bearer realm=\"roster\""
    );
    // Seed clients cannot carry a token: refused before the upgrade.
    let seed = tokio_tungstenite::connect_async(app.ws_url()).await;
    match seed {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
            assert_eq!(answer.status(), 401)
        }
        other => panic!(
            "expected 401, got {:?}",
            other.map(|(_, answer)| answer.status())
        ),
    }
    assert_eq!(
        app.users_with(&writer("ada")).await.len(),
        1,
        "nothing changed"
    );
}

/// Adds one user with a writer's token.
async fn app_add(app: &TestApp) {
    let answer = reqwest::Client::new()
        .post(app.url("/api/v1/users"))
        .bearer_auth(writer("setup"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 201);
}

#[tokio::test]
async fn clients_without_a_token_read_only_where_the_rule_says_read() {
    let mut config = guarded();
    config.auth.anonymous = Some(Anonymous::Read);
    let app = TestApp::spawn_with(config).await;
    app_add(&app).await;
    let (mut anonymous, session) = hello(&app, None).await.unwrap();
    assert_eq!(
        (session.sub, session.scope, session.expires_at),
        (None, vec![Scope::Read], None)
    );
    assert_eq!(anonymous.next_snapshot().await.1.len(), 1);
    anonymous.add("anon").await;
    assert_eq!(
        anonymous.next_ack().await.error.unwrap().code,
        ErrorCode::Forbidden
    );
    assert_eq!(list(&app, None).await.status(), 200);
    let post = reqwest::Client::new()
        .post(app.url("/api/v1/users"))
        .json(&json!({}))
        .send();
    assert_eq!(post.await.unwrap().status(), 401, "a token could allow it");
    // Seed clients see the list; their writes are dropped.
    let mut seed = SeedClient::connect(&app.ws_url()).await;
    assert_eq!(seed.next_list().await.len(), 1);
    seed.send_text("__addUser__").await;
    app_add(&app).await;
    assert_eq!(seed.next_list().await.len(), 2, "only the writer's add");
}

#[tokio::test]
async fn a_fresh_token_replaces_the_session_for_the_same_subject_only() {
    let app = TestApp::spawn_with(guarded()).await;
    let (mut client, first) = hello(&app, Some(&reader("ada"))).await.unwrap();
    client.next_snapshot().await;
    client.auth(&writer("ada")).await;
    let renewed = client.next_session().await;
    assert_eq!(
        renewed.scope,
        [Scope::Read, Scope::Write],
        "the new token's scope"
    );
    assert!(renewed.expires_at >= first.expires_at);
    client.add("after-refresh").await;
    assert!(client.next_ack().await.error.is_none());
    // Another subject's token cannot take the session over.
    client.auth(&writer("mallory")).await;
    assert_eq!(client.next_error().await.code, ErrorCode::Forbidden);
    // Refreshes are rate-limited (three at once, then one every 10 s):
    // this is the third, the fourth waits.
    client.auth(&writer("ada")).await;
    client.next_session().await;
    client.auth(&writer("ada")).await;
    let limited = client.next_error().await;
    assert_eq!(limited.code, ErrorCode::RateLimited);
    assert!(limited.retry_after_ms.is_some());
    client.add("still-open").await;
    assert!(client.next_ack().await.error.is_none());
}

#[tokio::test]
async fn a_token_that_runs_out_on_a_live_socket_is_closed_with_4401_after_the_grace() {
    let mut config = guarded();
    config.auth.auth_grace_ms = 300;
    let app = TestApp::spawn_with(config).await;
    let short = hs256(&claims("ada", "roster:read", 2));
    let started = std::time::Instant::now();
    let (mut client, _) = hello(&app, Some(&short)).await.unwrap();
    let close = loop {
        match client.next_or_close().await {
            Ok(_) => continue,
            Err(close) => break close.expect("a close frame"),
        }
    };
    assert_eq!(u16::from(close.code), close_code::UNAUTHORIZED);
    let lived = started.elapsed();
    assert!(
        lived >= Duration::from_secs(1),
        "not before the token ran out: {lived:?}"
    );
    assert!(
        lived < Duration::from_secs(5),
        "within the grace: {lived:?}"
    );

    // Refreshed in time, the same socket lives on past the first expiry.
    let (mut refreshed, _) = hello(&app, Some(&hs256(&claims("ada", "roster:read", 2))))
        .await
        .unwrap();
    refreshed.auth(&reader("ada")).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    refreshed
        .send(&roster_protocol::v1::ClientMessage::Ping { nonce: Some(7) })
        .await;
    refreshed
        .next_matching(|m| matches!(m, ServerMessage::Pong { nonce: Some(7) }).then_some(()))
        .await;
}

#[tokio::test]
async fn a_page_of_a_foreign_origin_is_told_4403_and_sent_nothing() {
    let app = TestApp::spawn().await;
    let mut client = connect_v1_from(&app.ws_url(), Some("https://evil.example")).await;
    match client.next_or_close().await {
        Err(Some(close)) => assert_eq!(u16::from(close.code), close_code::FORBIDDEN),
        other => panic!("expected a 4403 close, got {other:?}"),
    }
    let metrics = app.get_text("/metrics").await;
    assert!(
        metrics.contains("roster_auth_failures_total{reason=\"origin\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn pages_of_allowed_origins_may_call_the_api_with_a_token_and_no_cookies() {
    let mut config = guarded();
    config.allowed_origins = vec!["https://dash.example.com".into()];
    let app = TestApp::spawn_with(config).await;
    let http = reqwest::Client::new();
    let preflight = http
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/users"))
        .header("origin", "https://dash.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let headers = preflight.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://dash.example.com"
    );
    assert!(headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("authorization"));
    assert!(headers.get("access-control-allow-credentials").is_none());
    let foreign = http
        .get(app.url("/api/v1/users"))
        .header("origin", "https://other.example.com")
        .bearer_auth(reader("ada"))
        .send()
        .await
        .unwrap();
    assert!(foreign
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

impl TestApp {
    /// The list, read with `token`.
    pub async fn users_with(&self, token: &str) -> Vec<Value> {
        let answer = list(self, Some(token)).await;
        answer.json().await.unwrap()
    }
}

#[tokio::test]
async fn the_server_on_loopback_without_keys_stays_open_to_all() {
    let app = TestApp::spawn_with(Config::default()).await;
    let (_, session) = hello(&app, None).await.unwrap();
    assert_eq!(session.scope, [Scope::Read, Scope::Write]);
}

#[tokio::test]
async fn no_token_reaches_the_log_or_the_metrics_and_each_refusal_is_logged_once() {
    use crate::process::ServerProcess;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let secret = fixture("hs256.secret");
    let flags = [
        "--db",
        ":memory:",
        "--auth-hs256-secret-file",
        secret.to_str().unwrap(),
    ];
    let server = ServerProcess::start_logged(&flags, Some(&log)).await;
    let good = writer("ada");
    let mut expired_claims = claims("ada", "roster:read", 600);
    expired_claims["exp"] = json!(now() - 3_600);
    let expired = hs256(&expired_claims);

    let mut client = server.connect_v1().await;
    client.hello_with(Some(&good)).await;
    client.next_snapshot().await;
    client.add("logged").await;
    assert!(client.next_ack().await.error.is_none());
    let mut refused = server.connect_v1().await;
    refused.hello_with(Some(&expired)).await;
    assert_eq!(u16::from(refused.closed().await.unwrap().code), 4401);
    let answer = reqwest::Client::new()
        .get(server.url("/api/v1/users"))
        .bearer_auth(&expired)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401);

    let metrics = server.get_text("/metrics").await;
    assert!(
        metrics.contains("roster_auth_failures_total{reason=\"expired\"} 2"),
        "{metrics}"
    );
    let text = std::fs::read_to_string(&log).unwrap();
    for token in [&good, &expired] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !text.contains(signature) && !metrics.contains(signature),
            "a token leaked"
        );
    }
    let refusals: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("refused"))
        .collect();
    assert_eq!(refusals.len(), 2, "once each: {refusals:?}");
    assert!(
        refusals
            .iter()
            .all(|line| line.contains("expired") && line.contains("ada")),
        "{refusals:?}"
    );
}

#[tokio::test]
async fn roster_server_token_prints_a_token_a_server_with_that_secret_accepts() {
    use crate::process::ServerProcess;
    let secret = fixture("hs256.secret");
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_roster-server"))
        .args([
            "token",
            "--sub",
            "script",
            "--scope",
            "roster:read",
            "--ttl",
            "5m",
        ])
        .args(["--auth-hs256-secret-file", secret.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        printed.status.success(),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    let token = String::from_utf8(printed.stdout).unwrap().trim().to_owned();
    let flags = [
        "--db",
        ":memory:",
        "--auth-hs256-secret-file",
        secret.to_str().unwrap(),
    ];
    let server = ServerProcess::start_with(&flags).await;
    let mut client = server.connect_v1().await;
    client.hello_with(Some(&token)).await;
    let session = client.next_session().await;
    assert_eq!(
        (session.sub.as_deref(), session.scope),
        (Some("script"), vec![Scope::Read])
    );
    let lifetime = session.expires_at.unwrap() / 1_000 - now();
    assert!((290..=300).contains(&lifetime), "{lifetime} s");
}

#[test]
fn roster_server_token_refuses_a_scope_the_server_would_refuse() {
    let secret = fixture("hs256.secret");
    for (scope, said) in [
        ("roster:read:Team-A", "list pattern is not valid"),
        ("openid profile", "grants nothing"),
    ] {
        let printed = std::process::Command::new(env!("CARGO_BIN_EXE_roster-server"))
            .args(["token", "--sub", "script", "--scope", scope])
            .args(["--auth-hs256-secret-file", secret.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!printed.status.success(), "{scope}");
        let stderr = String::from_utf8_lossy(&printed.stderr);
        assert!(stderr.contains(said), "{scope}: {stderr}");
        assert!(printed.stdout.is_empty());
    }
}

#[test]
fn a_server_on_a_public_address_without_a_key_refuses_to_start_and_says_why() {
    let port = crate::process::free_port();
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_roster-server"))
        .args(["--addr", &format!("0.0.0.0:{port}"), "--db", ":memory:"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(
        said.contains("--auth-hs256-secret-file") && said.contains("--anonymous"),
        "{said}"
    );
}

#[tokio::test]
async fn a_jwks_url_is_fetched_again_for_a_new_key_but_not_for_every_made_up_one() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    // The identity provider's key set: at first only the RSA key; the EC
    // key is added (rotated in) once the server runs.
    let full: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jwks.json")).unwrap()).unwrap();
    let rsa_only = json!({ "keys": [full["keys"][0].clone()] });
    let served = Arc::new(Mutex::new(rsa_only.to_string()));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (set, count) = (Arc::clone(&served), Arc::clone(&fetches));
    let idp = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            count.fetch_add(1, Ordering::SeqCst);
            let body = set.lock().unwrap().clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let idp_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, idp).await });

    let mut config = guarded();
    config.auth.auth_hs256_secret_file = None;
    config.auth.auth_jwks = Some(format!("http://{idp_addr}/jwks.json"));
    let app = TestApp::spawn_with(config).await;
    let valid = claims("grace", "roster:read", 600);
    let rsa = signed(Algorithm::RS256, "rsa-1", "rsa.pem", &valid);
    assert!(hello(&app, Some(&rsa)).await.is_ok());
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "loaded once at start");

    *served.lock().unwrap() = full.to_string();
    let ec = signed(Algorithm::ES256, "ec-1", "ec.pem", &valid);
    assert!(
        hello(&app, Some(&ec)).await.is_ok(),
        "the rotated-in key is found"
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // Tokens naming keys nobody has: refused, and the key server is not
    // asked again for each (at most once every 30 s).
    for n in 0..5 {
        let made_up = signed(Algorithm::ES256, &format!("made-up-{n}"), "ec.pem", &valid);
        assert_eq!(
            refused_with(&app, Some(&made_up)).await,
            close_code::UNAUTHORIZED
        );
    }
    assert_eq!(fetches.load(Ordering::SeqCst), 2);
    // An HS256 token where only public keys are configured: refused.
    assert_eq!(
        refused_with(&app, Some(&writer("ada"))).await,
        close_code::UNAUTHORIZED
    );
}
