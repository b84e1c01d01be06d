use std::collections::HashSet;

use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{ids, TestApp};

#[tokio::test]
async fn a_new_client_gets_the_current_list_on_connect() {
    let app = TestApp::spawn().await;
    let mut client = app.connect().await;
    assert_eq!(client.next_text().await, "[]");
}

#[tokio::test]
async fn an_add_reaches_every_client_including_the_sender() {
    let app = TestApp::spawn().await;
    let (mut sender, _) = app.connect_and_read().await;
    let (mut watcher, _) = app.connect_and_read().await;

    sender.send_text("__addUser__").await;

    let seen_by_sender = sender.next_text().await;
    let seen_by_watcher = watcher.next_text().await;
    assert_eq!(seen_by_sender, seen_by_watcher);
    assert!(
        seen_by_sender.starts_with(r#"[{"id":"1","name":""#),
        "{seen_by_sender}"
    );
}

#[tokio::test]
async fn a_late_client_gets_the_list_as_it_is_now() {
    let app = TestApp::spawn().await;
    let (mut first, _) = app.connect_and_read().await;
    first.send_text("__addUser__").await;
    first.send_text("__addUser__").await;
    first.wait_for_len(2).await;

    let (_, users) = app.connect_and_read().await;
    assert_eq!(ids(&users), ["1", "2"]);
}

#[tokio::test]
async fn remove_takes_away_the_most_recently_added_user() {
    let app = TestApp::spawn().await;
    let (mut client, _) = app.connect_and_read().await;
    for _ in 0..3 {
        client.send_text("__addUser__").await;
    }
    client.wait_for_len(3).await;

    client.send_text("__removeUser__").await;
    assert_eq!(ids(&client.next_list().await), ["1", "2"]);
}

#[tokio::test]
async fn remove_on_an_empty_list_sends_nothing() {
    let app = TestApp::spawn().await;
    let (mut client, _) = app.connect_and_read().await;
    client.send_text("__removeUser__").await;
    client.send_text("__addUser__").await;
    // Had the removal produced a frame, this would be the empty list.
    assert_eq!(ids(&client.next_list().await), ["1"]);
}

#[tokio::test]
async fn unknown_text_binary_and_ping_frames_are_ignored_without_reply() {
    let app = TestApp::spawn().await;
    let (mut client, _) = app.connect_and_read().await;
    client.send_text("hello").await;
    client.send_text(r#"{"type":"ping"}"#).await;
    client.send_text("").await;
    client.send_text("__ADDUSER__").await;
    client.send(Message::binary(b"__addUser__".to_vec())).await;
    client
        .send(Message::Ping(b"are you there".to_vec().into()))
        .await;
    client.send_text("__addUser__").await;
    // The first list frame after all that is the one the real add produced.
    assert_eq!(ids(&client.next_list().await), ["1"]);
}

#[tokio::test]
async fn an_oversize_frame_ends_only_that_connection() {
    let app = TestApp::spawn().await;
    let (mut attacker, _) = app.connect_and_read().await;
    let (mut bystander, _) = app.connect_and_read().await;

    attacker
        .send_text(&"x".repeat(roster_server::Config::default().max_frame_bytes + 1))
        .await;
    let close = attacker.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009, "{close:?}");

    bystander.send_text("__addUser__").await;
    assert_eq!(ids(&bystander.next_list().await), ["1"]);
}

#[tokio::test]
async fn concurrent_adds_from_many_clients_each_create_exactly_one_user() {
    const CLIENTS: usize = 8;
    const ADDS_EACH: usize = 5;
    let app = TestApp::spawn().await;
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(app.connect_and_read().await.0);
    }

    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                for _ in 0..ADDS_EACH {
                    client.send_text("__addUser__").await;
                }
                client.wait_for_len(CLIENTS * ADDS_EACH).await
            })
        })
        .collect();

    for task in tasks {
        let users = task.await.unwrap();
        let unique: HashSet<_> = ids(&users).into_iter().collect();
        assert_eq!(unique.len(), CLIENTS * ADDS_EACH);
    }
}
