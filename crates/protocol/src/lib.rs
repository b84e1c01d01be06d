//! Roster's wire types and connection logic, as plain Rust with no I/O.
//!
//! Everything here compiles for both the native server and the wasm32
//! browser client, and is tested natively. Time, randomness and sockets stay
//! outside: callers pass in what happened and act on what comes back.
//!
//! # Layout
//! - [`error`]: the error vocabulary both sides share (codes and bodies).
//! - [`close_code`]: WebSocket close codes, for the server's framing and
//!   the client's engine alike.
//! - [`auth`]: tokens, scopes and the session a server grants.
//! - [`user`]: the user object and its opaque id, which arrives as a JSON
//!   string or a JSON number.
//! - [`seed`]: the seed (legacy) protocol spoken by the Dart Frog servers and
//!   Flutter clients Roster grew from: whole-list frames and the two trigger
//!   commands.
//! - [`query`]: reading settings from a page's query string.
//! - [`endpoint`]: which WebSocket URL a page connects to, decided at run time.
//! - [`connection`]: the connection states the client shows.
//! - [`problem`]: what went wrong, typed, as the client's status shows it.
//! - [`engine`]: the connection engine: backoff, heartbeats, browser
//!   events, the outbox and the list's versions, as a pure state machine.
//! - [`v1`]: Roster protocol v1, the message catalogue with examples.
//! - `deflate` (feature `deflate`): permessage-deflate's codec (RFC 7692),
//!   for the server and the load generator.
//! - `framing` (feature `framing`): RFC 6455 framing as the server speaks
//!   it, so that it is fuzzed without building the server.
//! - [`validate`]: names, emails and request ids, checked where they enter.
//! - [`settings`]: the client's settings and the order a page reads them
//!   in (query, mount element, meta tags, defaults).
//! - [`list_name`]: list names and the patterns scopes name them by.
//! - [`list`]: the client's copy of the list, keyed by id in the server's
//!   order with O(log n) edits and lookups by position.
//! - `tagged` (private): reading a JSON frame tagged by `type`, once, with
//!   an error code for each kind of mistake.

pub mod auth;
pub mod close_code;
pub mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
pub mod endpoint;
pub mod engine;
pub mod error;
#[cfg(test)]
mod fixtures;
#[cfg(feature = "framing")]
pub mod framing;
pub mod list;
pub mod list_name;
pub mod problem;
pub mod query;
pub mod seed;
pub mod settings;
mod tagged;
pub mod user;
pub mod v1;
pub mod validate;

pub use connection::{ConnectionState, ConnectionStatus, Protocol};
pub use list_name::{ListName, ListPattern};
pub use problem::Problem;
pub use seed::{DecodeError, SeedCommand};
pub use user::{User, UserId};
pub use v1::SUBPROTOCOL;
