//! The engine driven by a fake clock and seeded randomness: every rule of
//! the module docs, event by event. Tokens and removes: `tokens.rs`.

mod tokens;

use super::*;
use crate::connection::ConnectionState;
use crate::error::ErrorCode;
use crate::fixtures::user;
use crate::list::{ListEdit, UserList};
use crate::user::User;
use crate::v1::{Ack, Change, ChangeOp, ClientMessage, ErrorBody, ServerMessage};
use crate::validate::RequestId;

const URL: &str = "ws://roster.test/api/v1/users/ws";

/// An engine, a fake clock, and what the engine asked for.
struct Harness {
    engine: Engine,
    now: Millis,
    /// The list as the view holds it, edited as the engine says.
    users: UserList,
}

impl Harness {
    fn new() -> Self {
        Self::with(EngineConfig::default(), 1)
    }

    fn with(config: EngineConfig, seed: u64) -> Self {
        Self {
            engine: Engine::new(config, URL, seed),
            now: 1_000_000,
            users: UserList::default(),
        }
    }

    fn event(&mut self, event: Event) -> Vec<Action> {
        let actions = self.engine.handle(self.now, event);
        for action in &actions {
            if let Action::EditUsers(edit) = action {
                self.users.edit(edit.clone());
            }
        }
        actions
    }

    /// The users on screen, in order.
    fn users(&self) -> Vec<User> {
        self.users.iter().cloned().collect()
    }

    /// Moves the clock on and fires the timer.
    fn after(&mut self, ms: u64) -> Vec<Action> {
        self.now += ms;
        self.event(Event::Tick)
    }

    /// Starts and opens a connection speaking `protocol`.
    fn connected(protocol: Protocol) -> Self {
        let mut harness = Self::new();
        harness.open(protocol);
        harness
    }

    fn open(&mut self, protocol: Protocol) -> Vec<Action> {
        if self.engine.phase == Phase::Idle {
            self.event(Event::Start { online: true });
        }
        self.event(Event::Opened { protocol })
    }

    fn server(&mut self, message: ServerMessage) -> Vec<Action> {
        self.event(Event::Frame(message.to_frame()))
    }

    /// Ends the current socket (server close or failed open).
    fn drop_with(&mut self, code: u16) -> Vec<Action> {
        self.event(Event::Closed {
            code,
            reason: String::new(),
        })
    }

    fn status(&self) -> ConnectionStatus {
        self.engine.status()
    }

    fn state(&self) -> ConnectionState {
        self.status().state
    }

    /// How long until the retry that is being waited for.
    fn retry_delay(&self) -> u64 {
        self.status().next_retry_at.expect("waiting for a retry") - self.now
    }
}

/// What `pick` finds in each action, in order.
fn pick<T>(actions: &[Action], pick: impl Fn(&Action) -> Option<T>) -> Vec<T> {
    actions.iter().filter_map(pick).collect()
}

fn sent(actions: &[Action]) -> Vec<String> {
    pick(actions, |action| match action {
        Action::Send(frame) => Some(frame.clone()),
        _ => None,
    })
}

fn opens(actions: &[Action]) -> Vec<bool> {
    pick(actions, |action| match action {
        Action::Open { offer_v1 } => Some(*offer_v1),
        _ => None,
    })
}

fn closes(actions: &[Action]) -> Vec<u16> {
    pick(actions, |action| match action {
        Action::Close { code, .. } => Some(*code),
        _ => None,
    })
}

fn snapshot(version: u64, users: Vec<User>) -> ServerMessage {
    ServerMessage::Snapshot {
        epoch: "e".into(),
        version,
        users,
    }
}

fn added(version: u64, id: u64) -> ServerMessage {
    ServerMessage::Change(Change {
        version,
        op: ChangeOp::Added,
        user: user(id),
    })
}

fn request_id_of(frame: &str) -> RequestId {
    match ClientMessage::decode(frame).unwrap() {
        ClientMessage::Add { request_id, .. } => request_id,
        other => panic!("not an add: {other:?}"),
    }
}

fn ack_ok(frame: &str, version: u64, id: u64) -> ServerMessage {
    ServerMessage::Ack(Ack::done(
        request_id_of(frame),
        &Change {
            version,
            op: ChangeOp::Added,
            user: user(id),
        },
    ))
}

fn ack_err(frame: &str, code: ErrorCode, message: &str) -> ServerMessage {
    ack_err_body(frame, ErrorBody::new(code, message))
}

fn ack_err_body(frame: &str, error: ErrorBody) -> ServerMessage {
    ServerMessage::Ack(Ack::failed(request_id_of(frame), error))
}

fn ping_nonce(frame: &str) -> Option<u64> {
    match ClientMessage::decode(frame).unwrap() {
        ClientMessage::Ping { nonce } => nonce,
        other => panic!("not a ping: {other:?}"),
    }
}

// --- backoff -------------------------------------------------------------

