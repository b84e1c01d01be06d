//! Tokens and access: asked for before each connect, refreshed before
//! they expire, one request at a time, and what 4401 and 4403 do; removes
//! through the outbox.

use super::*;
use crate::auth::{Scope, Session, Token};
use crate::user::UserId;

const MINUTE: u64 = 60_000;

fn asks(actions: &[Action]) -> Vec<u64> {
    pick(actions, |action| match action {
        Action::AskToken { request } => Some(*request),
        _ => None,
    })
}

fn hello_token(frame: &str) -> Option<Token> {
    match ClientMessage::decode(frame).unwrap() {
        ClientMessage::Hello { token, .. } => token,
        other => panic!("not a hello: {other:?}"),
    }
}

fn auths(actions: &[Action]) -> Vec<Token> {
    sent(actions)
        .iter()
        .filter_map(|frame| match ClientMessage::decode(frame).unwrap() {
            ClientMessage::Auth { token } => Some(token),
            _ => None,
        })
        .collect()
}

fn session(expires_at: Option<Millis>, scope: &[Scope]) -> ServerMessage {
    ServerMessage::Session(Session {
        sub: Some("ada".into()),
        scope: scope.to_vec(),
        expires_at,
        server_time: None,
    })
}

fn token(text: &str) -> Result<Option<Token>, String> {
    Ok(Some(Token::new(text)))
}

impl Harness {
    /// A page whose host gives tokens (`getToken`), seeded `seed`.
    fn asking(seed: u64) -> Self {
        let mut harness = Self::with(EngineConfig::default(), seed);
        harness.engine.use_tokens(TokenSource::Asked);
        harness
    }

    fn answer(&mut self, request: u64, answer: Result<Option<Token>, String>) -> Vec<Action> {
        self.event(Event::TokenAnswered { request, answer })
    }

    /// Starts, is given `text` for request 0 and opens a v1 socket;
    /// returns the hello sent.
    fn connect_with(&mut self, text: &str) -> String {
        assert_eq!(asks(&self.event(Event::Start { online: true })), [0]);
        assert_eq!(opens(&self.answer(0, token(text))), [true]);
        sent(&self.event(Event::Opened {
            protocol: Protocol::V1,
        }))
        .remove(0)
    }
}

#[test]
fn with_a_token_source_each_connect_asks_first_and_hello_carries_the_answer() {
    let mut h = Harness::asking(1);
    let start = h.event(Event::Start { online: true });
    assert_eq!(asks(&start), [0]);
    assert!(opens(&start).is_empty(), "no socket before the token");
    assert_eq!(h.state(), ConnectionState::Connecting);
    assert_eq!(opens(&h.answer(0, token("t1"))), [true]);
    let hello = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(hello_token(&hello[0]), Some(Token::new("t1")));

    // A lost connection asks again before the next try.
    h.drop_with(1006);
    let retry = h.after(h.retry_delay());
    assert_eq!(asks(&retry), [1]);
    assert_eq!(opens(&h.answer(1, token("t2"))), [true]);
}

#[test]
fn without_a_source_hello_carries_no_token_and_nothing_is_asked() {
    let mut h = Harness::new();
    let start = h.event(Event::Start { online: true });
    assert!(asks(&start).is_empty());
    let hello = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(hello_token(&hello[0]), None);
}

#[test]
fn the_session_schedules_a_refresh_whose_answer_goes_out_as_auth_on_the_same_socket() {
    let mut h = Harness::asking(2);
    h.connect_with("first");
    let expires_at = h.now + 10 * MINUTE;
    h.server(session(Some(expires_at), &[Scope::Read, Scope::Write]));
    let due = h.engine.tokens.next_deadline().unwrap();
    assert!(
        (expires_at - 3 * MINUTE..=expires_at - MINUTE).contains(&due),
        "refreshed 30 % to 10 % of its life before it expires"
    );
    let asked = h.after(due - h.now);
    assert_eq!(asks(&asked), [1]);
    let answered = h.answer(1, token("second"));
    assert_eq!(auths(&answered), [Token::new("second")]);
    assert!(closes(&answered).is_empty(), "the socket is never closed");
    assert_eq!(h.state(), ConnectionState::Connected);
}

