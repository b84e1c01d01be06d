//! The window's events the engine acts on: the network going and coming
//! back, the page hidden or shown, and the back/forward cache.

use futures::channel::mpsc::UnboundedSender;
use leptos::prelude::*;
use roster_protocol::engine::Event;

/// Registers the window events the engine cares about; each handle must be
/// removed on cleanup.
pub fn listen_to_the_window(events: UnboundedSender<Event>) -> Vec<WindowListenerHandle> {
    let forward = |name: &str, event: fn() -> Event| {
        let events = events.clone();
        window_event_listener_untyped(name, move |_| {
            let _ = events.unbounded_send(event());
        })
    };
    let visibility = {
        let events = events.clone();
        // Fired at the document; it bubbles to the window.
        window_event_listener_untyped("visibilitychange", move |_| {
            let _ = events.unbounded_send(if page_is_visible() {
                Event::Visible
            } else {
                Event::Hidden
            });
        })
    };
    vec![
        forward("online", || Event::Online),
        forward("offline", || Event::Offline),
        forward("pagehide", || Event::PageHide),
        forward("pageshow", || Event::PageShow),
        visibility,
    ]
}

fn page_is_visible() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_none_or(|document| document.visibility_state() == web_sys::VisibilityState::Visible)
}
