//! Several instances on one real Redis (`--redis`): one order of versions
//! for every client, each change exactly once, resumes on any instance,
//! and nothing acknowledged lost when Redis or an instance is killed.

use std::collections::BTreeSet;
use std::time::Duration;

use roster_protocol::v1::{Ack, ErrorCode, ServerMessage};
use roster_protocol::User;

use crate::helpers::{connect_v1_to, eventually, greeted_at, TestApp, V1Client};
use crate::process::ServerProcess;
use crate::redis_support::{instance, shared_config, unlimited_instance, RedisServer};

/// What one watching client saw: the versions of the changes, in order.
async fn versions_until(client: &mut V1Client, last: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    while seen.last().is_none_or(|v| *v < last) {
        match client.next().await {
            ServerMessage::Change(change) => seen.push(change.version),
            ServerMessage::Snapshot { version, .. } => {
                panic!("a snapshot at {version} after {seen:?}")
            }
            _ => {}
        }
    }
    seen
}

/// Sends `count` adds with ids `<prefix>-<n>`, all at once, and returns
/// their acks.
async fn add_many(client: &mut V1Client, prefix: &str, count: usize) -> Vec<Ack> {
    for n in 0..count {
        client.add(&format!("{prefix}-{n}")).await;
    }
    let mut acks = Vec::new();
    while acks.len() < count {
        acks.push(client.next_ack().await);
    }
    acks
}

#[tokio::test]
async fn three_instances_give_every_client_one_order_with_each_change_once() {
    let redis = RedisServer::start().await;
    let apps = [
        instance(&redis).await,
        instance(&redis).await,
        instance(&redis).await,
    ];
    let mut watchers = Vec::new();
    for app in &apps {
        for _ in 0..2 {
            let (client, version, _) = app.greeted().await;
            assert_eq!(version, 0);
            watchers.push(client);
        }
    }
    let mut writers = Vec::new();
    for app in &apps {
        writers.push(app.greeted().await.0);
    }
    let [a, b, c] = &mut writers[..] else {
        unreachable!()
    };
    let (acks_a, acks_b, acks_c) = tokio::join!(
        add_many(a, "a", 20),
        add_many(b, "b", 20),
        add_many(c, "c", 20)
    );
    let versions: BTreeSet<u64> = [acks_a, acks_b, acks_c]
        .iter()
        .flatten()
        .map(|ack| {
            assert!(ack.error.is_none(), "{ack:?}");
            ack.version.unwrap()
        })
        .collect();
    assert_eq!(
        versions,
        (1..=60).collect(),
        "one version per add, none twice"
    );

    for watcher in &mut watchers {
        assert_eq!(
            versions_until(watcher, 60).await,
            (1..=60).collect::<Vec<_>>()
        );
    }
    let lists: Vec<Vec<User>> =
        futures_util::future::join_all(apps.iter().map(TestApp::users)).await;
    assert_eq!(lists[0].len(), 60);
    assert!(
        lists.iter().all(|list| *list == lists[0]),
        "every instance has the same list"
    );
}

