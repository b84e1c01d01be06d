use std::rc::Rc;

use leptos::prelude::*;
use roster_protocol::auth::Access;
use roster_protocol::settings::Theme;
use roster_protocol::{ConnectionStatus, Protocol, UserId};
use web_sys::Element;

use crate::components::{
    AddUserButton, ConnectionBadge, ConnectionControls, ErrorBanner, PauseToggle, UserCount,
    UserFilter, UserList, ViewerCount,
};
use crate::settings::{self, PageSettings, Source};
use crate::socket::{use_roster_socket_with, RosterSocket, TokenSupply};

/// Roster's own page: its settings from the query string, `<body>`'s
/// `data-*` attributes and meta tags; the theme and background set on the
/// whole document.
#[component]
pub fn App() -> impl IntoView {
    let body = document().body();
    let mut sources = vec![Source::Query];
    if let Some(body) = body.as_ref() {
        sources.push(Source::Attributes(body, "data-"));
    }
    let page = settings::read(&sources);
    if let Some(root) = document().document_element() {
        apply_theme(&root, &page);
        if page.settings.transparent {
            let _ = root.set_attribute("data-bg", "transparent");
        }
    }
    // The tab (and an iframe's document) names the list it shows.
    if let Some(list) = &page.settings.list {
        document().set_title(&format!("Roster: {list}"));
    }
    // In the embed view the page is exactly its content, so the body's
    // height is Roster's.
    if let Some(body) = body.as_ref().filter(|_| page.settings.embed) {
        crate::embed::report_height(body);
    }
    let compact = page.settings.compact;
    // The page's one main landmark; a widget is a region of its host's.
    view! {
        <main class="roster-page">
            <Roster page compact />
        </main>
    }
}

/// Sets the theme setting where the colour scheme should follow it.
pub fn apply_theme(target: &Element, page: &PageSettings) {
    if page.settings.theme != Theme::Auto {
        let _ = target.set_attribute("data-theme", page.settings.theme.as_str());
    }
}

/// A host page's function, called with what changed.
pub type Listener<T> = Option<Rc<dyn Fn(T)>>;

/// What a host page hears from a Roster it mounted, and gives it (see
/// `crate::mount`).
#[derive(Clone, Default)]
pub struct Listeners {
    /// Called with the number of users, whenever it changes.
    pub on_users: Listener<usize>,
    /// Called with the connection's status, whenever it changes.
    pub on_status: Listener<ConnectionStatus>,
    /// The host's `getToken`, asked before each connect and before the
    /// token expires.
    pub get_token: Option<js_sys::Function>,
    /// Called once with the socket, so the host's handle can reach it.
    pub on_socket: Listener<RosterSocket>,
}

/// Where this Roster's token comes from: the host's `getToken`, then (in
/// an iframe that names its parent's origin) the parent page, then the
/// `token` setting.
fn token_supply(page: &PageSettings, listeners: &Listeners) -> TokenSupply {
    if let Some(get_token) = &listeners.get_token {
        return TokenSupply::Function(get_token.clone());
    }
    if let (true, Some(origin)) = (page.settings.embed, &page.settings.parent_origin) {
        return TokenSupply::Parent {
            origin: origin.clone(),
        };
    }
    match &page.settings.token {
        Some(token) => TokenSupply::Fixed(token.clone()),
        None => TokenSupply::None,
    }
}

/// One Roster: the connection's state, the count, the add and pause
/// buttons, the error view and the live list. Compact: without the title
/// and the page's margins. A named region (`<section aria-label>`), so that
/// in a host's dashboard it is a landmark of its own; Roster's own page
/// puts it inside its `<main>`.
#[component]
pub fn Roster(
    page: PageSettings,
    compact: bool,
    #[prop(optional)] listeners: Listeners,
) -> impl IntoView {
    let class = if compact {
        "roster roster-compact"
    } else {
        "roster"
    };
    let tokens = token_supply(&page, &listeners);
    let socket = use_roster_socket_with(page.url, page.settings.engine, page.problems, tokens);
    if let Some(on_socket) = &listeners.on_socket {
        on_socket(socket);
    }
    let users = socket.users;
    let count = Signal::derive(move || users.with(|users| users.len()));
    let shown =
        Signal::derive(move || users.with(|users| users.filter().map(|_| users.shown_len())));
    if let Some(on_users) = listeners.on_users {
        Effect::new(move |_| on_users(count.get()));
    }
    if let Some(on_status) = listeners.on_status {
        let status = socket.status;
        Effect::new(move |_| on_status(status.get()));
    }
    let add_user = Callback::new(move |()| socket.add_user());
    let retry = Callback::new(move |()| socket.retry());
    let disconnect = Callback::new(move |()| socket.disconnect());
    let toggle_pause = Callback::new(move |()| socket.toggle_pause());
    let filter = Callback::new(move |text: String| socket.set_filter(&text));
    let seen = Callback::new(move |()| socket.mark_seen());
    let remove = Callback::new(move |id: UserId| socket.remove_user(id));
    let status = socket.status;
    // Readers see neither Add nor Remove; seed servers remove only their
    // latest user, not a chosen one.
    let writable = Signal::derive(move || status.with(|s| s.access == Access::Write));
    let removable = Signal::derive(move || {
        status.with(|s| s.access == Access::Write && s.protocol != Some(Protocol::Seed))
    });
    // The list's name beside the title and in the region's name, when
    // the page names one; `default` shown as it always was, without.
    let list = page.settings.list.as_ref().map(ToString::to_string);
    let label = list
        .as_ref()
        .map_or_else(|| "Roster".to_owned(), |list| format!("Roster: {list}"));
    let list_name = list.map(|list| {
        view! { <span class="roster-list-name" data-testid="list-name">{list}</span> }
    });
    view! {
        <section class=class aria-label=label>
            <header class="roster-header">
                <h1>"Roster" {list_name}</h1>
                <div class="roster-presence">
                    <ViewerCount viewers=socket.viewers />
                    <ConnectionBadge status=socket.status />
                    <ConnectionControls status=socket.status on_retry=retry on_disconnect=disconnect />
                </div>
            </header>
            <section class="roster-toolbar">
                <UserCount count shown />
                <div class="roster-actions">
                    <PauseToggle paused=socket.paused held=socket.held on_toggle=toggle_pause />
                    <Show
                        when=move || writable.get()
                        fallback=|| view! {
                            <span class="read-only" data-testid="read-only">"Read-only"</span>
                        }
                    >
                        <AddUserButton on_add=add_user pending=socket.pending />
                    </Show>
                </div>
            </section>

            <UserFilter on_filter=filter />
            <ErrorBanner status=socket.status />
            <UserList users on_seen=seen on_remove=remove removable />
        </section>
    }
}
