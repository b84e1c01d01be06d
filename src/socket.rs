//! The WebSocket task: one gloo-net socket at a time, feeding the user list
//! signal and carrying the user's commands to the server.
//!
//! Every socket offers the `roster.v1` subprotocol. When the server selects
//! it, the task speaks v1 through [`V1Session`]: each add carries a request
//! id and stays pending until the server acknowledges it, and is resent on
//! the next connection until then (the server's idempotency makes that
//! exactly once). A server that selects nothing (every seed server) is
//! spoken to in the seed protocol: queued adds are sent once, as soon as a
//! socket is open, since the seed has no acknowledgements to wait for.
//!
//! It reconnects after a fixed delay; backoff and heartbeats come with the
//! connection engine.

use std::collections::VecDeque;
use std::pin::Pin;

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::future::{self, AbortHandle, Abortable, Either};
use futures::{Sink, SinkExt, StreamExt};
use gloo_net::websocket::{futures::WebSocket, Message, State, WebSocketError};
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use roster_protocol::seed::{decode_user_list, DecodeError};
use roster_protocol::session::V1Session;
use roster_protocol::validate::RequestId;
use roster_protocol::{ConnectionState, ConnectionStatus, SeedCommand, User, SUBPROTOCOL};

/// How long to wait before opening a new socket after one is lost.
pub const RECONNECT_DELAY_MS: u32 = 1_000;
/// How long a socket may take to open before it is given up on.
pub const CONNECT_TIMEOUT_MS: u32 = 10_000;

/// The live list and its connection, as the components need them.
#[derive(Clone, Copy)]
pub struct RosterSocket {
    /// The server's current user list, in the server's order.
    pub users: ReadSignal<Vec<User>>,
    /// Where the connection stands.
    pub status: ReadSignal<ConnectionStatus>,
    /// Adds given but not yet done: in v1, not yet acknowledged; with a
    /// seed server, not yet handed to an open socket.
    pub pending: ReadSignal<usize>,
    /// How many people have the list open, when the server says (v1 only).
    pub viewers: ReadSignal<Option<u64>>,
    set_pending: WriteSignal<usize>,
    commands: StoredValue<UnboundedSender<SeedCommand>>,
}

impl RosterSocket {
    /// Asks the server to add a generated user. Queued while disconnected.
    pub fn add_user(&self) {
        self.send(SeedCommand::AddUser);
    }

    fn send(&self, command: SeedCommand) {
        // Counted here, at the click, so the count is true in every phase of
        // the task; the task counts it down once a socket has taken it.
        // The receiver lives as long as the task; after unmount there is
        // nobody left to care about the click.
        let accepted = self
            .commands
            .with_value(|commands| commands.unbounded_send(command).is_ok());
        if accepted {
            self.set_pending.update(|n| *n += 1);
        }
    }
}

/// Starts the socket task for `url` and returns its signals. The task stops,
/// and its socket closes, when the calling component is cleaned up.
///
/// An unusable `url` leaves the connection `closed` with the reason shown.
pub fn use_roster_socket(url: Result<String, impl std::fmt::Display>) -> RosterSocket {
    let (users, set_users) = signal(Vec::new());
    let (status, set_status) = signal(ConnectionStatus::default());
    let (pending, set_pending) = signal(0usize);
    let (viewers, set_viewers) = signal(None);
    let (command_tx, command_rx) = mpsc::unbounded();
    let socket = RosterSocket {
        users,
        status,
        pending,
        viewers,
        set_pending,
        commands: StoredValue::new(command_tx),
    };

    match url {
        Err(reason) => set_status.set(ConnectionStatus {
            state: ConnectionState::Closed,
            attempt: 0,
            last_error: Some(reason.to_string()),
        }),
        Ok(url) => {
            let (abort, registration) = AbortHandle::new_pair();
            let task = SocketTask {
                url,
                commands: command_rx,
                queued: VecDeque::new(),
                session: V1Session::default(),
                set_users,
                set_status,
                set_pending,
                set_viewers,
            };
            spawn_local(async move {
                let _ = Abortable::new(task.run(), registration).await;
            });
            on_cleanup(move || abort.abort());
        }
    }
    socket
}

/// Why one socket's life ended.
enum Ended {
    /// The component went away: stop for good.
    Unmounted,
    /// The browser refuses the URL itself; retrying cannot help.
    Unusable { reason: String },
    /// The connection was lost or never made; try again.
    Lost { reason: String, was_open: bool },
}

struct SocketTask {
    url: String,
    commands: UnboundedReceiver<SeedCommand>,
    /// Commands taken from the channel but not yet sent (or, in v1, not
    /// yet given a request id), oldest first.
    queued: VecDeque<SeedCommand>,
    /// The v1 list and unacknowledged adds, kept across connections.
    session: V1Session,
    set_users: WriteSignal<Vec<User>>,
    set_status: WriteSignal<ConnectionStatus>,
    set_pending: WriteSignal<usize>,
    set_viewers: WriteSignal<Option<u64>>,
}