#[test]
fn each_failed_try_waits_within_a_doubling_ceiling_up_to_the_cap() {
    let mut h = Harness::new();
    assert_eq!(opens(&h.event(Event::Start { online: true })), [true]);
    for attempt in 0..10u32 {
        // v1 offer refused, then the plain open in the same try refused.
        assert_eq!(opens(&h.drop_with(1006)), [false], "try {attempt}");
        h.drop_with(1006);
        assert_eq!(h.state(), ConnectionState::Reconnecting);
        assert_eq!(h.status().attempt, attempt + 1);
        let delay = h.retry_delay();
        assert!(
            delay <= ceiling(500, 30_000, attempt),
            "try {attempt}: {delay}"
        );
        assert!(h
            .status()
            .last_error
            .unwrap()
            .to_string()
            .contains("could not connect to ws://roster.test"));
        let actions = h.after(delay);
        assert_eq!(opens(&actions), [true], "the retry opens when due");
    }
    assert_eq!(ceiling(500, 30_000, 9), 30_000);
}

#[test]
fn first_retries_of_many_clients_spread_over_the_whole_window() {
    let delays: Vec<u64> = (0..500)
        .map(|seed| {
            let mut h = Harness::with(EngineConfig::default(), seed);
            h.open(Protocol::V1);
            h.after(5_000); // healthy
            h.drop_with(1001);
            h.retry_delay()
        })
        .collect();
    assert!(delays.iter().all(|d| *d <= 500));
    let buckets = delays.iter().fold([0; 5], |mut buckets, d| {
        buckets[(*d as usize * 5 / 501).min(4)] += 1;
        buckets
    });
    assert!(
        buckets.iter().all(|n| *n > 60),
        "uneven spread: {buckets:?}"
    );
}

#[test]
fn a_client_told_of_a_crowd_spreads_its_first_retry_over_the_crowd_window() {
    let delays: Vec<u64> = (0..500)
        .map(|seed| {
            let mut h = Harness::with(EngineConfig::default(), seed);
            h.open(Protocol::V1);
            h.server(ServerMessage::Presence { viewers: 10_000 });
            h.after(5_000);
            h.drop_with(1006);
            // A delay of 0 opens at once, with nothing to wait for.
            h.status().next_retry_at.map_or(0, |at| at - h.now)
        })
        .collect();
    // 10,000 viewers at 1,000 connections a second: up to 10 s.
    assert!(delays.iter().all(|d| *d <= 10_000));
    assert!(
        delays.iter().filter(|d| **d > 5_000).count() > 150,
        "{delays:?}"
    );
}

#[test]
fn the_attempt_counter_resets_only_after_a_healthy_connection() {
    let mut h = Harness::connected(Protocol::V1);
    // A server that accepts and drops at once keeps backing off.
    for expected in 1..=5 {
        h.after(100);
        h.drop_with(1000);
        assert_eq!(h.status().attempt, expected);
        let delay = h.retry_delay();
        h.after(delay);
        h.event(Event::Opened {
            protocol: Protocol::V1,
        });
        assert_eq!(h.state(), ConnectionState::Connected);
    }
    h.after(4_999);
    assert_eq!(h.status().attempt, 5, "not yet healthy");
    h.after(1);
    assert_eq!(h.status().attempt, 0, "healthy after 5 s");
    h.drop_with(1001);
    assert_eq!(h.status().attempt, 1);
    assert!(h.retry_delay() <= 500);
}

#[test]
fn a_snapshot_counts_as_healthy_at_once_and_so_does_a_first_seed_list() {
    for protocol in [Protocol::V1, Protocol::Seed] {
        let mut h = Harness::connected(protocol);
        for _ in 0..3 {
            h.drop_with(1000);
            let delay = h.retry_delay();
            h.after(delay);
            h.event(Event::Opened { protocol });
        }
        assert_eq!(h.status().attempt, 3);
        match protocol {
            Protocol::V1 => h.server(snapshot(1, vec![user(1)])),
            Protocol::Seed => h.event(Event::Frame("[]".into())),
        };
        assert_eq!(h.status().attempt, 0, "{protocol:?}");
    }
}

#[test]
fn retry_now_skips_the_wait() {
    let mut h = Harness::connected(Protocol::V1);
    h.drop_with(1006);
    assert!(h.status().next_retry_at.is_some());
    assert_eq!(opens(&h.event(Event::Retry)), [true]);
    assert_eq!(h.status().next_retry_at, None);
    assert!(opens(&h.event(Event::Retry)).is_empty(), "already opening");
}

#[test]
fn retries_never_stop() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    for _ in 0..200 {
        h.drop_with(1006);
        h.drop_with(1006);
        let delay = h.retry_delay();
        assert!(delay <= 30_000);
        assert_eq!(opens(&h.after(delay)), [true]);
    }
    assert_eq!(h.status().attempt, 200);
}

// --- opening ---------------------------------------------------------------

