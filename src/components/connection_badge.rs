use leptos::prelude::*;
use roster_protocol::{ConnectionState, ConnectionStatus};

/// Where the connection stands, the reconnection attempt, and the last
/// problem seen. `data-state` carries the machine-readable state.
#[component]
pub fn ConnectionBadge(#[prop(into)] status: Signal<ConnectionStatus>) -> impl IntoView {
    let state = move || status.with(|s| s.state);
    let attempt = move || status.with(|s| s.attempt);
    let detail = move || match (state(), attempt()) {
        (ConnectionState::Reconnecting | ConnectionState::Offline, n) if n > 0 => {
            format!(" (attempt {n})")
        }
        _ => String::new(),
    };
    let last_error = move || status.with(|s| s.last_error.clone());
    view! {
        <div class="connection" data-testid="connection-status" data-state=move || state().as_str() role="status">
            <span class="connection-dot" aria-hidden="true"></span>
            <span class="connection-label">{move || state().label()}{detail}</span>
            <Show when=move || last_error().is_some()>
                <span class="connection-error" data-testid="last-error">{last_error}</span>
            </Show>
        </div>
    }
}
