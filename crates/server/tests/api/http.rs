use crate::helpers::{ids, TestApp};

#[tokio::test]
async fn the_http_list_matches_the_socket_list() {
    let app = TestApp::spawn().await;
    let (mut client, _) = app.connect_and_read().await;
    client.send_text("__addUser__").await;
    let from_socket = client.next_text().await;

    let response = reqwest::get(app.url("/api/v1/users")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.text().await.unwrap(), from_socket);
}

#[tokio::test]
async fn the_http_list_of_a_new_server_is_empty() {
    let app = TestApp::spawn().await;
    let users: Vec<roster_protocol::User> = app.get_json("/api/v1/users").await;
    assert!(ids(&users).is_empty());
}

#[tokio::test]
async fn the_built_client_is_served_at_the_root() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<title>Roster test page</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log('hi')").unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;

    let index = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(index.status(), 200);
    assert!(index.text().await.unwrap().contains("Roster test page"));

    let script = reqwest::get(app.url("/app.js")).await.unwrap();
    assert_eq!(script.status(), 200);
    assert!(script.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("javascript"));
    // Other sites load the module for <roster-users> and mount().
    assert_eq!(script.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn without_a_built_client_the_root_says_how_to_build_it() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("client is not built"));
}

#[tokio::test]
async fn pages_get_a_content_security_policy_naming_their_own_inline_scripts() {
    let dist = tempfile::tempdir().unwrap();
    let page = |script: &str| format!("<!doctype html><script type=module>{script}</script>");
    std::fs::write(dist.path().join("index.html"), page("start()")).unwrap();
    std::fs::write(dist.path().join("other.html"), page("other()")).unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;
    let policy = |path: &'static str| {
        let url = app.url(path);
        async move {
            let response = reqwest::get(url).await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let policy = response
                .headers()
                .get("content-security-policy")
                .map(|value| value.to_str().unwrap().to_owned());
            let body = response.text().await.unwrap();
            (policy, body)
        }
    };
    let hash_of = |script: &str| roster_server::csp::policy_for([script]);

    let (index, body) = policy("/").await;
    assert_eq!(body, page("start()"), "the page is served whole");
    assert_eq!(index.as_deref(), Some(hash_of("start()").as_str()));
    assert!(index.unwrap().contains("'wasm-unsafe-eval'"));
    let (other, _) = policy("/other.html").await;
    assert_eq!(
        other.as_deref(),
        Some(hash_of("other()").as_str()),
        "each page its own"
    );

    // A rebuilt client is served with the new script's hash at once.
    std::fs::write(dist.path().join("index.html"), page("rebuilt()")).unwrap();
    let (index, _) = policy("/").await;
    assert_eq!(index.as_deref(), Some(hash_of("rebuilt()").as_str()));

    let (api, _) = policy("/api/v1/users").await;
    assert_eq!(api, None, "only pages get a policy");
}

#[tokio::test]
async fn every_answer_forbids_sniffing_and_sends_no_referrer() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Roster</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("roster.js"), "export {};").unwrap();
    let app = TestApp::spawn_serving(dist.path()).await;
    for path in [
        "/",
        "/roster.js",
        "/healthz",
        "/metrics",
        "/api/v1/users",
        "/api/v1/users/404",
        "/nope",
    ] {
        let response = reqwest::get(app.url(path)).await.unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
    }
    let script = reqwest::get(app.url("/roster.js")).await.unwrap();
    let script_type = script.headers()["content-type"].to_str().unwrap();
    assert!(
        script_type.starts_with("text/javascript"),
        "nosniff needs the right type: {script_type}"
    );
}

#[tokio::test]
async fn a_plain_get_of_the_socket_route_is_refused() {
    let app = TestApp::spawn().await;
    let response = reqwest::get(app.url("/api/v1/users/ws")).await.unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
}

mod api {
    use roster_protocol::User;
    use serde_json::{json, Value};

    use crate::helpers::TestApp;

    fn client() -> reqwest::Client {
        reqwest::Client::new()
    }