#[tokio::test]
async fn a_rest_add_on_one_instance_reaches_the_websocket_clients_of_another() {
    let redis = RedisServer::start().await;
    let (a, b) = (instance(&redis).await, instance(&redis).await);
    let (mut client, _, _) = b.greeted().await;
    let response = reqwest::Client::new()
        .post(a.url("/api/v1/users"))
        .json(&serde_json::json!({ "name": "Made On A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let change = client.next_change().await;
    assert_eq!(
        (change.version, change.user.name.as_str()),
        (1, "Made On A")
    );
    // The writer reads its own write at once.
    assert_eq!(a.users().await.len(), 1);
}

#[tokio::test]
async fn a_client_moved_to_another_instance_resumes_without_a_gap_or_a_duplicate() {
    let redis = RedisServer::start().await;
    // No write rate limit: many adds from one connection.
    let (a, b) = (
        unlimited_instance(&redis).await,
        unlimited_instance(&redis).await,
    );
    let (mut client, epoch, _, _) = a.greeted_with_epoch().await;
    let acks = add_many(&mut client, "first", 3).await;
    assert_eq!(acks.last().and_then(|ack| ack.version), Some(3));
    drop(client);

    // Missed: a few (kept in memory), then many more (only in the stream).
    for (missed, last) in [(5, 8), (300, 308)] {
        let (mut writer, _, _) = b.greeted().await;
        add_many(&mut writer, &format!("missed-{last}"), missed).await;
        let mut back = connect_v1_to(&b.ws_url()).await;
        back.resume(3, &epoch).await;
        let resumed = versions_until(&mut back, last).await;
        assert_eq!(
            resumed,
            (4..=last).collect::<Vec<_>>(),
            "after {missed} missed"
        );
    }
}

/// Adds `id` until it is stored, as Roster's outbox does: sent again
/// under the same id after each `store_unavailable`. Returns the ack and
/// how many times the store was unavailable.
async fn add_until_stored(client: &mut V1Client, id: &str) -> (Ack, usize) {
    let mut unavailable = 0;
    loop {
        client.add(id).await;
        let ack = client.next_ack().await;
        match &ack.error {
            Some(error) if error.code == ErrorCode::StoreUnavailable => {
                unavailable += 1;
                let wait = error.retry_after_ms.expect("a wait to retry after");
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            _ => return (ack, unavailable),
        }
    }
}

#[tokio::test]
async fn redis_killed_mid_run_loses_no_acked_add_and_clients_converge() {
    let mut redis = RedisServer::start().await;
    // No write rate limit: many adds from one connection.
    let (a, b) = (
        unlimited_instance(&redis).await,
        unlimited_instance(&redis).await,
    );
    let (mut watcher, _, _) = b.greeted().await;
    let (mut writer, _, _) = a.greeted().await;
    let mut acked = Vec::new();
    for n in 0..10 {
        acked.push(add_until_stored(&mut writer, &format!("r{n}")).await.0);
    }

    // Ten more adds in flight when Redis is killed: each is either stored
    // and acknowledged, or refused with store_unavailable (perhaps after
    // Redis stored it, before its answer came back).
    for n in 10..20 {
        writer.add(&format!("r{n}")).await;
    }
    redis.kill();
    let mut refused = Vec::new();
    for _ in 10..20 {
        let ack = writer.next_ack().await;
        match &ack.error {
            None => acked.push(ack),
            Some(error) => {
                assert_eq!(error.code, ErrorCode::StoreUnavailable, "{error:?}");
                refused.push(ack.request_id.to_string());
            }
        }
    }
    // While it is down: writes are refused, reads go on, health says why.
    writer.add("r20").await;
    let ack = writer.next_ack().await;
    assert_eq!(ack.error.map(|e| e.code), Some(ErrorCode::StoreUnavailable));
    refused.push("r20".into());
    let health = reqwest::get(a.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 503);
    assert!(b.users().await.len() >= 10, "reads are served from memory");
    let down = eventually(async || {
        b.get_text("/metrics")
            .await
            .contains("roster_store_up 0")
            .then_some(())
    })
    .await;
    assert!(down.is_some(), "metrics report the outage");

    redis.run().await;
    // The client's outbox sends each refused add again under its id.
    for id in &refused {
        acked.push(add_until_stored(&mut writer, id).await.0);
    }
    let mut versions: Vec<u64> = acked
        .iter()
        .map(|ack| ack.version.expect("acked"))
        .collect();
    versions.sort_unstable();
    assert_eq!(
        versions,
        (1..=21).collect::<Vec<_>>(),
        "21 adds, 21 versions, none twice"
    );
    assert_eq!(
        versions_until(&mut watcher, 21).await,
        (1..=21).collect::<Vec<_>>()
    );
    for app in [&a, &b] {
        let healthy = eventually(async || {
            let response = reqwest::get(app.url("/healthz")).await.ok()?;
            response.status().is_success().then_some(())
        })
        .await;
        assert!(healthy.is_some(), "healthy again");
        assert_eq!(app.users().await.len(), 21);
    }
    // A retry of an acknowledged id gets its original version.
    let first = acked
        .iter()
        .find(|ack| ack.request_id.to_string() == "r3")
        .unwrap();
    writer.add("r3").await;
    let again = writer.next_ack().await;
    assert_eq!((again.version, again.replayed), (first.version, true));
    let mut con = redis.connection().await;
    let stored: usize = redis::cmd("HLEN")
        .arg("{roster:default}:users")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(stored, 21);
}

#[tokio::test]
async fn a_redis_that_lost_its_data_is_reloaded_and_clients_get_a_snapshot() {
    let mut redis = RedisServer::start().await;
    let app = instance(&redis).await;
    let (mut watcher, epoch, _, _) = app.greeted_with_epoch().await;
    let (mut writer, _, _) = app.greeted().await;
    add_many(&mut writer, "before", 3).await;
    assert_eq!(versions_until(&mut watcher, 3).await, [1, 2, 3]);

    redis.kill();
    redis.wipe();
    redis.run().await;
    // The new history reaches every client as a snapshot of it.
    let (version, users) = watcher.next_snapshot().await;
    assert_eq!((version, users.len()), (0, 0));
    let (_, new_epoch, _, _) = app.greeted_with_epoch().await;
    assert_ne!(new_epoch, epoch);
    let (ack, _) = add_until_stored(&mut writer, "after").await;
    assert_eq!(ack.version, Some(1));
    assert_eq!(versions_until(&mut watcher, 1).await, [1]);
}

#[tokio::test]
async fn an_instance_killed_and_restarted_loses_nothing_and_its_clients_move_on() {
    let redis = RedisServer::start().await;
    let other = instance(&redis).await;
    let mut server = ServerProcess::on_redis(&redis).await;
    let (mut client, epoch, _, _) = greeted_at(&server.ws_url()).await;
    let acks = add_many(&mut client, "k", 5).await;
    assert!(acks.iter().all(|ack| ack.error.is_none()));

    server.kill();
    // Meanwhile another instance goes on.
    let (mut writer, _, _) = other.greeted().await;
    add_many(&mut writer, "meanwhile", 2).await;
    server.run().await;

    let mut back = connect_v1_to(&server.ws_url()).await;
    back.resume(5, &epoch).await;
    assert_eq!(versions_until(&mut back, 7).await, [6, 7]);
    let users = server.users().await;
    assert_eq!(users.len(), 7);
    assert_eq!(users, other.users().await);
}

#[tokio::test]
async fn redis_that_can_lose_acked_writes_is_refused_unless_allowed() {
    let redis = RedisServer::start_with(&["--appendonly", "no"]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = roster_server::run(listener, shared_config(&redis), async {}).await;
    let message = refused.expect_err("refused").to_string();
    assert!(
        message.contains("appendfsync") && message.contains("--redis-allow-unsafe-durability"),
        "{message}"
    );

    let app = TestApp::spawn_with(roster_server::Config {
        redis_allow_unsafe_durability: true,
        ..shared_config(&redis)
    })
    .await;
    let health: serde_json::Value = app.get_json("/healthz").await;
    assert_eq!(health["store"]["kind"], "redis");
    assert_eq!(health["store"]["durability_safe"], false);
    assert!(app
        .get_text("/metrics")
        .await
        .contains("roster_store_unsafe_durability 1"));
    // It still works.
    let (mut client, _, _) = app.greeted().await;
    client.add("x").await;
    assert!(client.next_ack().await.error.is_none());
}

#[tokio::test]
async fn a_fresh_instance_loads_the_list_in_the_order_the_adds_were_committed() {
    let redis = RedisServer::start().await;
    let apps = [
        unlimited_instance(&redis).await,
        unlimited_instance(&redis).await,
        unlimited_instance(&redis).await,
    ];
    let (mut watcher, _, _) = apps[0].greeted().await;
    let mut writers = Vec::new();
    for app in &apps {
        writers.push(app.greeted().await.0);
    }
    let [a, b, c] = &mut writers[..] else {
        unreachable!()
    };
    const EACH: usize = 200;
    tokio::join!(
        add_many(a, "a", EACH),
        add_many(b, "b", EACH),
        add_many(c, "c", EACH)
    );
    // The order the changes came in, which every client applied.
    let mut applied = Vec::new();
    while applied.len() < 3 * EACH {
        if let ServerMessage::Change(change) = watcher.next().await {
            applied.push(change.user);
        }
    }
    // Ids are given out before versions are taken, so with three
    // instances adding at once some commit out of id order: the case
    // this test is about.
    let ids: Vec<u64> = applied
        .iter()
        .map(|u| u.id.as_str().parse().unwrap())
        .collect();
    assert!(
        ids.windows(2).any(|pair| pair[0] > pair[1]),
        "no add committed out of id order; the test proved nothing"
    );
    let followed = apps[0].users().await;
    let differs = followed.iter().zip(&applied).position(|(a, b)| a != b);
    assert_eq!(
        (followed.len(), differs),
        (applied.len(), None),
        "the instance's list is in the order of the changes: {:?}",
        differs.map(|at| (&followed[at].id, &applied[at].id))
    );
    let fresh = instance(&redis).await;
    let loaded = fresh.users().await;
    let differs = loaded.iter().zip(&applied).position(|(a, b)| a != b);
    assert_eq!(
        (loaded.len(), differs),
        (applied.len(), None),
        "a fresh instance loads the list in the order its changes came: {:?}",
        differs.map(|at| (&loaded[at].id, &applied[at].id))
    );
}

#[tokio::test]
async fn a_list_deleted_on_one_instance_closes_its_sockets_on_every_instance() {
    use roster_protocol::close_code;
    let redis = RedisServer::start().await;
    let config = || {
        let mut config = shared_config(&redis);
        config.lists = vec!["team-a".parse().unwrap()];
        config.auth.auth_hs256_secret_file = Some(crate::tokens::fixture("hs256.secret"));
        config.auth.anonymous = Some(roster_server::auth::Anonymous::Write);
        config.auth.anonymous_lists = vec!["*".parse().unwrap()];
        config
    };
    let a = TestApp::spawn_with(config()).await;
    let b = TestApp::spawn_with(config()).await;
    let url = |app: &TestApp| format!("ws://{}/api/v1/lists/team-a/ws", app.addr);
    let (mut on_a, _, _, _) = greeted_at(&url(&a)).await;
    let (mut on_b, _, _, _) = greeted_at(&url(&b)).await;
    // Both lists are one list: an add on a reaches b's socket.
    on_a.add("first").await;
    on_a.next_ack().await;
    assert_eq!(on_b.next_change().await.version, 1);
    // default on b is another list: it saw nothing.
    let (_, default_version, _) = b.greeted().await;
    assert_eq!(default_version, 0);

    // Deleted through a: b hears it from the list's stream.
    let admin = crate::tokens::hs256(&crate::tokens::claims("ops", "roster:admin:*", 600));
    let deleted = reqwest::Client::new()
        .delete(a.url("/api/v1/lists/team-a"))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    for client in [&mut on_a, &mut on_b] {
        let close = loop {
            match client.next_or_close().await {
                Ok(_) => continue,
                Err(close) => break close.expect("a close frame"),
            }
        };
        assert_eq!(u16::from(close.code), close_code::LIST_DELETED);
    }
    for app in [&a, &b] {
        let answer = reqwest::get(app.url("/api/v1/lists/team-a/users"))
            .await
            .unwrap();
        assert_eq!(answer.status(), 404);
    }
}

#[tokio::test]
async fn a_redis_from_before_lists_becomes_the_default_list() {
    let redis = RedisServer::start().await;
    let mut con = redis.connection().await;
    let user = r#"{"id":"1","name":"Ada Lovelace","email":"ada@example.com"}"#;
    let change = format!(r#"{{"version":1,"op":"added","user":{user}}}"#);
    redis::pipe()
        .cmd("SET")
        .arg("{roster}:epoch")
        .arg("0123456789abcdef")
        .cmd("SET")
        .arg("{roster}:version")
        .arg(1)
        .cmd("SET")
        .arg("{roster}:next_id")
        .arg(1)
        .cmd("HSET")
        .arg("{roster}:users")
        .arg("1")
        .arg(user)
        .cmd("ZADD")
        .arg("{roster}:order")
        .arg(1)
        .arg("1")
        .cmd("XADD")
        .arg("{roster}:changes")
        .arg("1-0")
        .arg("c")
        .arg(&change)
        .query_async::<()>(&mut con)
        .await
        .unwrap();
    let app = instance(&redis).await;
    let (_, epoch, version, users) = app.greeted_with_epoch().await;
    assert_eq!((epoch.as_str(), version), ("0123456789abcdef", 1));
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "Ada Lovelace");
    let left: u64 = redis::cmd("EXISTS")
        .arg("{roster}:users")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(left, 0, "the old keys were renamed, not copied");
    // And a new add continues the same history.
    let (mut writer, _, _) = app.greeted().await;
    writer.add("next").await;
    let ack = writer.next_ack().await;
    assert_eq!((ack.version, ack.user.unwrap().id.as_str()), (Some(2), "2"));
}
