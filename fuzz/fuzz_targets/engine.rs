//! The connection engine fed arbitrary sequences of events, the way a
//! driver would feed them (socket events only while it has a socket), with
//! server frames both well made and broken. Besides never panicking, after
//! every event:
//! - at most one socket: the engine opens one only when none is left, and
//!   sends or closes only on the one it has;
//! - the timer the driver holds is exactly the engine's next deadline, so
//!   no deadline is ever left without a timer;
//! - the outbox never holds more than `outbox_max` writes, an add or
//!   remove the server acknowledged is never sent again, and once the
//!   server has spoken v1 no add goes as an unacknowledged seed command;
//! - at most one token request is in flight, and `hello` and `auth`
//!   carry only tokens the page gave;
//! - v1 changes reach the list in version order, each the next one after
//!   the snapshot or change before it.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use roster_protocol::auth::Token;
use roster_protocol::engine::{Action, Engine, EngineConfig, Event, TokenSource};
use roster_protocol::list::ListEdit;
use roster_protocol::v1::{ClientMessage, ServerMessage};
use roster_protocol::Protocol;
use roster_protocol::UserId;

/// Short timers, so that a few hundred events cross every deadline.
const CONFIG: EngineConfig = EngineConfig {
    ping_ms: 1_000,
    pong_timeout_ms: 500,
    connect_timeout_ms: 1_000,
    backoff_base_ms: 100,
    backoff_cap_ms: 2_000,
    healthy_after_ms: 500,
    outbox_max: 5,
    outbox_ttl_ms: 3_000,
};

/// Snapshots carry a first user with this id prefix and their version, so
/// the harness can tell from a `Replace` where the list now stands.
const SNAPSHOT_MARK: &str = "snapshot-";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Socket {
    None,
    Opening,
    Open(Protocol),
}

/// The driver: what it holds, and what the engine told it.
struct Driver {
    engine: Engine,
    now: u64,
    socket: Socket,
    timer: Option<u64>,
    /// The version the list on screen is at (v1 only).
    list_version: Option<u64>,
    /// Request ids the engine has sent in `add` frames, newest last.
    sent: Vec<String>,
    acknowledged: HashSet<String>,
    /// The server has spoken v1 (on this page, or remembered).
    spoke_v1: bool,
    /// The token request waiting for the page's answer.
    asking: Option<u64>,
    /// Every token the page gave, which alone may go to the server.
    given: HashSet<String>,
}

impl Driver {
    fn handle(&mut self, event: Event) {
        let actions = self.engine.handle(self.now, event);
        self.carry_out(actions);
    }

    fn carry_out(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Open { .. } => {
                    assert_eq!(self.socket, Socket::None, "a second socket opened");
                    self.socket = Socket::Opening;
                }
                Action::Send(frame) => {
                    assert!(
                        matches!(self.socket, Socket::Open(_)),
                        "sent {frame} with no open socket"
                    );
                    assert!(
                        !(self.spoke_v1 && frame == "__addUser__"),
                        "a seed add, which nothing acknowledges, went to a server that speaks v1"
                    );
                    match ClientMessage::decode(&frame) {
                        Ok(
                            ClientMessage::Add { request_id, .. }
                            | ClientMessage::Remove { request_id, .. },
                        ) => {
                            let id = request_id.as_str().to_owned();
                            assert!(
                                !self.acknowledged.contains(&id),
                                "acknowledged write {id} sent again"
                            );
                            self.sent.push(id);
                        }
                        Ok(
                            ClientMessage::Hello {
                                token: Some(token), ..
                            }
                            | ClientMessage::Auth { token },
                        ) => assert!(self.given.contains(token.as_str()), "a token nobody gave"),
                        _ => {}
                    }
                }
                Action::Close { .. } => {
                    assert_ne!(self.socket, Socket::None, "closed a socket it did not have");
                    self.socket = Socket::None;
                }
                Action::ArmTimer { at } => self.timer = Some(at),
                Action::DisarmTimer => self.timer = None,
                Action::EditUsers(edit) => self.edit(edit),
                Action::AskToken { request } => {
                    assert_eq!(
                        self.asking, None,
                        "a second token request while one is in flight"
                    );
                    self.asking = Some(request);
                }
                Action::ShowStatus(_)
                | Action::ShowPending(_)
                | Action::ShowViewers(_)
                | Action::SaveWrites(_) => {}
            }
        }
        assert_eq!(
            self.timer,
            self.engine.next_deadline(),
            "the timer is not the next deadline"
        );
        assert!(
            self.engine.pending() <= CONFIG.outbox_max,
            "the outbox outgrew its bound"
        );
    }

    fn edit(&mut self, edit: ListEdit) {
        match edit {
            ListEdit::Replace(users) => {
                self.list_version = users
                    .first()
                    .and_then(|user| user.id.as_str().strip_prefix(SNAPSHOT_MARK))
                    .and_then(|version| version.parse().ok());
            }
            ListEdit::Upsert(user) => self.changed(user.id.as_str()),
            ListEdit::Remove(id) => self.changed(id.as_str()),
        }
    }

    /// A change's user id is its version (see [`change`]).
    fn changed(&mut self, version: &str) {
        let version: u64 = version.parse().expect("changes name their version");
        let Some(have) = self.list_version else {
            panic!("change {version} applied with no snapshot");
        };
        assert_eq!(
            version,
            have + 1,
            "change {version} applied at version {have}"
        );
        self.list_version = Some(version);
    }
}

