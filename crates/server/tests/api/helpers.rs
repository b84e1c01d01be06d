//! The real server in this process on a free port (`TestApp`), and the
//! waits the tests share.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use roster_protocol::validate::RequestId;
use roster_protocol::User;
use roster_server::{run, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use crate::clients::{connect_v1_to, greeted_at, SeedClient, V1Client};

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
        SeedClient::connect(&self.ws_url()).await
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

pub fn ids(users: &[User]) -> Vec<String> {
    users.iter().map(|user| user.id.to_string()).collect()
}

pub fn rid(id: &str) -> RequestId {
    RequestId::parse(id).unwrap()
}
