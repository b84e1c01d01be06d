//! The v1 catalogue's shapes, decoding errors and round trips.

use super::*;
use crate::fixtures::user;

fn rid(id: &str) -> RequestId {
    RequestId::parse(id).unwrap()
}

#[test]
fn server_messages_have_the_documented_shapes() {
    let cases = [
        (
            ServerMessage::Snapshot {
                epoch: "e".into(),
                version: 2,
                users: vec![user(1)],
            },
            r#"{"type":"snapshot","epoch":"e","version":2,"users":[{"id":"1","name":"U1","email":"u1@roster.test"}]}"#,
        ),
        (
            ServerMessage::Change(Change {
                version: 3,
                op: ChangeOp::Removed,
                user: user(1),
            }),
            r#"{"type":"change","version":3,"op":"removed","user":{"id":"1","name":"U1","email":"u1@roster.test"}}"#,
        ),
        (
            ServerMessage::Ack(Ack::failed(
                rid("r"),
                ErrorBody::new(ErrorCode::NotFound, "no user 9"),
            )),
            r#"{"type":"ack","request_id":"r","error":{"code":"not_found","message":"no user 9"}}"#,
        ),
        (
            ServerMessage::Pong { nonce: Some(4) },
            r#"{"type":"pong","nonce":4}"#,
        ),
        (
            ServerMessage::Presence { viewers: 5 },
            r#"{"type":"presence","viewers":5}"#,
        ),
        (
            ServerMessage::Error(ErrorBody::new(ErrorCode::UnknownType, "x")),
            r#"{"type":"error","code":"unknown_type","message":"x"}"#,
        ),
        (
            ServerMessage::Session(Session {
                sub: Some("ada".into()),
                scope: vec![crate::auth::Scope::Read, crate::auth::Scope::Write],
                expires_at: Some(1_767_225_600_000),
                server_time: None,
            }),
            r#"{"type":"session","sub":"ada","scope":["read","write"],"expires_at":1767225600000}"#,
        ),
        (
            ServerMessage::Session(Session {
                sub: None,
                scope: vec![crate::auth::Scope::Read],
                expires_at: None,
                server_time: None,
            }),
            r#"{"type":"session","sub":null,"scope":["read"],"expires_at":null}"#,
        ),
    ];
    for (message, json) in cases {
        assert_eq!(message.to_frame(), json);
        assert_eq!(ServerMessage::decode(json).unwrap(), message);
    }
}