impl Driver {
    /// A token the page gives, noted as given.
    fn give(&mut self, token: &str) -> Token {
        self.given.insert(token.to_owned());
        Token::new(token)
    }
}

fn user(id: &str) -> String {
    format!(r#"{{"id":"{id}","name":"N","email":"n@e.x"}}"#)
}

fn change(u: &mut Unstructured, version: u64) -> Result<String> {
    let op = if u.arbitrary()? { "added" } else { "removed" };
    Ok(format!(
        r#"{{"type":"change","version":{version},"op":"{op}","user":{}}}"#,
        user(&version.to_string())
    ))
}

/// A frame a v1 server might send, well made or not.
fn v1_frame(u: &mut Unstructured, driver: &Driver) -> Result<String> {
    let near = driver.list_version.unwrap_or(0);
    Ok(match u.int_in_range(0..=9)? {
        0 => {
            let version = u.int_in_range(0..=near + 3)?;
            let epoch = if u.arbitrary()? { "a" } else { "b" };
            format!(
                r#"{{"type":"snapshot","epoch":"{epoch}","version":{version},"users":[{}]}}"#,
                user(&format!("{SNAPSHOT_MARK}{version}"))
            )
        }
        1..=3 => {
            let version = near
                .saturating_add(u.int_in_range(0..=3)?)
                .saturating_sub(1);
            change(u, version)?
        }
        4 => match u.choose(&driver.sent).ok() {
            Some(id) if u.arbitrary()? => {
                format!(
                    r#"{{"type":"ack","request_id":"{id}","version":1,"user":{}}}"#,
                    user("x")
                )
            }
            Some(id) => {
                let code = u.choose(&["rate_limited", "store_unavailable", "invalid_message"])?;
                format!(
                    r#"{{"type":"ack","request_id":"{id}","error":{{"code":"{code}","message":"m","retry_after_ms":{}}}}}"#,
                    u.int_in_range(0..=5_000u64)?
                )
            }
            None => r#"{"type":"ack","request_id":"00000000000000000000000000000000"}"#.into(),
        },
        5 => format!(
            r#"{{"type":"pong","nonce":{}}}"#,
            u.int_in_range(0..=20u64)?
        ),
        6 => format!(
            r#"{{"type":"presence","viewers":{}}}"#,
            u.arbitrary::<u64>()?
        ),
        7 => r#"{"type":"error","error":{"code":"invalid_message","message":"m"}}"#.into(),
        8 => {
            let expires_at = driver.now + u.int_in_range(0..=20_000u64)?;
            let scope = if u.arbitrary()? {
                r#"["read","write"]"#
            } else {
                r#"["read"]"#
            };
            format!(r#"{{"type":"session","sub":"s","scope":{scope},"expires_at":{expires_at}}}"#)
        }
        _ => garbage(u)?,
    })
}

/// Bytes that are most likely not a message at all.
fn garbage(u: &mut Unstructured) -> Result<String> {
    let len = u.int_in_range(0..=24)?;
    Ok(String::from_utf8_lossy(u.bytes(len)?).into_owned())
}

/// A frame a seed server might send.
fn seed_frame(u: &mut Unstructured) -> Result<String> {
    Ok(match u.int_in_range(0..=2)? {
        0 => format!("[{}]", user(&u.int_in_range(0..=9u8)?.to_string())),
        1 => "[]".into(),
        _ => garbage(u)?,
    })
}

fn step(u: &mut Unstructured, driver: &mut Driver) -> Result<()> {
    driver.now += u.int_in_range(0..=1_500u64)?;
    let event = match u.int_in_range(0..=18)? {
        0 => match driver.socket {
            Socket::Opening => {
                let protocol = if u.int_in_range(0..=3)? == 0 {
                    Protocol::Seed
                } else {
                    Protocol::V1
                };
                driver.socket = Socket::Open(protocol);
                driver.spoke_v1 |= protocol == Protocol::V1;
                Event::Opened { protocol }
            }
            _ => return Ok(()),
        },
        1..=4 => match driver.socket {
            Socket::Open(Protocol::V1) => {
                let frame = v1_frame(u, driver)?;
                if let Ok(ServerMessage::Ack(ack)) = ServerMessage::decode(&frame) {
                    if ack.outcome().is_ok() {
                        driver
                            .acknowledged
                            .insert(ack.request_id.as_str().to_owned());
                    }
                }
                Event::Frame(frame)
            }
            Socket::Open(Protocol::Seed) => Event::Frame(seed_frame(u)?),
            _ => return Ok(()),
        },
        5 => match driver.socket {
            Socket::Open(_) => Event::BinaryFrame,
            _ => return Ok(()),
        },
        6 => match driver.socket {
            Socket::None => return Ok(()),
            _ => {
                driver.socket = Socket::None;
                let code = *u.choose(&[1000u16, 1001, 1006, 1008, 1011, 1012, 4000, 4401, 4403])?;
                Event::Closed {
                    code,
                    reason: String::new(),
                }
            }
        },
        7..=8 => match driver.timer {
            Some(at) => {
                // Timers fire late in background tabs, and sometimes early.
                driver.now = driver.now.max(at.saturating_sub(u.int_in_range(0..=5)?));
                driver.timer = None;
                Event::Tick
            }
            None => return Ok(()),
        },
        9 => Event::Add,
        10 => u.choose(&[Event::Offline, Event::Online])?.clone(),
        11 => u.choose(&[Event::Hidden, Event::Visible])?.clone(),
        12 => u.choose(&[Event::PageHide, Event::PageShow])?.clone(),
        13 => Event::Retry,
        14 => Event::Disconnect,
        15 => match driver.asking.take() {
            Some(request) => {
                let answer = match u.int_in_range(0..=3)? {
                    0 => Ok(None),
                    1 => Err("the host failed".to_owned()),
                    n => Ok(Some(driver.give(&format!("asked-{request}-{n}")))),
                };
                Event::TokenAnswered { request, answer }
            }
            None => return Ok(()),
        },
        16 => Event::Remove(UserId::new(u.int_in_range(0..=9u8)?.to_string())),
        17 => Event::Refresh,
        18 => Event::TokenGiven(driver.give(&format!("page-{}", driver.now))),
        _ => Event::Add,
    };
    driver.handle(event);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(seed) = u.arbitrary::<u64>() else {
        return;
    };
    let mut driver = Driver {
        engine: Engine::new(CONFIG, "ws://fuzz", seed),
        now: 1_000_000,
        socket: Socket::None,
        timer: None,
        list_version: None,
        sent: Vec::new(),
        acknowledged: HashSet::new(),
        spoke_v1: false,
        asking: None,
        given: HashSet::new(),
    };
    if u.arbitrary().unwrap_or(false) {
        driver.engine.remember_v1();
        driver.spoke_v1 = true;
    }
    let source = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => TokenSource::None,
        1 => TokenSource::Fixed(driver.give("fixed")),
        _ => TokenSource::Asked,
    };
    driver.engine.use_tokens(source);
    driver.handle(Event::Start {
        online: u.arbitrary().unwrap_or(true),
    });
    while !u.is_empty() {
        if step(&mut u, &mut driver).is_err() {
            break;
        }
    }
});
