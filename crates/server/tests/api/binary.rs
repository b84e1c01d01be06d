//! The `roster-server` binary itself: flags, serving, SIGTERM.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::PATIENCE;

/// A free loopback port: bound, then released for the child to take.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn the_binary_serves_on_its_addr_flag_and_exits_cleanly_on_sigterm() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_roster-server"))
        .args(["--addr", &addr, "--dist", "/nonexistent"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // Wait until it answers.
    let deadline = Instant::now() + PATIENCE;
    let body = loop {
        match reqwest::get(format!("http://{addr}/api/v1/users")).await {
            Ok(response) => break response.text().await.unwrap(),
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(err) => panic!("server never answered: {err}"),
        }
    };
    assert_eq!(body, "[]");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not exit on SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
}

#[test]
fn help_lists_every_flag_with_its_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_roster-server"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for expected in [
        "--addr",
        "ROSTER_ADDR",
        "127.0.0.1:8080",
        "--dist",
        "ROSTER_DIST",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }
}
