//! WebSocket clients for the tests: one socket with the reads every
//! client needs (a frame in time, the close), and on it a seed client, as
//! the seed's Flutter client speaks, and a Roster protocol v1 client.

use std::ops::{Deref, DerefMut};

use futures_util::{SinkExt, StreamExt};
use roster_protocol::auth::{Session, Token};
use roster_protocol::seed::decode_user_list;
use roster_protocol::v1::{Ack, Change, ClientMessage, ErrorBody, ServerMessage};
use roster_protocol::User;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

use crate::helpers::{rid, PATIENCE};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket to the server and the reads every test client makes.
pub struct TestSocket {
    pub ws: Ws,
}

impl TestSocket {
    pub async fn send(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
    }

    /// The next message (WebSocket pings and pongs included), or `None`
    /// once the connection has ended. Nothing within [`PATIENCE`] fails
    /// the test.
    pub async fn next_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(PATIENCE, self.ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(message)) => Some(message),
            Some(Err(_)) | None => None,
        }
    }

    /// Reads until the server ends the connection; returns its close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            match self.next_message().await {
                Some(Message::Close(frame)) => return frame,
                None => return None,
                Some(_) => continue,
            }
        }
    }
}

/// A client that speaks the seed protocol, as the seed's Flutter client does.
pub struct SeedClient(TestSocket);

impl SeedClient {
    /// Connects to `url` offering no subprotocol.
    pub async fn connect(url: &str) -> Self {
        let (ws, _) = tokio::time::timeout(PATIENCE, connect_async(url))
            .await
            .expect("connect in time")
            .expect("websocket handshake");
        Self(TestSocket { ws })
    }

    pub async fn send_text(&mut self, text: &str) {
        self.send(Message::text(text)).await;
    }

    /// The next text frame, as sent.
    pub async fn next_text(&mut self) -> String {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => return text.to_string(),
                Some(Message::Ping(_) | Message::Pong(_)) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next list frame, decoded.
    pub async fn next_list(&mut self) -> Vec<User> {
        let text = self.next_text().await;
        decode_user_list(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
    }

    /// Reads lists until one has `len` users, and returns it.
    pub async fn wait_for_len(&mut self, len: usize) -> Vec<User> {
        loop {
            let users = self.next_list().await;
            if users.len() == len {
                return users;
            }
        }
    }
}

/// `next_ack()` and the like: the next message of one kind, what it
/// carries, skipping others (presence, changes, …) that may interleave.
macro_rules! next_of_kind {
    ($($name:ident -> $kind:ident($carries:ty)),*) => {$(
        pub async fn $name(&mut self) -> $carries {
            self.next_matching(|message| match message {
                ServerMessage::$kind(inner) => Some(inner),
                _ => None,
            })
            .await
        }
    )*};
}

/// A client that speaks Roster protocol v1.
pub struct V1Client(TestSocket);

impl V1Client {
    /// A v1 client on a socket already open.
    pub fn on(ws: Ws) -> Self {
        Self(TestSocket { ws })
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        self.send_raw(Message::text(message.to_frame())).await;
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.0.send(message).await;
    }

    /// Says hello presenting `token` (or none), asking for the whole list.
    pub async fn hello_with(&mut self, token: Option<&str>) {
        self.send(&ClientMessage::Hello {
            since: None,
            epoch: None,
            token: token.map(Token::new),
        })
        .await;
    }

    /// Presents a fresh token on the live connection (`auth`).
    pub async fn auth(&mut self, token: &str) {
        self.send(&ClientMessage::Auth {
            token: Token::new(token),
        })
        .await;
    }

    /// Says hello as a client holding version `since` of history `epoch`,
    /// so that the server sends only what it missed, and reads the
    /// session that comes first.
    pub async fn resume(&mut self, since: u64, epoch: &str) {
        self.send(&ClientMessage::Hello {
            since: Some(since),
            epoch: Some(epoch.to_owned()),
            token: None,
        })
        .await;
        match self.next().await {
            ServerMessage::Session(_) => {}
            other => panic!("expected the session first, got {other:?}"),
        }
    }

    pub async fn add(&mut self, request_id: &str) {
        self.send(&ClientMessage::Add {
            request_id: rid(request_id),
            name: None,
            email: None,
        })
        .await;
    }

    /// The next v1 message (pings and pongs of the WebSocket layer skipped).
    pub async fn next(&mut self) -> ServerMessage {
        self.next_or_close()
            .await
            .unwrap_or_else(|close| panic!("expected a v1 frame, the connection ended: {close:?}"))
    }

    /// The next v1 message, or the close frame (if any) once the server
    /// ends the connection.
    pub async fn next_or_close(&mut self) -> Result<ServerMessage, Option<CloseFrame>> {
        loop {
            match self.next_message().await {
                Some(Message::Text(text)) => {
                    return Ok(ServerMessage::decode(text.as_str())
                        .unwrap_or_else(|err| panic!("{err}: {text}")))
                }
                Some(Message::Close(frame)) => return Err(frame),
                Some(_) => continue,
                None => return Err(None),
            }
        }
    }

    /// Reads until a message `pick` accepts, skipping others (presence,
    /// changes, …) that may interleave.
    pub async fn next_matching<T>(
        &mut self,
        mut pick: impl FnMut(ServerMessage) -> Option<T>,
    ) -> T {
        loop {
            if let Some(found) = pick(self.next().await) {
                return found;
            }
        }
    }

    pub async fn next_snapshot(&mut self) -> (u64, Vec<User>) {
        let pick = |m| matches!(m, ServerMessage::Snapshot { .. }).then_some(m);
        match self.next_matching(pick).await {
            ServerMessage::Snapshot { version, users, .. } => (version, users),
            _ => unreachable!("picked a snapshot"),
        }
    }

    next_of_kind!(
        next_ack -> Ack(Ack),
        next_change -> Change(Change),
        next_error -> Error(ErrorBody),
        next_session -> Session(Session)
    );
}

/// Both clients read and close as their socket does.
macro_rules! on_a_socket {
    ($($client:ty),*) => {$(
        impl Deref for $client {
            type Target = TestSocket;
            fn deref(&self) -> &TestSocket {
                &self.0
            }
        }
        impl DerefMut for $client {
            fn deref_mut(&mut self) -> &mut TestSocket {
                &mut self.0
            }
        }
    )*};
}
on_a_socket!(SeedClient, V1Client);

/// Connects to `url` with v1 and says hello; returns the client and its
/// snapshot's epoch, version and users (after its session, which comes
/// first).
pub async fn greeted_at(url: &str) -> (V1Client, String, u64, Vec<User>) {
    let mut client = connect_v1_to(url).await;
    client.hello_with(None).await;
    match client.next().await {
        ServerMessage::Session(_) => {}
        other => panic!("expected the session first, got {other:?}"),
    }
    match client.next().await {
        ServerMessage::Snapshot {
            epoch,
            version,
            users,
        } => (client, epoch, version, users),
        other => panic!("expected a snapshot first, got {other:?}"),
    }
}

/// Connects to `url` offering `roster.v1` and checks the server chose it.
pub async fn connect_v1_to(url: &str) -> V1Client {
    connect_v1_from(url, None).await
}

/// As [`connect_v1_to`], from a page of `origin` when one is given.
pub async fn connect_v1_from(url: &str, origin: Option<&str>) -> V1Client {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(roster_protocol::SUBPROTOCOL),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    let (ws, response) = tokio::time::timeout(PATIENCE, connect_async(request))
        .await
        .expect("connect in time")
        .expect("websocket handshake");
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        roster_protocol::SUBPROTOCOL
    );
    V1Client::on(ws)
}