#[test]
fn a_successful_ack_carries_user_and_version() {
    let change = Change {
        version: 7,
        op: ChangeOp::Added,
        user: user(3),
    };
    let mut ack = Ack::done(rid("r-1"), &change);
    assert_eq!(ack.outcome(), Ok(&user(3)));
    ack.replayed = true;
    let json = ServerMessage::Ack(ack).to_frame();
    assert!(json.contains(r#""version":7"#) && json.contains(r#""replayed":true"#));
}

#[test]
fn an_ack_with_neither_user_nor_error_is_an_error_that_says_so() {
    let ack = match ServerMessage::decode(r#"{"type":"ack","request_id":"r"}"#).unwrap() {
        ServerMessage::Ack(ack) => ack,
        other => panic!("{other:?}"),
    };
    let error = ack.outcome().unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidMessage);
    assert!(!error.message.is_empty());
}

#[test]
fn client_messages_decode_with_optional_fields() {
    assert_eq!(
        ClientMessage::decode(r#"{"type":"hello"}"#).unwrap(),
        ClientMessage::Hello {
            since: None,
            epoch: None,
            token: None
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"hello","token":"t.k.n"}"#).unwrap(),
        ClientMessage::Hello {
            since: None,
            epoch: None,
            token: Some(Token::new("t.k.n"))
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"auth","token":"fresh"}"#).unwrap(),
        ClientMessage::Auth {
            token: Token::new("fresh")
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"add","request_id":"a","extra":1}"#).unwrap(),
        ClientMessage::Add {
            request_id: rid("a"),
            name: None,
            email: None
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"remove","request_id":"b","id":7}"#).unwrap(),
        ClientMessage::Remove {
            request_id: rid("b"),
            id: UserId::new("7")
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"ping"}"#).unwrap(),
        ClientMessage::Ping { nonce: None }
    );
}

#[test]
fn each_kind_of_bad_frame_gets_its_own_code() {
    let cases = [
        ("not json", ErrorCode::MalformedJson),
        ("{\"type\":", ErrorCode::MalformedJson),
        ("[1,2]", ErrorCode::InvalidMessage),
        ("\"hello\"", ErrorCode::InvalidMessage),
        ("{}", ErrorCode::UnknownType),
        (r#"{"type":5}"#, ErrorCode::UnknownType),
        (r#"{"type":"dance"}"#, ErrorCode::UnknownType),
        (r#"{"type":"add"}"#, ErrorCode::InvalidMessage),
        (
            r#"{"type":"add","request_id":""}"#,
            ErrorCode::InvalidMessage,
        ),
        (
            r#"{"type":"add","request_id":"r","name":5}"#,
            ErrorCode::InvalidMessage,
        ),
        (r#"{"type":"hello","since":-1}"#, ErrorCode::InvalidMessage),
        (
            r#"{"type":"remove","request_id":"r","id":null}"#,
            ErrorCode::InvalidMessage,
        ),
    ];
    for (frame, code) in cases {
        let err = ClientMessage::decode(frame).unwrap_err();
        assert_eq!(err.error.code, code, "{frame}: {err}");
        assert!(!err.error.message.is_empty());
    }
}

#[test]
fn a_bad_request_keeps_its_request_id_for_the_error_ack() {
    let err = ClientMessage::decode(r#"{"type":"add","request_id":"r9","email":[]}"#).unwrap_err();
    assert_eq!(err.request_id, Some(rid("r9")));
}

mod properties {
    use super::*;
    use crate::fixtures::any_user;
    use proptest::prelude::*;

    fn any_request_id() -> impl Strategy<Value = RequestId> {
        "[a-zA-Z0-9-]{1,40}".prop_map(|id| RequestId::parse(&id).unwrap())
    }

    fn any_error() -> impl Strategy<Value = ErrorBody> {
        let known: Vec<ErrorCode> = ErrorCode::known().collect();
        (proptest::sample::select(known), "\\PC{0,30}")
            .prop_map(|(code, message)| ErrorBody::new(code, message))
    }

    fn any_server_message() -> impl Strategy<Value = ServerMessage> {
        prop_oneof![
            (
                "[a-f0-9]{0,16}",
                any::<u64>(),
                proptest::collection::vec(any_user(), 0..8)
            )
                .prop_map(|(epoch, version, users)| ServerMessage::Snapshot {
                    epoch,
                    version,
                    users
                }),
            (any::<u64>(), any::<bool>(), any_user()).prop_map(|(version, added, user)| {
                let op = if added {
                    ChangeOp::Added
                } else {
                    ChangeOp::Removed
                };
                ServerMessage::Change(Change { version, op, user })
            }),
            (any_request_id(), any::<u64>(), any_user(), any::<bool>()).prop_map(
                |(id, version, user, replayed)| {
                    let mut ack = Ack::done(
                        id,
                        &Change {
                            version,
                            op: ChangeOp::Added,
                            user,
                        },
                    );
                    ack.replayed = replayed;
                    ServerMessage::Ack(ack)
                }
            ),
            (any_request_id(), any_error())
                .prop_map(|(id, error)| ServerMessage::Ack(Ack::failed(id, error))),
            proptest::option::of(any::<u64>()).prop_map(|nonce| ServerMessage::Pong { nonce }),
            any::<u64>().prop_map(|viewers| ServerMessage::Presence { viewers }),
            any_error().prop_map(ServerMessage::Error),
            (
                proptest::option::of("[a-z0-9@.]{1,20}"),
                any::<bool>(),
                proptest::option::of(any::<u64>())
            )
                .prop_map(|(sub, write, expires_at)| {
                    let mut scope = vec![crate::auth::Scope::Read];
                    if write {
                        scope.push(crate::auth::Scope::Write);
                    }
                    ServerMessage::Session(Session {
                        sub,
                        scope,
                        expires_at,
                        server_time: None,
                    })
                }),
        ]
    }

    fn any_client_message() -> impl Strategy<Value = ClientMessage> {
        prop_oneof![
            (
                proptest::option::of(any::<u64>()),
                proptest::option::of("[a-f0-9]{1,16}"),
                proptest::option::of("[A-Za-z0-9._-]{1,60}")
            )
                .prop_map(|(since, epoch, token)| ClientMessage::Hello {
                    since,
                    epoch,
                    token: token.map(Token::new)
                }),
            "[A-Za-z0-9._-]{0,60}".prop_map(|token| ClientMessage::Auth {
                token: Token::new(token)
            }),
            (
                any_request_id(),
                proptest::option::of("\\PC{0,70}"),
                proptest::option::of("\\PC{0,30}")
            )
                .prop_map(|(request_id, name, email)| ClientMessage::Add {
                    request_id,
                    name,
                    email
                }),
            (any_request_id(), prop_oneof!["[0-9]{1,6}", "\\PC{1,12}"]).prop_map(
                |(request_id, id)| ClientMessage::Remove {
                    request_id,
                    id: UserId::new(id)
                }
            ),
            proptest::option::of(any::<u64>()).prop_map(|nonce| ClientMessage::Ping { nonce }),
        ]
    }

    proptest! {
        #[test]
        fn server_messages_round_trip(message in any_server_message()) {
            prop_assert_eq!(ServerMessage::decode(&message.to_frame()).unwrap(), message);
        }

        #[test]
        fn client_messages_round_trip(message in any_client_message()) {
            prop_assert_eq!(ClientMessage::decode(&message.to_frame()).unwrap(), message);
        }

        #[test]
        fn numeric_and_string_ids_decode_alike(id in any::<u64>()) {
            let as_number = format!(r#"{{"type":"remove","request_id":"r","id":{id}}}"#);
            let as_string = format!(r#"{{"type":"remove","request_id":"r","id":"{id}"}}"#);
            prop_assert_eq!(
                ClientMessage::decode(&as_number).unwrap(),
                ClientMessage::decode(&as_string).unwrap()
            );
            let change = format!(r#"{{"type":"change","version":1,"op":"added","user":{{"id":{id},"name":"A","email":"a@b.c"}}}}"#);
            let ServerMessage::Change(change) = ServerMessage::decode(&change).unwrap() else {
                panic!("not a change");
            };
            prop_assert_eq!(change.user.id, UserId::from(id));
        }

        #[test]
        fn arbitrary_text_is_read_back_exactly_or_refused_with_a_reason(frame in "\\PC{0,200}") {
            match ClientMessage::decode(&frame) {
                Ok(message) => prop_assert_eq!(ClientMessage::decode(&message.to_frame()).unwrap(), message),
                Err(err) => prop_assert!(!err.error.message.is_empty()),
            }
            match ServerMessage::decode(&frame) {
                Ok(message) => prop_assert_eq!(ServerMessage::decode(&message.to_frame()).unwrap(), message),
                Err(err) => prop_assert!(!err.error.message.is_empty()),
            }
        }
    }
}

#[test]
fn a_fresh_hello_is_the_frame_the_page_sends_before_its_module_loads() {
    let fresh = ClientMessage::Hello {
        since: None,
        epoch: None,
        token: None,
    };
    assert_eq!(fresh.to_frame(), FRESH_HELLO);
}
