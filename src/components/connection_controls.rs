use leptos::prelude::*;
use roster_protocol::{ConnectionState, ConnectionStatus};

/// "Retry now" while waiting to reconnect, offline or closed (it skips the
/// backoff wait, or reconnects after a disconnect or a refusal), and
/// "Disconnect" otherwise.
#[component]
pub fn ConnectionControls(
    #[prop(into)] status: Signal<ConnectionStatus>,
    #[prop(into)] on_retry: Callback<()>,
    #[prop(into)] on_disconnect: Callback<()>,
) -> impl IntoView {
    let can_retry = move || {
        status.with(|s| {
            matches!(s.state, ConnectionState::Closed | ConnectionState::Offline)
                || s.next_retry_at.is_some()
        })
    };
    view! {
        <div class="connection-controls">
            <Show
                when=can_retry
                fallback=move || view! {
                    <button type="button" class="secondary" data-testid="disconnect" on:click=move |_| on_disconnect.run(())>
                        "Disconnect"
                    </button>
                }
            >
                <button type="button" class="secondary" data-testid="retry-now" on:click=move |_| on_retry.run(())>
                    {move || if status.with(|s| s.state == ConnectionState::Closed) { "Connect" } else { "Retry now" }}
                </button>
            </Show>
        </div>
    }
}
