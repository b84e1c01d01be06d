//! Many named lists on one server: the grammar of names, isolation
//! (ids, versions, epochs, request ids, resumes), who may create and
//! delete, scopes per list, deletion with live sockets, leaving memory
//! and coming back, and the limits.

use reqwest::{Method, StatusCode};
use roster_protocol::close_code;
use roster_protocol::v1::{ChangeOp, ClientMessage, ServerMessage};
use roster_protocol::{ListName, User};
use roster_server::auth::Anonymous;
use roster_server::lists::Creation;
use roster_server::Config;
use serde_json::{json, Value};

use crate::clients::{connect_v1_to, greeted_at, SeedClient};
use crate::helpers::{eventually, ids, rid, TestApp};
use crate::tokens::{claims, guarded, hs256};

fn name(text: &str) -> ListName {
    ListName::parse(text).unwrap()
}

fn ws_url(app: &TestApp, list: &str) -> String {
    format!("ws://{}/api/v1/lists/{list}/ws", app.addr)
}

/// A token for `sub` with exactly `scope`.
fn token(scope: &str) -> String {
    hs256(&claims("ada", scope, 600))
}

/// `method path` with `token` (if any) and a JSON body for POSTs.
async fn call(app: &TestApp, method: Method, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().request(method.clone(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if method == Method::POST {
        request = request.json(&json!({}));
    }
    request.send().await.unwrap()
}

/// `GET path` with `token`, decoded as JSON.
async fn get_with<T: serde::de::DeserializeOwned>(app: &TestApp, path: &str, token: &str) -> T {
    let answer = call(app, Method::GET, path, Some(token)).await;
    assert!(
        answer.status().is_success(),
        "GET {path}: {}",
        answer.status()
    );
    answer.json().await.unwrap()
}

/// The status and error code of an answer.
async fn refusal(answer: reqwest::Response) -> (StatusCode, String) {
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// The close code a v1 socket on `list` ends with after `hello`.
async fn hello_closes_with(app: &TestApp, list: &str, token: Option<&str>) -> u16 {
    let mut client = connect_v1_to(&ws_url(app, list)).await;
    client.hello_with(token).await;
    loop {
        match client.next_or_close().await {
            Ok(ServerMessage::Session(_)) => continue,
            Ok(other) => panic!("expected a close, got {other:?}"),
            Err(close) => return close.expect("a close frame").code.into(),
        }
    }
}

/// A server on loopback with every list open to clients without a token.
async fn open_server(config: Config) -> TestApp {
    let mut config = config;
    config.auth.anonymous = Some(Anonymous::Write);
    config.auth.anonymous_lists = vec!["*".parse().unwrap()];
    TestApp::spawn_with(config).await
}

#[tokio::test]
async fn lists_share_nothing_ids_versions_epochs_requests_or_changes() {
    let app = open_server(Config {
        lists: vec![name("team-a")],
        ..Config::default()
    })
    .await;
    let (mut on_default, default_epoch, _, _) = greeted_at(&ws_url(&app, "default")).await;
    let (mut on_team, team_epoch, _, _) = greeted_at(&ws_url(&app, "team-a")).await;
    assert_ne!(default_epoch, team_epoch, "each list has its own history");

    on_team.add("same-id").await;
    let team_ack = on_team.next_ack().await;
    on_default.add("same-id").await;
    let default_ack = on_default.next_ack().await;
    assert_eq!((team_ack.version, default_ack.version), (Some(1), Some(1)));
    assert!(
        !default_ack.replayed,
        "a request id of one list is not another's"
    );
    let team_user = team_ack.user.unwrap();
    // Each socket's next change is its own list's, never the other's.
    let change = on_default.next_change().await;
    assert_eq!(change.user.id, default_ack.user.unwrap().id);
    let change = on_team.next_change().await;
    assert_eq!(change.user.id, team_user.id);

    // The old URLs are `default`'s.
    let old: Vec<User> = app.get_json("/api/v1/users").await;
    let named: Vec<User> = app.get_json("/api/v1/lists/default/users").await;
    assert_eq!(ids(&old), ids(&named));
    let team: Vec<User> = app.get_json("/api/v1/lists/team-a/users").await;
    assert_eq!(team.len(), 1);

    // One list's user id, asked of another list that has no such user.
    on_team.add("second").await;
    let only_on_team = on_team.next_ack().await.user.unwrap().id;
    let answer = call(
        &app,
        Method::GET,
        &format!("/api/v1/lists/default/users/{only_on_team}"),
        None,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let answer = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/lists/default/users/{only_on_team}"),
        None,
    )
    .await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    // A resume with one list's epoch and version on another gets a
    // snapshot of that other list, not changes.
    let mut resumer = connect_v1_to(&ws_url(&app, "default")).await;
    resumer.resume(1, &team_epoch).await;
    match resumer.next().await {
        ServerMessage::Snapshot { epoch, users, .. } => {
            assert_eq!(epoch, default_epoch);
            assert_eq!(users.len(), 1);
        }
        other => panic!("expected a snapshot, got {other:?}"),
    }
    // And the right epoch with a version the list never reached is still
    // a snapshot (since past the end).
    let mut resumer = connect_v1_to(&ws_url(&app, "team-a")).await;
    resumer.resume(0, &team_epoch).await;
    let pick = |m| matches!(m, ServerMessage::Change(_)).then_some(m);
    let ServerMessage::Change(first) = resumer.next_matching(pick).await else {
        unreachable!()
    };
    assert_eq!((first.version, first.op), (1, ChangeOp::Added));
    assert_eq!(first.user.id, team_user.id);
}

#[tokio::test]
async fn names_outside_the_grammar_are_refused_with_invalid_list() {
    let app = open_server(Config::default()).await;
    for bad in ["Team-A", "-x", "a%20b", &"x".repeat(65)] {
        let (status, code) = refusal(
            call(
                &app,
                Method::GET,
                &format!("/api/v1/lists/{bad}/users"),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_list"),
            "{bad}"
        );
    }
    let answer = reqwest::get(app.url("/api/v1/lists/Nope/ws"))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_list_that_does_not_exist_is_404_and_closes_sockets_with_4404() {
    let app = open_server(Config::default()).await;
    let (status, code) =
        refusal(call(&app, Method::GET, "/api/v1/lists/nowhere/users", None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "no_such_list")
    );
    // Declared lists: an add does not create it either.
    let (status, _) =
        refusal(call(&app, Method::POST, "/api/v1/lists/nowhere/users", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        hello_closes_with(&app, "nowhere", None).await,
        close_code::NO_SUCH_LIST
    );
    let mut seed = SeedClient::connect(&ws_url(&app, "nowhere")).await;
    let close = seed.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), close_code::NO_SUCH_LIST);
    // Nothing was created by any of that.
    let lists: Value = app.get_json("/api/v1/lists").await;
    assert_eq!(lists["lists"].as_array().unwrap().len(), 1, "{lists}");
}

#[tokio::test]
async fn declared_lists_are_created_by_admins_and_open_lists_by_a_writers_first_add() {
    let app = TestApp::spawn_with(guarded()).await;
    let admin = token("roster:admin:team-*");
    let writer = token("roster:write:team-*");
    let (status, code) =
        refusal(call(&app, Method::PUT, "/api/v1/lists/team-a", Some(&writer)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let (status, _) = refusal(
        call(
            &app,
            Method::POST,
            "/api/v1/lists/team-a/users",
            Some(&writer),
        )
        .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "declared: a write does not create"
    );
    let created = call(&app, Method::PUT, "/api/v1/lists/team-a", Some(&admin)).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let again = call(&app, Method::PUT, "/api/v1/lists/team-a", Some(&admin)).await;
    assert_eq!(again.status(), StatusCode::OK);
    let added = call(
        &app,
        Method::POST,
        "/api/v1/lists/team-a/users",
        Some(&writer),
    )
    .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    assert!(added.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/lists/team-a/users/"));
    let (status, _) =
        refusal(call(&app, Method::PUT, "/api/v1/lists/other", Some(&admin)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admin of team-* only");

    let mut config = guarded();
    config.creation = Creation::Open;
    let open = TestApp::spawn_with(config).await;
    let reader = token("roster:read:team-*");
    let (status, _) = refusal(
        call(
            &open,
            Method::GET,
            "/api/v1/lists/team-b/users",
            Some(&writer),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a read creates nothing");
    assert_eq!(
        hello_closes_with(&open, "team-b", Some(&writer)).await,
        close_code::NO_SUCH_LIST,
        "nor does a socket"
    );
    let (status, _) = refusal(
        call(
            &open,
            Method::POST,
            "/api/v1/lists/team-b/users",
            Some(&reader),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "nor a reader's add");
    let added = call(
        &open,
        Method::POST,
        "/api/v1/lists/team-b/users",
        Some(&writer),
    )
    .await;
    assert_eq!(
        added.status(),
        StatusCode::CREATED,
        "a writer's first add does"
    );
    let users: Vec<User> = get_with(&open, "/api/v1/lists/team-b/users", &reader).await;
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn scopes_add_up_per_list_and_never_reveal_whether_a_list_exists() {
    let mut config = guarded();
    config.lists = vec![name("team-a"), name("team-b"), name("sales")];
    let app = TestApp::spawn_with(config).await;
    let team_a = token("roster:read:team-a");
    let bare = token("roster:read roster:write");
    let mixed = token("roster:read:* roster:write:team-*");

    // No read rights: 403 whether the list exists (team-b) or not (team-z).
    for list in ["team-b", "team-z"] {
        let (status, code) = refusal(
            call(
                &app,
                Method::GET,
                &format!("/api/v1/lists/{list}/users"),
                Some(&team_a),
            )
            .await,
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "forbidden"),
            "{list}"
        );
        assert_eq!(
            hello_closes_with(&app, list, Some(&team_a)).await,
            close_code::FORBIDDEN
        );
    }
    // Without a token at all: 401.
    let (status, _) =
        refusal(call(&app, Method::GET, "/api/v1/lists/team-z/users", None).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Bare scopes are `default`'s only.
    assert_eq!(
        call(&app, Method::GET, "/api/v1/users", Some(&bare))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        call(&app, Method::POST, "/api/v1/users", Some(&bare))
            .await
            .status(),
        StatusCode::CREATED
    );
    let (status, _) =
        refusal(call(&app, Method::GET, "/api/v1/lists/team-a/users", Some(&bare)).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A union, in any order: read everywhere, write on team-*.
    assert_eq!(
        call(
            &app,
            Method::POST,
            "/api/v1/lists/team-a/users",
            Some(&mixed)
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    let (status, code) = refusal(
        call(
            &app,
            Method::POST,
            "/api/v1/lists/sales/users",
            Some(&mixed),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    // The session a socket gets names its list's rights.
    let mut client = connect_v1_to(&ws_url(&app, "sales")).await;
    client.hello_with(Some(&mixed)).await;
    let session = client.next_session().await;
    assert_eq!(session.scope, [roster_protocol::auth::Scope::Read]);

    // The list of lists shows what the caller may read, with figures.
    let page: Value = get_with(&app, "/api/v1/lists", &token("roster:read:team-*")).await;
    assert_eq!(
        page["lists"],
        json!([
            {"name": "team-a", "users": 1, "version": 1},
            {"name": "team-b", "users": 0, "version": 0},
        ])
    );
    // Paged.
    let first: Value = get_with(&app, "/api/v1/lists?limit=2", &mixed).await;
    assert_eq!(first["next"], "sales");
    let rest: Value = get_with(&app, "/api/v1/lists?limit=2&after=sales", &mixed).await;
    let names: Vec<&str> = rest["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["team-a", "team-b"]);

    // Too many scopes, or a broken pattern: refused.
    let many: Vec<String> = (0..33).map(|i| format!("roster:read:l{i}")).collect();
    let (status, _) = refusal(
        call(
            &app,
            Method::GET,
            "/api/v1/users",
            Some(&token(&many.join(" "))),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = refusal(
        call(
            &app,
            Method::GET,
            "/api/v1/users",
            Some(&token("roster:read:Bad*")),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_refreshed_token_is_checked_against_the_sockets_list() {
    let mut config = guarded();
    config.lists = vec![name("team-a")];
    let app = TestApp::spawn_with(config).await;
    let mut client = connect_v1_to(&ws_url(&app, "team-a")).await;
    client.hello_with(Some(&token("roster:read:team-a"))).await;
    client.next_session().await;
    client.auth(&token("roster:read:team-b roster:read")).await;
    let close = loop {
        match client.next_or_close().await {
            Ok(_) => continue,
            Err(close) => break close.expect("a close frame"),
        }
    };
    assert_eq!(u16::from(close.code), close_code::FORBIDDEN);
}

#[tokio::test]
async fn deleting_a_list_closes_its_sockets_with_4410_and_default_stays() {
    let app = TestApp::spawn_with(guarded()).await;
    let admin = token("roster:admin:*");
    assert_eq!(
        call(&app, Method::PUT, "/api/v1/lists/doomed", Some(&admin))
            .await
            .status(),
        StatusCode::CREATED
    );
    let mut v1 = connect_v1_to(&ws_url(&app, "doomed")).await;
    v1.hello_with(Some(&admin)).await;
    v1.next_session().await;
    v1.next_snapshot().await;
    let mut other = connect_v1_to(&ws_url(&app, "default")).await;
    other.hello_with(Some(&admin)).await;
    other.next_session().await;
    other.next_snapshot().await;

    assert_eq!(
        call(&app, Method::DELETE, "/api/v1/lists/doomed", Some(&admin))
            .await
            .status(),
        StatusCode::OK
    );
    let close = loop {
        match v1.next_or_close().await {
            Ok(_) => continue,
            Err(close) => break close.expect("a close frame"),
        }
    };
    assert_eq!(u16::from(close.code), close_code::LIST_DELETED);
    let (status, code) = refusal(
        call(
            &app,
            Method::GET,
            "/api/v1/lists/doomed/users",
            Some(&admin),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "no_such_list")
    );
    let (status, _) =
        refusal(call(&app, Method::DELETE, "/api/v1/lists/doomed", Some(&admin)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, code) =
        refusal(call(&app, Method::DELETE, "/api/v1/lists/default", Some(&admin)).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "list_protected")
    );
    // The other list's socket was not touched.
    other
        .send(&ClientMessage::Add {
            request_id: rid("after"),
            name: None,
            email: None,
        })
        .await;
    assert!(other.next_ack().await.error.is_none());
    // Created again, it is a new, empty list.
    assert_eq!(
        call(&app, Method::PUT, "/api/v1/lists/doomed", Some(&admin))
            .await
            .status(),
        StatusCode::CREATED
    );
    let users: Vec<User> = get_with(&app, "/api/v1/lists/doomed/users", &admin).await;
    assert!(users.is_empty());
}

/// The value of an unlabelled metric.
async fn metric(app: &TestApp, name: &str) -> i64 {
    let text = app.get_text("/metrics").await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[tokio::test]
async fn an_unused_list_leaves_memory_and_comes_back_from_the_store() {
    let app = open_server(Config {
        lists: vec![name("team-a")],
        list_idle_ms: 200,
        ..Config::default()
    })
    .await;
    let (mut client, epoch, _, _) = greeted_at(&ws_url(&app, "team-a")).await;
    for n in 0..3 {
        client.add(&format!("r{n}")).await;
        client.next_ack().await;
    }
    drop(client);
    let gone =
        eventually(async || (metric(&app, "roster_lists_loaded").await == 1).then_some(())).await;
    assert!(gone.is_some(), "team-a left memory; default stays");
    assert!(metric(&app, "roster_lists_evicted_total").await >= 1);
    // Back from the store, with the same history: a resume still works.
    let mut client = connect_v1_to(&ws_url(&app, "team-a")).await;
    client.resume(2, &epoch).await;
    let change = client.next_change().await;
    assert_eq!(change.version, 3);
    assert_eq!(metric(&app, "roster_lists").await, 2);
    let text = app.get_text("/metrics").await;
    assert!(!text.contains("list="), "no list name in any label");
}

#[tokio::test]
async fn memory_and_the_store_hold_only_as_many_lists_as_allowed() {
    let app = open_server(Config {
        lists: vec![name("a"), name("b")],
        creation: Creation::Open,
        max_loaded_lists: 2,
        max_lists: 3,
        list_idle_ms: 60_000,
        ..Config::default()
    })
    .await;
    // default stays in memory and a socket holds a: b waits for room.
    let (on_a, _, _, _) = greeted_at(&ws_url(&app, "a")).await;
    let answer = call(&app, Method::GET, "/api/v1/lists/b/users", None).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["code"], "too_many_lists");
    assert!(body["retry_after_ms"].as_u64().is_some(), "{body}");
    drop(on_a);
    // Once a is unused, it makes room at once, idle or not.
    let served = eventually(async || {
        (call(&app, Method::GET, "/api/v1/lists/b/users", None)
            .await
            .status()
            == StatusCode::OK)
            .then_some(())
    })
    .await;
    assert!(served.is_some());
    // default, a and b exist: a fourth is not created, even by an add.
    let (status, code) =
        refusal(call(&app, Method::POST, "/api/v1/lists/c/users", None).await).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::CONFLICT, "too_many_lists")
    );
    let (status, _) = refusal(call(&app, Method::GET, "/api/v1/lists/c/users", None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
