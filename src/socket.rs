//! The WebSocket task: one gloo-net socket at a time, feeding the user list
//! signal and carrying the user's commands to the server.
//!
//! This is the walking-skeleton version: it reconnects after a fixed delay
//! and speaks the seed protocol. Commands given while no socket is open are
//! kept, in order, and sent once one opens, so a click is never dropped.

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
use roster_protocol::{ConnectionState, ConnectionStatus, SeedCommand, User};

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
    /// Commands given but not yet handed to an open socket.
    pub pending: ReadSignal<usize>,
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
    let (command_tx, command_rx) = mpsc::unbounded();
    let socket = RosterSocket {
        users,
        status,
        pending,
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
                set_users,
                set_status,
                set_pending,
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
    /// Commands taken from the channel but not yet sent, oldest first.
    queued: VecDeque<SeedCommand>,
    set_users: WriteSignal<Vec<User>>,
    set_status: WriteSignal<ConnectionStatus>,
    set_pending: WriteSignal<usize>,
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
        let mut ws = match WebSocket::open(&self.url) {
            Ok(ws) => ws,
            Err(err) => {
                return Ended::Unusable {
                    reason: format!("cannot open {}: {err}", self.url),
                }
            }
        };
        // gloo-net's sink becomes ready once the socket has opened or failed.
        let opened = future::poll_fn(|cx| Pin::new(&mut ws).poll_ready(cx));
        let timeout = TimeoutFuture::new(CONNECT_TIMEOUT_MS);
        if let Either::Right(_) = future::select(opened, timeout).await {
            return Ended::Lost {
                reason: format!("{} did not answer in time", self.url),
                was_open: false,
            };
        }
        if !matches!(ws.state(), State::Open) {
            return Ended::Lost {
                reason: format!("could not connect to {}", self.url),
                was_open: false,
            };
        }
        // A fresh connection clears the reason the last one ended; problems
        // seen from now on replace it.
        self.set_status.set(ConnectionStatus {
            state: ConnectionState::Connected,
            attempt: 0,
            last_error: None,
        });
        // Not split into halves, so the socket's state stays readable: the
        // browser silently drops what is sent on a closing socket, so a
        // command is only handed over while the socket is open, and otherwise
        // stays queued for the next one.
        loop {
            while let Some(command) = self.queued.front().copied() {
                if !matches!(ws.state(), State::Open) {
                    return Ended::Lost {
                        reason: "the connection was closing".into(),
                        was_open: true,
                    };
                }
                if let Err(err) = ws.send(Message::Text(command.as_frame().to_owned())).await {
                    return Ended::Lost {
                        reason: format!("sending failed: {err}"),
                        was_open: true,
                    };
                }
                self.queued.pop_front();
                self.set_pending.update(|n| *n = n.saturating_sub(1));
            }
            match future::select(ws.next(), self.commands.next()).await {
                Either::Left((Some(Ok(message)), _)) => self.receive(message),
                // gloo-net reports an error event just before the close event; the
                // close event carries the reason, so wait for it.
                Either::Left((Some(Err(WebSocketError::ConnectionError)), _)) => {}
                Either::Left((Some(Err(WebSocketError::ConnectionClose(close))), _)) => {
                    let reason = if close.reason.is_empty() {
                        format!("the server closed the connection (code {})", close.code)
                    } else {
                        format!(
                            "the server closed the connection (code {}: {})",
                            close.code, close.reason
                        )
                    };
                    return Ended::Lost {
                        reason,
                        was_open: true,
                    };
                }
                Either::Left((Some(Err(err)), _)) => {
                    return Ended::Lost {
                        reason: err.to_string(),
                        was_open: true,
                    };
                }
                Either::Left((None, _)) => {
                    return Ended::Lost {
                        reason: "the connection ended".into(),
                        was_open: true,
                    };
                }
                Either::Right((Some(command), _)) => self.queued.push_back(command),
                Either::Right((None, _)) => return Ended::Unmounted,
            }
        }
    }

    /// Applies one frame from the server. A bad frame is shown as an error
    /// and leaves the list as it was.
    fn receive(&self, message: Message) {
        let decoded = match message {
            Message::Text(text) => decode_user_list(&text),
            Message::Bytes(_) => Err(DecodeError::Binary),
        };
        match decoded {
            Ok(users) => self.set_users.set(users),
            Err(err) => self
                .set_status
                .update(|status| status.last_error = Some(err.to_string())),
        }
    }
}

fn browser_is_online() -> bool {
    web_sys::window().is_none_or(|window| window.navigator().on_line())
}