#[test]
fn a_socket_that_never_opens_is_abandoned_after_the_connect_timeout() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    assert!(closes(&h.after(9_999)).is_empty());
    let actions = h.after(1);
    assert_eq!(closes(&actions), [close_code::DEAD]);
    assert!(opens(&actions).is_empty(), "no plain open after a timeout");
    assert_eq!(h.state(), ConnectionState::Reconnecting);
    assert!(h
        .status()
        .last_error
        .unwrap()
        .to_string()
        .contains("did not answer within 10000 ms"));
}

#[test]
fn a_refused_v1_offer_falls_back_to_a_plain_open_in_the_same_try() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    assert_eq!(opens(&h.drop_with(1006)), [false]);
    assert_eq!(h.status().attempt, 0);
    h.event(Event::Opened {
        protocol: Protocol::Seed,
    });
    assert_eq!(h.status().protocol, Some(Protocol::Seed));
}

#[test]
fn after_speaking_v1_the_fallback_waits_for_the_third_failed_try() {
    let mut h = Harness::connected(Protocol::V1);
    h.drop_with(1001);
    let mut plain_opens = Vec::new();
    for _ in 0..5 {
        let delay = h.retry_delay();
        h.after(delay);
        let fell_back = !opens(&h.drop_with(1006)).is_empty();
        plain_opens.push(fell_back);
        if fell_back {
            h.drop_with(1006);
        }
    }
    assert_eq!(plain_opens, [false, false, true, true, true]);
}

#[test]
fn an_unusable_url_closes_for_good() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    let actions = h.event(Event::Unusable {
        reason: "cannot open x".into(),
    });
    assert!(actions.contains(&Action::DisarmTimer));
    assert_eq!(h.state(), ConnectionState::Closed);
    assert!(opens(&h.after(3_600_000)).is_empty());
}

// --- heartbeat --------------------------------------------------------------

#[test]
fn a_ping_goes_out_every_interval_and_the_pong_gives_the_round_trip() {
    let mut h = Harness::connected(Protocol::V1);
    assert!(sent(&h.after(24_999)).is_empty());
    let ping = sent(&h.after(1));
    assert_eq!(ping.len(), 1);
    h.now += 42;
    h.server(ServerMessage::Pong {
        nonce: ping_nonce(&ping[0]),
    });
    assert_eq!(h.status().rtt_ms, Some(42));
    let next = sent(&h.after(25_000 - 42));
    assert_eq!(next.len(), 1);
    assert_ne!(ping_nonce(&next[0]), ping_nonce(&ping[0]));
}

#[test]
fn silence_after_a_ping_closes_with_4000_and_reconnects() {
    let mut h = Harness::connected(Protocol::V1);
    h.after(25_000);
    assert!(closes(&h.after(9_999)).is_empty());
    let actions = h.after(1);
    assert_eq!(closes(&actions), [close_code::DEAD]);
    assert_eq!(h.state(), ConnectionState::Reconnecting);
    assert_eq!(
        h.status().last_error,
        Some(Problem::StoppedAnswering {
            timeout_ms: EngineConfig::default().pong_timeout_ms
        })
    );
    assert!(h.retry_delay() <= 500, "the connection had been healthy");
}

#[test]
fn any_frame_after_a_ping_counts_as_life() {
    let mut h = Harness::connected(Protocol::V1);
    h.after(25_000);
    h.now += 9_000;
    h.server(ServerMessage::Presence { viewers: 2 });
    assert!(closes(&h.after(5_000)).is_empty());
    assert_eq!(h.state(), ConnectionState::Connected);
    assert_eq!(
        h.status().rtt_ms,
        None,
        "only a pong measures the round trip"
    );
}

#[test]
fn a_deadline_missed_while_timers_were_throttled_is_caught_on_the_next_event() {
    let mut h = Harness::connected(Protocol::V1);
    h.after(25_000); // ping sent; the tab goes to the background
    h.now += 120_000; // no timer fired meanwhile
    let actions = h.event(Event::Visible);
    assert_eq!(closes(&actions), [close_code::DEAD]);
}

#[test]
fn a_seed_server_is_never_pinged() {
    let mut h = Harness::connected(Protocol::Seed);
    let mut frames = Vec::new();
    for _ in 0..100 {
        frames.extend(sent(&h.after(60_000)));
    }
    assert!(frames.is_empty(), "{frames:?}");
    assert_eq!(h.state(), ConnectionState::Connected);
}

#[test]
fn the_timer_follows_the_next_deadline() {
    let mut h = Harness::new();
    let actions = h.event(Event::Start { online: true });
    assert!(
        actions.contains(&Action::ArmTimer { at: h.now + 10_000 }),
        "connect timeout"
    );
    let actions = h.event(Event::Opened {
        protocol: Protocol::V1,
    });
    assert!(
        actions.contains(&Action::ArmTimer { at: h.now + 5_000 }),
        "healthy check"
    );
    let actions = h.after(5_000);
    assert!(
        actions.contains(&Action::ArmTimer { at: h.now + 20_000 }),
        "first ping"
    );
}

// --- browser events ---------------------------------------------------------

