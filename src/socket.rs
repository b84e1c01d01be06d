//! The browser driver of the connection engine: it owns the gloo-net
//! socket, one gloo-timers timeout and the window's listeners, feeds what
//! happens into [`Engine`] and carries out what the engine decides.
//!
//! Every decision (backoff, heartbeats, browser events, the outbox, the
//! list's versions) lives in `roster_protocol::engine`, where it is tested
//! natively; this file only translates between the browser and the engine.
//! Everything registered here is released when the calling component is
//! cleaned up: the task is aborted (dropping the socket, which removes its
//! listeners, and the timer, which clears it) and the window listeners are
//! removed.

use std::collections::VecDeque;
use std::pin::{pin, Pin};

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{self, AbortHandle, Abortable, Either};
use futures::{Sink, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, State, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use roster_protocol::engine::{Action, Engine, EngineConfig, Event, Millis, SavedAdd};
use roster_protocol::list::{Filter, HeldEdits, ListEdit, UserList};
use roster_protocol::{ConnectionState, ConnectionStatus, Problem, Protocol, SUBPROTOCOL};

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

/// What pausing needs, shared by the socket's handle and its driver.
#[derive(Clone, Copy)]
struct Pause {
    set_paused: WriteSignal<bool>,
    set_held: WriteSignal<usize>,
    edits: StoredValue<HeldEdits>,
    set_users: WriteSignal<UserList>,
}

impl Pause {
    /// Shows `edit` now, or holds it while paused.
    fn edit(&self, paused: bool, edit: ListEdit) {
        if paused {
            let held = self.edits.try_update_value(|held| {
                held.hold(edit);
                held.len()
            });
            self.set_held.set(held.unwrap_or(0));
        } else {
            self.set_users.update(|users| users.edit(edit));
        }
    }
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
    pub fn disconnect(&self) {
        self.tell(Event::Disconnect);
    }

    /// Pauses live updates, or resumes them and shows every change held
    /// meanwhile, in order. The connection, its heartbeats and the adds go
    /// on either way.
    pub fn toggle_pause(&self) {
        let pause = self.pause;
        if !self.paused.get_untracked() {
            pause.set_paused.set(true);
            return;
        }
        pause.edits.update_value(|held| {
            pause.set_users.update(|users| held.apply_to(users));
        });
        pause.set_held.set(0);
        pause.set_paused.set(false);
    }

    /// Shows only the users whose name or email contains `text` (blank:
    /// everyone). Changes go on arriving, and go through it.
    pub fn set_filter(&self, text: &str) {
        let filter = filter_for(text);
        self.pause
            .set_users
            .update(|users| users.set_filter(filter));
    }

    /// The reader has seen the end of the list: nobody in it is new any
    /// more. Nothing on screen changes, so nothing is told.
    pub fn mark_seen(&self) {
        self.pause
            .set_users
            .update_untracked(|users| users.mark_seen());
    }

    fn tell(&self, event: Event) {
        // After unmount nobody is left to care about the click.
        self.events
            .with_value(|events| events.unbounded_send(event).ok());
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
    let (users, set_users) = signal(UserList::default());
    let (status, set_status) = signal(ConnectionStatus::default());
    let (pending, set_pending) = signal(0usize);
    let (viewers, set_viewers) = signal(None);
    let (paused, set_paused) = signal(false);
    let (held, set_held) = signal(0usize);
    let pause = Pause {
        set_paused,
        set_held,
        edits: StoredValue::new(HeldEdits::default()),
        set_users,
    };
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
    let listeners = listen_to_the_window(event_tx);
    let mut engine = Engine::new(config, url.clone(), random_seed());
    let mut backlog = VecDeque::from(engine.warn_about_settings(&problems));
    let kept = KeptAdds::new(&url);
    if kept.spoke_v1() {
        engine.remember_v1();
    }
    backlog.extend(engine.restore_adds(kept.load()));
    let driver = Driver {
        url,
        engine,
        events: event_rx,
        socket: None,
        timer: None,
        backlog,
        kept,
        paused,
        pause,
        set_status,
        set_pending,
        set_viewers,
    };
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

/// Registers the window events the engine cares about; each handle must be
/// removed on cleanup.
fn listen_to_the_window(events: UnboundedSender<Event>) -> Vec<WindowListenerHandle> {
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

/// The socket the engine asked for.
struct Socket {
    ws: WebSocket,
    /// The open event has been reported.
    open: bool,
}

/// What woke the driver up.
enum Wake {
    Socket(Event),
    Timer,
    /// A click or window event; `None` once every sender is gone.
    Told(Option<Event>),
}

struct Driver {
    url: String,
    engine: Engine,
    events: UnboundedReceiver<Event>,
    socket: Option<Socket>,
    timer: Option<TimeoutFuture>,
    /// Actions to carry out before waiting again.
    backlog: VecDeque<Action>,
    kept: KeptAdds,
    paused: ReadSignal<bool>,
    pause: Pause,
    set_status: WriteSignal<ConnectionStatus>,
    set_pending: WriteSignal<usize>,
    set_viewers: WriteSignal<Option<u64>>,
}

impl Driver {
    async fn run(mut self) {
        let online = web_sys::window().is_none_or(|window| window.navigator().on_line());
        self.handle(Event::Start { online });
        loop {
            while let Some(action) = self.backlog.pop_front() {
                self.carry_out(action);
            }
            let event = match self.wait().await {
                Wake::Socket(event) => {
                    if matches!(event, Event::Closed { .. }) {
                        self.socket = None;
                    }
                    if event
                        == (Event::Opened {
                            protocol: Protocol::V1,
                        })
                    {
                        self.kept.remember_v1();
                    }
                    event
                }
                Wake::Timer => {
                    self.timer = None;
                    Event::Tick
                }
                Wake::Told(Some(event)) => event,
                Wake::Told(None) => return,
            };
            self.handle(event);
        }
    }

    fn handle(&mut self, event: Event) {
        let actions = self.engine.handle(now(), event);
        self.backlog.extend(actions);
    }

    async fn wait(&mut self) -> Wake {
        let socket = pin!(next_socket_event(self.socket.as_mut()));
        let timer = &mut self.timer;
        let timer = pin!(async move {
            match timer.as_mut() {
                Some(timer) => timer.await,
                None => future::pending().await,
            }
        });
        let told = self.events.next();
        match future::select(future::select(socket, timer), told).await {
            Either::Left((Either::Left((event, _)), _)) => Wake::Socket(event),
            Either::Left((Either::Right(((), _)), _)) => Wake::Timer,
            Either::Right((event, _)) => Wake::Told(event),
        }
    }

    fn carry_out(&mut self, action: Action) {
        match action {
            Action::Open { offer_v1 } => {
                self.socket = None;
                let opened = if offer_v1 {
                    WebSocket::open_with_protocol(&self.url, SUBPROTOCOL)
                } else {
                    WebSocket::open(&self.url)
                };
                match opened {
                    Ok(ws) => self.socket = Some(Socket { ws, open: false }),
                    Err(err) => {
                        let reason = format!("cannot open {}: {err}", self.url);
                        self.handle(Event::Unusable { reason });
                    }
                }
            }
            Action::Send(frame) => {
                // The browser silently drops what is sent on a socket that
                // is not open; its close event follows and the engine
                // resends what needs acknowledging.
                if let Some(socket) = self.socket.as_mut().filter(|s| s.open) {
                    if matches!(socket.ws.state(), State::Open) {
                        let _ = Pin::new(&mut socket.ws).start_send(Message::Text(frame));
                    }
                }
            }
            Action::Close { code, reason } => {
                if let Some(socket) = self.socket.take() {
                    let _ = socket.ws.close(Some(code), Some(&reason));
                }
            }
            Action::ArmTimer { at } => {
                // setTimeout fires at once for anything above i32::MAX ms;
                // a timer that fires early is harmless (the engine arms
                // the rest again), one that fires at once in a loop is not.
                let wait = at.saturating_sub(now()).min(i32::MAX as u64);
                self.timer = Some(TimeoutFuture::new(wait as u32));
            }
            Action::DisarmTimer => self.timer = None,
            Action::ShowStatus(status) => self.set_status.set(status),
            Action::EditUsers(edit) => self.pause.edit(self.paused.get_untracked(), edit),
            Action::ShowPending(pending) => self.set_pending.set(pending),
            Action::ShowViewers(viewers) => self.set_viewers.set(viewers),
            Action::SaveAdds(adds) => self.kept.save(&adds),
        }
    }
}

/// The next thing the socket has to say, or never if there is no socket.
async fn next_socket_event(socket: Option<&mut Socket>) -> Event {
    let Some(socket) = socket else {
        return future::pending().await;
    };
    if !socket.open {
        // gloo-net's sink becomes ready once the socket has opened or failed.
        let _ = future::poll_fn(|cx| Pin::new(&mut socket.ws).poll_ready(cx)).await;
        if matches!(socket.ws.state(), State::Open) {
            socket.open = true;
            let protocol = if socket.ws.protocol() == SUBPROTOCOL {
                Protocol::V1
            } else {
                Protocol::Seed
            };
            return Event::Opened { protocol };
        }
    }
    loop {
        return match socket.ws.next().await {
            Some(Ok(Message::Text(text))) => Event::Frame(text),
            Some(Ok(Message::Bytes(_))) => Event::BinaryFrame,
            // An error event comes just before the close event, which
            // carries the code; wait for it.
            Some(Err(WebSocketError::ConnectionError)) => continue,
            Some(Err(WebSocketError::ConnectionClose(close))) => Event::Closed {
                code: close.code,
                reason: close.reason,
            },
            Some(Err(err)) => Event::Closed {
                code: 1006,
                reason: err.to_string(),
            },
            None => Event::Closed {
                code: 1006,
                reason: String::new(),
            },
        };
    }
}

/// Adds not yet done, kept in `localStorage` so a reload sends them again
/// under the same request ids: one key per add,
/// `roster:adds:<server URL> <request id>`, holding
/// [`SavedAdd::to_stored`]. Every tab on the same server reads them all
/// after a reload; an add sent by two tabs is still one user, because the
/// server answers a repeated request id with the first answer.
///
/// Storage that is missing or full (private windows, quotas) only loses
/// this safety net, never the adds in memory.
struct KeptAdds {
    prefix: String,
    /// `roster:v1:<server URL>`: present once this server has spoken v1.
    v1_key: String,
    storage: Option<web_sys::Storage>,
    /// What this page wrote: key → value.
    written: Vec<(String, String)>,
}

impl KeptAdds {
    fn new(url: &str) -> Self {
        Self {
            prefix: format!("roster:adds:{url} "),
            v1_key: format!("roster:v1:{url}"),
            storage: web_sys::window().and_then(|window| window.local_storage().ok().flatten()),
            written: Vec::new(),
        }
    }

    /// Whether this server has spoken v1 to a page of this browser.
    fn spoke_v1(&self) -> bool {
        self.storage
            .as_ref()
            .is_some_and(|storage| storage.get_item(&self.v1_key).ok().flatten().is_some())
    }

    /// Remembers that this server speaks v1 (see [`Engine::remember_v1`]).
    fn remember_v1(&self) {
        if let Some(storage) = &self.storage {
            let _ = storage.set_item(&self.v1_key, "1");
        }
    }

    /// Every add kept for this server, by any tab.
    fn load(&self) -> Vec<SavedAdd> {
        let Some(storage) = &self.storage else {
            return Vec::new();
        };
        let count = storage.length().unwrap_or(0);
        (0..count)
            .filter_map(|index| storage.key(index).ok().flatten())
            .filter_map(|key| {
                let id = key.strip_prefix(&self.prefix)?;
                let text = storage.get_item(&key).ok().flatten()?;
                SavedAdd::from_stored(id, &text)
            })
            .collect()
    }

    /// Keeps exactly `adds` of those this page is responsible for.
    fn save(&mut self, adds: &[SavedAdd]) {
        let Some(storage) = &self.storage else {
            return;
        };
        let wanted: Vec<(String, String)> = adds
            .iter()
            .map(|add| {
                let key = format!("{}{}", self.prefix, add.request_id);
                (key, add.to_stored())
            })
            .collect();
        for (key, _) in &self.written {
            if !wanted.iter().any(|(wanted, _)| wanted == key) {
                let _ = storage.remove_item(key);
            }
        }
        for entry in &wanted {
            if !self.written.contains(entry) {
                let _ = storage.set_item(&entry.0, &entry.1);
            }
        }
        self.written = wanted;
    }
}

fn now() -> Millis {
    js_sys::Date::now() as Millis
}

/// Seeds the engine's jitter and request ids: 53 random bits from the
/// browser mixed with the clock, so tabs opened together still differ.
fn random_seed() -> u64 {
    let random = (js_sys::Math::random() * (1u64 << 53) as f64) as u64;
    random ^ now().rotate_left(32)
}

fn page_is_visible() -> bool {
    web_sys::window()
        .and_then(|window| window.document())
        .is_none_or(|document| document.visibility_state() == web_sys::VisibilityState::Visible)
}
