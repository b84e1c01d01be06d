//! Component tests in a real browser (headless Chromium through
//! wasm-bindgen-test). Each test mounts one component into its own element,
//! drives its signals, and asserts on the DOM.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use roster::components::{
    AddUserButton, ConnectionBadge, ConnectionControls, UserCount, UserList, ViewerCount,
};
use roster::socket::use_roster_socket;
use roster_protocol::engine::EngineConfig;
use roster_protocol::{ConnectionState, ConnectionStatus, Protocol, User, UserId};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

fn user(id: &str, name: &str) -> User {
    User {
        id: UserId::new(id),
        name: name.into(),
        email: format!("{id}@roster.test"),
    }
}

/// A fresh element in the page for one test to mount into.
fn test_root() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document
        .create_element("div")
        .unwrap()
        .unchecked_into::<HtmlElement>();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

fn select_all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let nodes = root.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().unchecked_into())
        .collect()
}

fn select(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .unchecked_into()
}

fn row_ids(root: &HtmlElement) -> Vec<String> {
    select_all(root, "[data-testid=user-row]")
        .iter()
        .map(|row| row.get_attribute("data-user-id").unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn the_user_list_renders_one_row_per_user_with_its_id() {
    let root = test_root();
    let users = RwSignal::new(vec![user("1", "Ada Lovelace"), user("2", "Grace Hopper")]);
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });

    assert_eq!(row_ids(&root), ["1", "2"]);
    let first = &select_all(&root, "[data-testid=user-row]")[0];
    assert!(first.text_content().unwrap().contains("Ada Lovelace"));
    assert!(first.text_content().unwrap().contains("1@roster.test"));
}

#[wasm_bindgen_test]
async fn a_new_list_replaces_the_rows_and_keeps_unchanged_ones() {
    let root = test_root();
    let users = RwSignal::new(vec![user("1", "Ada"), user("2", "Grace")]);
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    let kept_row = select(&root, "[data-user-id='2']");

    users.set(vec![user("2", "Grace"), user("3", "Alan")]);
    tick().await;

    assert_eq!(row_ids(&root), ["2", "3"]);
    // Keyed rendering reuses the DOM node of a user who stayed.
    assert!(kept_row.is_connected());
    assert!(kept_row.is_same_node(Some(&select(&root, "[data-user-id='2']"))));
}

#[wasm_bindgen_test]
async fn an_empty_list_says_so_and_the_message_goes_when_users_arrive() {
    let root = test_root();
    let users = RwSignal::new(Vec::<User>::new());
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    assert_eq!(select_all(&root, "[data-testid=user-list-empty]").len(), 1);

    users.set(vec![user("7", "Radia Perlman")]);
    tick().await;
    assert!(select_all(&root, "[data-testid=user-list-empty]").is_empty());
    assert_eq!(row_ids(&root), ["7"]);
}

#[wasm_bindgen_test]
async fn the_count_follows_its_signal() {
    let root = test_root();
    let count = RwSignal::new(1usize);
    let _mounted = mount_to(root.clone(), move || view! { <UserCount count /> });
    assert_eq!(
        select(&root, "[data-testid=user-count]")
            .text_content()
            .unwrap(),
        "1"
    );
    assert!(root.text_content().unwrap().contains("1 user"));

    count.set(12);
    tick().await;
    assert_eq!(
        select(&root, "[data-testid=user-count]")
            .text_content()
            .unwrap(),
        "12"
    );
    assert!(root.text_content().unwrap().contains("12 users"));
}

#[wasm_bindgen_test]
async fn the_badge_shows_each_state_as_data_state() {
    let root = test_root();
    let status = RwSignal::new(ConnectionStatus::default());
    let _mounted = mount_to(root.clone(), move || view! { <ConnectionBadge status /> });
    let badge = select(&root, "[data-testid=connection-status]");

    for state in ConnectionState::ALL {
        status.update(|s| s.state = state);
        tick().await;
        assert_eq!(badge.get_attribute("data-state").unwrap(), state.as_str());
        assert!(badge.text_content().unwrap().contains(state.label()));
    }
}

