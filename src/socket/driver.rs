//! The task that owns one connection: the gloo-net socket, one timer and
//! the engine. It feeds what happens into the engine and carries out what
//! comes back, in order, and nothing else.

use std::collections::VecDeque;
use std::pin::{pin, Pin};

use futures::channel::mpsc::UnboundedReceiver;
use futures::future::{self, Either};
use futures::{Sink, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, State, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use roster_protocol::close_code;
use roster_protocol::engine::{Action, Engine, Event, Millis};
use roster_protocol::v1::FRESH_HELLO;
use roster_protocol::{ConnectionStatus, Protocol, SUBPROTOCOL};

use super::early;
use super::kept_writes::KeptWrites;
use super::pause::Pause;
use super::token_supply::TokenAsker;

/// The socket the engine asked for.
struct Socket {
    ws: WebSocket,
    /// The open event has been reported.
    open: bool,
    /// Frames that arrived before an early socket was adopted, reported
    /// after its open event (text, or `None` for binary).
    held: VecDeque<Option<String>>,
    /// The page already sent a fresh hello on it (see `early`).
    hello_sent: bool,
}

impl Socket {
    fn new(ws: WebSocket) -> Self {
        Self {
            ws,
            open: false,
            held: VecDeque::new(),
            hello_sent: false,
        }
    }
}

/// What woke the driver up.
enum Wake {
    Socket(Event),
    Timer,
    /// A click or window event; `None` once every sender is gone.
    Told(Option<Event>),
}

pub struct Driver {
    url: String,
    engine: Engine,
    events: UnboundedReceiver<Event>,
    socket: Option<Socket>,
    timer: Option<TimeoutFuture>,
    /// Actions to carry out before waiting again.
    backlog: VecDeque<Action>,
    kept: KeptWrites,
    screen: Screen,
    tokens: TokenAsker,
    /// The first open may adopt the page's early socket (`early`): set
    /// until then.
    first_open: bool,
}

/// Where the driver shows what the engine decides.
pub struct Screen {
    pub status: WriteSignal<ConnectionStatus>,
    pub pending: WriteSignal<usize>,
    pub viewers: WriteSignal<Option<u64>>,
    /// Whether live updates are paused, and the pause that holds them.
    pub paused: ReadSignal<bool>,
    pub pause: Pause,
}

impl Driver {
    /// A driver for the socket at `url`, with `actions` to carry out
    /// first; `events` are the page's clicks and the window's events.
    pub fn new(
        url: String,
        engine: Engine,
        actions: VecDeque<Action>,
        kept: KeptWrites,
        events: UnboundedReceiver<Event>,
        screen: Screen,
        tokens: TokenAsker,
    ) -> Self {
        Self {
            url,
            engine,
            events,
            socket: None,
            timer: None,
            backlog: actions,
            kept,
            screen,
            tokens,
            first_open: true,
        }
    }

    pub async fn run(mut self) {
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
                if std::mem::take(&mut self.first_open) {
                    let wanted = offer_v1 && !self.tokens.has_tokens();
                    if let Some(early) = early::adopt(&self.url, wanted) {
                        self.socket = Some(Socket {
                            held: early.held,
                            hello_sent: early.hello_sent,
                            ..Socket::new(early.ws)
                        });
                        return;
                    }
                }
                let opened = if offer_v1 {
                    WebSocket::open_with_protocol(&self.url, SUBPROTOCOL)
                } else {
                    WebSocket::open(&self.url)
                };
                match opened {
                    Ok(ws) => self.socket = Some(Socket::new(ws)),
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
                    // The page said this hello already, before adoption.
                    if std::mem::take(&mut socket.hello_sent) && frame == FRESH_HELLO {
                        return;
                    }
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
            Action::ShowStatus(status) => self.screen.status.set(status),
            Action::EditUsers(edit) => {
                let paused = self.screen.paused.get_untracked();
                self.screen.pause.edit(paused, edit);
            }
            Action::ShowPending(pending) => self.screen.pending.set(pending),
            Action::ShowViewers(viewers) => self.screen.viewers.set(viewers),
            Action::SaveWrites(writes) => self.kept.save(&writes),
            Action::AskToken { request } => self.tokens.ask(request),
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
    if let Some(frame) = socket.held.pop_front() {
        return frame.map_or(Event::BinaryFrame, Event::Frame);
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
                code: close_code::ABNORMAL,
                reason: err.to_string(),
            },
            None => Event::Closed {
                code: close_code::ABNORMAL,
                reason: String::new(),
            },
        };
    }
}

/// The engine's clock: milliseconds since the Unix epoch as they were
/// when the page started, counted on from there by the monotonic clock
/// (`performance.timeOrigin + performance.now()`). `Date.now()` jumps
/// when the wall clock does (a laptop waking, NTP stepping, a person
/// changing it): an hour back would put every heartbeat and retry an hour
/// away, an hour forward would fire them all at once. Token lifetimes
/// come from the server's clock (`session.server_time`), so nothing here
/// needs the wall clock to be right.
pub fn now() -> Millis {
    match web_sys::window().and_then(|window| window.performance()) {
        Some(performance) => (performance.time_origin() + performance.now()) as Millis,
        None => js_sys::Date::now() as Millis,
    }
}

/// Seeds the engine's jitter and request ids: 53 random bits from the
/// browser mixed with the clock, so tabs opened together still differ.
pub fn random_seed() -> u64 {
    let random = (js_sys::Math::random() * (1u64 << 53) as f64) as u64;
    random ^ now().rotate_left(32)
}