#[test]
fn a_token_answered_after_a_reconnect_goes_to_the_new_socket_never_the_old_one() {
    let mut h = Harness::asking(3);
    h.connect_with("first");
    h.server(session(Some(h.now + MINUTE), &[Scope::Read, Scope::Write]));
    let due = h.engine.tokens.next_deadline().unwrap();
    assert_eq!(asks(&h.after(due - h.now)), [1]);
    // The socket goes before the host answers.
    h.drop_with(1006);
    let retry = h.after(h.retry_delay());
    assert!(
        asks(&retry).is_empty(),
        "one request at a time: it waits for 1"
    );
    assert!(opens(&retry).is_empty());
    let answered = h.answer(1, token("fresh"));
    assert!(
        auths(&answered).is_empty(),
        "no auth on a socket that is gone"
    );
    assert_eq!(opens(&answered), [true]);
    let hello = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(hello_token(&hello[0]), Some(Token::new("fresh")));
    // A late answer to a request nobody waits for changes nothing.
    assert!(h.answer(1, token("stale")).is_empty());
}

#[test]
fn a_4401_gets_a_new_token_and_connects_again_with_backoff() {
    let mut h = Harness::asking(4);
    h.connect_with("expired");
    h.drop_with(close_code::UNAUTHORIZED);
    assert_eq!(h.state(), ConnectionState::Reconnecting);
    assert!(h.status().next_retry_at.is_some(), "with backoff");
    let retry = h.after(h.retry_delay());
    assert_eq!(asks(&retry), [1]);
    assert_eq!(opens(&h.answer(1, token("renewed"))), [true]);
}

#[test]
fn without_a_token_the_page_stays_closed_until_the_user_or_the_host_asks() {
    for answer in [Ok(None), token(""), Err("the session ended".to_owned())] {
        let mut h = Harness::asking(5);
        h.event(Event::Start { online: true });
        let refused = h.answer(0, answer.clone());
        assert!(opens(&refused).is_empty(), "{answer:?}");
        assert_eq!(h.state(), ConnectionState::Closed);
        let problem = h.status().last_error.unwrap();
        assert_eq!(problem.kind(), "no_token");
        assert!(problem.is_alert());
        // Nothing is retried on its own, however long.
        let later = h.after(3_600_000);
        assert!(asks(&later).is_empty() && opens(&later).is_empty());
        // The host's refresh() asks again; so does the user's retry.
        assert_eq!(asks(&h.event(Event::Refresh)), [1]);
        h.answer(1, Err("still down".into()));
        assert_eq!(asks(&h.event(Event::Retry)), [2]);
    }
}

#[test]
fn a_token_request_never_answered_gives_up_after_the_connect_timeout() {
    let mut h = Harness::asking(6);
    h.event(Event::Start { online: true });
    assert_eq!(
        h.engine.next_deadline(),
        Some(h.now + EngineConfig::default().connect_timeout_ms)
    );
    h.after(EngineConfig::default().connect_timeout_ms);
    assert_eq!(h.state(), ConnectionState::Closed);
    assert_eq!(h.status().last_error.unwrap().kind(), "no_token");
}

#[test]
fn a_refresh_that_fails_keeps_the_socket_and_the_next_connect_asks_again() {
    let mut h = Harness::asking(7);
    h.connect_with("first");
    h.server(session(Some(h.now + MINUTE), &[Scope::Read]));
    let due = h.engine.tokens.next_deadline().unwrap();
    h.after(due - h.now);
    let failed = h.answer(1, Err("backend down".into()));
    assert!(closes(&failed).is_empty());
    assert_eq!(h.state(), ConnectionState::Connected);
    assert_eq!(h.status().last_error.unwrap().kind(), "no_token");
    // The server ends the expired session; the next try asks afresh.
    h.drop_with(close_code::UNAUTHORIZED);
    assert_eq!(asks(&h.after(h.retry_delay())), [2]);
}

#[test]
fn a_page_that_gives_its_own_token_presents_a_new_one_at_once() {
    let mut h = Harness::new();
    h.engine
        .use_tokens(TokenSource::Fixed(Token::new("page-1")));
    h.event(Event::Start { online: true });
    let hello = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(hello_token(&hello[0]), Some(Token::new("page-1")));
    let given = h.event(Event::TokenGiven(Token::new("page-2")));
    assert_eq!(auths(&given), [Token::new("page-2")]);
    // Refused, a fixed token cannot be renewed by the engine: it stops,
    // and a new one from the page connects again.
    h.drop_with(close_code::UNAUTHORIZED);
    assert_eq!(h.state(), ConnectionState::Closed);
    assert_eq!(
        opens(&h.event(Event::TokenGiven(Token::new("page-3")))),
        [true]
    );
}