#[wasm_bindgen_test]
async fn the_badge_shows_the_attempt_and_the_last_error() {
    let root = test_root();
    let status = RwSignal::new(ConnectionStatus {
        state: ConnectionState::Reconnecting,
        attempt: 3,
        last_error: Some("the server closed the connection (code 1001)".into()),
        ..ConnectionStatus::default()
    });
    let _mounted = mount_to(root.clone(), move || view! { <ConnectionBadge status /> });
    let text = select(&root, "[data-testid=connection-status]")
        .text_content()
        .unwrap();
    assert!(text.contains("attempt 3"), "{text}");
    assert_eq!(
        select(&root, "[data-testid=last-error]")
            .text_content()
            .unwrap(),
        "the server closed the connection (code 1001)"
    );
}

#[wasm_bindgen_test]
async fn clicking_add_runs_the_callback_once_per_click_and_pending_shows() {
    let root = test_root();
    let clicks = RwSignal::new(0);
    let pending = RwSignal::new(0usize);
    let on_add = Callback::new(move |()| clicks.update(|n| *n += 1));
    let _mounted = mount_to(
        root.clone(),
        move || view! { <AddUserButton on_add pending /> },
    );
    assert!(select_all(&root, "[data-testid=pending-count]").is_empty());

    let button = select(&root, "[data-testid=add-user]");
    button.click();
    button.click();
    assert_eq!(clicks.get_untracked(), 2);

    pending.set(2);
    tick().await;
    assert!(select(&root, "[data-testid=pending-count]")
        .text_content()
        .unwrap()
        .starts_with('2'));
}

#[wasm_bindgen_test]
async fn the_viewer_count_shows_only_when_the_server_reports_one() {
    let root = test_root();
    let viewers = RwSignal::new(None::<u64>);
    let _mounted = mount_to(root.clone(), move || view! { <ViewerCount viewers /> });
    assert!(select_all(&root, "[data-testid=viewer-count]").is_empty());

    viewers.set(Some(1));
    tick().await;
    assert_eq!(
        select(&root, "[data-testid=viewer-count]")
            .text_content()
            .unwrap(),
        "1"
    );
    assert!(root.text_content().unwrap().contains("1 viewer"));

    viewers.set(Some(3));
    tick().await;
    assert!(root.text_content().unwrap().contains("3 viewers"));

    viewers.set(None);
    tick().await;
    assert!(select_all(&root, "[data-testid=viewer-count]").is_empty());
}

#[wasm_bindgen_test]
async fn the_badge_shows_the_next_try_and_while_live_the_protocol_and_round_trip() {
    let root = test_root();
    let status = RwSignal::new(ConnectionStatus {
        state: ConnectionState::Reconnecting,
        attempt: 2,
        next_retry_at: Some(1_700_000_000_000),
        ..ConnectionStatus::default()
    });
    let _mounted = mount_to(root.clone(), move || view! { <ConnectionBadge status /> });
    let next = select(&root, "[data-testid=next-retry]");
    assert_eq!(next.get_attribute("data-at").unwrap(), "1700000000000");
    assert!(next.text_content().unwrap().starts_with("next try at "));
    assert_eq!(
        select(&root, "[data-testid=attempt]")
            .text_content()
            .unwrap(),
        "attempt 2"
    );
    assert!(select_all(&root, "[data-testid=connection-detail]").is_empty());

    status.set(ConnectionStatus {
        state: ConnectionState::Connected,
        rtt_ms: Some(12),
        protocol: Some(Protocol::V1),
        ..ConnectionStatus::default()
    });
    tick().await;
    assert!(select_all(&root, "[data-testid=next-retry]").is_empty());
    assert!(select_all(&root, "[data-testid=attempt]").is_empty());
    assert_eq!(
        select(&root, "[data-testid=connection-detail]")
            .text_content()
            .unwrap(),
        "roster.v1 · 12 ms"
    );
    let badge = select(&root, "[data-testid=connection-status]");
    assert_eq!(badge.get_attribute("data-protocol").unwrap(), "roster.v1");
}

