use leptos::prelude::*;

use crate::numbers::grouped;

/// Pauses and resumes live updates. While paused the list holds still and
/// the button says how many changes wait; none is dropped.
#[component]
pub fn PauseToggle(
    #[prop(into)] paused: Signal<bool>,
    #[prop(into)] held: Signal<usize>,
    #[prop(into)] on_toggle: Callback<()>,
) -> impl IntoView {
    let label = move || match (paused.get(), held.get()) {
        (false, _) => "Pause".to_owned(),
        (true, 0) => "Resume".to_owned(),
        (true, 1) => "Resume (1 change held)".to_owned(),
        (true, n) => format!("Resume ({} changes held)", grouped(n)),
    };
    view! {
        <button
            type="button"
            class="secondary pause-toggle"
            data-testid="pause-toggle"
            aria-pressed=move || if paused.get() { "true" } else { "false" }
            on:click=move |_| on_toggle.run(())
        >
            {label}
        </button>
    }
}
