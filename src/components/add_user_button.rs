use leptos::prelude::*;

use crate::numbers::grouped;

/// Asks the server to add a generated user. Clicks made while disconnected
/// are queued by the socket, and `pending` shows how many wait.
#[component]
pub fn AddUserButton(
    #[prop(into)] on_add: Callback<()>,
    #[prop(into)] pending: Signal<usize>,
) -> impl IntoView {
    view! {
        <div class="add-user">
            <button type="button" data-testid="add-user" on:click=move |_| on_add.run(())>
                "Add user"
            </button>
            <Show when=move || { pending.get() > 0 }>
                <span class="pending" data-testid="pending-count" title="Sent once the connection is back">
                    {move || grouped(pending.get())}" waiting to send"
                </span>
            </Show>
        </div>
    }
}
