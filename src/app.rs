use leptos::prelude::*;
use roster_protocol::settings::Theme;

use crate::components::{
    AddUserButton, ConnectionBadge, ConnectionControls, ErrorBanner, PauseToggle, UserCount,
    UserList, ViewerCount,
};
use crate::settings;
use crate::socket::use_roster_socket;

/// The whole page: a header with the connection's state, the count and the
/// add button, and the live list. Compact (`compact`, `embed`): the same
/// without the header's title and the page's margins.
#[component]
pub fn App() -> impl IntoView {
    let body = document().body();
    let page = settings::read(body.as_ref().map(|body| body.as_ref()), "data-");
    let options = &page.settings;
    // The theme and background belong to the whole document, so the
    // page's own background follows them too.
    if let Some(root) = document().document_element() {
        if options.theme != Theme::Auto {
            let _ = root.set_attribute("data-theme", options.theme.as_str());
        }
        if options.transparent {
            let _ = root.set_attribute("data-bg", "transparent");
        }
    }
    let class = if options.compact {
        "roster roster-compact"
    } else {
        "roster"
    };
    // In compact views the page is exactly its content, so the body's
    // height is Roster's.
    if let Some(body) = body.as_ref().filter(|_| options.embed) {
        crate::embed::report_height(body);
    }
    let socket = use_roster_socket(page.url, page.settings.engine, page.problems);
    let users = socket.users;
    let count = Signal::derive(move || users.with(|users| users.len()));
    let add_user = Callback::new(move |()| socket.add_user());
    let retry = Callback::new(move |()| socket.retry());
    let disconnect = Callback::new(move |()| socket.disconnect());
    let toggle_pause = Callback::new(move |()| socket.toggle_pause());
    view! {
        <main class=class>
            <header class="roster-header">
                <h1>"Roster"</h1>
                <div class="roster-presence">
                    <ViewerCount viewers=socket.viewers />
                    <ConnectionBadge status=socket.status />
                    <ConnectionControls status=socket.status on_retry=retry on_disconnect=disconnect />
                </div>
            </header>
            <section class="roster-toolbar">
                <UserCount count />
                <div class="roster-actions">
                    <PauseToggle paused=socket.paused held=socket.held on_toggle=toggle_pause />
                    <AddUserButton on_add=add_user pending=socket.pending />
                </div>
            </section>
            <ErrorBanner status=socket.status />
            <UserList users />
        </main>
    }
}
