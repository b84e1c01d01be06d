use leptos::prelude::*;

use crate::numbers::{agreeing, grouped};

/// How many people have the list open, when the server reports it (Roster
/// servers do, seed servers do not: then nothing is shown).
#[component]
pub fn ViewerCount(#[prop(into)] viewers: Signal<Option<u64>>) -> impl IntoView {
    view! {
        <Show when=move || viewers.get().is_some()>
            <p class="viewer-count" title="People with this list open">
                <span data-testid="viewer-count">
                    {move || grouped(viewers.get().unwrap_or_default() as usize)}
                </span>
                {move || agreeing(viewers.get().unwrap_or_default() as usize, " viewer", " viewers")}
            </p>
        </Show>
    }
}
