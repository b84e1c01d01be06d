use leptos::prelude::*;

/// Filters the list by name or email as the reader types.
#[component]
pub fn UserFilter(#[prop(into)] on_filter: Callback<String>) -> impl IntoView {
    view! {
        <input
            type="search"
            class="user-filter"
            data-testid="filter"
            placeholder="Filter by name or email"
            aria-label="Filter users by name or email"
            autocomplete="off"
            spellcheck="false"
            on:input=move |event| on_filter.run(event_target_value(&event))
        />
    }
}
