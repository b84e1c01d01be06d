//! Roster's browser client: a live user list, client-side rendered with
//! Leptos and fed by one WebSocket.
//!
//! # Layout
//! - [`app`]: the page, wiring the socket's signals into the components.
//! - [`socket`]: the browser driver of the connection engine: one gloo-net
//!   socket, one timer and the window's listeners.
//! - [`settings`]: reads the page's settings (query, mount element, meta
//!   tags) and decides where to connect.
//! - [`mount`]: `mount(element, options)` for JavaScript and the
//!   `<roster-users>` element.
//! - [`embed`]: with `embed=1`, tells the host page Roster's height.
//! - [`numbers`]: counts grouped for the reader's locale, words that agree.
//! - [`components`]: what is rendered: the list, its count, the connection
//!   status, its controls and the add button. Each takes signals, not a
//!   socket, so tests mount them alone.
//! - `dom` (private): the few DOM calls made by hand, where a Leptos view
//!   would cost more than it gives.
//!
//! The wire types and every decision that needs no browser live in the
//! `roster-protocol` crate, where they are tested natively.

pub mod app;
pub mod components;
mod dom;
pub mod embed;
pub mod mount;
pub mod numbers;
pub mod settings;
pub mod socket;

pub use app::App;

/// Mounts Roster's own page into `<body>`.
pub fn mount_page() {
    leptos::mount::mount_to_body(App);
}

/// What the module does when it loads: it defines `<roster-users>`, and on
/// Roster's own page (`<html data-roster-page>`) mounts the page. Any other
/// page that loads it gets only what it asks for.
pub fn start() {
    mount::define_element();
    let own_page = leptos::prelude::document()
        .document_element()
        .is_some_and(|root| root.has_attribute("data-roster-page"));
    if own_page {
        mount_page();
    }
}
