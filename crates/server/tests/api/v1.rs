//! Roster protocol v1 round trips against the real server.

use roster_protocol::v1::{ChangeOp, ClientMessage, ErrorCode, ServerMessage};
use roster_protocol::UserId;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{ids, rid, TestApp};

#[tokio::test]
async fn hello_gets_a_snapshot_then_presence() {
    let app = TestApp::spawn().await;
    // `greeted_with_epoch` insists the snapshot comes first.
    let (mut client, epoch, version, users) = app.greeted_with_epoch().await;
    assert_eq!((version, users.len(), epoch.len()), (0, 0, 16));
    assert_eq!(client.next().await, ServerMessage::Presence { viewers: 1 });
}

#[tokio::test]
async fn an_add_is_acked_to_its_sender_and_changed_for_everyone() {
    let app = TestApp::spawn().await;
    let (mut sender, _, _) = app.greeted().await;
    let (mut watcher, _, _) = app.greeted().await;
    sender
        .send(&ClientMessage::Add {
            request_id: rid("r-1"),
            name: Some("  Ada Lovelace ".into()),
            email: Some("ada@example.com".into()),
        })
        .await;
    let ack = sender.next_ack().await;
    assert_eq!(ack.request_id, rid("r-1"));
    assert_eq!(ack.version, Some(1));
    let user = ack.outcome().unwrap().clone();
    assert_eq!(
        (user.name.as_str(), user.email.as_str()),
        ("Ada Lovelace", "ada@example.com")
    );
    for client in [&mut sender, &mut watcher] {
        let change = client.next_change().await;
        assert_eq!(
            (change.version, change.op, &change.user),
            (1, ChangeOp::Added, &user)
        );
    }
}

#[tokio::test]
async fn an_add_without_a_name_gets_a_generated_one() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    client.add("r-1").await;
    let ack = client.next_ack().await;
    assert_eq!(ack.outcome().unwrap().name, "Ada Lovelace");
}

#[tokio::test]
async fn a_retried_add_is_acked_twice_and_stored_once() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    client.add("same").await;
    let first = client.next_ack().await;
    assert!(!first.replayed);
    // The retry comes on another connection, as after a reconnect.
    let (mut again, _, _) = app.greeted().await;
    again.add("same").await;
    let second = again.next_ack().await;
    assert!(second.replayed);
    assert_eq!((second.user, second.version), (first.user, first.version));
    let users = app.users().await;
    assert_eq!(ids(&users), ["1"]);
}

#[tokio::test]
async fn a_reused_request_id_for_another_request_is_refused() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    client.add("r").await;
    client.next_ack().await;
    client
        .send(&ClientMessage::Remove {
            request_id: rid("r"),
            id: UserId::new("1"),
        })
        .await;
    let ack = client.next_ack().await;
    assert_eq!(ack.error.unwrap().code, ErrorCode::IdempotencyKeyReused);
}

#[tokio::test]
async fn remove_by_id_is_acked_and_unknown_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    client.add("a").await;
    let added = client.next_ack().await.user.unwrap();
    client
        .send(&ClientMessage::Remove {
            request_id: rid("b"),
            id: added.id.clone(),
        })
        .await;
    let ack = client.next_ack().await;
    assert_eq!((ack.user.as_ref(), ack.version), (Some(&added), Some(2)));
    client
        .send(&ClientMessage::Remove {
            request_id: rid("c"),
            id: added.id.clone(),
        })
        .await;
    assert_eq!(
        client.next_ack().await.error.unwrap().code,
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn invalid_names_and_emails_get_an_error_ack_and_the_connection_stays() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    let cases = [
        (Some("x".repeat(65)), None, ErrorCode::InvalidName),
        (Some("bell\u{7}".into()), None, ErrorCode::InvalidName),
        (Some("   ".into()), None, ErrorCode::InvalidName),
        (None, Some("not-an-email".into()), ErrorCode::InvalidEmail),
        (
            None,
            Some(format!("a@{}.com", "b".repeat(260))),
            ErrorCode::InvalidEmail,
        ),
    ];
    for (i, (name, email, code)) in cases.into_iter().enumerate() {
        let request_id = rid(&format!("bad-{i}"));
        client
            .send(&ClientMessage::Add {
                request_id: request_id.clone(),
                name,
                email,
            })
            .await;
        let ack = client.next_ack().await;
        assert_eq!(ack.request_id, request_id);
        assert_eq!(ack.error.unwrap().code, code);
    }
    client.send(&ClientMessage::Ping { nonce: Some(1) }).await;
    client
        .next_matching(|m| (m == ServerMessage::Pong { nonce: Some(1) }).then_some(()))
        .await;
}