#[test]
fn offline_closes_and_waits_without_timers_until_online() {
    let mut h = Harness::connected(Protocol::V1);
    let actions = h.event(Event::Offline);
    assert_eq!(closes(&actions), [close_code::NORMAL]);
    assert!(actions.contains(&Action::DisarmTimer));
    assert_eq!(h.state(), ConnectionState::Offline);
    assert!(
        h.after(3_600_000).is_empty(),
        "nothing happens while offline"
    );
    let actions = h.event(Event::Online);
    assert_eq!(opens(&actions), [true], "online connects at once");
    assert_eq!(h.state(), ConnectionState::Connecting);
}

#[test]
fn online_resets_the_backoff_of_a_waiting_client() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    for _ in 0..6 {
        h.drop_with(1006);
        h.drop_with(1006);
        let delay = h.retry_delay();
        h.after(delay);
    }
    h.drop_with(1006);
    h.drop_with(1006);
    assert_eq!(h.status().attempt, 7);
    assert_eq!(opens(&h.event(Event::Online)), [true]);
    assert_eq!(h.status().attempt, 0);
}

#[test]
fn starting_offline_waits_for_online() {
    let mut h = Harness::new();
    let actions = h.event(Event::Start { online: false });
    assert!(opens(&actions).is_empty());
    assert_eq!(h.state(), ConnectionState::Offline);
    assert_eq!(opens(&h.event(Event::Online)), [true]);
}

#[test]
fn becoming_visible_connects_at_once_when_down_and_does_nothing_when_up() {
    let mut h = Harness::connected(Protocol::V1);
    assert!(h.event(Event::Hidden).is_empty());
    assert!(opens(&h.event(Event::Visible)).is_empty());
    h.drop_with(1006);
    assert_eq!(opens(&h.event(Event::Visible)), [true]);
}

#[test]
fn the_back_forward_cache_closes_and_reopens_cleanly() {
    let mut h = Harness::connected(Protocol::V1);
    let actions = h.event(Event::PageHide);
    assert_eq!(closes(&actions), [close_code::GOING_AWAY]);
    assert!(h.after(600_000).is_empty(), "no retries while in the cache");
    assert_eq!(opens(&h.event(Event::PageShow)), [true]);
    assert_eq!(h.status().attempt, 0);
}

// --- close codes ------------------------------------------------------------

#[test]
fn each_close_code_class_gets_its_treatment() {
    // (code, reconnects on its own)
    let table = [
        (1000, true),
        (1001, true),
        (1006, true),
        (1009, true),
        (1011, true),
        (4000, true),
        (1008, false),
        (4401, false),
        (4403, false),
    ];
    for (code, reconnects) in table {
        let mut h = Harness::connected(Protocol::V1);
        h.event(Event::Closed {
            code,
            reason: "because".into(),
        });
        let error = h.status().last_error.unwrap();
        let close = Close {
            code,
            reason: "because".into(),
        };
        let expected = if reconnects {
            Problem::ConnectionLost { close }
        } else {
            Problem::Refused { close }
        };
        assert_eq!(error, expected, "{code}");
        assert!(error.to_string().contains(&format!("code {code}: because")));
        let retried = !opens(&h.after(3_600_000)).is_empty();
        assert_eq!(retried, reconnects, "code {code}");
        if !reconnects {
            assert_eq!(h.state(), ConnectionState::Closed, "code {code}");
            assert_eq!(opens(&h.event(Event::Retry)), [true], "the user may retry");
        }
    }
}

#[test]
fn a_missing_or_deleted_list_is_said_in_words_and_not_retried() {
    for (code, kind, words) in [
        (
            close_code::NO_SUCH_LIST,
            "no_such_list",
            "No list named default",
        ),
        (
            close_code::LIST_DELETED,
            "list_deleted",
            "This list was deleted",
        ),
    ] {
        let mut h = Harness::connected(Protocol::V1);
        h.event(Event::Closed {
            code,
            reason: "from the server".into(),
        });
        let error = h.status().last_error.unwrap();
        assert_eq!((error.kind(), error.to_string().as_str()), (kind, words));
        assert!(error.is_alert());
        assert!(opens(&h.after(3_600_000)).is_empty(), "{code}: not retried");
        assert_eq!(h.state(), ConnectionState::Closed);
        assert_eq!(opens(&h.event(Event::Retry)), [true], "the user may retry");
    }
}

#[test]
fn the_users_disconnect_is_never_undone_automatically() {
    let mut h = Harness::connected(Protocol::V1);
    let actions = h.event(Event::Disconnect);
    assert_eq!(closes(&actions), [close_code::NORMAL]);
    assert_eq!(h.state(), ConnectionState::Closed);
    for event in [
        Event::Online,
        Event::Visible,
        Event::PageShow,
        Event::Offline,
        Event::Online,
    ] {
        assert!(opens(&h.event(event)).is_empty());
    }
    assert!(opens(&h.after(3_600_000)).is_empty());
    assert_eq!(h.state(), ConnectionState::Closed);
    assert_eq!(opens(&h.event(Event::Retry)), [true]);
}

