//! What every component test uses: the imports, a root to mount into,
//! selectors, waits and generated users.

pub use leptos::mount::mount_to;
pub use leptos::prelude::*;
pub use leptos::task::tick;
pub use roster::components::{
    AddUserButton, ConnectionBadge, ConnectionControls, ErrorBanner, UserCount, UserFilter,
    UserList, ViewerCount, ROW_HEIGHT_PX,
};
pub use roster::settings::Source;
pub use roster::socket::{filter_for, use_roster_socket};
pub use roster_protocol::engine::{Close, EngineConfig};
pub use roster_protocol::list::{ListEdit, UserList as Users};
pub use roster_protocol::settings::Theme;
pub use roster_protocol::{ConnectionState, ConnectionStatus, Problem, Protocol, User, UserId};
pub use wasm_bindgen::{JsCast, JsValue};
pub use wasm_bindgen_test::*;
pub use web_sys::HtmlElement;

pub fn user(id: &str, name: &str) -> User {
    User {
        id: UserId::new(id),
        name: name.into(),
        email: format!("{id}@roster.test"),
    }
}

/// A fresh element in the page for one test to mount into.
pub fn test_root() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document
        .create_element("div")
        .unwrap()
        .unchecked_into::<HtmlElement>();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

pub fn select_all(root: &HtmlElement, selector: &str) -> Vec<HtmlElement> {
    let nodes = root.query_selector_all(selector).unwrap();
    (0..nodes.length())
        .map(|i| nodes.item(i).unwrap().unchecked_into())
        .collect()
}

pub fn select(root: &HtmlElement, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .unchecked_into()
}

pub fn row_ids(root: &HtmlElement) -> Vec<String> {
    select_all(root, "[data-testid=user-row]")
        .iter()
        .map(|row| row.get_attribute("data-user-id").unwrap())
        .collect()
}

pub fn list(users: Vec<User>) -> RwSignal<Users> {
    RwSignal::new(Users::from_users(users))
}

/// A list of `n` generated users, ids 1 to n.
pub fn many(n: u64) -> Vec<User> {
    (1..=n)
        .map(|id| user(&id.to_string(), &format!("User {id}")))
        .collect()
}

/// A test root whose list view is at most `height` pixels tall.
pub fn test_root_of_height(height: u32) -> HtmlElement {
    let root = test_root();
    root.style()
        .set_property("--roster-list-max-height", &format!("{height}px"))
        .unwrap();
    root
}

pub fn scroller(root: &HtmlElement) -> HtmlElement {
    select(root, "[data-testid=user-list-scroller]")
}

/// Scrolls the list and waits until the rows for that place are drawn.
pub async fn scroll_to(root: &HtmlElement, top: i32, then_shows: &str) {
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
pub async fn drawn() {
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
pub fn screen_top(root: &HtmlElement, id: &str) -> f64 {
    select(root, &format!("[data-user-id='{id}']"))
        .get_bounding_client_rect()
        .top()
}

/// Sets the list's filter as the page does.
pub fn set_filter(users: RwSignal<Users>, text: &str) {
    users.update(|list| list.set_filter(filter_for(text)));
}

pub fn text_of(root: &HtmlElement, selector: &str) -> String {
    select(root, selector).text_content().unwrap()
}

/// Polls `done` every 10 ms for up to 5 s; true once it holds.
pub async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if done() {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(10).await;
    }
    done()
}
