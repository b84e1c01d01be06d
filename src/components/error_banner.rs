//! The error view.
//!
//! Drawn with a few DOM calls rather than a Leptos view with an optional
//! branch: 2.7 KB gzip of wasm against 3.6 KB (see BENCHMARKS.md, "Where
//! the bytes go").

use leptos::prelude::*;
use roster_protocol::{ConnectionStatus, Problem};
use wasm_bindgen::prelude::*;
use web_sys::Element;

/// The problems a person should act on or know about (a refused
/// connection, bad data from the server, a refused or dropped add, a full
/// outbox, ignored settings), each with a heading in plain words and the
/// details, until dismissed. Losing the connection is not shown here: the
/// status shows the retries. `data-problem` names the kind.
#[component]
pub fn ErrorBanner(#[prop(into)] status: Signal<ConnectionStatus>) -> impl IntoView {
    view! { <div class="error-view" use:error_view=status></div> }
}

/// Builds the banner inside `slot` and keeps it in step with `status`.
fn error_view(slot: Element, status: Signal<ConnectionStatus>) {
    let document = document();
    let create = |tag: &str| {
        document
            .create_element(tag)
            .expect("the document creates elements")
    };
    let banner = create("div");
    banner.set_class_name("error-banner");
    let _ = banner.set_attribute("role", "alert");
    let _ = banner.set_attribute("data-testid", "error-banner");
    let text = create("div");
    text.set_class_name("error-banner-text");
    let title = create("strong");
    let words = create("span");
    let _ = text.append_child(&title);
    let _ = text.append_child(&words);
    let dismiss = create("button");
    dismiss.set_class_name("secondary");
    let _ = dismiss.set_attribute("type", "button");
    let _ = dismiss.set_attribute("data-testid", "error-dismiss");
    dismiss.set_text_content(Some("Dismiss"));
    let _ = banner.append_child(&text);
    let _ = banner.append_child(&dismiss);

    // The problem last dismissed: it stays hidden until another comes.
    // Plain state, not a signal: dismissing hides the banner itself.
    let dismissed = StoredValue::new_local(None::<Problem>);
    let on_dismiss = {
        let banner = banner.clone();
        Closure::<dyn Fn()>::new(move || {
            dismissed.set_value(status.with_untracked(|s| s.last_error.clone()));
            banner.remove();
        })
    };
    let _ = dismiss.add_event_listener_with_callback("click", on_dismiss.as_ref().unchecked_ref());

    let effect = RenderEffect::new(move |_| {
        let problem = status.with(|s| s.last_error.clone()).filter(|problem| {
            problem.is_alert() && dismissed.with_value(|gone| gone.as_ref() != Some(problem))
        });
        match problem {
            Some(problem) => {
                let _ = banner.set_attribute("data-problem", problem.kind());
                title.set_text_content(Some(problem.title()));
                words.set_text_content(Some(&problem.to_string()));
                let _ = slot.append_child(&banner);
            }
            None => banner.remove(),
        }
    });
    // Drawn at once (a render effect's first run), kept until cleanup.
    let kept = StoredValue::new_local(Some((effect, on_dismiss)));
    on_cleanup(move || drop(kept.try_update_value(Option::take)));
}