impl SocketTask {
    async fn run(mut self) {
        let mut attempt = 0;
        loop {
            self.set_status.update(|status| {
                status.state = if attempt == 0 {
                    ConnectionState::Connecting
                } else {
                    ConnectionState::Reconnecting
                };
                status.attempt = attempt;
            });
            match self.connect_once().await {
                Ended::Unmounted => return,
                Ended::Unusable { reason } => {
                    self.set_status.set(ConnectionStatus {
                        state: ConnectionState::Closed,
                        attempt,
                        last_error: Some(reason),
                    });
                    return;
                }
                Ended::Lost { reason, was_open } => {
                    attempt = if was_open { 1 } else { attempt + 1 };
                    let state = if browser_is_online() {
                        ConnectionState::Reconnecting
                    } else {
                        ConnectionState::Offline
                    };
                    self.set_status.set(ConnectionStatus {
                        state,
                        attempt,
                        last_error: Some(reason),
                    });
                }
            }
            // Clicks meanwhile wait in the channel, in order.
            TimeoutFuture::new(RECONNECT_DELAY_MS).await;
        }
    }

    /// Opens one socket and serves it until it ends.
    async fn connect_once(&mut self) -> Ended {
        // Chromium fails a handshake that offered a subprotocol when the
        // server selects none, which is what every seed server does. So a
        // refused v1 offer is followed at once by a plain attempt; v1 is
        // offered first every time, so an upgraded server is noticed.
        let ws = match self.open_socket(Some(SUBPROTOCOL)).await {
            Ok(ws) => ws,
            Err(OpenFailed::Refused) => match self.open_socket(None).await {
                Ok(ws) => ws,
                Err(failed) => return failed.into_ended(&self.url),
            },
            Err(failed) => return failed.into_ended(&self.url),
        };
        // A fresh connection clears the reason the last one ended; problems
        // seen from now on replace it.
        self.set_status.set(ConnectionStatus {
            state: ConnectionState::Connected,
            attempt: 0,
            last_error: None,
        });
        if ws.protocol() == SUBPROTOCOL {
            self.serve_v1(ws).await
        } else {
            self.serve_seed(ws).await
        }
    }

    /// Opens a socket offering `protocol` and waits until it is open.
    async fn open_socket(&self, protocol: Option<&str>) -> Result<WebSocket, OpenFailed> {
        let opened = match protocol {
            Some(protocol) => WebSocket::open_with_protocol(&self.url, protocol),
            None => WebSocket::open(&self.url),
        };
        let mut ws = opened.map_err(|err| OpenFailed::Unusable(err.to_string()))?;
        // gloo-net's sink becomes ready once the socket has opened or failed.
        let ready = future::poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx));
        let timeout = TimeoutFuture::new(CONNECT_TIMEOUT_MS);
        if let Either::Right(_) = future::select(ready, timeout).await {
            return Err(OpenFailed::TimedOut);
        }
        if matches!(ws.state(), State::Open) {
            Ok(ws)
        } else {
            Err(OpenFailed::Refused)
        }
    }

    /// Serves an open socket in the seed protocol. A queued command leaves
    /// the queue only once [`send_text`] has handed it to an open socket.
    async fn serve_seed(&mut self, mut ws: WebSocket) -> Ended {
        self.session.forget_list();
        self.set_viewers.set(None);
        loop {
            while let Some(command) = self.queued.front().copied() {
                if let Err(ended) = send_text(&mut ws, command.as_frame().to_owned()).await {
                    return ended;
                }
                self.queued.pop_front();
                self.set_pending.update(|n| *n = n.saturating_sub(1));
            }
            match future::select(ws.next(), self.commands.next()).await {
                Either::Left((Some(Ok(message)), _)) => self.receive_seed(message),
                Either::Left((incoming, _)) => {
                    if let Some(ended) = socket_ended(incoming) {
                        return ended;
                    }
                }
                Either::Right((Some(command), _)) => self.queued.push_back(command),
                Either::Right((None, _)) => return Ended::Unmounted,
            }
        }
    }

    /// Serves an open socket in Roster protocol v1: hello (resuming from the
    /// version held), every unacknowledged add again, then frames both ways.
    async fn serve_v1(&mut self, mut ws: WebSocket) -> Ended {
        while let Some(command) = self.queued.pop_front() {
            self.record_v1(command);
        }
        for frame in self.session.opened() {
            if let Err(ended) = send_text(&mut ws, frame).await {
                return ended;
            }
        }
        loop {
            match future::select(ws.next(), self.commands.next()).await {
                Either::Left((Some(Ok(message)), _)) => {
                    for reply in self.receive_v1(message) {
                        if let Err(ended) = send_text(&mut ws, reply).await {
                            return ended;
                        }
                    }
                }
                Either::Left((incoming, _)) => {
                    if let Some(ended) = socket_ended(incoming) {
                        return ended;
                    }
                }
                Either::Right((Some(command), _)) => {
                    // Recorded before sending: if the send is lost, the add
                    // is still unacknowledged and goes out on the next socket.
                    if let Some(frame) = self.record_v1(command) {
                        if let Err(ended) = send_text(&mut ws, frame).await {
                            return ended;
                        }
                    }
                }
                Either::Right((None, _)) => return Ended::Unmounted,
            }
        }
    }

    /// Turns a command into a v1 request kept until acknowledged, and
    /// returns its frame. Only adds exist in the UI.
    fn record_v1(&mut self, command: SeedCommand) -> Option<String> {
        match command {
            SeedCommand::AddUser => Some(self.session.add(new_request_id())),
            SeedCommand::RemoveUser => None,
        }
    }

    /// Applies one v1 frame; returns the frames to send in reply.
    fn receive_v1(&mut self, message: Message) -> Vec<String> {
        let Message::Text(text) = message else {
            self.show_error(DecodeError::Binary.to_string());
            return Vec::new();
        };
        let received = self.session.receive(&text);
        if received.list_changed {
            self.set_users.set(self.session.users().to_vec());
        }
        if received.settled > 0 {
            self.set_pending
                .update(|n| *n = n.saturating_sub(received.settled));
        }
        if let Some(viewers) = received.viewers {
            self.set_viewers.set(Some(viewers));
        }
        if let Some(error) = received.error {
            self.show_error(error);
        }
        received.replies
    }

    fn show_error(&self, error: String) {
        self.set_status
            .update(|status| status.last_error = Some(error));
    }

    /// Applies one seed frame (the whole list). A bad frame is shown as an
    /// error and leaves the list as it was.
    fn receive_seed(&self, message: Message) {
        let decoded = match message {
            Message::Text(text) => decode_user_list(&text),
            Message::Bytes(_) => Err(DecodeError::Binary),
        };
        match decoded {
            Ok(users) => self.set_users.set(users),
            Err(err) => self.show_error(err.to_string()),
        }
    }
}

