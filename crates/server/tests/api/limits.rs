//! Each limit triggers, answers clearly, and leaves the server healthy.

use std::time::Instant;

use roster_protocol::v1::ErrorCode;
use roster_server::Config;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::{eventually, TestApp, PATIENCE};

/// The status a handshake with these headers gets, or 101 if it succeeds.
async fn handshake_status(app: &TestApp, headers: &[(&'static str, &str)]) -> u16 {
    let mut request = app.ws_url().into_client_request().unwrap();
    for (name, value) in headers {
        request
            .headers_mut()
            .insert(*name, HeaderValue::from_str(value).unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((_, response)) => response.status().as_u16(),
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(err) => panic!("unexpected handshake error: {err}"),
    }
}

async fn assert_healthy(app: &TestApp) {
    let response = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
}

/// Reads `/metrics` until `line` appears.
async fn wait_for_metric(app: &TestApp, line: &str) {
    let seen = eventually(async || {
        let text = app.get_text("/metrics").await;
        text.lines().any(|l| l == line).then_some(())
    })
    .await;
    if seen.is_none() {
        let text = app.get_text("/metrics").await;
        panic!("{line} never appeared in:\n{text}");
    }
}

#[tokio::test]
async fn a_foreign_origin_is_refused_before_the_upgrade() {
    let app = TestApp::spawn().await;
    assert_eq!(
        handshake_status(&app, &[("origin", "http://evil.example")]).await,
        403
    );
    assert_eq!(handshake_status(&app, &[("origin", "null")]).await, 403);
    let own = format!("http://{}", app.addr);
    assert_eq!(handshake_status(&app, &[("origin", &own)]).await, 101);
    assert_eq!(
        handshake_status(&app, &[("origin", "http://localhost:5173")]).await,
        101
    );
    assert_eq!(handshake_status(&app, &[]).await, 101);
    wait_for_metric(&app, "roster_refusals_total{reason=\"origin\"} 2").await;
    assert_healthy(&app).await;
}

#[tokio::test]
async fn an_allowed_origin_flag_lets_that_origin_in() {
    let app = TestApp::spawn_with(Config {
        allowed_origins: vec!["https://dash.example.com".into()],
        ..Config::default()
    })
    .await;
    assert_eq!(
        handshake_status(&app, &[("origin", "https://dash.example.com")]).await,
        101
    );
    assert_eq!(
        handshake_status(&app, &[("origin", "https://other.example.com")]).await,
        403
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_get_503_until_one_closes() {
    let app = TestApp::spawn_with(Config {
        max_connections: 2,
        ..Config::default()
    })
    .await;
    let (first, _) = app.connect_and_read().await;
    let (_second, _) = app.connect_and_read().await;
    assert_eq!(handshake_status(&app, &[]).await, 503);
    drop(first);
    // The slot frees once the server has seen the close.
    let reused = eventually(async || (handshake_status(&app, &[]).await == 101).then_some(()));
    assert!(reused.await.is_some(), "the freed slot was never reused");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn adds_beyond_the_write_rate_get_a_rate_limited_ack() {
    let app = TestApp::spawn_with(Config {
        write_rate: 0.001,
        write_burst: 3,
        ..Config::default()
    })
    .await;
    let (mut client, _, _) = app.greeted().await;
    for i in 0..4 {
        client.add(&format!("r-{i}")).await;
    }
    let mut refused = Vec::new();
    for _ in 0..4 {
        let ack = client.next_ack().await;
        if let Some(error) = ack.error {
            assert!(error.message.contains("retry in"), "{}", error.message);
            // One token per 1,000 s: the wait is most of that, in a field
            // the client reads (the words are for people).
            let wait = error
                .retry_after_ms
                .expect("a rate-limited ack names its wait");
            assert!((900_000..=1_000_000).contains(&wait), "{wait}");
            refused.push((ack.request_id.to_string(), error.code));
        }
    }
    assert_eq!(refused, [("r-3".to_string(), ErrorCode::RateLimited)]);
    // Other connections have their own bucket.
    let (mut other, _, _) = app.greeted().await;
    other.add("other").await;
    assert!(other.next_ack().await.user.is_some());
    assert_healthy(&app).await;
}

#[tokio::test]
async fn an_oversize_v1_frame_closes_with_1009_and_others_carry_on() {
    let app = TestApp::spawn_with(Config {
        max_frame_bytes: 1024,
        ..Config::default()
    })
    .await;
    let (mut big, _, _) = app.greeted().await;
    let (mut bystander, _, _) = app.greeted().await;
    big.send_raw(Message::text(format!(
        r#"{{"type":"add","request_id":"{}"}}"#,
        "x".repeat(2000)
    )))
    .await;
    let close = big.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1009);
    bystander.add("fine").await;
    assert!(bystander.next_ack().await.user.is_some());
    wait_for_metric(&app, "roster_refusals_total{reason=\"frame_too_large\"} 1").await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_not_buffered() {
    let app = TestApp::spawn_with(Config {
        send_queue: 4,
        send_timeout_ms: 200,
        ..Config::default()
    })
    .await;
    let http = reqwest::Client::new();
    // Big users make every seed frame (the whole list) large, so the
    // socket buffers fill after a few changes.
    let name = "N".repeat(64);
    for _ in 0..300 {
        let response = http
            .post(app.url("/api/v1/users"))
            .json(&serde_json::json!({ "name": name, "email": format!("{}@{}.example.com", "e".repeat(64), "d".repeat(150)) }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    // A seed client that connects and then never reads.
    let (_stalled, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    let mut adds = 0;
    let deadline = Instant::now() + PATIENCE;
    loop {
        http.post(app.url("/api/v1/users"))
            .json(&serde_json::json!({"name": name}))
            .send()
            .await
            .unwrap();
        adds += 1;
        let text = app.get_text("/metrics").await;
        if text
            .lines()
            .any(|l| l == "roster_refusals_total{reason=\"slow_consumer\"} 1")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never disconnected after {adds} adds"
        );
    }
    wait_for_metric(&app, "roster_connections{protocol=\"seed\"} 0").await;
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_burst_bigger_than_the_send_queue_waits_for_a_reading_client() {
    let app = TestApp::spawn_with(Config {
        send_queue: 2,
        write_burst: 100,
        ..Config::default()
    })
    .await;
    let (mut writer, epoch, _, _) = app.greeted_with_epoch().await;
    for i in 0..40 {
        writer.add(&format!("w-{i}")).await;
        assert!(writer.next_ack().await.user.is_some());
    }
    // Resuming from 0 streams 40 changes through a queue of 2.
    let mut reader = app.connect_v1().await;
    reader.resume(0, &epoch).await;
    for version in 1..=40 {
        assert_eq!(reader.next_change().await.version, version);
    }
    wait_for_metric(&app, "roster_refusals_total{reason=\"slow_consumer\"} 0").await;
}

/// A client that stops reading long enough to fill its queue, then reads
/// again, gets every change without sending anything: the server must
/// notice the room by itself (a bug once left such a connection waiting
/// for a frame from the client, and a page that sends no pings waited for
/// ever).
#[tokio::test]
async fn a_client_that_pauses_reading_is_sent_everything_once_it_reads_again() {
    let app = TestApp::spawn_with(Config {
        send_queue: 4,
        send_timeout_ms: 60_000,
        write_burst: 10_000,
        write_rate: 10_000.0,
        ..Config::default()
    })
    .await;
    // A tiny receive window, so the server's socket is full after a few
    // frames and its queue fills behind it.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let stream = socket.connect(app.addr).await.unwrap();
    let mut request = app.ws_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static("roster.v1"),
    );
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    let mut reader = crate::helpers::V1Client::on(ws);
    reader.hello_with(None).await;
    reader.next_snapshot().await;

    let (mut writer, _, _) = app.greeted().await;
    const ADDS: u64 = 1_000;
    for i in 0..ADDS {
        writer.add(&format!("p-{i}")).await;
    }
    for _ in 0..ADDS {
        assert!(writer.next_ack().await.user.is_some());
    }
    // Now read, and never write: the last version must arrive, as a
    // change or in a snapshot after falling behind the broadcast.
    loop {
        match reader.next().await {
            roster_protocol::v1::ServerMessage::Change(change) if change.version == ADDS => break,
            roster_protocol::v1::ServerMessage::Snapshot { version, .. } if version == ADDS => {
                break
            }
            _ => {}
        }
    }
    wait_for_metric(&app, "roster_refusals_total{reason=\"slow_consumer\"} 0").await;
}
