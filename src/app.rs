use leptos::prelude::*;

use crate::components::{
    AddUserButton, ConnectionBadge, ConnectionControls, UserCount, UserList, ViewerCount,
};
use crate::location;
use crate::socket::use_roster_socket;

/// The whole page: a header with the connection's state, the count and the
/// add button, and the live list.
#[component]
pub fn App() -> impl IntoView {
    let (config, problems) = location::engine_config();
    let socket = use_roster_socket(location::websocket_url(), config, problems);
    let users = socket.users;
    let count = Signal::derive(move || users.with(|users| users.len()));
    let add_user = Callback::new(move |()| socket.add_user());
    let retry = Callback::new(move |()| socket.retry());
    let disconnect = Callback::new(move |()| socket.disconnect());
    view! {
        <main class="roster">
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
                <AddUserButton on_add=add_user pending=socket.pending />
            </section>
            <UserList users />
        </main>
    }
}
