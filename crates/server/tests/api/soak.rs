//! The server soak: the real binary with 1,000 clients, a writer adding
//! and removing users at a steady rate (so the list itself stays the same
//! size), and clients leaving and joining all the while. Its resident
//! memory is sampled every second and must stay flat once warm, and every
//! file it opened for a client must be closed once the clients are gone.
//!
//! `ROSTER_SOAK_SECONDS` sets the length: 20 s in the test command, 600 s
//! in the long run (`scripts/reliability.sh --long`).

use std::time::Duration;

use futures_util::StreamExt;
use roster_protocol::v1::ClientMessage;
use roster_protocol::UserId;

use crate::helpers::{eventually, greeted_at, rid};
use crate::process::ServerProcess;
use crate::reliability::record;

const CLIENTS: usize = 1_000;
/// Adds a second, each followed by the removal of the oldest user.
const ADDS_PER_SECOND: u64 = 20;
/// Clients that leave, and as many that join, every second.
const CHURN_PER_SECOND: usize = 20;
/// How much RSS may grow from the end of the warm-up to the end. A leak
/// of one buffer per connection churned (2 KiB) or per change (1 KiB)
/// would pass this within a minute of the long run.
const RSS_TOLERANCE_KIB: u64 = 8 * 1024;

/// A watching client: reads everything until dropped.
async fn watcher(url: String) -> tokio::task::JoinHandle<()> {
    let (socket, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    tokio::spawn(async move {
        let (_, mut read) = socket.split();
        while let Some(Ok(_)) = read.next().await {}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_with_steady_changes_and_churn_keep_memory_and_files_flat() {
    let seconds: u64 = std::env::var("ROSTER_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let server = ServerProcess::start_with(&[
        "--db",
        db.to_str().unwrap(),
        "--write-rate",
        "1000",
        "--write-burst",
        "1000",
        "--change-log",
        "500",
    ])
    .await;
    let files_idle = server.open_files();
    let url = server.ws_url();
    let mut watchers = std::collections::VecDeque::new();
    for _ in 0..CLIENTS {
        watchers.push_back(watcher(url.clone()).await);
    }
    let (mut writer, _, _, _) = greeted_at(&url).await;
    let mut live = std::collections::VecDeque::new();
    let mut samples = Vec::new();
    let mut ticks = tokio::time::interval(Duration::from_millis(1000 / ADDS_PER_SECOND));
    let mut changes = 0u64;
    for tick in 0..seconds * ADDS_PER_SECOND {
        ticks.tick().await;
        writer.add(&format!("add-{tick}")).await;
        let ack = writer.next_ack().await;
        live.push_back(ack.user.expect("the add was done").id);
        changes += 1;
        if live.len() > 100 {
            let id: UserId = live.pop_front().unwrap();
            writer
                .send(&ClientMessage::Remove {
                    request_id: rid(&format!("remove-{tick}")),
                    id,
                })
                .await;
            assert!(writer.next_ack().await.error.is_none());
            changes += 1;
        }
        if tick % ADDS_PER_SECOND == 0 {
            for _ in 0..CHURN_PER_SECOND {
                watchers.pop_front().unwrap().abort();
                watchers.push_back(watcher(url.clone()).await);
            }
            samples.push(server.rss_kib());
        }
    }
    // Warm once a quarter of the run is over (the change log is full, the
    // allocator has its arenas); flat from there to the end.
    let warm = samples[samples.len() / 4];
    let end = *samples[samples.len() * 3 / 4..].iter().max().unwrap();
    let growth = end.saturating_sub(warm);
    assert!(
        growth <= RSS_TOLERANCE_KIB,
        "RSS grew {growth} KiB after warming up: {samples:?}"
    );
    for watcher in watchers.drain(..) {
        watcher.abort();
    }
    drop(writer);
    let closed = eventually(async || (server.open_files() <= files_idle).then_some(()));
    assert!(
        closed.await.is_some(),
        "{} files open with no clients, {files_idle} before any",
        server.open_files()
    );
    // Still serving.
    let (_, _, _, users) = greeted_at(&url).await;
    assert_eq!(users.len(), live.len());
    let churned = seconds as usize * CHURN_PER_SECOND;
    record(
        "soak",
        "server",
        &format!(
            "{seconds} s: {CLIENTS} clients, {ADDS_PER_SECOND} adds and removes a second, \
             {CHURN_PER_SECOND} clients leaving and joining a second"
        ),
        changes,
        &format!(
            "RSS {:.1} MiB when warm, {:.1} MiB at most in the last quarter (+{:.1} MiB, \
             tolerance {} MiB); every client's file closed after {churned} left and joined",
            warm as f64 / 1024.0,
            end as f64 / 1024.0,
            growth as f64 / 1024.0,
            RSS_TOLERANCE_KIB / 1024
        ),
    );
}
