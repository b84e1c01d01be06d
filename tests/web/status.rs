//! The count, the connection's badge and controls, the add button, the
//! viewer count and the error view.

use crate::support::*;

#[wasm_bindgen_test]
async fn the_count_says_how_many_of_all_users_a_filter_shows() {
    let root = test_root();
    let count = RwSignal::new(100usize);
    let shown = RwSignal::new(None::<usize>);
    let _mounted = mount_to(root.clone(), move || view! { <UserCount count shown /> });
    assert_eq!(text_of(&root, "[data-testid=shown-count]"), "");
    assert_eq!(root.text_content().unwrap(), "100 users");
    shown.set(Some(12));
    tick().await;
    assert_eq!(text_of(&root, "[data-testid=shown-count]"), "12 of ");
    assert_eq!(root.text_content().unwrap(), "12 of 100 users");
    assert_eq!(text_of(&root, "[data-testid=user-count]"), "100");
}

/// The headless browser's locale is English (en-US): groups of three
/// digits with commas. The `value` is the number itself, for programs.
#[wasm_bindgen_test]
async fn counts_are_grouped_for_the_reader_and_words_agree() {
    let root = test_root();
    let count = RwSignal::new(100_000usize);
    let shown = RwSignal::new(Some(8_334usize));
    let _mounted = mount_to(root.clone(), move || view! { <UserCount count shown /> });
    assert_eq!(root.text_content().unwrap(), "8,334 of 100,000 users");
    let element = select(&root, "[data-testid=user-count]");
    assert_eq!(element.tag_name(), "DATA");
    assert_eq!(element.get_attribute("value").as_deref(), Some("100000"));
    count.set(1);
    shown.set(Some(1));
    tick().await;
    assert_eq!(root.text_content().unwrap(), "1 of 1 user");
    count.set(2);
    tick().await;
    assert_eq!(root.text_content().unwrap(), "1 of 2 users");
    shown.set(None);
    count.set(0);
    tick().await;
    assert_eq!(root.text_content().unwrap(), "0 users");
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

    for &state in ConnectionState::ALL {
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
        last_error: Some(Problem::ConnectionLost {
            close: Close {
                code: 1001,
                reason: String::new(),
            },
        }),
        ..ConnectionStatus::default()
    });
    let _mounted = mount_to(root.clone(), move || view! { <ConnectionBadge status /> });
    let text = select(&root, "[data-testid=connection-status]")
        .text_content()
        .unwrap();
    assert!(text.contains("attempt 3"), "{text}");
    let error = select(&root, "[data-testid=last-error]");
    assert_eq!(
        error.text_content().unwrap().trim(),
        "the server closed the connection (code 1001)"
    );
    assert_eq!(
        error.get_attribute("data-problem").as_deref(),
        Some("connection_lost")
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

#[wasm_bindgen_test]
async fn the_error_view_shows_what_to_act_on_until_dismissed() {
    let root = test_root();
    let status = RwSignal::new(ConnectionStatus::default());
    let _mounted = mount_to(root.clone(), move || view! { <ErrorBanner status /> });
    let banners = |root: &HtmlElement| select_all(root, "[data-testid=error-banner]");
    assert!(banners(&root).is_empty());

    // A lost connection is the status's business, not an alert.
    status.set(ConnectionStatus {
        last_error: Some(Problem::ConnectionLost {
            close: Close {
                code: 1006,
                reason: String::new(),
            },
        }),
        ..ConnectionStatus::default()
    });
    tick().await;
    assert!(banners(&root).is_empty());

    let full = Problem::OutboxFull { max: 2 };
    status.set(ConnectionStatus {
        last_error: Some(full.clone()),
        ..ConnectionStatus::default()
    });
    tick().await;
    let banner = select(&root, "[data-testid=error-banner]");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("alert"));
    assert_eq!(
        banner.get_attribute("data-problem").as_deref(),
        Some("outbox_full")
    );
    let text = banner.text_content().unwrap();
    assert!(text.contains("Too many adds waiting"), "{text}");
    assert!(text.contains(&full.to_string()), "{text}");

    select(&root, "[data-testid=error-dismiss]").click();
    tick().await;
    assert!(banners(&root).is_empty(), "dismissed");

    // The same problem stays dismissed; a new one shows.
    status.update(|s| s.attempt += 1);
    tick().await;
    assert!(banners(&root).is_empty());
    status.set(ConnectionStatus {
        last_error: Some(Problem::BinaryFrame),
        ..ConnectionStatus::default()
    });
    tick().await;
    assert_eq!(
        select(&root, "[data-testid=error-banner]")
            .get_attribute("data-problem")
            .as_deref(),
        Some("binary_frame")
    );
}
