//! Component tests in a real browser (headless Chromium through
//! wasm-bindgen-test). Each test mounts one component into its own element,
//! drives its signals, and asserts on the DOM.
#![cfg(target_arch = "wasm32")]

use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use roster::components::{
    AddUserButton, ConnectionBadge, ConnectionControls, ErrorBanner, UserCount, UserFilter,
    UserList, ViewerCount, ROW_HEIGHT_PX,
};
use roster::settings::Source;
use roster::socket::{filter_for, use_roster_socket};
use roster_protocol::engine::{Close, EngineConfig};
use roster_protocol::list::{ListEdit, UserList as Users};
use roster_protocol::settings::Theme;
use roster_protocol::{ConnectionState, ConnectionStatus, Problem, Protocol, User, UserId};
use wasm_bindgen::{JsCast, JsValue};
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

fn list(users: Vec<User>) -> RwSignal<Users> {
    RwSignal::new(Users::from_users(users))
}

/// A list of `n` generated users, ids 1 to n.
fn many(n: u64) -> Vec<User> {
    (1..=n)
        .map(|id| user(&id.to_string(), &format!("User {id}")))
        .collect()
}

/// A test root whose list view is at most `height` pixels tall.
fn test_root_of_height(height: u32) -> HtmlElement {
    let root = test_root();
    root.style()
        .set_property("--roster-list-max-height", &format!("{height}px"))
        .unwrap();
    root
}

fn scroller(root: &HtmlElement) -> HtmlElement {
    select(root, "[data-testid=user-list-scroller]")
}

/// Scrolls the list and waits until the rows for that place are drawn.
async fn scroll_to(root: &HtmlElement, top: i32, then_shows: &str) {
    scroller(root).set_scroll_top(top);
    let selector = format!("[data-user-id='{then_shows}']");
    assert!(
        eventually(|| root.query_selector(&selector).unwrap().is_some()).await,
        "user {then_shows} shown after scrolling to {top}; rows: {:?}",
        row_ids(root)
    );
}

/// Waits until the list has drawn the latest change: the effect that
/// notices it runs at the next tick and draws in the next animation frame.
async fn drawn() {
    tick().await;
    let frame = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .request_animation_frame(&resolve)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(frame).await.unwrap();
}

/// Where user `id`'s row is on screen, in pixels from the viewport top.
fn screen_top(root: &HtmlElement, id: &str) -> f64 {
    select(root, &format!("[data-user-id='{id}']"))
        .get_bounding_client_rect()
        .top()
}

#[wasm_bindgen_test]
async fn the_user_list_renders_one_row_per_user_with_its_id() {
    let root = test_root();
    let users = list(vec![user("1", "Ada Lovelace"), user("2", "Grace Hopper")]);
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });

    assert_eq!(row_ids(&root), ["1", "2"]);
    let first = &select_all(&root, "[data-testid=user-row]")[0];
    assert!(first.text_content().unwrap().contains("Ada Lovelace"));
    assert!(first.text_content().unwrap().contains("1@roster.test"));
    assert_eq!(first.get_attribute("aria-posinset").as_deref(), Some("1"));
    assert_eq!(first.get_attribute("aria-setsize").as_deref(), Some("2"));
}