#[test]
fn a_stale_close_from_an_abandoned_socket_is_ignored() {
    let mut h = Harness::connected(Protocol::V1);
    h.event(Event::Disconnect);
    assert!(h.drop_with(1006).is_empty());
    assert_eq!(h.state(), ConnectionState::Closed);
}

// --- outbox ---------------------------------------------------------------

#[test]
fn a_v1_add_is_pending_until_acknowledged() {
    let mut h = Harness::connected(Protocol::V1);
    let frames = sent(&h.event(Event::Add));
    assert_eq!(frames.len(), 1);
    assert_eq!(h.engine.pending(), 1);
    let actions = h.server(ack_ok(&frames[0], 1, 1));
    assert!(actions.contains(&Action::ShowPending(0)));
}

#[test]
fn unacknowledged_adds_are_resent_under_the_same_id_after_a_reconnect() {
    let mut h = Harness::connected(Protocol::V1);
    h.server(snapshot(3, vec![user(1)]));
    let first = sent(&h.event(Event::Add)).remove(0);
    h.drop_with(1006);
    h.event(Event::Add); // while down: queued
    h.event(Event::Retry);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0], r#"{"type":"hello","since":3,"epoch":"e"}"#);
    assert_eq!(frames[1], first, "same request id");
    let second = frames[2].clone();
    h.server(ack_ok(&first, 4, 2));
    h.server(ack_ok(&second, 5, 3));
    assert_eq!(h.engine.pending(), 0);
    // Acknowledged adds are not sent again.
    h.drop_with(1006);
    h.event(Event::Retry);
    assert_eq!(
        sent(&h.event(Event::Opened {
            protocol: Protocol::V1
        }))
        .len(),
        1
    );
}

#[test]
fn a_seed_server_gets_queued_adds_once_and_nothing_is_resent() {
    let mut h = Harness::new();
    h.event(Event::Start { online: false });
    for _ in 0..3 {
        h.event(Event::Add);
    }
    assert_eq!(h.engine.pending(), 3);
    h.event(Event::Online);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::Seed,
    }));
    assert_eq!(frames, ["__addUser__"; 3]);
    assert_eq!(h.engine.pending(), 0);
    assert_eq!(sent(&h.event(Event::Add)), ["__addUser__"]);
    h.drop_with(1006);
    h.event(Event::Retry);
    assert!(sent(&h.event(Event::Opened {
        protocol: Protocol::Seed
    }))
    .is_empty());
}

#[test]
fn adds_a_v1_server_may_have_done_or_another_tab_may_send_never_go_to_a_seed_server() {
    // A page that has never spoken v1: restored adds (another tab may
    // send them to a v1 server) stay; only its own unsent add goes.
    let mut fresh = Harness::new();
    fresh.engine.restore_writes(vec![SavedWrite {
        request_id: RequestId::parse("kept-by-another-tab").unwrap(),
        write: Write::Add,
        queued_at: fresh.now,
        sent: false,
    }]);
    fresh.event(Event::Start { online: false });
    fresh.event(Event::Add);
    fresh.event(Event::Online);
    let frames = sent(&fresh.event(Event::Opened {
        protocol: Protocol::Seed,
    }));
    assert_eq!(frames, ["__addUser__"]);
    assert_eq!(fresh.engine.pending(), 1);

    // A page that has spoken v1: when the plain open catches the server
    // restarting, nothing waiting goes over it, however many tries later.
    let mut h = Harness::connected(Protocol::V1);
    let in_flight = request_id_of(&sent(&h.event(Event::Add)).remove(0));
    h.drop_with(1006);
    h.event(Event::Add);
    for _ in 0..2 {
        h.event(Event::Retry);
        let actions = h.event(Event::Opened {
            protocol: Protocol::Seed,
        });
        assert!(sent(&actions).is_empty());
        // It closes that connection and tries again, with backoff.
        assert_eq!(closes(&actions), [close_code::NORMAL]);
        assert_eq!(h.state(), ConnectionState::Reconnecting);
        assert_eq!(h.status().last_error, Some(Problem::V1Expected));
        assert_eq!(h.engine.pending(), 2);
    }
    // The next v1 connection sends both under their ids.
    h.event(Event::Retry);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    let ids: Vec<_> = frames[1..].iter().map(|f| request_id_of(f)).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], in_flight);
}

