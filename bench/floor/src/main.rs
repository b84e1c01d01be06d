//! The floor under the client's size budget: a Leptos list fed by one
//! gloo-net socket, its frames read by serde_json as a tagged enum. No
//! engine, reconnects, outbox, seed protocol, validation or header: what
//! any Leptos + gloo-net + serde_json client pays before its own code.
//! It is only built and measured (`bench/floor/size.sh`), never run.

use futures::StreamExt;
use gloo_net::websocket::{futures::WebSocket, Message};
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Clone, Deserialize)]
struct User {
    id: String,
    name: String,
    email: String,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Frame {
    Snapshot { users: Vec<User> },
    Change { user: User },
    Error { message: String },
}

#[component]
fn App() -> impl IntoView {
    let (rows, set_rows) = signal(Vec::<User>::new());
    let (error, set_error) = signal(String::new());
    leptos::task::spawn_local(async move {
        let Ok(mut socket) = WebSocket::open("ws://127.0.0.1:8080/api/v1/users/ws") else {
            return;
        };
        while let Some(Ok(Message::Text(text))) = socket.next().await {
            match serde_json::from_str::<Frame>(&text) {
                Ok(Frame::Snapshot { users }) => set_rows.set(users),
                Ok(Frame::Change { user }) => set_rows.update(|rows| rows.push(user)),
                Ok(Frame::Error { message }) => set_error.set(message),
                Err(err) => set_error.set(err.to_string()),
            }
        }
    });
    view! {
        <p>{error}</p>
        <ul>
            <For each=move || rows.get() key=|user| user.id.clone() let:user>
                <li data-user-id=user.id.clone()>{user.name}" "{user.email}</li>
            </For>
        </ul>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