#[wasm_bindgen_test]
async fn a_change_rewrites_only_rows_whose_user_or_place_changed() {
    let root = test_root();
    let users = list(vec![user("1", "Ada"), user("2", "Grace")]);
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    let first_row = select(&root, "[data-user-id='1']");
    let kept_row = select(&root, "[data-user-id='2']");
    let kept_name = select(&kept_row, ".user-name").first_child().unwrap();

    users.update(|list| list.edit(ListEdit::Upsert(user("3", "Alan"))));
    drawn().await;
    assert_eq!(row_ids(&root), ["1", "2", "3"]);
    assert!(kept_row.is_same_node(Some(&select(&root, "[data-user-id='2']"))));
    assert!(
        select(&kept_row, ".user-name")
            .first_child()
            .unwrap()
            .is_same_node(Some(&kept_name)),
        "an unchanged row's text is not written again"
    );

    users.update(|list| list.edit(ListEdit::Upsert(user("2", "Grace Hopper"))));
    drawn().await;
    let renamed = select(&root, "[data-user-id='2']");
    assert!(renamed.text_content().unwrap().contains("Grace Hopper"));
    assert_eq!(
        select(&renamed, ".user-avatar").text_content().unwrap(),
        "GH"
    );
    assert!(first_row.is_same_node(Some(&select(&root, "[data-user-id='1']"))));
    assert_eq!(first_row.text_content().unwrap(), "AAda1@roster.test#1");

    // A user moving inside the window moves its row, and the row keeps it.
    users.update(|list| {
        let reordered = vec![
            user("3", "Alan"),
            user("1", "Ada"),
            user("2", "Grace Hopper"),
        ];
        list.edit(ListEdit::Replace(reordered));
    });
    drawn().await;
    assert_eq!(row_ids(&root), ["3", "1", "2"]);
    assert!(first_row.is_same_node(Some(&select(&root, "[data-user-id='1']"))));
    assert_eq!(
        first_row.get_attribute("aria-posinset").as_deref(),
        Some("2")
    );
}

#[wasm_bindgen_test]
async fn a_burst_of_changes_is_drawn_together_in_the_next_frame() {
    let root = test_root();
    let users = list(many(3));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    // 500 separate changes, as a busy server sends them, before a frame.
    for id in 1..=500u64 {
        users.update(|list| {
            list.edit(ListEdit::Upsert(user(
                &id.to_string(),
                &format!("Renamed {id}"),
            )))
        });
    }
    users.update(|list| list.edit(ListEdit::Remove(UserId::new("1"))));
    drawn().await;
    assert_eq!(row_ids(&root)[..3], ["2", "3", "4"]);
    let first = select(&root, "[data-user-id='2']");
    assert!(first.text_content().unwrap().contains("Renamed 2"));
    assert_eq!(first.get_attribute("aria-posinset").as_deref(), Some("1"));
    assert_eq!(first.get_attribute("aria-setsize").as_deref(), Some("499"));
    assert_eq!(
        select(&root, "[data-testid=user-list]")
            .style()
            .get_property_value("height")
            .unwrap(),
        format!("{}px", 499 * ROW_HEIGHT_PX as usize)
    );

    // The first change after a frame is drawn at once; more in the same
    // frame wait for its end, and are then drawn together.
    drawn().await;
    users.update(|list| list.edit(ListEdit::Upsert(user("2", "Drawn At Once"))));
    tick().await;
    assert!(first.text_content().unwrap().contains("Drawn At Once"));
    users.update(|list| list.edit(ListEdit::Upsert(user("2", "Drawn At Frame End"))));
    users.update(|list| list.edit(ListEdit::Upsert(user("3", "Also At Frame End"))));
    tick().await;
    assert!(first.text_content().unwrap().contains("Drawn At Once"));
    drawn().await;
    assert!(first.text_content().unwrap().contains("Drawn At Frame End"));
    assert!(select(&root, "[data-user-id='3']")
        .text_content()
        .unwrap()
        .contains("Also At Frame End"));
}

#[wasm_bindgen_test]
async fn an_empty_list_says_so_and_the_message_goes_when_users_arrive() {
    let root = test_root();
    let users = list(Vec::new());
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    assert_eq!(select_all(&root, "[data-testid=user-list-empty]").len(), 1);
    let message = select(&root, "[data-testid=user-list-empty]").offset_height();
    let shown = scroller(&root).client_height();
    assert!(
        message > 0 && shown >= message,
        "the message ({message} px) is in view, not clipped ({shown} px shown)"
    );

    users.update(|list| list.edit(ListEdit::Replace(vec![user("7", "Radia Perlman")])));
    drawn().await;
    assert!(select_all(&root, "[data-testid=user-list-empty]").is_empty());
    assert_eq!(row_ids(&root), ["7"]);
}

