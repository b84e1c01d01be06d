//! Lists on a real Redis Cluster of three primaries (`--redis-cluster`):
//! they spread over the shards; a shard that stops takes down the lists
//! on it and no others; nothing acknowledged is lost when it comes back.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use roster_protocol::User;
use roster_server::auth::Anonymous;
use roster_server::lists::Creation;
use roster_server::Config;

use crate::clients::greeted_at;
use crate::helpers::{eventually, TestApp};
use crate::redis_support::RedisCluster;

/// Lists in the test: enough that each shard's share is more than luck.
const LISTS: usize = 300;

fn list_name(n: usize) -> String {
    format!("team-{n}")
}

/// `POST /api/v1/lists/{list}/users` (creating the list on its first add,
/// `--lists open`); the status.
async fn add(app: &TestApp, list: &str) -> StatusCode {
    let answer = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/lists/{list}/users")))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    if !status.is_success() {
        eprintln!(
            "{list}: {status} {}",
            answer.text().await.unwrap_or_default()
        );
    }
    status
}

async fn users(app: &TestApp, list: &str) -> Vec<User> {
    app.get_json(&format!("/api/v1/lists/{list}/users")).await
}

#[tokio::test]
async fn lists_spread_over_shards_and_a_stopped_shard_takes_down_only_its_own() {
    let mut cluster = RedisCluster::start().await;
    let mut config = Config {
        redis_cluster: cluster.seeds(),
        creation: Creation::Open,
        write_rate: 1e6,
        write_burst: 1_000,
        ..Config::default()
    };
    config.auth.anonymous = Some(Anonymous::Write);
    config.auth.anonymous_lists = vec!["*".parse().unwrap()];
    let app = TestApp::spawn_with(config).await;

    // Each list created by its first add, and where its keys landed.
    let mut acked: BTreeMap<String, usize> = BTreeMap::new();
    let mut shard_of = BTreeMap::new();
    for n in 0..LISTS {
        let list = list_name(n);
        assert_eq!(add(&app, &list).await, StatusCode::CREATED, "{list}");
        acked.insert(list.clone(), 1);
        let shard = cluster.node_of(&format!("{{roster:{list}}}:epoch")).await;
        shard_of.insert(list, shard);
    }
    let held: Vec<usize> = (0..3)
        .map(|shard| shard_of.values().filter(|s| **s == shard).count())
        .collect();
    eprintln!("lists held by each primary: {held:?} of {LISTS}");
    for (shard, held) in held.iter().enumerate() {
        assert!(
            held * 5 >= LISTS,
            "shard {shard} holds {held} of {LISTS} lists"
        );
    }

    // A socket on a list of each shard, to see changes arrive.
    let first_on = |shard: usize| {
        shard_of
            .iter()
            .find(|(_, s)| **s == shard)
            .map(|(list, _)| list.clone())
            .unwrap()
    };
    let stopped = 2;
    let (mut watcher, _, _, _) = greeted_at(&format!(
        "ws://{}/api/v1/lists/{}/ws",
        app.addr,
        first_on(0)
    ))
    .await;

    cluster.nodes[stopped].kill();
    // Every list on the other shards stays writable and current.
    for (list, shard) in &shard_of {
        if *shard == stopped {
            continue;
        }
        let written =
            eventually(async || (add(&app, list).await == StatusCode::CREATED).then_some(())).await;
        assert!(written.is_some(), "{list} on shard {shard} is writable");
        *acked.get_mut(list).unwrap() += 1;
    }
    let change = watcher.next_change().await;
    assert_eq!(
        change.version, 2,
        "the watcher on shard 0 sees its list's add"
    );
    // The stopped shard's lists refuse writes (and nothing is acked).
    let on_stopped = first_on(stopped);
    let refused = add(&app, &on_stopped).await;
    assert_eq!(refused, StatusCode::SERVICE_UNAVAILABLE, "{on_stopped}");

    cluster.nodes[stopped].run().await;
    cluster.until_ok().await;
    // It comes back writable, and nothing acknowledged anywhere is lost.
    let back =
        eventually(async || (add(&app, &on_stopped).await == StatusCode::CREATED).then_some(()))
            .await;
    assert!(back.is_some(), "{on_stopped} is writable again");
    *acked.get_mut(&on_stopped).unwrap() += 1;
    for (list, count) in &acked {
        assert_eq!(users(&app, list).await.len(), *count, "{list}");
    }
}
