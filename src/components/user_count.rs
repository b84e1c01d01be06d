use leptos::prelude::*;

/// How many users the list holds.
#[component]
pub fn UserCount(#[prop(into)] count: Signal<usize>) -> impl IntoView {
    view! {
        <p class="user-count">
            <span data-testid="user-count">{move || count.get()}</span>
            {move || if count.get() == 1 { " user" } else { " users" }}
        </p>
    }
}