#[wasm_bindgen_test]
async fn a_hundred_thousand_users_keep_a_few_dozen_rows_in_the_dom_from_first_to_last() {
    let root = test_root_of_height(600);
    let users = list(many(100_000));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    let bounded = |root: &HtmlElement| {
        let rows = row_ids(root).len();
        assert!((1..=80).contains(&rows), "{rows} rows in the DOM");
    };
    bounded(&root);
    assert_eq!(row_ids(&root)[0], "1");
    // The scrollbar covers the whole list.
    let height = select(&root, "[data-testid=user-list]").offset_height();
    assert_eq!(height, (100_000.0 * ROW_HEIGHT_PX) as i32);

    for position in [50_000, 99_000, 12_345] {
        scroll_to(
            &root,
            (position as f64 * ROW_HEIGHT_PX) as i32,
            &(position + 1).to_string(),
        )
        .await;
        bounded(&root);
        let row = select(&root, &format!("[data-user-id='{}']", position + 1));
        assert_eq!(
            row.get_attribute("aria-posinset"),
            Some((position + 1).to_string())
        );
        assert_eq!(row.get_attribute("aria-setsize").as_deref(), Some("100000"));
    }
    let end = scroller(&root).scroll_height();
    scroll_to(&root, end, "100000").await;
    bounded(&root);
    let last = select(&root, "[data-user-id='100000']");
    let view = scroller(&root).get_bounding_client_rect();
    assert!(
        last.get_bounding_client_rect().bottom() <= view.bottom() + 1.0,
        "the last user is fully in view"
    );
}

#[wasm_bindgen_test]
async fn rows_removed_or_inserted_above_the_view_do_not_move_the_rows_in_view() {
    let root = test_root_of_height(400);
    let users = list(many(1_000));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    scroll_to(&root, (500.0 * ROW_HEIGHT_PX + 20.0) as i32, "502").await;
    let before = screen_top(&root, "502");

    users.update(|list| list.edit(ListEdit::Remove(UserId::new("10"))));
    drawn().await;
    assert!(
        (screen_top(&root, "502") - before).abs() < 1.0,
        "after a removal above"
    );

    users.update(|list| {
        let mut shifted = vec![user("new", "Inserted At The Top")];
        shifted.extend(list.iter().cloned());
        list.edit(ListEdit::Replace(shifted));
    });
    drawn().await;
    assert!(
        (screen_top(&root, "502") - before).abs() < 1.0,
        "after an insert above"
    );
    let row = select(&root, "[data-user-id='502']");
    assert_eq!(
        row.get_attribute("aria-posinset").as_deref(),
        Some("502"),
        "1 removed, 1 inserted above"
    );

    // Removing the row at the top of the view keeps the next one in place.
    let top_position = (scroller(&root).scroll_top() as f64 / ROW_HEIGHT_PX) as usize;
    let top_id = users.with_untracked(|list| list.get(top_position).unwrap().id.clone());
    let next_id = users.with_untracked(|list| list.get(top_position + 1).unwrap().id.clone());
    let next_before = screen_top(&root, next_id.as_str());
    users.update(|list| list.edit(ListEdit::Remove(top_id)));
    drawn().await;
    let moved = screen_top(&root, next_id.as_str()) - next_before;
    assert!(moved.abs() <= ROW_HEIGHT_PX + 1.0, "moved {moved} px");
}

#[wasm_bindgen_test]
async fn at_the_very_top_new_rows_come_into_view() {
    let root = test_root_of_height(400);
    let users = list(many(100));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    users.update(|list| {
        let mut shifted = vec![user("new", "Newest")];
        shifted.extend(list.iter().cloned());
        list.edit(ListEdit::Replace(shifted));
    });
    drawn().await;
    assert_eq!(scroller(&root).scroll_top(), 0);
    assert_eq!(row_ids(&root)[0], "new");
}

