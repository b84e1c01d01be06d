//! The `roster-server` binary itself: flags, serving, SIGTERM, and what
//! survives `kill -9`.

use std::process::Command;

use roster_protocol::v1::ClientMessage;

use crate::helpers::{ids, rid};
use crate::process::ServerProcess;

#[tokio::test]
async fn the_binary_serves_on_its_addr_flag_and_exits_cleanly_on_sigterm() {
    let mut server = ServerProcess::start(":memory:").await;
    let body = server.get_text("/api/v1/users").await;
    assert_eq!(body, "[]");
    server.signal("-TERM");
    let status = server.exited().await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn an_acknowledged_add_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let db = db.to_str().unwrap();
    let mut server = ServerProcess::start(db).await;
    let add = ClientMessage::Add {
        request_id: rid("durable"),
        name: Some("Grace Hopper".into()),
        email: None,
    };
    let mut client = server.connect_v1().await;
    client.send(&add).await;
    let ack = client.next_ack().await;
    let added = ack.user.expect("the add succeeded");
    // Killed the moment the ack arrives: no chance to flush anything more.
    server.signal("-KILL");
    assert!(!server.exited().await.success());

    let restarted = ServerProcess::start(db).await;
    assert_eq!(restarted.users().await, vec![added.clone()]);
    // The request id is remembered too: a retry after the crash is a replay.
    let mut client = restarted.connect_v1().await;
    client.send(&add).await;
    let replay = client.next_ack().await;
    assert!(replay.replayed);
    assert_eq!(replay.user, Some(added));
    assert_eq!(ids(&restarted.users().await), ["1"]);
}

#[test]
fn help_lists_every_flag_with_its_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_roster-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "--addr",
        "ROSTER_ADDR",
        "127.0.0.1:8080",
        "--dist",
        "ROSTER_DIST",
        "--db",
        "ROSTER_DB",
        "--allowed-origin",
        "--max-frame-bytes",
        "--write-rate",
        "--write-burst",
        "--max-connections",
        "--send-queue",
        "--send-timeout-ms",
        "--header-timeout-ms",
        "--change-log",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}

#[test]
fn a_database_that_cannot_be_opened_stops_the_server_with_the_reason() {
    let output = Command::new(env!("CARGO_BIN_EXE_roster-server"))
        .args(["--addr", "127.0.0.1:0", "--dist", "/nonexistent"])
        .args(["--db", "/nonexistent/dir/roster.db"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let log = String::from_utf8_lossy(&output.stdout);
    assert!(log.contains("storage failed"), "{log}");
}