#[test]
fn an_add_pressed_on_a_plain_connection_to_a_server_that_spoke_v1_waits_for_v1() {
    // The plain open caught a restarting Roster server with nothing
    // waiting, so the connection stayed. An add pressed now must not go
    // as an unacknowledged seed command, which a crash would lose.
    let mut h = Harness::connected(Protocol::V1);
    h.drop_with(1006);
    h.event(Event::Retry);
    assert!(sent(&h.event(Event::Opened {
        protocol: Protocol::Seed
    }))
    .is_empty());
    let actions = h.event(Event::Add);
    assert!(sent(&actions).is_empty(), "{actions:?}");
    assert_eq!(closes(&actions), [close_code::NORMAL]);
    assert_eq!(h.engine.pending(), 1);
    assert_eq!(h.state(), ConnectionState::Reconnecting);
    assert_eq!(h.status().last_error, Some(Problem::V1Expected));
    // The next v1 connection sends it under its id.
    h.event(Event::Retry);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(frames.len(), 2, "{frames:?}");
    assert!(frames[1].contains(r#""type":"add""#));
}

#[test]
fn a_page_that_remembers_v1_waits_for_the_third_try_before_the_seed_fallback() {
    let mut h = Harness::new();
    h.engine.remember_v1();
    h.event(Event::Start { online: true });
    // The v1 offer fails: no plain open in the same try.
    let actions = h.drop_with(1006);
    assert!(opens(&actions).is_empty(), "{actions:?}");
}

#[test]
fn a_full_outbox_refuses_the_add_with_an_error() {
    let config = EngineConfig {
        outbox_max: 3,
        ..EngineConfig::default()
    };
    let mut h = Harness::with(config, 1);
    h.event(Event::Start { online: false });
    for _ in 0..4 {
        h.event(Event::Add);
    }
    assert_eq!(h.engine.pending(), 3);
    let error = h.status().last_error.unwrap();
    assert_eq!(error, Problem::OutboxFull { max: 3 });
}

fn saved(actions: &[Action]) -> Vec<Vec<SavedWrite>> {
    pick(actions, |action| match action {
        Action::SaveWrites(adds) => Some(adds.clone()),
        _ => None,
    })
}

#[test]
fn every_change_to_the_outbox_is_saved_and_only_then() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    let queued = saved(&h.event(Event::Add));
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].len(), 1);
    assert!(!queued[0][0].sent, "not sent while connecting");
    assert!(
        saved(&h.after(10)).is_empty(),
        "nothing changed, nothing saved"
    );

    let opened = h.event(Event::Opened {
        protocol: Protocol::V1,
    });
    let in_flight = saved(&opened);
    assert_eq!(in_flight.len(), 1);
    assert!(in_flight[0][0].sent, "saved as sent once handed over");
    let frame = sent(&opened).remove(1);
    let settled = saved(&h.server(ack_ok(&frame, 1, 1)));
    assert_eq!(
        settled,
        [Vec::<SavedWrite>::new()],
        "gone once acknowledged"
    );
}

#[test]
fn adds_saved_before_a_reload_are_sent_again_under_their_ids() {
    // A page with one add sent but not acknowledged, and one never sent.
    let mut before = Harness::connected(Protocol::V1);
    let in_flight = sent(&before.event(Event::Add)).remove(0);
    before.drop_with(1006);
    // What the page last stored is what a reload finds.
    let kept = saved(&before.event(Event::Add)).pop().unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept.iter().filter(|add| add.sent).count(), 1);

    // The reloaded page: a new engine, given what was kept.
    let mut after = Harness::new();
    let restored = after.engine.restore_writes(kept.clone());
    assert!(restored.contains(&Action::ShowPending(2)));
    after.event(Event::Start { online: true });
    let frames = sent(&after.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    let resent: Vec<_> = frames[1..].iter().map(|f| request_id_of(f)).collect();
    let kept_ids: Vec<_> = kept.iter().map(|add| add.request_id.clone()).collect();
    assert_eq!(resent, kept_ids, "the same ids, oldest first");
    assert_eq!(resent[0], request_id_of(&in_flight));
    after.server(ack_ok(&frames[1], 1, 1));
    after.server(ack_ok(&frames[2], 2, 2));
    assert_eq!(after.engine.pending(), 0);
}

#[test]
fn adds_that_wait_too_long_for_a_connection_expire_with_an_error() {
    let mut h = Harness::new();
    h.event(Event::Start { online: false });
    let actions = h.event(Event::Add);
    assert!(
        actions.contains(&Action::ArmTimer { at: h.now + 60_000 }),
        "expiry timer"
    );
    h.now += 30_000;
    h.event(Event::Add);
    let actions = h.after(30_000);
    assert!(actions.contains(&Action::ShowPending(1)));
    assert!(h
        .status()
        .last_error
        .unwrap()
        .to_string()
        .contains("1 add waited more than 60000 ms"));
    h.after(30_000);
    assert_eq!(h.engine.pending(), 0);
}

#[test]
fn an_add_already_sent_to_a_v1_server_waits_for_its_ack_instead_of_expiring() {
    let mut h = Harness::connected(Protocol::V1);
    let frame = sent(&h.event(Event::Add)).remove(0);
    h.event(Event::Offline);
    h.after(600_000);
    assert_eq!(h.engine.pending(), 1);
    h.event(Event::Online);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(frames[1], frame);
}

