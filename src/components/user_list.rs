use leptos::prelude::*;
use roster_protocol::User;

/// The users, one row each, keyed by id so a new list only touches the rows
/// that changed.
#[component]
pub fn UserList(#[prop(into)] users: Signal<Vec<User>>) -> impl IntoView {
    let is_empty = move || users.with(Vec::is_empty);
    view! {
        <ul class="user-list" data-testid="user-list">
            // Keyed by the whole user, so a user whose name changes is redrawn.
            <For each=move || users.get() key=|user| user.clone() let:user>
                <li class="user-row" data-testid="user-row" data-user-id=user.id.to_string()>
                    <span class="user-avatar" aria-hidden="true">{initials(&user.name)}</span>
                    <span class="user-name">{user.name.clone()}</span>
                    <span class="user-email">{user.email.clone()}</span>
                    <span class="user-id">"#"{user.id.to_string()}</span>
                </li>
            </For>
            <Show when=is_empty>
                <li class="user-list-empty" data-testid="user-list-empty">"No users yet."</li>
            </Show>
        </ul>
    }
}

/// Up to two capital letters from a name, for the avatar circle.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .flat_map(char::to_uppercase)
        .collect()
}
