//! Hostile clients against the real binary, each attack in volume: the
//! answer it must get, and that meanwhile the server keeps serving a
//! well-behaved client, with its resident memory sampled every 20 ms and
//! held under a bound. Each test writes its row for RELIABILITY.md.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use roster_protocol::v1::{ClientMessage, ErrorCode, ServerMessage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::framing::{masked, raw_upgrade};
use crate::helpers::{eventually, greeted_at, rid, PATIENCE};
use crate::process::{rss_kib_of, ServerProcess};
use crate::reliability::record;

const SUITE: &str = "hostile client";

/// How far above its idle size the server's memory may grow during an
/// attack. Each attack here, if it were buffered, would take far more
/// (a 100 MB body, 100,000 queued frames); a bounded server stays within
/// a few MiB.
const RSS_BOUND_KIB: u64 = 48 * 1024;

/// Samples a server's RSS every 20 ms until dropped; keeps the highest.
struct RssWatch {
    baseline: u64,
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RssWatch {
    fn start(server: &ServerProcess) -> Self {
        let baseline = server.rss_kib();
        let peak = Arc::new(AtomicU64::new(baseline));
        let stop = Arc::new(AtomicBool::new(false));
        let pid = server.pid();
        let (peak2, stop2) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                if let Some(kib) = rss_kib_of(pid) {
                    peak2.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Self {
            baseline,
            peak,
            stop,
        }
    }

    /// Asserts the bound; returns the growth in MiB, for the row.
    fn growth_within_bound(&self) -> f64 {
        self.growth_within(RSS_BOUND_KIB)
    }

    /// Asserts a growth of at most `bound_kib`; returns it in MiB.
    fn growth_within(&self, bound_kib: u64) -> f64 {
        let growth = self
            .peak
            .load(Ordering::Relaxed)
            .saturating_sub(self.baseline);
        assert!(
            growth <= bound_kib,
            "RSS grew by {growth} KiB from {} KiB",
            self.baseline
        );
        growth as f64 / 1024.0
    }
}

impl Drop for RssWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A well-behaved client gets its snapshot, and its add is acknowledged.
async fn served_well(server: &ServerProcess, request_id: &str) {
    let served = tokio::time::timeout(PATIENCE, async {
        let (mut client, _, _, _) = greeted_at(&server.ws_url()).await;
        client.add(request_id).await;
        client.next_ack().await
    })
    .await
    .expect("a well-behaved client was served in time");
    assert!(served.user.is_some(), "{served:?}");
}

/// A raw v1 connection after its handshake and `hello`, with a receive
/// buffer of `receive_buffer` bytes, that then never reads.
async fn deaf_client(addr: &str, receive_buffer: u32) -> TcpStream {
    let mut stream = raw_upgrade(addr, Some("roster.v1"), Some(receive_buffer)).await;
    stream
        .write_all(&masked(0x81, br#"{"type":"hello"}"#))
        .await
        .unwrap();
    stream
}

/// The value of one `/metrics` line.
async fn metric(server: &ServerProcess, series: &str) -> f64 {
    let text = server.get_text("/metrics").await;
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

#[tokio::test]
async fn garbage_in_volume_is_answered_frame_by_frame_and_loses_nothing() {
    let server = ServerProcess::start_with(&["--db", ":memory:", "--write-rate", "1000"]).await;
    let rss = RssWatch::start(&server);
    let garbage: [(Message, ErrorCode); 7] = [
        (Message::text("{not json"), ErrorCode::MalformedJson),
        (Message::text("[1,2,3]"), ErrorCode::InvalidMessage),
        (Message::text(r#"{"type":"dance"}"#), ErrorCode::UnknownType),
        (
            Message::text(r#"{"type":"hello","since":-1}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::text(r#"{"type":"add","request_id":42}"#),
            ErrorCode::InvalidMessage,
        ),
        (Message::text("\u{0}\u{ffff}"), ErrorCode::MalformedJson),
        (Message::binary(vec![0xFF; 300]), ErrorCode::BinaryFrame),
    ];
    const CLIENTS: usize = 20;
    const ROUNDS: usize = 50;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let url = server.ws_url();
        let garbage = garbage.clone();
        tasks.push(tokio::spawn(async move {
            let (mut client, _, _, _) = greeted_at(&url).await;
            let mut acked = 0;
            for round in 0..ROUNDS {
                for (frame, code) in garbage.iter().cloned() {
                    client.send_raw(frame).await;
                    assert_eq!(client.next_error().await.code, code);
                }
                if round % 10 == 0 {
                    client.add(&format!("c{c}-r{round}")).await;
                    assert!(client.next_ack().await.user.is_some());
                    acked += 1;
                }
            }
            acked
        }));
    }
    // Seed clients send the same garbage, which the seed protocol ignores.
    let (mut seed, _) = tokio_tungstenite::connect_async(server.ws_url())
        .await
        .unwrap();
    for _ in 0..ROUNDS {
        for (frame, _) in garbage.iter().cloned() {
            seed.send(frame).await.unwrap();
        }
    }
    served_well(&server, "during").await;
    let mut acked = 0;
    for task in tasks {
        acked += task.await.unwrap();
    }
    assert_eq!(server.users().await.len(), acked + 1, "each acked add once");
    served_well(&server, "after").await;
    let growth = rss.growth_within_bound();
    let frames = CLIENTS * ROUNDS * garbage.len() + ROUNDS * garbage.len();
    record(
        SUITE,
        "garbage",
        "invalid JSON, wrong shapes, unknown types, bad fields, binary frames, \
         from 20 v1 clients and a seed client, with adds between",
        frames as u64,
        &format!(
            "each v1 frame got its error code, no connection dropped, {acked} acked adds stored once; \
             another client served throughout; RSS +{growth:.1} MiB"
        ),
    );
}

#[tokio::test]
async fn a_flood_of_adds_is_rate_limited_and_every_acked_add_is_stored_once() {
    let server = ServerProcess::start_with(&["--db", ":memory:"]).await;
    let rss = RssWatch::start(&server);
    const CLIENTS: usize = 10;
    const ADDS: usize = 500;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let url = server.ws_url();
        tasks.push(tokio::spawn(async move {
            let (mut client, _, _, _) = greeted_at(&url).await;
            // Everything at once, then the answers.
            for a in 0..ADDS {
                client.add(&format!("c{c}-a{a}")).await;
            }
            let (mut done, mut limited) = (0, 0);
            for _ in 0..ADDS {
                let ack = client.next_ack().await;
                match ack.error {
                    None => done += 1,
                    Some(error) => {
                        assert_eq!(error.code, ErrorCode::RateLimited);
                        assert!(error.retry_after_ms.is_some());
                        limited += 1;
                    }
                }
            }
            (done, limited)
        }));
    }
    served_well(&server, "during").await;
    let (mut done, mut limited) = (0, 0);
    for task in tasks {
        let (d, l) = task.await.unwrap();
        done += d;
        limited += l;
    }
    assert!(limited > 0, "the flood was never limited");
    assert_eq!(server.users().await.len(), done + 1, "each acked add once");
    served_well(&server, "after").await;
    let growth = rss.growth_within_bound();
    record(
        SUITE,
        "add flood",
        "10 clients each sending 500 adds at once",
        (CLIENTS * ADDS) as u64,
        &format!(
            "{done} done and {limited} rate-limited with a wait, each answered once; \
             stored exactly the {done} acked; another client served; RSS +{growth:.1} MiB"
        ),
    );
}

#[tokio::test]
async fn connections_past_the_limit_get_503_and_those_inside_are_served() {
    const LIMIT: usize = 200;
    let server =
        ServerProcess::start_with(&["--db", ":memory:", "--max-connections", &LIMIT.to_string()])
            .await;
    let rss = RssWatch::start(&server);
    let (mut inside, _, _, _) = greeted_at(&server.ws_url()).await;
    let mut held = Vec::new();
    for _ in 1..LIMIT {
        held.push(
            tokio_tungstenite::connect_async(server.ws_url())
                .await
                .unwrap()
                .0,
        );
    }
    const PAST: usize = 300;
    for _ in 0..PAST {
        match tokio_tungstenite::connect_async(server.ws_url()).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
            other => panic!("past the limit: {:?}", other.map(|(_, r)| r.status())),
        }
    }
    // Those inside are served.
    inside.add("inside").await;
    assert!(inside.next_ack().await.user.is_some());
    // Closing some frees their places.
    for mut socket in held.drain(..50) {
        socket.close(None).await.unwrap();
    }
    let readmitted =
        eventually(async || greeted_at_or_refused(&server.ws_url()).await.then_some(()));
    assert!(readmitted.await.is_some(), "a freed place was never reused");
    let growth = rss.growth_within_bound();
    record(
        SUITE,
        "connection limit",
        &format!("{LIMIT} connections held open, then {PAST} more"),
        PAST as u64,
        &format!(
            "every one past the limit got 503; a client inside was served; \
             freed places were reused; RSS +{growth:.1} MiB"
        ),
    );
}

/// Whether a v1 handshake and `hello` succeed now (false on a 503).
async fn greeted_at_or_refused(url: &str) -> bool {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => true,
        Err(tungstenite::Error::Http(response)) if response.status() == 503 => false,
        Err(err) => panic!("{err}"),
    }
}

#[tokio::test]
async fn clients_that_never_read_are_dropped_and_memory_stays_bounded() {
    let server = ServerProcess::start_with(&[
        "--db",
        ":memory:",
        "--write-rate",
        "100000",
        "--write-burst",
        "100000",
        "--send-timeout-ms",
        "1000",
    ])
    .await;
    const DEAF: usize = 50;
    let mut deaf = Vec::new();
    for _ in 0..DEAF {
        deaf.push(deaf_client(&server.addr, 4096).await);
    }
    let series = r#"roster_connections{protocol="roster.v1"}"#;
    let all_in = eventually(async || (metric(&server, series).await == DEAF as f64).then_some(()));
    assert!(all_in.await.is_some());
    let rss = RssWatch::start(&server);
    let (mut writer, _, _, _) = greeted_at(&server.ws_url()).await;
    let (mut reader, _, greeted_version, _) = greeted_at(&server.ws_url()).await;
    // Long names and emails (about 330 bytes a change), so that the deaf
    // clients' windows and the kernel's send buffers fill fast. The writer
    // reads its acks after each batch, or it would be deaf too. Adds go on
    // until the server has dropped every deaf client.
    const BATCH: usize = 100;
    const MAX_ADDS: usize = 40_000;
    let name = "N".repeat(58);
    let email = format!("{}@{}.example", "e".repeat(58), "d".repeat(170));
    let mut adds = 0;
    let mut acked = std::collections::BTreeMap::new();
    let mut last_version = 0;
    while metric(&server, series).await > 2.0 {
        assert!(
            adds < MAX_ADDS,
            "clients that never read were kept through {adds} changes"
        );
        for a in adds..adds + BATCH {
            writer
                .send(&ClientMessage::Add {
                    request_id: rid(&format!("w{a}")),
                    name: Some(format!("{name}{a}")),
                    email: Some(format!("{a:06}{email}")),
                })
                .await;
        }
        for _ in 0..BATCH {
            let ack = writer.next_ack().await;
            let (Some(user), Some(version)) = (ack.user, ack.version) else {
                panic!("an add failed: {:?}", ack.error);
            };
            last_version = last_version.max(version);
            acked.insert(user.id.clone(), user);
        }
        adds += BATCH;
    }
    // The reader, which did not read while the adds went on, holds every
    // user once. It may have fallen behind far enough to be sent a fresh
    // snapshot instead of the changes it missed (the server's answer to a
    // lagging client), so it rebuilds the list the way a page does.
    let mut list = std::collections::BTreeMap::new();
    let mut version = greeted_version;
    let mut snapshots = 0;
    while version < last_version {
        match reader.next().await {
            ServerMessage::Snapshot {
                version: v, users, ..
            } => {
                snapshots += 1;
                version = v;
                list = users.into_iter().map(|u| (u.id.clone(), u)).collect();
            }
            ServerMessage::Change(change) if change.version > version => {
                version = change.version;
                assert!(
                    list.insert(change.user.id.clone(), change.user).is_none(),
                    "a user came twice"
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        list, acked,
        "the reading client's list is not the users acked"
    );
    served_well(&server, "after").await;
    // The users themselves take room: SQLite, the list, the change log and
    // the request ids remembered, about 3 KiB each with these long fields.
    let growth = rss.growth_within(RSS_BOUND_KIB + 4 * adds as u64);
    drop(deaf);
    record(
        SUITE,
        "never reading",
        &format!("{DEAF} clients with 4 KB receive windows that never read, while adds go on"),
        DEAF as u64,
        &format!(
            "all {DEAF} dropped once their send queue stayed full, after {adds} changes; \
             a client that read only afterwards held every user once (fresh snapshots \
             for falling behind: {snapshots}); RSS +{growth:.1} MiB, most of it the {adds} users \
             stored (bound: 48 MiB + 4 KiB a user)"
        ),
    );
}

#[tokio::test]
async fn a_foreign_origin_is_refused_every_time() {
    let server = ServerProcess::start_with(&["--db", ":memory:"]).await;
    let rss = RssWatch::start(&server);
    const TRIES: usize = 200;
    for i in 0..TRIES {
        let mut request = server.ws_url().into_client_request().unwrap();
        let origin = format!("https://evil-{i}.example");
        request
            .headers_mut()
            .insert("origin", HeaderValue::from_str(&origin).unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
            other => panic!("{origin}: {:?}", other.map(|(_, r)| r.status())),
        }
    }
    served_well(&server, "after").await;
    let growth = rss.growth_within_bound();
    record(
        SUITE,
        "foreign origin",
        "WebSocket handshakes from another site's Origin",
        TRIES as u64,
        &format!("every one refused with 403 before the upgrade; RSS +{growth:.1} MiB"),
    );
}

#[tokio::test]
async fn slow_loris_handshakes_are_cut_off_while_others_are_served() {
    const HEADER_TIMEOUT_S: u64 = 2;
    let timeout_ms = (HEADER_TIMEOUT_S * 1000).to_string();
    let server =
        ServerProcess::start_with(&["--db", ":memory:", "--header-timeout-ms", &timeout_ms]).await;
    let rss = RssWatch::start(&server);
    let files_before = server.open_files();
    const TRICKLING: usize = 150;
    const SILENT: usize = 50;
    let start = tokio::time::Instant::now();
    let mut lorises = Vec::new();
    for i in 0..TRICKLING + SILENT {
        let addr = server.addr.clone();
        lorises.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.unwrap();
            if i < TRICKLING {
                stream
                    .write_all(b"GET /api/v1/users/ws HTTP/1.1\r\n")
                    .await
                    .unwrap();
            }
            // One header byte a second, forever, until the server hangs up.
            let mut byte = [0u8; 1];
            loop {
                let read = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut byte));
                match read.await {
                    Ok(Ok(0)) | Ok(Err(_)) => return,
                    Ok(Ok(_)) => {}
                    Err(_) if i < TRICKLING => {
                        if stream.write_all(b"X").await.is_err() {
                            return;
                        }
                    }
                    Err(_) => {}
                }
            }
        }));
    }
    // Others are served while the lorises hang on.
    let mut served = 0;
    while lorises.iter().any(|loris| !loris.is_finished()) {
        assert!(
            start.elapsed() < Duration::from_secs(HEADER_TIMEOUT_S + 10),
            "lorises still connected {:?} after the first",
            start.elapsed()
        );
        served_well(&server, &format!("during-{served}")).await;
        served += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = start.elapsed().as_secs_f64();
    let growth = rss.growth_within_bound();
    let closed = eventually(async || (server.open_files() <= files_before).then_some(()));
    assert!(closed.await.is_some(), "the lorises' sockets stayed open");
    record(
        SUITE,
        "slow loris",
        &format!(
            "{TRICKLING} handshakes sending a header byte a second, {SILENT} connections sending nothing"
        ),
        (TRICKLING + SILENT) as u64,
        &format!(
            "all cut off by the server within {took:.1} s (--header-timeout-ms {timeout_ms}); \
             {served} well-behaved clients served meanwhile; no file left open; RSS +{growth:.1} MiB"
        ),
    );
}

/// Sends `request` on a new connection and returns the status line of the
/// answer, or "closed" if the server hung up without one.
async fn raw_answer(server: &ServerProcess, request: &[u8], body_bytes: usize) -> String {
    let mut stream = TcpStream::connect(&server.addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    // A body is sent in pieces until the server answers or hangs up.
    let chunk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    while sent < body_bytes {
        if stream.write_all(&chunk).await.is_err() {
            break;
        }
        sent += chunk.len();
        if sent % (1 << 20) == 0 {
            let mut probe = [0u8; 1];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(1), stream.peek(&mut probe)).await
            {
                if n > 0 {
                    break;
                }
            }
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(PATIENCE, async {
        let mut buffer = [0u8; 4096];
        while !answer.windows(2).any(|w| w == b"\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&answer);
    text.lines()
        .next()
        .map_or("closed".into(), |line| line.to_owned())
}

#[tokio::test]
async fn oversized_bodies_and_headers_are_refused_without_being_held() {
    let server = ServerProcess::start_with(&["--db", ":memory:"]).await;
    let rss = RssWatch::start(&server);
    let host = &server.addr;
    // A 100 MB body announced by its length: refused from the header.
    let announced = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: 104857600\r\n\r\n"
    );
    let answer = raw_answer(&server, announced.as_bytes(), 100 << 20).await;
    assert!(answer.contains(" 413 "), "{answer}");
    // 20 MB sent chunked, with no length: cut off at the limit.
    let chunked = format!(
        "POST /api/v1/users HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\n\r\n1400000\r\n"
    );
    let answer = raw_answer(&server, chunked.as_bytes(), 20 << 20).await;
    assert!(answer.contains(" 413 "), "{answer}");
    // A 1 MB header line, and 1,000 headers.
    let long = format!(
        "GET /healthz HTTP/1.1\r\nHost: {host}\r\nX-Long: {}\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let answer = raw_answer(&server, long.as_bytes(), 0).await;
    assert!(answer.contains(" 431 ") || answer == "closed", "{answer}");
    let many = format!(
        "GET /healthz HTTP/1.1\r\nHost: {host}\r\n{}\r\n",
        (0..1000)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let answer = raw_answer(&server, many.as_bytes(), 0).await;
    assert!(answer.contains(" 431 ") || answer == "closed", "{answer}");
    served_well(&server, "after").await;
    assert_eq!(server.users().await.len(), 1, "no oversized add was stored");
    let growth = rss.growth_within_bound();
    record(
        SUITE,
        "oversized HTTP",
        "a 100 MB body with its length, 20 MB chunked, a 1 MB header, 1,000 headers",
        4,
        &format!(
            "bodies refused with 413 at the 64 KiB limit, headers refused (431 or closed), \
             nothing stored; RSS +{growth:.1} MiB"
        ),
    );
}