/// Why a socket did not open.
enum OpenFailed {
    /// The browser refuses the URL itself.
    Unusable(String),
    /// No answer within the connect timeout.
    TimedOut,
    /// The connection or its handshake failed.
    Refused,
}

impl OpenFailed {
    fn into_ended(self, url: &str) -> Ended {
        let reason = match self {
            Self::Unusable(err) => {
                return Ended::Unusable {
                    reason: format!("cannot open {url}: {err}"),
                }
            }
            Self::TimedOut => format!("{url} did not answer in time"),
            Self::Refused => format!("could not connect to {url}"),
        };
        Ended::Lost {
            reason,
            was_open: false,
        }
    }
}

/// Sends one text frame, or says how the socket ended.
///
/// The socket is not split into halves, so its state stays readable: the
/// browser silently drops what is sent on a closing socket, so a frame is
/// only handed over while the socket is open.
async fn send_text(ws: &mut WebSocket, frame: String) -> Result<(), Ended> {
    if !matches!(ws.state(), State::Open) {
        return Err(Ended::Lost {
            reason: "the connection was closing".into(),
            was_open: true,
        });
    }
    ws.send(Message::Text(frame))
        .await
        .map_err(|err| Ended::Lost {
            reason: format!("sending failed: {err}"),
            was_open: true,
        })
}

/// What an item from the socket other than a message means: `None` to
/// keep reading, else how the connection ended.
fn socket_ended(incoming: Option<Result<Message, WebSocketError>>) -> Option<Ended> {
    let reason = match incoming {
        Some(Ok(_)) => return None,
        // gloo-net reports an error event just before the close event; the
        // close event carries the reason, so wait for it.
        Some(Err(WebSocketError::ConnectionError)) => return None,
        Some(Err(WebSocketError::ConnectionClose(close))) if close.reason.is_empty() => {
            format!("the server closed the connection (code {})", close.code)
        }
        Some(Err(WebSocketError::ConnectionClose(close))) => format!(
            "the server closed the connection (code {}: {})",
            close.code, close.reason
        ),
        Some(Err(err)) => err.to_string(),
        None => "the connection ended".into(),
    };
    Some(Ended::Lost {
        reason,
        was_open: true,
    })
}

/// A request id that no other tab or device will pick in practice: two
/// 52-bit draws from the browser's `Math.random`, in hex. (Not a secret;
/// only uniqueness matters.)
fn new_request_id() -> RequestId {
    let half = || (js_sys::Math::random() * (1u64 << 52) as f64) as u64;
    let id = format!("{:013x}{:013x}", half(), half());
    RequestId::parse(&id).expect("26 hex digits are a valid request id")
}

fn browser_is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}
