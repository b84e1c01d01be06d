//! The socket hook releases everything it registered when unmounted.

use crate::support::*;

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
