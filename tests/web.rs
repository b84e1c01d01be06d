//! Component tests in a real browser (headless Chromium through
//! wasm-bindgen-test). Each test mounts one component into its own element,
//! drives its signals, and asserts on the DOM.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use roster::components::{AddUserButton, ConnectionBadge, UserCount, UserList, ViewerCount};
use roster_protocol::{ConnectionState, ConnectionStatus, User, UserId};
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