#[test]
fn a_rate_limited_add_is_sent_again_after_the_named_wait() {
    let mut h = Harness::connected(Protocol::V1);
    let frame = sent(&h.event(Event::Add)).remove(0);
    h.server(ServerMessage::Ack(Ack::failed(
        request_id_of(&frame),
        ErrorBody::new(ErrorCode::RateLimited, "too many changes").retry_after(250),
    )));
    assert_eq!(h.engine.pending(), 1);
    assert_eq!(
        h.status().last_error,
        Some(Problem::SlowedDown { wait_ms: 250 })
    );
    assert!(sent(&h.after(249)).is_empty());
    assert_eq!(sent(&h.after(1)), std::slice::from_ref(&frame));
    h.server(ack_ok(&frame, 1, 1));
    assert_eq!(h.engine.pending(), 0);
}

#[test]
fn a_rate_limited_add_that_names_no_wait_waits_a_second() {
    let mut h = Harness::connected(Protocol::V1);
    let frame = sent(&h.event(Event::Add)).remove(0);
    // The words name a wait, but only the field counts.
    h.server(ack_err(&frame, ErrorCode::RateLimited, "retry in 5 ms"));
    assert!(sent(&h.after(999)).is_empty());
    assert_eq!(sent(&h.after(1)), std::slice::from_ref(&frame));
}

#[test]
fn an_add_the_server_could_not_save_is_sent_again_with_its_id_less_and_less_often() {
    let mut h = Harness::connected(Protocol::V1);
    let frame = sent(&h.event(Event::Add)).remove(0);
    let unavailable = || {
        ack_err_body(
            &frame,
            ErrorBody::new(ErrorCode::StoreUnavailable, "redis is down").retry_after(500),
        )
    };
    h.server(unavailable());
    assert_eq!(h.engine.pending(), 1, "kept");
    assert_eq!(
        h.status().last_error,
        Some(Problem::StoreUnavailable { wait_ms: 500 })
    );
    assert!(sent(&h.after(499)).is_empty());
    assert_eq!(
        sent(&h.after(1)),
        std::slice::from_ref(&frame),
        "the same id"
    );
    h.server(unavailable());
    assert!(sent(&h.after(999)).is_empty(), "twice as long");
    assert_eq!(sent(&h.after(1)), std::slice::from_ref(&frame));
    for _ in 0..10 {
        h.server(unavailable());
        h.after(10_000);
    }
    h.server(unavailable());
    assert_eq!(
        h.status().last_error,
        Some(Problem::StoreUnavailable { wait_ms: 5_000 }),
        "never more than 5 s"
    );
    h.after(10_000);
    h.server(ack_ok(&frame, 1, 1));
    assert_eq!(h.engine.pending(), 0);
}

#[test]
fn an_add_the_server_could_not_save_is_kept_and_sent_again() {
    // A full disk (storage_failed) passes like an unreachable store: the
    // server changed nothing, so the add waits and goes again, same id.
    let mut h = Harness::connected(Protocol::V1);
    let frame = sent(&h.event(Event::Add)).remove(0);
    h.server(ack_err(&frame, ErrorCode::StorageFailed, "disk full"));
    assert_eq!(h.engine.pending(), 1, "kept");
    assert!(matches!(
        h.status().last_error,
        Some(Problem::StoreUnavailable { .. })
    ));
    let again = sent(&h.after(10_000));
    assert_eq!(
        again,
        std::slice::from_ref(&frame),
        "sent again under the same id"
    );
    h.server(ack_ok(&frame, 1, 1));
    assert_eq!(h.engine.pending(), 0);
}

#[test]
fn any_other_error_ack_settles_the_add_and_says_why() {
    let mut h = Harness::connected(Protocol::V1);
    let frame = sent(&h.event(Event::Add)).remove(0);
    h.server(ack_err(&frame, ErrorCode::InvalidName, "too long"));
    assert_eq!(h.engine.pending(), 0);
    assert_eq!(
        h.status().last_error,
        Some(Problem::RequestRefused(ErrorBody::new(
            ErrorCode::InvalidName,
            "too long"
        )))
    );
}

// --- the list ------------------------------------------------------------------

#[test]
fn a_snapshot_replaces_the_list_and_changes_apply_in_order() {
    let mut h = Harness::connected(Protocol::V1);
    let actions = h.server(snapshot(3, vec![user(1)]));
    assert!(actions.contains(&Action::EditUsers(ListEdit::Replace(vec![user(1)]))));
    h.server(added(4, 2));
    h.server(added(4, 2)); // repeated: stale
    assert_eq!(h.users(), [user(1), user(2)]);
}

#[test]
fn changes_before_the_snapshot_are_held_and_applied_after_it() {
    let mut h = Harness::connected(Protocol::V1);
    h.server(added(5, 3));
    h.server(added(4, 2));
    assert!(h.users().is_empty());
    h.server(snapshot(3, vec![user(1)]));
    assert_eq!(h.users(), [user(1), user(2), user(3)]);
}