/// Sets the list's filter as the page does.
fn set_filter(users: RwSignal<Users>, text: &str) {
    users.update(|list| list.set_filter(filter_for(text)));
}

fn text_of(root: &HtmlElement, selector: &str) -> String {
    select(root, selector).text_content().unwrap()
}

#[wasm_bindgen_test]
async fn a_filter_shows_only_matching_rows_from_the_top_and_says_when_none_match() {
    let root = test_root_of_height(400);
    let users = list(many(1_000));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users /> });
    scroll_to(&root, (500.0 * ROW_HEIGHT_PX) as i32, "502").await;

    // "User 99" is in users 99 and 990 to 999; case is ignored.
    set_filter(users, "uSER 99");
    drawn().await;
    assert_eq!(
        scroller(&root).scroll_top(),
        0,
        "a new filter starts at the top"
    );
    let ids: Vec<String> = std::iter::once(99)
        .chain(990..=999)
        .map(|id| id.to_string())
        .collect();
    assert_eq!(row_ids(&root), ids);
    let first = &select_all(&root, "[data-testid=user-row]")[0];
    assert_eq!(first.get_attribute("aria-setsize").as_deref(), Some("11"));

    // A change goes through the filter: a match appears, others do not.
    users.update(|list| list.upsert(user("1001", "user 99 again")));
    users.update(|list| list.upsert(user("1002", "Someone Else")));
    users.update(|list| list.edit(ListEdit::Remove(UserId::new("990"))));
    drawn().await;
    assert_eq!(row_ids(&root).len(), 11);
    assert_eq!(row_ids(&root).last().map(String::as_str), Some("1001"));
    assert!(!row_ids(&root).contains(&"990".to_owned()));

    // By email too, and nothing matched says so.
    set_filter(users, "1002@ROSTER");
    drawn().await;
    assert_eq!(row_ids(&root), ["1002"]);
    set_filter(users, "nobody");
    drawn().await;
    assert!(row_ids(&root).is_empty());
    assert_eq!(
        text_of(&root, "[data-testid=user-list-empty]"),
        "No users match the filter."
    );

    // Clearing it shows everyone again.
    set_filter(users, "");
    drawn().await;
    assert!(root
        .query_selector("[data-testid=user-list-empty]")
        .unwrap()
        .is_none());
    assert_eq!(row_ids(&root)[0], "1");
}

#[wasm_bindgen_test]
async fn the_filter_ignores_case_beyond_ascii_with_the_browsers_own_tables() {
    let zoe = user("1", "Zoë Ångström");
    assert!(filter_for("ÅNGSTRÖM").unwrap().matches(&zoe));
    assert!(filter_for("zoË").unwrap().matches(&zoe));
    assert!(!filter_for("zoe").unwrap().matches(&zoe));
    assert!(filter_for(" \t").is_none());
}

#[wasm_bindgen_test]
async fn the_filter_box_reports_each_edit() {
    let root = test_root();
    let typed = RwSignal::new(Vec::<String>::new());
    let on_filter = Callback::new(move |text: String| typed.update(|all| all.push(text)));
    let _mounted = mount_to(root.clone(), move || view! { <UserFilter on_filter /> });
    let input: web_sys::HtmlInputElement = select(&root, "[data-testid=filter]").unchecked_into();
    assert_eq!(input.type_(), "search");
    assert!(input.get_attribute("aria-label").is_some(), "it has a name");
    for text in ["a", "ad", ""] {
        input.set_value(text);
        input
            .dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    }
    assert_eq!(typed.get_untracked(), ["a", "ad", ""]);
}

