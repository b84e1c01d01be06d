//! Every scenario with 200 connections against the real server, started in
//! this process on a free port (the full benchmark is `scripts/bench.sh`).

use std::net::SocketAddr;

use roster_loadgen::client::Protocol;
use roster_loadgen::Backoff;
use roster_server::{run, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const CLIENTS: usize = 200;

/// A roster-server on `addr` (port 0: a free one), with no write limit.
async fn server(
    addr: SocketAddr,
) -> (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        addr,
        dist: "/nonexistent".into(),
        write_rate: 1e6,
        write_burst: 10_000,
        ..Config::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, config, async {
        let _ = stopped.await;
    }));
    (addr, stop, task)
}

fn url(addr: SocketAddr) -> String {
    format!("ws://{addr}/api/v1/users/ws")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fanout_sustained_storms_and_idle_memory_run_against_the_real_server() {
    let (addr, stop, task) = server("127.0.0.1:0".parse().unwrap()).await;

    for (watchers, deflate) in [
        (Protocol::V1, false),
        (Protocol::Seed, false),
        (Protocol::V1, true),
    ] {
        let pid = Some(std::process::id());
        let fanout = roster_loadgen::fanout(&url(addr), CLIENTS, 3, watchers, pid, deflate)
            .await
            .unwrap();
        assert!(fanout["rss_after"].as_u64().unwrap() > 0);
        assert_eq!(fanout["all_delivered_ms"]["count"], 3);
        assert_eq!(fanout["per_client_ms"]["count"], 3 * CLIENTS);
    }

    let sustained = roster_loadgen::sustained(&url(addr), CLIENTS, 50.0, 1.0)
        .await
        .unwrap();
    assert_eq!(sustained["delivered"], 50 * CLIENTS);
    assert!(sustained["delivered_per_s"].as_f64().unwrap() > 0.0);

    let storm = roster_loadgen::connect_storm(&url(addr), CLIENTS, None, false)
        .await
        .unwrap();
    assert_eq!(storm["failed"], 0);
    assert_eq!(storm["in_step_ms"]["count"], CLIENTS);
    // The same list, compressed: the snapshot is smaller on the wire.
    let packed = roster_loadgen::connect_storm(&url(addr), CLIENTS, None, true)
        .await
        .unwrap();
    assert_eq!(
        (packed["failed"].as_u64(), packed["deflate"].as_bool()),
        (Some(0), Some(true))
    );
    let wire = |storm: &serde_json::Value| storm["snapshot_wire_bytes"].as_u64().unwrap();
    assert!(wire(&packed) * 3 < wire(&storm), "{packed} against {storm}");

    for deflate in [false, true] {
        let idle = roster_loadgen::idle_memory(&url(addr), CLIENTS, std::process::id(), deflate)
            .await
            .unwrap();
        assert!(idle["rss_after"].as_u64().unwrap() > 0);
        assert_eq!(idle["deflate"], deflate);
    }

    // A restart on the same port while 200 clients are connected: every
    // one comes back.
    let (ready, restart) = oneshot::channel::<()>();
    let restarter = tokio::spawn(async move {
        let _ = restart.await;
        let _ = stop.send(());
        task.await.unwrap().unwrap();
        server(addr).await
    });
    let reconnect =
        roster_loadgen::reconnect_storm(&url(addr), CLIENTS, Backoff::Roster, move || {
            let _ = ready.send(());
        })
        .await
        .unwrap();
    assert_eq!(reconnect["away_ms"]["count"], CLIENTS);
    let (_, stop, _) = restarter.await.unwrap();
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_storm_with_tokens_is_let_in_and_one_without_is_not() {
    let secret = std::env::temp_dir().join(format!("roster-loadgen-{}.secret", std::process::id()));
    std::fs::write(&secret, "a-secret-for-the-smoke-test-0123456789").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config {
        addr,
        dist: "/nonexistent".into(),
        ..Config::default()
    };
    config.auth.auth_hs256_secret_file = Some(secret.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, config, async {
        let _ = stopped.await;
    }));
    let tokens =
        roster_loadgen::mint_tokens(b"a-secret-for-the-smoke-test-0123456789", CLIENTS).unwrap();
    let storm = roster_loadgen::connect_storm(&url(addr), CLIENTS, Some(tokens), false)
        .await
        .unwrap();
    assert_eq!(
        (storm["failed"].as_u64(), storm["tokens"].as_bool()),
        (Some(0), Some(true))
    );
    let refused = roster_loadgen::connect_storm(&url(addr), 10, None, false)
        .await
        .unwrap();
    assert_eq!(refused["failed"], 10, "no token, no snapshot");
    let _ = stop.send(());
    task.await.unwrap().unwrap();
    std::fs::remove_file(secret).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_lists_run_against_the_real_server_and_a_change_stays_in_its_list() {
    const LISTS: usize = 20;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = Config {
        addr,
        dist: "/nonexistent".into(),
        write_rate: 1e6,
        write_burst: 10_000,
        lists: (0..LISTS)
            .map(|n| roster_loadgen::lists::list_name(n).parse().unwrap())
            .collect(),
        demo_users: 5,
        ..Config::default()
    };
    config.auth.anonymous_lists = vec!["*".parse().unwrap()];
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, config, async {
        let _ = stopped.await;
    }));
    let template = format!("ws://{addr}/api/v1/lists/{{list}}/ws");
    // (The listener is bound already: connects made while the server
    // fills its lists wait in its backlog.)
    let figures = roster_loadgen::lists::lists(&template, LISTS, 10, 3, std::process::id())
        .await
        .unwrap();
    assert_eq!(figures["delivered_ms"]["count"], 3);
    assert_eq!(figures["other_lists_change_frames"], 0);
    assert_eq!(figures["frames_out"], figures["frames_out_expected"]);
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
