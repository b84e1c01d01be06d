//! The browser driver of the connection engine: it owns the gloo-net
//! socket, one gloo-timers timeout and the window's listeners, feeds what
//! happens into [`Engine`] and carries out what the engine decides.
//!
//! Every decision (backoff, heartbeats, browser events, the outbox, the
//! list's versions) lives in `roster_protocol::engine`, where it is tested
//! natively; this module only translates between the browser and the
//! engine.
//! Everything registered here is released when the calling component is
//! cleaned up: the task is aborted (dropping the socket, which removes its
//! listeners, and the timer, which clears it) and the window listeners are
//! removed.

//!
//! # Layout
//! This file is the hook and the handle the components hold; `driver.rs`
//! is the task that owns the socket, `early.rs` adopts the socket the
//! page opened before its module loaded, `pause.rs` holds edits back while
//! paused, `kept_writes.rs` keeps waiting adds and removes in `localStorage`,
//! `token_supply.rs` answers the engine's requests for tokens and
//! `window_events.rs` listens to the window.

mod driver;
mod early;
mod kept_writes;
mod pause;
mod token_supply;
mod window_events;

use std::collections::VecDeque;

use futures::channel::mpsc::{self, UnboundedSender};
use futures::future::{AbortHandle, Abortable};
use leptos::prelude::*;
use leptos::task::spawn_local;
use roster_protocol::auth::Token;
use roster_protocol::engine::{Engine, EngineConfig, Event};
use roster_protocol::list::{Filter, UserList};
use roster_protocol::{ConnectionState, ConnectionStatus, Problem, UserId};

use driver::{random_seed, Driver, Screen};
use kept_writes::KeptWrites;
use pause::Pause;
pub use token_supply::TokenSupply;
use token_supply::{listen_to_the_parent, TokenAsker};
use window_events::listen_to_the_window;

/// The live list and its connection, as the components need them.
#[derive(Clone, Copy)]
pub struct RosterSocket {
    /// The server's current user list, in the server's order. It is edited
    /// in place, change by change; read it with `with`, not `get`, which
    /// would copy it.
    pub users: ReadSignal<UserList>,
    /// Where the connection stands (state, attempt, next try, last error,
    /// round-trip time, protocol).
    pub status: ReadSignal<ConnectionStatus>,
    /// Adds given but not yet done: in v1, not yet acknowledged; with a
    /// seed server, not yet handed to an open socket.
    pub pending: ReadSignal<usize>,
    /// How many people have the list open, when the server says (v1 only).
    pub viewers: ReadSignal<Option<u64>>,
    /// Live updates are paused: changes are held, not shown.
    pub paused: ReadSignal<bool>,
    /// How many changes are held while paused.
    pub held: ReadSignal<usize>,
    pause: Pause,
    events: StoredValue<UnboundedSender<Event>>,
}

impl RosterSocket {
    /// Asks the server to add a generated user. Queued while disconnected.
    pub fn add_user(&self) {
        self.tell(Event::Add);
    }

    /// Tries to connect now: skips a backoff wait, or reconnects after a
    /// disconnect or a refusal.
    pub fn retry(&self) {
        self.tell(Event::Retry);
    }

    /// Closes the connection and keeps it closed until [`Self::retry`].
    /// Asks the server to remove user `id`. Queued while disconnected,
    /// kept across reloads, acknowledged like an add.
    pub fn remove_user(&self, id: UserId) {
        self.tell(Event::Remove(id));
    }

    /// Gets a fresh token now: on a live connection it replaces the old
    /// one; after a close (say, the host's `getToken` failed) it connects
    /// again.
    pub fn refresh(&self) {
        self.tell(Event::Refresh);
    }

    /// Presents `token`, the page's own, in place of the one before.
    pub fn give_token(&self, token: Token) {
        self.tell(Event::TokenGiven(token));
    }

    pub fn disconnect(&self) {
        self.tell(Event::Disconnect);
    }

    /// Pauses live updates, or resumes them and shows every change held
    /// meanwhile, in order. The connection, its heartbeats and the adds go
    /// on either way.
    pub fn toggle_pause(&self) {
        self.pause.toggle(self.paused.get_untracked());
    }