#[wasm_bindgen_test]
async fn users_arriving_below_the_view_are_counted_and_the_button_goes_to_them() {
    let root = test_root_of_height(400);
    let users = list(many(100));
    let on_seen = Callback::new(move |()| users.update_untracked(|list| list.mark_seen()));
    let _mounted = mount_to(root.clone(), move || view! { <UserList users on_seen /> });
    let button = select(&root, "[data-testid=new-users]");
    assert!(button.hidden(), "nobody is new yet");

    // At the top, away from the end: the view holds still and counts.
    users.update(|list| list.upsert(user("101", "New One")));
    drawn().await;
    assert_eq!(scroller(&root).scroll_top(), 0);
    assert_eq!(row_ids(&root)[0], "1");
    assert!(!button.hidden());
    assert_eq!(button.text_content().unwrap(), "1 new user ↓");
    users.update(|list| list.upsert(user("102", "New Two")));
    users.update(|list| list.upsert(user("5", "Renamed, not new")));
    drawn().await;
    assert_eq!(button.text_content().unwrap(), "2 new users ↓");

    // The button takes the reader to them, and goes.
    button.click();
    drawn().await;
    assert!(button.hidden());
    let view = scroller(&root).get_bounding_client_rect();
    assert!(
        screen_top(&root, "102") < view.bottom(),
        "the newest is in view"
    );
    assert!(root
        .query_selector(":focus")
        .unwrap()
        .is_some_and(|f| f == scroller(&root).into()));

    // At the end, the view follows new users, with nothing to count.
    let top = scroller(&root).scroll_top();
    users.update(|list| list.upsert(user("103", "New Three")));
    drawn().await;
    assert!(scroller(&root).scroll_top() > top, "it followed the end");
    let last = select(&root, "[data-user-id='103']").get_bounding_client_rect();
    assert!(
        last.bottom() <= view.bottom() + 1.0,
        "the newest is fully in view"
    );
    assert!(button.hidden());

    // Scrolled away again: counted again; back at the end: gone.
    scroll_to(&root, 0, "1").await;
    users.update(|list| list.upsert(user("104", "New Four")));
    drawn().await;
    assert_eq!(button.text_content().unwrap(), "1 new user ↓");
    scroll_to(&root, 1_000_000, "104").await;
    assert!(eventually(|| button.hidden()).await, "seen at the end");
}

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

