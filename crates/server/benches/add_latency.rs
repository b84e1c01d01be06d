//! The cost of one add: time from sending a v1 `add` to receiving its ack,
//! on loopback, against the real server started in-process on port 0.
//!
//! `cargo bench -p roster-server --bench add_latency [-- ADDS]`
//!
//! Runs the same sequence against a SQLite file (the default, durable:
//! every ack waits for fsync) and against `:memory:`, so the share of the
//! disk is visible. Adds are sent one at a time (the next after the ack),
//! after a warm-up of 100.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roster_protocol::v1::{ClientMessage, ServerMessage};
use roster_protocol::validate::RequestId;
use roster_server::{run, Config};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

const WARM_UP: usize = 100;

fn main() {
    let adds: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(2_000);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bench.db");
    println!("add latency, send → ack, {adds} sequential adds after {WARM_UP} warm-up");
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "store", "median", "p90", "p99", "max", "adds/s"
    );
    for (label, db) in [
        (
            "sqlite file (synchronous=FULL)",
            file.to_str().unwrap().to_owned(),
        ),
        (":memory:", ":memory:".to_owned()),
    ] {
        let mut samples = runtime.block_on(measure(&db, adds));
        samples.sort();
        let pick = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        let total: Duration = samples.iter().sum();
        println!(
            "{:<28} {:>9} {:>9} {:>9} {:>9} {:>10.0}",
            label,
            micros(pick(0.5)),
            micros(pick(0.9)),
            micros(pick(0.99)),
            micros(*samples.last().unwrap()),
            samples.len() as f64 / total.as_secs_f64()
        );
    }
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

async fn measure(db: &str, adds: usize) -> Vec<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config {
        addr,
        db: db.to_owned(),
        dist: "/nonexistent".into(),
        write_rate: 1e9,
        write_burst: u32::MAX,
        ..Config::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, config, async {
        let _ = stopped.await;
    }));

    let mut request = format!("ws://{addr}/api/v1/users/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(roster_protocol::SUBPROTOCOL),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");

    let mut samples = Vec::with_capacity(adds);
    for i in 0..WARM_UP + adds {
        let request_id = RequestId::parse(&format!("bench-{db:.8}-{i}")).unwrap();
        let frame = ClientMessage::Add {
            request_id: request_id.clone(),
            name: None,
            email: None,
        }
        .to_frame();
        let sent = Instant::now();
        ws.send(Message::text(frame)).await.unwrap();
        loop {
            let Some(Ok(Message::Text(text))) = ws.next().await else {
                panic!("connection ended");
            };
            if let Ok(ServerMessage::Ack(ack)) = ServerMessage::decode(text.as_str()) {
                assert_eq!(ack.request_id, request_id);
                assert!(ack.error.is_none(), "{:?}", ack.error);
                break;
            }
        }
        if i >= WARM_UP {
            samples.push(sent.elapsed());
        }
    }
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    samples
}
