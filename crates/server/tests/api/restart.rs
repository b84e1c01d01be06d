//! What a restart keeps: the list, the versions, the change log and the
//! request ids; and what a graceful shutdown finishes.

use roster_protocol::v1::ServerMessage;

use crate::helpers::{ids, TestApp};

#[tokio::test]
async fn resume_with_since_works_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let app = TestApp::spawn_on(&db).await;
    let (mut client, epoch, _, _) = app.greeted_with_epoch().await;
    client.add("a").await;
    let seen = client.next_ack().await.version.unwrap();
    drop(client);
    app.shut_down().await.unwrap();

    let app = TestApp::spawn_on(&db).await;
    let (mut writer, version, users) = app.greeted().await;
    assert_eq!((version, users.len()), (seen, 1));
    writer.add("b").await;
    writer.next_ack().await;

    let mut back = app.connect_v1().await;
    back.resume(seen, &epoch).await;
    match back.next().await {
        ServerMessage::Change(change) => assert_eq!(change.version, seen + 1),
        other => panic!("expected the one missed change, got {other:?}"),
    }
    assert!(matches!(back.next().await, ServerMessage::Presence { .. }));
}

#[tokio::test]
async fn shutdown_finishes_commits_in_flight_and_acks_exactly_what_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let app = TestApp::spawn_on(&db).await;
    let (mut client, _, _) = app.greeted().await;
    for i in 0..15 {
        client.add(&format!("r-{i}")).await;
    }
    // Shut down while those are being committed.
    let stopping = tokio::spawn(app.shut_down());
    let mut acked = Vec::new();
    let close = loop {
        match client.next_or_close().await {
            Ok(ServerMessage::Ack(ack)) => acked.push(ack.user.expect("ack ok").id.to_string()),
            Ok(_) => {}
            Err(close) => break close,
        }
    };
    assert_eq!(close.map(|frame| u16::from(frame.code)), Some(1001));
    stopping.await.unwrap().unwrap();

    let app = TestApp::spawn_on(&db).await;
    let stored = app.users().await;
    assert_eq!(
        ids(&stored),
        acked,
        "every ack is stored and nothing unacked is"
    );
}

#[tokio::test]
async fn demo_users_fill_the_list_once_in_one_durable_step() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let with_demo = |wanted: usize| roster_server::Config {
        db: db.to_str().unwrap().to_owned(),
        demo_users: wanted,
        ..roster_server::Config::default()
    };
    let app = TestApp::spawn_with(with_demo(100_000)).await;
    let (mut client, version, users) = app.greeted().await;
    assert_eq!((version, users.len()), (100_000, 100_000));
    assert_eq!(users[0].id.as_str(), "1");
    assert_eq!(users[99_999].id.as_str(), "100000");
    // Demo users are ordinary users: the next add follows them.
    client.add("after").await;
    assert_eq!(client.next_ack().await.version, Some(100_001));
    drop(client);
    app.shut_down().await.unwrap();

    // Restarted with a smaller or equal goal: nothing is added.
    let app = TestApp::spawn_with(with_demo(50)).await;
    let (_, version, users) = app.greeted().await;
    assert_eq!((version, users.len()), (100_001, 100_001));
    assert_eq!(ids(&users[..2]), ["1", "2"]);
}
