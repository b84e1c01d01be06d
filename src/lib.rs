//! Roster's browser client: a live user list, client-side rendered with
//! Leptos and fed by one WebSocket.
//!
//! # Layout
//! - [`app`]: the page, wiring the socket's signals into the components.
//! - [`socket`]: the browser driver of the connection engine: one gloo-net
//!   socket, one timer and the window's listeners.
//! - [`settings`]: reads the page's settings (query, mount element, meta
//!   tags) and decides where to connect.
//! - [`embed`]: with `embed=1`, tells the host page Roster's height.
//! - [`components`]: what is rendered: the list, its count, the connection
//!   status, its controls and the add button. Each takes signals, not a socket, so tests
//!   mount them alone.
//!
//! The wire types and every decision that needs no browser live in the
//! `roster-protocol` crate, where they are tested natively.

pub mod app;
pub mod components;
pub mod embed;
pub mod settings;
pub mod socket;

pub use app::App;

/// Mounts the whole app into the page's `<body>`.
pub fn mount() {
    leptos::mount::mount_to_body(App);
}