#[tokio::test]
async fn ping_is_answered_with_its_nonce_even_before_hello() {
    let app = TestApp::spawn().await;
    let mut client = app.connect_v1().await;
    client.send(&ClientMessage::Ping { nonce: Some(42) }).await;
    assert_eq!(client.next().await, ServerMessage::Pong { nonce: Some(42) });
    client.send(&ClientMessage::Ping { nonce: None }).await;
    assert_eq!(client.next().await, ServerMessage::Pong { nonce: None });
}

#[tokio::test]
async fn malformed_frames_of_every_kind_get_an_error_and_never_a_disconnect() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    let cases: [(Message, ErrorCode); 8] = [
        (Message::text("{not json"), ErrorCode::MalformedJson),
        (Message::text(""), ErrorCode::MalformedJson),
        (Message::text("[1,2,3]"), ErrorCode::InvalidMessage),
        (Message::text(r#"{"no":"type"}"#), ErrorCode::UnknownType),
        (Message::text(r#"{"type":"dance"}"#), ErrorCode::UnknownType),
        (
            Message::text(r#"{"type":"hello","since":"yesterday"}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::text(r#"{"type":"add","request_id":42}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::binary(vec![0u8, 159, 146, 150]),
            ErrorCode::BinaryFrame,
        ),
    ];
    for (frame, code) in cases {
        let shown = format!("{frame:?}");
        client.send_raw(frame).await;
        let error = client.next_error().await;
        assert_eq!(error.code, code, "{shown}");
        assert!(!error.message.is_empty());
    }
    // A bad request that names its id gets an error ack, settling it.
    client
        .send_raw(Message::text(
            r#"{"type":"add","request_id":"r-7","name":["A"]}"#,
        ))
        .await;
    let ack = client.next_ack().await;
    assert_eq!(
        (ack.request_id, ack.error.unwrap().code),
        (rid("r-7"), ErrorCode::InvalidMessage)
    );
    // Still fully working.
    client.add("after").await;
    assert!(client.next_ack().await.user.is_some());
}

#[tokio::test]
async fn legacy_and_v1_clients_see_the_same_adds() {
    let app = TestApp::spawn().await;
    let (mut legacy, _) = app.connect_and_read().await;
    let (mut modern, _, _) = app.greeted().await;

    legacy.send_text("__addUser__").await;
    let change = modern.next_change().await;
    assert_eq!(legacy.next_list().await, vec![change.user.clone()]);

    modern.add("m-1").await;
    let added = modern.next_ack().await.user.unwrap();
    assert_eq!(modern.next_change().await.user, added);
    assert_eq!(legacy.next_list().await, vec![change.user, added.clone()]);

    legacy.send_text("__removeUser__").await;
    let removed = modern.next_change().await;
    assert_eq!((removed.op, removed.user.id), (ChangeOp::Removed, added.id));
    assert_eq!(legacy.next_list().await.len(), 1);
}

#[tokio::test]
async fn resume_with_since_returns_exactly_the_missed_changes() {
    let app = TestApp::spawn().await;
    let (mut client, epoch, version, _) = app.greeted_with_epoch().await;
    client.add("1").await;
    client.next_ack().await;
    let seen = client.next_change().await.version;
    drop(client);

    let (mut other, _, _) = app.greeted().await;
    for i in 0..3 {
        other.add(&format!("o-{i}")).await;
        other.next_ack().await;
    }

    let mut back = app.connect_v1().await;
    back.resume(seen, &epoch).await;
    let mut versions = Vec::new();
    for _ in 0..3 {
        match back.next().await {
            ServerMessage::Change(change) => versions.push(change.version),
            other => panic!("expected only changes, got {other:?}"),
        }
    }
    assert_eq!(versions, [seen + 1, seen + 2, seen + 3]);
    assert_eq!(version, 0);
    assert!(matches!(back.next().await, ServerMessage::Presence { .. }));
}

#[tokio::test]
async fn resuming_from_another_history_gets_a_snapshot() {
    let app = TestApp::spawn().await;
    let (mut client, _, _) = app.greeted().await;
    client.add("1").await;
    client.next_ack().await;
    let mut stranger = app.connect_v1().await;
    stranger.resume(0, "someone-else").await;
    assert_eq!(stranger.next_snapshot().await.0, 1);
}

#[tokio::test]
async fn presence_counts_viewers_of_both_protocols() {
    let app = TestApp::spawn().await;
    let (mut watcher, _, _) = app.greeted().await;
    let _legacy = app.connect_and_read().await;
    watcher
        .next_matching(|m| (m == ServerMessage::Presence { viewers: 2 }).then_some(()))
        .await;
    drop(_legacy);
    watcher
        .next_matching(|m| (m == ServerMessage::Presence { viewers: 1 }).then_some(()))
        .await;
}

/// Requests that arrive in one read are committed together (one trip to
/// the store's thread); each still gets its own ack, in order, and its own
/// change, and whatever follows them is answered after.
#[tokio::test]
async fn requests_that_arrive_together_are_each_answered_once_in_order() {
    use futures_util::SinkExt;

    let app = TestApp::spawn_with(roster_server::Config {
        write_burst: 100,
        ..roster_server::Config::default()
    })
    .await;
    let (mut watcher, _, _) = app.greeted().await;
    let (mut client, _, _) = app.greeted().await;
    let frame = |message: ClientMessage| Message::text(message.to_frame());
    for n in 0..40 {
        let add = ClientMessage::Add {
            request_id: rid(&format!("a{n}")),
            name: None,
            email: None,
        };
        client.ws.feed(frame(add)).await.unwrap();
    }
    let remove = ClientMessage::Remove {
        request_id: rid("rm"),
        id: UserId::new("7"),
    };
    client.ws.feed(frame(remove)).await.unwrap();
    client
        .ws
        .feed(frame(ClientMessage::Ping { nonce: Some(9) }))
        .await
        .unwrap();
    client.ws.feed(Message::text("{not json")).await.unwrap();
    client.ws.feed(Message::binary(vec![1, 2])).await.unwrap();
    // One flush: the frames go out together.
    client.ws.flush().await.unwrap();

    let mut answers = Vec::new();
    while answers.len() < 44 {
        let answer = client
            .next_matching(|message| match message {
                ServerMessage::Ack(ack) => Some(format!("{}:{:?}", ack.request_id, ack.version)),
                ServerMessage::Pong { nonce } => Some(format!("pong {nonce:?}")),
                ServerMessage::Error(error) => Some(format!("error {}", error.code)),
                _ => None,
            })
            .await;
        answers.push(answer);
    }
    let mut expected: Vec<String> = (0..40).map(|n| format!("a{n}:Some({})", n + 1)).collect();
    expected.push("rm:Some(41)".into());
    expected.push("pong Some(9)".into());
    expected.push("error malformed_json".into());
    expected.push("error binary_frame".into());
    assert_eq!(answers, expected);

    let mut versions = Vec::new();
    while versions.len() < 41 {
        let change = watcher.next_change().await;
        versions.push(change.version);
    }
    assert_eq!(versions, (1..=41).collect::<Vec<u64>>());
    assert_eq!(app.users().await.len(), 39);
}
