use leptos::prelude::*;

use crate::numbers::{agreeing, grouped};

/// How many users the list holds, and while a filter is set, how many of
/// them it shows ("12 of 100,000 users", grouped for the reader's locale).
/// The count is a `<data>` element whose `value` is the number itself.
#[component]
pub fn UserCount(
    #[prop(into)] count: Signal<usize>,
    #[prop(optional, into)] shown: Signal<Option<usize>>,
) -> impl IntoView {
    view! {
        <p class="user-count">
            <span data-testid="shown-count">
                {move || shown.get().map(|shown| format!("{} of ", grouped(shown)))}
            </span>
            <data data-testid="user-count" value=move || count.get().to_string()>
                {move || grouped(count.get())}
            </data>
            {move || agreeing(count.get(), " user", " users")}
        </p>
    }
}
