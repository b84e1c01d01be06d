//! A real `redis-server` for the shared-store tests, on a free loopback
//! port with AOF on (`appendfsync always`), and instances on it.
//! (`process::ServerProcess::on_redis` runs one as its own process.)

use std::process::{Child, Command, Stdio};

use roster_server::Config;

use crate::helpers::{eventually, TestApp};
use crate::process::free_port;

/// A `redis-server` process with its own data directory.
pub struct RedisServer {
    pub port: u16,
    dir: tempfile::TempDir,
    settings: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one that fsyncs every write (`appendfsync always`).
    pub async fn start() -> Self {
        Self::start_with(&["--appendonly", "yes", "--appendfsync", "always"]).await
    }

    /// Starts one with these extra settings.
    pub async fn start_with(settings: &[&str]) -> Self {
        let mut redis = Self {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        redis.run().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts the process (again, on the same port and data).
    pub async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--save", "", "--protected-mode", "no", "--daemonize", "no"])
            .args(&self.settings)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start redis-server ({err}); `scripts/bootstrap.sh --test` installs it"
                )
            });
        self.child = Some(child);
        let url = self.url();
        let up = eventually(async || {
            let client = redis::Client::open(url.as_str()).ok()?;
            let mut con = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut con)
                .await
                .ok()
        })
        .await;
        assert!(up.is_some(), "redis-server answers on port {}", self.port);
    }

    /// `kill -9`: no shutdown, no final fsync.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Deletes everything Redis keeps on disk (call it while stopped): a
    /// Redis that comes back without its data.
    pub fn wipe(&self) {
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
    }

    /// A plain connection, to look at what Redis holds.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The settings of an instance on `redis`.
pub fn shared_config(redis: &RedisServer) -> Config {
    Config {
        redis: Some(redis.url()),
        ..Config::default()
    }
}

/// An instance in this process on `redis`.
pub async fn instance(redis: &RedisServer) -> TestApp {
    TestApp::spawn_with(shared_config(redis)).await
}

/// An instance on `redis` with no write rate limit.
pub async fn unlimited_instance(redis: &RedisServer) -> TestApp {
    TestApp::spawn_with(Config {
        write_rate: 1e6,
        write_burst: 1_000,
        ..shared_config(redis)
    })
    .await
}
