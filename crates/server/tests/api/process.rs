//! The real `roster-server` binary as a child process, for tests that
//! kill it or measure it from outside: its memory and open files are its
//! own, not shared with the test's clients. Also the free-port helper
//! every child process here (servers, Redis) starts on.

use std::process::{Child, Command, ExitStatus, Stdio};

use roster_protocol::User;

use crate::clients::{connect_v1_to, V1Client};
use crate::helpers::eventually;
use crate::redis_support::RedisServer;

/// A free loopback port: bound, then released for the child to take.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary on a free port, killed when dropped.
pub struct ServerProcess {
    pub addr: String,
    flags: Vec<String>,
    /// Where its log goes (every level), when a test reads it.
    log: Option<std::path::PathBuf>,
    child: Option<Child>,
}

impl ServerProcess {
    /// Starts the binary on `db` and waits until it answers.
    pub async fn start(db: &str) -> Self {
        Self::start_with(&["--db", db]).await
    }

    /// Starts the binary on the list in `redis`.
    pub async fn on_redis(redis: &RedisServer) -> Self {
        Self::start_with(&["--redis", &redis.url()]).await
    }

    /// Starts the binary with these flags (after `--addr` and `--dist`)
    /// and waits until it answers.
    pub async fn start_with(flags: &[&str]) -> Self {
        Self::start_logged(flags, None).await
    }

    /// As [`ServerProcess::start_with`], logging everything (`debug`) to
    /// `log` when given.
    pub async fn start_logged(flags: &[&str], log: Option<&std::path::Path>) -> Self {
        let mut server = Self {
            addr: format!("127.0.0.1:{}", free_port()),
            flags: flags.iter().map(|flag| (*flag).to_owned()).collect(),
            log: log.map(std::path::Path::to_path_buf),
            child: None,
        };
        server.run().await;
        server
    }

    /// Starts the process (again, after [`ServerProcess::kill`]: on the
    /// same address with the same flags) and waits until `/healthz`
    /// says it is ready.
    pub async fn run(&mut self) {
        // The log goes to standard output (tracing's default).
        let (level, stdout) = match &self.log {
            Some(path) => ("debug", Stdio::from(std::fs::File::create(path).unwrap())),
            None => ("warn", Stdio::null()),
        };
        let child = Command::new(env!("CARGO_BIN_EXE_roster-server"))
            .args(["--addr", &self.addr, "--dist", "/nonexistent"])
            .args(&self.flags)
            .env("RUST_LOG", level)
            .env("NO_COLOR", "1")
            .stdout(stdout)
            .stderr(Stdio::null())
            .spawn()
            .expect("start roster-server");
        self.child = Some(child);
        let health = self.url("/healthz");
        let ready = eventually(async || {
            reqwest::get(&health)
                .await
                .ok()
                .filter(|answer| answer.status().is_success())
        });
        assert!(
            ready.await.is_some(),
            "roster-server never answered on {}",
            self.addr
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/users/ws", self.addr)
    }

    /// `GET path` as text.
    pub async fn get_text(&self, path: &str) -> String {
        let answer = reqwest::get(self.url(path)).await.expect("GET");
        answer.text().await.expect("a text body")
    }

    /// The list, from `GET /api/v1/users`.
    pub async fn users(&self) -> Vec<User> {
        let answer = reqwest::get(self.url("/api/v1/users")).await.expect("GET");
        answer.json().await.expect("a JSON list")
    }

    pub async fn connect_v1(&self) -> V1Client {
        connect_v1_to(&self.ws_url()).await
    }

    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// `kill -9`: no shutdown, nothing flushed; waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits for the process to exit.
    pub async fn exited(&mut self) -> ExitStatus {
        let child = self.child.as_mut().expect("a running server");
        eventually(async || child.try_wait().unwrap())
            .await
            .expect("server did not exit")
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("a running server").id()
    }

    /// Its resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        rss_kib_of(self.pid()).expect("VmRSS in /proc/PID/status")
    }

    /// How many files (sockets included) it has open.
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }
}

/// The resident memory of process `pid` in KiB (`VmRSS`), while it runs.
pub fn rss_kib_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