#[wasm_bindgen_test]
async fn the_controls_offer_retry_while_down_and_disconnect_while_up() {
    let root = test_root();
    let status = RwSignal::new(ConnectionStatus {
        state: ConnectionState::Connected,
        ..ConnectionStatus::default()
    });
    let retries = RwSignal::new(0);
    let disconnects = RwSignal::new(0);
    let on_retry = Callback::new(move |()| retries.update(|n| *n += 1));
    let on_disconnect = Callback::new(move |()| disconnects.update(|n| *n += 1));
    let _mounted = mount_to(root.clone(), move || {
        view! { <ConnectionControls status on_retry on_disconnect /> }
    });
    select(&root, "[data-testid=disconnect]").click();
    assert_eq!(disconnects.get_untracked(), 1);
    assert!(select_all(&root, "[data-testid=retry-now]").is_empty());

    for (state, next_retry_at, label) in [
        (ConnectionState::Reconnecting, Some(1), "Retry now"),
        (ConnectionState::Offline, None, "Retry now"),
        (ConnectionState::Closed, None, "Connect"),
    ] {
        status.set(ConnectionStatus {
            state,
            next_retry_at,
            ..ConnectionStatus::default()
        });
        tick().await;
        let retry = select(&root, "[data-testid=retry-now]");
        assert_eq!(retry.text_content().unwrap(), label);
        retry.click();
    }
    assert_eq!(retries.get_untracked(), 3);
}

/// Counts the window's listeners and the live timeouts, by wrapping the
/// functions gloo and Leptos call. Installed once per page.
const COUNTERS: &str = r#"
(() => {
  if (window.__rosterCounts) return;
  let listeners = 0;
  const add = window.addEventListener, remove = window.removeEventListener;
  window.addEventListener = function (...args) { listeners++; return add.apply(this, args); };
  window.removeEventListener = function (...args) { listeners--; return remove.apply(this, args); };
  const live = new Set();
  const set = window.setTimeout, clear = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...rest) {
    const id = set.call(window, (...a) => { live.delete(id); fn(...a); }, ms, ...rest);
    live.add(id);
    return id;
  };
  window.clearTimeout = function (id) { live.delete(id); return clear.call(window, id); };
  window.__rosterCounts = () => [listeners, live.size];
})()
"#;

fn counts() -> (i64, i64) {
    let pair = js_sys::eval("window.__rosterCounts()").unwrap();
    let pair: js_sys::Array = pair.unchecked_into();
    let at = |i| pair.get(i).as_f64().unwrap() as i64;
    (at(0), at(1))
}

/// Polls `done` every 10 ms for up to 5 s; true once it holds.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
    done()
}

#[wasm_bindgen_test]
async fn unmounting_the_socket_removes_its_window_listeners_and_timers() {
    js_sys::eval(COUNTERS).unwrap();
    let before = counts();
    let root = test_root();
    let status = RwSignal::new(ConnectionStatus::default());
    // Nothing listens on the discard port: every try fails, so the driver
    // keeps a backoff timer (and sockets) going.
    let config = EngineConfig {
        backoff_base_ms: 5,
        backoff_cap_ms: 20,
        ..EngineConfig::default()
    };
    let mounted = mount_to(root.clone(), move || {
        let socket = use_roster_socket(Ok::<_, String>("ws://127.0.0.1:9/".into()), config, vec![]);
        Effect::new(move || status.set(socket.status.get()));
        view! { <p>"probe"</p> }
    });
    assert!(
        eventually(|| status.get_untracked().attempt >= 3).await,
        "the driver retried: {:?}",
        status.get_untracked()
    );
    let (listeners, _) = counts();
    assert_eq!(
        listeners - before.0,
        5,
        "online, offline, pagehide, pageshow, visibilitychange"
    );
    drop(mounted);
    assert!(
        eventually(|| counts() == before).await,
        "after unmount: {:?}, before: {before:?}",
        counts()
    );
}
