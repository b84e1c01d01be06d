//! How a 100,000-user snapshot (about 7 MB of JSON) best gets from the
//! socket into wasm, measured in headless Chromium. A benchmark, not a
//! test: `scripts/bench.sh` runs it (`cargo test --bench decode` in the
//! shipped profile, in Chromium) and copies its `DECODE_BENCH` line into
//! BENCHMARKS.md; the test command never builds it. Three paths, each from the JS string the socket delivers:
//! - the client's path: the string is copied into wasm and read by
//!   `ServerMessage::decode` (one typed pass for a snapshot that starts
//!   with its type);
//! - `serde_json::Value probe` (the client before issue 9): the same copy,
//!   then a `Value` tree, then serde's internally tagged enum over it;
//! - `JSON.parse + hand-over`: the browser parses, then every user's
//!   fields are read across the JS/wasm boundary.
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, JsString, Reflect, JSON};
use roster_protocol::v1::{ChangeOp, ServerMessage};
use roster_protocol::{User, UserId};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const USERS: u64 = 100_000;
const RUNS: usize = 5;

/// The shape the client used to decode through: serde's internally tagged
/// enum over a `serde_json::Value`, as `v1.rs` did before issue 9.
#[derive(serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(dead_code)]
enum ValueProbed {
    Snapshot {
        epoch: String,
        version: u64,
        users: Vec<User>,
    },
    Change {
        version: u64,
        op: ChangeOp,
        user: User,
    },
}

fn snapshot_frame() -> String {
    let users = (1..=USERS)
        .map(|id| User {
            id: UserId::from(id),
            name: format!("Katherine Berners-Lee {id}"),
            email: format!("katherine.berners-lee.{id}@roster.test"),
        })
        .collect();
    ServerMessage::Snapshot {
        epoch: "9f2c0d1e5a7b3c48".into(),
        version: USERS,
        users,
    }
    .to_frame()
}

fn now() -> f64 {
    js_sys::Date::now()
}

/// The median of `RUNS` timings of `run`, in ms; `run` returns the users
/// it decoded, which must be all of them.
fn median_ms(mut run: impl FnMut() -> usize) -> f64 {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let started = now();
            let users = run();
            let elapsed = now() - started;
            assert_eq!(users, USERS as usize);
            elapsed
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[RUNS / 2]
}

fn text(value: &JsValue, key: &str) -> String {
    let field = Reflect::get(value, &JsValue::from_str(key)).unwrap();
    field
        .as_string()
        .or_else(|| field.as_f64().map(|n| n.to_string()))
        .unwrap()
}

#[wasm_bindgen_test]
fn decode_paths() {
    let frame = snapshot_frame();
    let arrived: JsValue = JsString::from(frame.as_str()).into();
    drop(frame);

    let client = median_ms(|| {
        let frame = arrived.as_string().unwrap();
        match ServerMessage::decode(&frame).unwrap() {
            ServerMessage::Snapshot { users, .. } => users.len(),
            _ => 0,
        }
    });
    let value_probe = median_ms(|| {
        let frame = arrived.as_string().unwrap();
        let value: serde_json::Value = serde_json::from_str(&frame).unwrap();
        assert!(value
            .get("type")
            .and_then(serde_json::Value::as_str)
            .is_some());
        match serde_json::from_value::<ValueProbed>(value).unwrap() {
            ValueProbed::Snapshot { users, .. } => users.len(),
            ValueProbed::Change { .. } => 0,
        }
    });
    let json_parse = median_ms(|| {
        let parsed = JSON::parse(&arrived.as_string().unwrap()).unwrap();
        let list: Array = Reflect::get(&parsed, &"users".into()).unwrap().into();
        let users: Vec<User> = list
            .iter()
            .map(|user| User {
                id: UserId::new(text(&user, "id")),
                name: text(&user, "name"),
                email: text(&user, "email"),
            })
            .collect();
        users.len()
    });
    console_log!(
        "DECODE_BENCH {{\"users\":{USERS},\"bytes\":{},\"client_ms\":{client},\"value_probe_ms\":{value_probe},\"json_parse_ms\":{json_parse}}}",
        arrived.as_string().unwrap().len()
    );
}
