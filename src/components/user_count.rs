use leptos::prelude::*;

/// How many users the list holds, and while a filter is set, how many of
/// them it shows ("12 of 100000 users").
#[component]
pub fn UserCount(
    #[prop(into)] count: Signal<usize>,
    #[prop(optional, into)] shown: Signal<Option<usize>>,
) -> impl IntoView {
    view! {
        <p class="user-count">
            <span data-testid="shown-count">
                {move || shown.get().map(|shown| format!("{shown} of "))}
            </span>
            <span data-testid="user-count">{move || count.get()}</span>
            {move || if count.get() == 1 { " user" } else { " users" }}
        </p>
    }
}