#[wasm_bindgen_test]
async fn settings_come_from_the_query_then_the_mount_element_then_meta_tags() {
    let window = web_sys::window().unwrap();
    let document = window.document().unwrap();
    let history = window.history().unwrap();
    let before = window.location().href().unwrap();
    let query = "?theme=dark&ping_ms=oops";
    history
        .replace_state_with_url(&JsValue::NULL, "", Some(query))
        .unwrap();
    let meta = document.create_element("meta").unwrap();
    meta.set_attribute("name", "roster:pong_timeout_ms")
        .unwrap();
    meta.set_attribute("content", "4321").unwrap();
    let meta_theme = document.create_element("meta").unwrap();
    meta_theme.set_attribute("name", "roster:theme").unwrap();
    meta_theme.set_attribute("content", "light").unwrap();
    document.head().unwrap().append_child(&meta).unwrap();
    document.head().unwrap().append_child(&meta_theme).unwrap();
    let mount = test_root();
    mount.set_attribute("data-compact", "1").unwrap();
    mount.set_attribute("data-pong-timeout-ms", "1234").unwrap();
    mount
        .set_attribute("data-server", "ws://elsewhere.test/ws")
        .unwrap();

    let page = roster::settings::read(&[Source::Query, Source::Attributes(&mount, "data-")]);

    history
        .replace_state_with_url(&JsValue::NULL, "", Some(&before))
        .unwrap();
    meta.remove();
    meta_theme.remove();
    let settings = &page.settings;
    assert_eq!(
        settings.theme,
        Theme::Dark,
        "the query wins over the meta tag"
    );
    assert_eq!(
        settings.engine.pong_timeout_ms, 1234,
        "the element wins over the meta tag"
    );
    assert!(settings.compact);
    assert_eq!(page.url.as_deref(), Ok("ws://elsewhere.test/ws"));
    assert_eq!(
        page.problems,
        ["ignored ping_ms=\"oops\": expected a whole number above 0"]
    );
    assert_eq!(
        settings.engine.ping_ms,
        EngineConfig::default().ping_ms,
        "an invalid value falls back to the default"
    );
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

#[wasm_bindgen_test]
async fn the_element_takes_its_attributes_remounts_on_change_keeps_a_move_and_releases_on_removal()
{
    roster::mount::define_element();
    roster::mount::define_element();
    let document = web_sys::window().unwrap().document().unwrap();
    let home = test_root();
    let element = document.create_element("roster-users").unwrap();
    element
        .set_attribute("server", "ws://127.0.0.1:9/one")
        .unwrap();
    element.set_attribute("theme", "dark").unwrap();
    home.append_child(&element).unwrap();
    let shadow = element.shadow_root().expect("a shadow root");
    let target: HtmlElement = shadow
        .query_selector("div")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(target.get_attribute("data-theme").as_deref(), Some("dark"));
    let last_error = |shadow: &web_sys::ShadowRoot| {
        shadow
            .query_selector("[data-testid=last-error]")
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    assert!(
        eventually(|| last_error(&shadow).contains("127.0.0.1:9/one")).await,
        "{}",
        last_error(&shadow)
    );
    assert!(
        shadow.query_selector(".roster-compact").unwrap().is_some(),
        "compact in an element"
    );

    element
        .set_attribute("server", "ws://127.0.0.1:9/two")
        .unwrap();
    assert!(
        eventually(|| last_error(&shadow).contains("127.0.0.1:9/two")).await,
        "{}",
        last_error(&shadow)
    );
    assert_eq!(shadow.query_selector_all("main").unwrap().length(), 1);

    // Moving it keeps the same list (no new connection).
    let kept = shadow.query_selector("main").unwrap().unwrap();
    let elsewhere = test_root();
    elsewhere.append_child(&element).unwrap();
    tick().await;
    drawn().await;
    assert!(kept.is_connected(), "a move keeps the mounted list");

    // Removing it unmounts: the list and its socket go.
    element.remove();
    drawn().await;
    assert!(!kept.is_connected());
    assert!(shadow.query_selector("main").unwrap().is_none());
}

#[wasm_bindgen_test]
async fn mount_reads_its_options_reports_to_its_callbacks_and_unmounts() {
    let host = test_root();
    host.set_attribute("data-theme", "light").unwrap();
    let options = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        js_sys::Reflect::set(&options, &JsValue::from_str(key), &value).unwrap();
    };
    set("server", "ws://127.0.0.1:9/mounted".into());
    set("theme", "dark".into());
    let statuses = std::rc::Rc::new(std::cell::RefCell::new(Vec::<JsValue>::new()));
    let counts = std::rc::Rc::new(std::cell::RefCell::new(Vec::<f64>::new()));
    let on_status = {
        let statuses = statuses.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(JsValue)>::new(move |s| {
            statuses.borrow_mut().push(s)
        })
    };
    let on_users = {
        let counts = counts.clone();
        wasm_bindgen::closure::Closure::<dyn Fn(f64)>::new(move |n| counts.borrow_mut().push(n))
    };
    set("onStatus", on_status.as_ref().clone());
    set("onUsers", on_users.as_ref().clone());

    let mut handle = roster::mount::mount_js(host.clone(), options.clone().into());
    assert_eq!(
        host.get_attribute("data-theme").as_deref(),
        Some("dark"),
        "options win"
    );
    assert!(eventually(|| !counts.borrow().is_empty()).await);
    assert_eq!(counts.borrow()[0], 0.0);
    let kind = |status: &JsValue| {
        js_sys::Reflect::get(status, &"problemKind".into())
            .unwrap()
            .as_string()
    };
    assert!(
        eventually(|| statuses
            .borrow()
            .iter()
            .any(|s| kind(s).as_deref() == Some("cannot_connect")))
        .await,
        "onStatus tells the host about the failed connection"
    );
    assert_eq!(host.query_selector_all("main").unwrap().length(), 1);

    handle.unmount();
    handle.unmount();
    assert_eq!(host.query_selector_all("main").unwrap().length(), 0);
}