#[test]
fn a_4403_stops_for_good_even_with_a_token_source() {
    let mut h = Harness::asking(8);
    h.connect_with("reader-without-read");
    h.drop_with(close_code::FORBIDDEN);
    assert_eq!(h.state(), ConnectionState::Closed);
    assert_eq!(h.status().last_error.unwrap().kind(), "refused");
    let later = h.after(3_600_000);
    assert!(asks(&later).is_empty() && opens(&later).is_empty());
}

#[test]
fn the_session_says_whether_the_page_may_write() {
    let mut h = Harness::connected(Protocol::V1);
    assert_eq!(h.status().access, Access::Write, "until told otherwise");
    h.server(session(None, &[Scope::Read]));
    assert_eq!(h.status().access, Access::Read);
    h.server(session(None, &[Scope::Read, Scope::Write]));
    assert_eq!(h.status().access, Access::Write);
}

#[test]
fn a_thousand_pages_whose_tokens_expire_together_spread_their_requests() {
    let expires_at = 1_000_000 + 10 * MINUTE;
    let mut asked_at = Vec::new();
    for seed in 0..1_000 {
        let mut h = Harness::asking(seed);
        h.connect_with("shared-expiry");
        h.server(session(Some(expires_at), &[Scope::Read, Scope::Write]));
        let due = h.engine.tokens.next_deadline().unwrap();
        assert_eq!(asks(&h.after(due - h.now)), [1]);
        asked_at.push(due);
    }
    asked_at.sort_unstable();
    let spread = asked_at[999] - asked_at[0];
    assert!(spread > 100_000, "spread over {spread} ms");
    // No second gets more than a few times its share (1,000 over 120 s).
    let mut per_second = std::collections::HashMap::new();
    for at in &asked_at {
        *per_second.entry(at / 1_000).or_insert(0) += 1;
    }
    let busiest = per_second.values().max().unwrap();
    assert!(*busiest <= 30, "{busiest} requests in one second");
    assert!(
        asked_at.iter().all(|at| *at < expires_at),
        "all before expiry"
    );
}

#[test]
fn removes_wait_in_the_outbox_and_are_acknowledged_like_adds() {
    let mut h = Harness::new();
    h.event(Event::Start { online: false });
    let queued = h.event(Event::Remove(UserId::new("7")));
    assert_eq!(h.engine.pending(), 1);
    let kept = pick(&queued, |action| match action {
        Action::SaveWrites(writes) => Some(writes.clone()),
        _ => None,
    });
    assert_eq!(kept[0][0].write, Write::Remove(UserId::new("7")));
    h.event(Event::Online);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    let remove = frames
        .iter()
        .find(|frame| frame.contains(r#""type":"remove""#))
        .expect("the remove goes out on connect");
    let ClientMessage::Remove { request_id, id } = ClientMessage::decode(remove).unwrap() else {
        panic!("not a remove");
    };
    assert_eq!(id, UserId::new("7"));
    h.server(ServerMessage::Ack(Ack::done(
        request_id,
        &Change {
            version: 1,
            op: ChangeOp::Removed,
            user: user(7),
        },
    )));
    assert_eq!(h.engine.pending(), 0);
}

#[test]
fn a_remove_waits_for_v1_rather_than_going_to_a_seed_server() {
    let mut h = Harness::connected(Protocol::Seed);
    let removed = h.event(Event::Remove(UserId::new("3")));
    assert!(
        sent(&removed).is_empty(),
        "a seed server cannot remove user 3"
    );
    assert_eq!(h.engine.pending(), 1);
}

#[test]
fn the_refresh_follows_the_servers_clock_not_the_pages() {
    // The page's clock is an hour behind the server's (or jumped): the
    // token's minute is counted from the server's time in the session.
    let mut h = Harness::asking(9);
    h.connect_with("t1");
    let server_now = h.now + 3_600_000;
    h.server(ServerMessage::Session(Session {
        sub: Some("ada".into()),
        scope: vec![Scope::Read, Scope::Write],
        expires_at: Some(server_now + MINUTE),
        server_time: Some(server_now),
    }));
    let due = h
        .engine
        .tokens
        .next_deadline()
        .expect("a refresh is planned");
    assert!(
        (h.now + 42_000..=h.now + 54_000).contains(&due),
        "refresh {} ms from now",
        due - h.now
    );
}