#[test]
fn a_gap_asks_for_the_missing_changes_once_until_the_list_moves() {
    let mut h = Harness::connected(Protocol::V1);
    h.server(snapshot(1, vec![user(1)]));
    let hello = r#"{"type":"hello","since":1,"epoch":"e"}"#;
    assert_eq!(sent(&h.server(added(3, 3))), [hello]);
    assert!(sent(&h.server(added(4, 4))).is_empty(), "already asked");
    assert_eq!(h.users(), [user(1)]);
    h.server(added(2, 2));
    h.server(added(3, 3));
    h.server(added(4, 4));
    assert_eq!(h.users(), [user(1), user(2), user(3), user(4)]);
    assert_eq!(
        sent(&h.server(added(6, 6))).len(),
        1,
        "a new gap asks again"
    );
}

#[test]
fn a_new_connection_resumes_from_the_version_held() {
    let mut h = Harness::connected(Protocol::V1);
    assert_eq!(
        sent(&h.open(Protocol::V1)),
        Vec::<String>::new(),
        "already open"
    );
    h.server(snapshot(7, vec![user(1)]));
    h.server(added(8, 2));
    h.drop_with(1001);
    h.event(Event::Retry);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(frames, [r#"{"type":"hello","since":8,"epoch":"e"}"#]);
}

#[test]
fn a_seed_server_in_between_forgets_the_version() {
    let mut h = Harness::connected(Protocol::V1);
    h.server(snapshot(7, vec![user(1)]));
    h.drop_with(1001);
    h.event(Event::Retry);
    h.event(Event::Opened {
        protocol: Protocol::Seed,
    });
    let actions = h.event(Event::Frame(r#"[{"id":9,"name":"n","email":"e"}]"#.into()));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::EditUsers(ListEdit::Replace(users)) if users.len() == 1)));
    h.drop_with(1001);
    h.event(Event::Retry);
    let frames = sent(&h.event(Event::Opened {
        protocol: Protocol::V1,
    }));
    assert_eq!(frames, [r#"{"type":"hello"}"#]);
}

#[test]
fn bad_frames_are_reported_and_change_nothing() {
    let mut h = Harness::connected(Protocol::V1);
    h.server(snapshot(1, vec![user(1)]));
    for bad in [
        "nope",
        "[]",
        r#"{"type":"surprise"}"#,
        r#"{"type":"change"}"#,
    ] {
        h.event(Event::Frame(bad.into()));
        let kind = h.status().last_error.map(|problem| problem.kind());
        assert_eq!(kind, Some("unreadable_frame"), "{bad}");
    }
    h.event(Event::BinaryFrame);
    assert_eq!(h.status().last_error, Some(Problem::BinaryFrame));
    assert_eq!(h.users(), [user(1)]);
    assert_eq!(h.state(), ConnectionState::Connected);

    let mut seed = Harness::connected(Protocol::Seed);
    seed.event(Event::Frame(r#"[{"id":1,"name":"a","email":"b"}]"#.into()));
    seed.event(Event::Frame("{oops".into()));
    let kind = seed.status().last_error.map(|problem| problem.kind());
    assert_eq!(kind, Some("unreadable_list"));
    assert_eq!(seed.users().len(), 1);
}

#[test]
fn presence_and_server_errors_are_passed_on() {
    let mut h = Harness::connected(Protocol::V1);
    let actions = h.server(ServerMessage::Presence { viewers: 3 });
    assert!(actions.contains(&Action::ShowViewers(Some(3))));
    h.server(ServerMessage::Error(ErrorBody::new(
        ErrorCode::UnknownType,
        "what?",
    )));
    assert_eq!(
        h.status().last_error,
        Some(Problem::ServerReported(ErrorBody::new(
            ErrorCode::UnknownType,
            "what?"
        )))
    );
}

#[test]
fn only_what_changed_is_shown_again() {
    let mut h = Harness::connected(Protocol::V1);
    h.server(snapshot(1, vec![]));
    let actions = h.server(ServerMessage::Pong { nonce: None });
    assert!(actions.is_empty(), "{actions:?}");
}

#[test]
fn a_settings_warning_shows_whenever_there_is_no_other_error() {
    let mut h = Harness::new();
    let problems = vec!["ignored ping_ms=\"soon\"".to_owned()];
    let actions = h.engine.warn_about_settings(&problems);
    assert!(
        matches!(&actions[0], Action::ShowStatus(s) if s.last_error == Some(Problem::Settings(problems.clone())))
    );
    h.event(Event::Start { online: true });
    h.drop_with(1006);
    h.drop_with(1006);
    assert_eq!(
        h.status().last_error.map(|problem| problem.kind()),
        Some("cannot_connect")
    );
    h.event(Event::Retry);
    h.event(Event::Opened {
        protocol: Protocol::V1,
    });
    assert_eq!(h.status().last_error, Some(Problem::Settings(problems)));
}

#[test]
fn a_timer_that_fires_early_is_armed_again() {
    let mut h = Harness::new();
    h.event(Event::Start { online: true });
    let deadline = h.now + 10_000;
    let actions = h.after(3_000);
    assert!(
        actions.contains(&Action::ArmTimer { at: deadline }),
        "{actions:?}"
    );
}
