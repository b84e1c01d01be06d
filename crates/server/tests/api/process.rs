//! The real `roster-server` binary as a child process, for tests that
//! kill it or measure it from outside: its memory and open files are its
//! own, not shared with the test's clients.

use std::process::{Child, Command, ExitStatus, Stdio};

use roster_protocol::User;

use crate::helpers::{eventually, V1Client};

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
    child: Child,
}

impl ServerProcess {
    /// Starts the binary on `db` and waits until it answers.
    pub async fn start(db: &str) -> Self {
        Self::start_with(&["--db", db]).await
    }

    /// Starts the binary with these flags (after `--addr` and `--dist`)
    /// and waits until it answers.
    pub async fn start_with(flags: &[&str]) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let child = Command::new(env!("CARGO_BIN_EXE_roster-server"))
            .args(["--addr", &addr, "--dist", "/nonexistent"])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self { addr, child };
        let answered = eventually(async || reqwest::get(server.url("/healthz")).await.ok());
        assert!(answered.await.is_some(), "server never answered");
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/api/v1/users/ws", self.addr)
    }

    pub async fn users(&self) -> Vec<User> {
        reqwest::get(self.url("/api/v1/users"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn connect_v1(&self) -> V1Client {
        crate::helpers::connect_v1_to(&self.ws_url()).await
    }

    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to exit.
    pub async fn exited(&mut self) -> ExitStatus {
        eventually(async || self.child.try_wait().unwrap())
            .await
            .expect("server did not exit")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory now, in KiB (`VmRSS`).
    pub fn rss_kib(&self) -> u64 {
        rss_kib_of(self.child.id()).expect("VmRSS in /proc/PID/status")
    }

    /// How many files (sockets included) it has open.
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
