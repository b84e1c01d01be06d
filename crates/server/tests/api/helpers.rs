use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use roster_protocol::seed::decode_user_list;
use roster_protocol::User;
use roster_server::{run, Config};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

/// How long a test waits for something that should happen at once. Only
/// reached when the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A real server on a free loopback port, stopped when dropped.
pub struct TestApp {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Starts a server with no built client.
    pub async fn spawn() -> Self {
        Self::spawn_serving(Path::new("/nonexistent/roster-dist")).await
    }

    /// Starts a server that serves the client from `dist`.
    pub async fn spawn_serving(dist: &Path) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().unwrap();
        let config = Config {
            addr,
            dist: dist.to_path_buf(),
        };
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

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn connect(&self) -> SeedClient {
        let url = format!("ws://{}/api/v1/users/ws", self.addr);
        let (ws, _) = tokio::time::timeout(PATIENCE, connect_async(url))
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