    /// Shows only the users whose name or email contains `text` (blank:
    /// everyone). Changes go on arriving, and go through it.
    pub fn set_filter(&self, text: &str) {
        let filter = filter_for(text);
        self.pause.users().update(|users| users.set_filter(filter));
    }

    /// The reader has seen the end of the list: nobody in it is new any
    /// more. Nothing on screen changes, so nothing is told.
    pub fn mark_seen(&self) {
        self.pause
            .users()
            .update_untracked(|users| users.mark_seen());
    }

    fn tell(&self, event: Event) {
        // After unmount nobody is left to care about the click.
        self.events
            .try_with_value(|events| events.unbounded_send(event).ok());
    }
}

/// The list's filter for `text`; `None` for blank text.
pub fn filter_for(text: &str) -> Option<Filter> {
    Filter::new(text, lower_case)
}

/// Lower-cases text with the browser's own Unicode tables (see
/// `roster_protocol::list::Fold`).
fn lower_case(text: &str) -> String {
    js_sys::JsString::from(text).to_lower_case().into()
}

/// Starts the connection for `url` with `config` and returns its signals.
/// `problems` with the settings (from [`EngineConfig::from_query`]) are
/// shown as the last error whenever there is no other one. The socket, its timer and the window listeners are
/// released when the calling component is cleaned up.
///
/// An unusable `url` leaves the connection `closed` with the reason shown.
pub fn use_roster_socket(
    url: Result<String, impl std::fmt::Display>,
    config: EngineConfig,
    problems: Vec<String>,
) -> RosterSocket {
    use_roster_socket_with(url, config, problems, TokenSupply::None)
}

/// [`use_roster_socket`], presenting tokens from `tokens`: asked for before
/// each connect and before they expire, when `tokens` can be asked.
pub fn use_roster_socket_with(
    url: Result<String, impl std::fmt::Display>,
    config: EngineConfig,
    problems: Vec<String>,
    tokens: TokenSupply,
) -> RosterSocket {
    let (users, set_users) = signal(UserList::default());
    let (status, set_status) = signal(ConnectionStatus::default());
    let (pending, set_pending) = signal(0usize);
    let (viewers, set_viewers) = signal(None);
    let (pause, paused, held) = Pause::new(set_users);
    let (event_tx, event_rx) = mpsc::unbounded();
    let socket = RosterSocket {
        users,
        status,
        pending,
        viewers,
        paused,
        held,
        pause,
        events: StoredValue::new(event_tx.clone()),
    };
    let url = match url {
        Ok(url) => url,
        Err(reason) => {
            set_status.set(ConnectionStatus {
                state: ConnectionState::Closed,
                last_error: Some(Problem::Unusable {
                    reason: reason.to_string(),
                }),
                ..ConnectionStatus::default()
            });
            return socket;
        }
    };
    let mut engine = Engine::new(config, url.clone(), random_seed());
    engine.use_tokens(tokens.source());
    let asker = TokenAsker::new(tokens.clone(), event_tx.clone());
    let mut listeners = Vec::new();
    if let TokenSupply::Parent { origin } = tokens {
        listeners.push(listen_to_the_parent(
            origin,
            asker.waiting(),
            event_tx.clone(),
        ));
    }
    listeners.extend(listen_to_the_window(event_tx));
    let mut backlog = VecDeque::from(engine.warn_about_settings(&problems));
    let kept = KeptWrites::new(&url);
    if kept.spoke_v1() {
        engine.remember_v1();
    }
    backlog.extend(engine.restore_writes(kept.load()));
    let screen = Screen {
        status: set_status,
        pending: set_pending,
        viewers: set_viewers,
        paused,
        pause,
    };
    let driver = Driver::new(url, engine, backlog, kept, event_rx, screen, asker);
    let (abort, registration) = AbortHandle::new_pair();
    spawn_local(async move {
        let _ = Abortable::new(driver.run(), registration).await;
    });
    on_cleanup(move || {
        abort.abort();
        for listener in listeners {
            listener.remove();
        }
    });
    socket
}