    #[tokio::test]
    async fn post_creates_a_user_that_sockets_see_and_get_finds() {
        let app = TestApp::spawn().await;
        let (mut watcher, _, _) = app.greeted().await;
        let response = client()
            .post(app.url("/api/v1/users"))
            .json(&json!({"name": "Radia Perlman", "email": "radia@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["location"], "/api/v1/users/1");
        assert_eq!(response.headers()["roster-version"], "1");
        let user: User = response.json().await.unwrap();
        assert_eq!(user.name, "Radia Perlman");
        assert_eq!(watcher.next_change().await.user, user);

        let found: User = app.get_json("/api/v1/users/1").await;
        assert_eq!(found, user);
    }

    #[tokio::test]
    async fn an_empty_object_gets_a_generated_user() {
        let app = TestApp::spawn().await;
        let response = client()
            .post(app.url("/api/v1/users"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let user: User = response.json().await.unwrap();
        assert_eq!(user.name, "Ada Lovelace");
    }

    #[tokio::test]
    async fn an_idempotency_key_makes_a_retried_post_create_one_user() {
        let app = TestApp::spawn().await;
        let post = || {
            client()
                .post(app.url("/api/v1/users"))
                .header("Idempotency-Key", "order-66")
                .json(&json!({"name": "Tim"}))
                .send()
        };
        let first = post().await.unwrap();
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first: User = first.json().await.unwrap();
        let second = post().await.unwrap();
        assert_eq!(second.status(), 201);
        assert_eq!(second.headers()["idempotent-replayed"], "true");
        assert_eq!(second.json::<User>().await.unwrap(), first);
        let users: Vec<User> = app.get_json("/api/v1/users").await;
        assert_eq!(users.len(), 1);

        let conflict = client()
            .post(app.url("/api/v1/users"))
            .header("Idempotency-Key", "order-66")
            .json(&json!({"name": "Not Tim"}))
            .send()
            .await
            .unwrap();
        assert_eq!(conflict.status(), 409);
    }

    #[tokio::test]
    async fn delete_removes_and_then_is_not_found() {
        let app = TestApp::spawn().await;
        let (mut watcher, _, _) = app.greeted().await;
        client()
            .post(app.url("/api/v1/users"))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        watcher.next_change().await;
        let response = client()
            .delete(app.url("/api/v1/users/1"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["roster-version"], "2");
        let removed = watcher.next_change().await;
        assert_eq!(removed.op, roster_protocol::v1::ChangeOp::Removed);
        for response in [
            client()
                .delete(app.url("/api/v1/users/1"))
                .send()
                .await
                .unwrap(),
            reqwest::get(app.url("/api/v1/users/1")).await.unwrap(),
            reqwest::get(app.url("/api/v1/users/nope")).await.unwrap(),
        ] {
            assert_eq!(response.status(), 404);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "not_found");
        }
    }

    #[tokio::test]
    async fn bad_bodies_get_json_errors_with_codes() {
        let app = TestApp::spawn().await;
        let cases = [
            (
                client()
                    .post(app.url("/api/v1/users"))
                    .header("content-type", "application/json")
                    .body("{oops"),
                400,
                "malformed_json",
            ),
            (
                client()
                    .post(app.url("/api/v1/users"))
                    .json(&json!({"name": 5})),
                422,
                "invalid_message",
            ),
            (
                client().post(app.url("/api/v1/users")).body("{}"),
                415,
                "invalid_message",
            ),
            (
                client()
                    .post(app.url("/api/v1/users"))
                    .json(&json!({"name": ""})),
                422,
                "invalid_name",
            ),
            (
                client()
                    .post(app.url("/api/v1/users"))
                    .json(&json!({"email": "nope"})),
                422,
                "invalid_email",
            ),
            (
                client()
                    .post(app.url("/api/v1/users"))
                    .header("Idempotency-Key", "")
                    .json(&json!({})),
                400,
                "invalid_request_id",
            ),
            (
                client()
                    .post(app.url("/api/v1/users"))
                    .json(&json!({"name": "x".repeat(70_000)})),
                413,
                "frame_too_large",
            ),
        ];
        for (request, status, code) in cases {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), status, "{code}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], code);
            assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
        }
        let users: Vec<User> = app.get_json("/api/v1/users").await;
        assert!(users.is_empty());
    }

    #[tokio::test]
    async fn healthz_reports_ok_with_numbers() {
        let app = TestApp::spawn().await;
        let (_client, _, _) = app.greeted().await;
        let body: Value = app.get_json("/healthz").await;
        assert_eq!(body["status"], "ok");
        assert_eq!(body["connections"], 1);
        assert_eq!(body["version"], 0);
    }

    #[tokio::test]
    async fn metrics_count_connections_frames_adds_errors_and_store_latency() {
        let app = TestApp::spawn().await;
        let (mut client, _, _) = app.greeted().await;
        client.add("m").await;
        client.next_ack().await;
        client
            .send_raw(tokio_tungstenite::tungstenite::Message::text("nope"))
            .await;
        client.next_error().await;
        let text = app.get_text("/metrics").await;
        for line in [
            "roster_connections{protocol=\"roster.v1\"} 1",
            "roster_connections{protocol=\"seed\"} 0",
            "roster_frames_in_total{protocol=\"roster.v1\"} 3",
            "roster_adds_total 1",
            "roster_errors_total{code=\"malformed_json\"} 1",
            "roster_store_commit_seconds_count 1",
            "roster_users 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line} missing from:\n{text}"
            );
        }
    }
}
