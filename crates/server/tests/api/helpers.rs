use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roster_protocol::seed::decode_user_list;
use roster_protocol::v1::{Ack, ClientMessage, ServerMessage};
use roster_protocol::validate::RequestId;
use roster_protocol::User;
use roster_server::{run, Config};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

/// How long a test waits for something that should happen at once. Only
/// reached when the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Asks `check` every 20 ms until it gives a value, for at most
/// [`PATIENCE`]; `None` if it never did (the caller says what failed).
pub async fn eventually<T>(mut check: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A real server on a free loopback port, stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Starts a server with every default, storage in memory and no built
    /// client.
    pub async fn spawn() -> Self {
        Self::spawn_with(Config::default()).await
    }

    /// Starts a server that serves the client from `dist`.
    pub async fn spawn_serving(dist: &Path) -> Self {
        Self::spawn_with(Config {
            dist: dist.to_path_buf(),
            ..Config::default()
        })
        .await
    }

    /// Starts a server with `config` on a free port (`addr` is ignored).
    pub async fn spawn_with(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().unwrap();
        let mut config = config;
        config.addr = addr;
        if config.dist.as_os_str() == "dist" {
            config.dist = "/nonexistent/roster-dist".into();
        }
        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(run(listener, config, async {
            let _ = stop.await;
        }));
        Self {
            addr,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// Starts a server on the SQLite file `db`.
    pub async fn spawn_on(db: &Path) -> Self {
        Self::spawn_with(Config {
            db: db.to_str().unwrap().to_owned(),
            ..Config::default()
        })
        .await
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/users/ws", self.addr)
    }

    /// Connects offering `roster.v1`, as Roster's client does.
    pub async fn connect_v1(&self) -> V1Client {
        connect_v1_to(&self.ws_url()).await
    }

    /// Connects with v1 and says hello; returns the client and its snapshot.
    pub async fn greeted(&self) -> (V1Client, u64, Vec<User>) {
        let (client, _, version, users) = self.greeted_with_epoch().await;
        (client, version, users)
    }

    /// As [`TestApp::greeted`], with the snapshot's epoch.
    pub async fn greeted_with_epoch(&self) -> (V1Client, String, u64, Vec<User>) {
        greeted_at(&self.ws_url()).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `GET path`, decoded as JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        let response = reqwest::get(self.url(path)).await.expect("GET");
        response.json().await.expect("a JSON body")
    }

    /// `GET path` as text.
    pub async fn get_text(&self, path: &str) -> String {
        let response = reqwest::get(self.url(path)).await.expect("GET");
        response.text().await.expect("a text body")
    }

    /// The list, from `GET /api/v1/users`.
    pub async fn users(&self) -> Vec<User> {
        self.get_json("/api/v1/users").await
    }

    pub async fn connect(&self) -> SeedClient {
        let (ws, _) = tokio::time::timeout(PATIENCE, connect_async(self.ws_url()))
            .await
            .expect("connect in time")
            .expect("websocket handshake");
        SeedClient { ws }
    }

    /// Connects and reads the list sent on connect.
    pub async fn connect_and_read(&self) -> (SeedClient, Vec<User>) {
        let mut client = self.connect().await;
        let users = client.next_list().await;
        (client, users)
    }

    /// Starts shutdown and waits for `run` to return.
    pub async fn shut_down(mut self) -> std::io::Result<()> {
        let _ = self.shutdown.take().unwrap().send(());
        let server = self.server.take().unwrap();
        tokio::time::timeout(PATIENCE, server)
            .await
            .expect("server stops in time")
            .unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
    }
}

/// A client that speaks the seed protocol, as the seed's Flutter client does.
pub struct SeedClient {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl SeedClient {
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    pub async fn send(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
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

    async fn next_message(&mut self) -> Option<Message> {
        match tokio::time::timeout(PATIENCE, self.ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(message)) => Some(message),
            Some(Err(_)) | None => None,
        }
    }
}

pub fn ids(users: &[User]) -> Vec<String> {
    users.iter().map(|user| user.id.to_string()).collect()
}

/// A client that speaks Roster protocol v1.
pub struct V1Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

pub fn rid(id: &str) -> RequestId {
    RequestId::parse(id).unwrap()
}

impl V1Client {
    pub async fn send(&mut self, message: &ClientMessage) {
        self.send_raw(Message::text(message.to_frame())).await;
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("send");
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
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("a frame in time");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Ok(ServerMessage::decode(text.as_str())
                        .unwrap_or_else(|err| panic!("{err}: {text}")))
                }
                Some(Ok(Message::Close(frame))) => return Err(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Err(None),
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
        self.next_matching(|message| match message {
            ServerMessage::Snapshot { version, users, .. } => Some((version, users)),
            _ => None,
        })
        .await
    }

    pub async fn next_ack(&mut self) -> Ack {
        self.next_matching(|message| match message {
            ServerMessage::Ack(ack) => Some(ack),
            _ => None,
        })
        .await
    }

    pub async fn next_change(&mut self) -> roster_protocol::v1::Change {
        self.next_matching(|message| match message {
            ServerMessage::Change(change) => Some(change),
            _ => None,
        })
        .await
    }

    pub async fn next_error(&mut self) -> roster_protocol::v1::ErrorBody {
        self.next_matching(|message| match message {
            ServerMessage::Error(error) => Some(error),
            _ => None,
        })
        .await
    }

    /// Reads until the server ends the connection; returns its close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("the server ends the connection in time");
            match message {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}

/// Connects to `url` with v1 and says hello; returns the client and its
/// snapshot's epoch, version and users.
pub async fn greeted_at(url: &str) -> (V1Client, String, u64, Vec<User>) {
    let mut client = connect_v1_to(url).await;
    client
        .send(&ClientMessage::Hello {
            since: None,
            epoch: None,
        })
        .await;
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
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(roster_protocol::SUBPROTOCOL),
    );
    let (ws, response) = tokio::time::timeout(PATIENCE, connect_async(request))
        .await
        .expect("connect in time")
        .expect("websocket handshake");
    assert_eq!(
        response.headers().get("sec-websocket-protocol").unwrap(),
        roster_protocol::SUBPROTOCOL
    );
    V1Client { ws }
}
