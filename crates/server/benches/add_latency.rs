//! The cost of one add, and of getting it to another client, on loopback,
//! against real servers started in-process on port 0.
//!
//! `cargo bench -p roster-server --bench add_latency [-- ADDS]`
//!
//! 1. **Add latency** (send a v1 `add` → its ack), adds one at a time:
//!    - a SQLite file (the default, durable: every ack waits for fsync);
//!    - SQLite `:memory:`, so the disk's share is visible;
//!    - Redis with `appendfsync always` (durable, what `--redis` requires);
//!    - Redis with `appendfsync everysec` (allowed only with
//!      `--redis-allow-unsafe-durability`), for comparison.
//! 2. **Delivery latency** (send an `add` → another client has its
//!    `change`): one instance on a SQLite file; two instances on one Redis
//!    with the other client on the writer's instance; and with it on the
//!    other instance (cross-instance delivery).
//!
//! Each Redis is a real `redis-server` this starts on a free port with its
//! data in a temporary directory (`scripts/bootstrap.sh --test` installs
//! it). Every figure comes from the same run, after a warm-up of 100.

use std::net::TcpListener as StdListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roster_protocol::v1::{ClientMessage, ServerMessage};
use roster_protocol::validate::RequestId;
use roster_server::{run, Config};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WARM_UP: usize = 100;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn main() {
    let adds: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(2_000);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bench.db").to_str().unwrap().to_owned();
    let always = RedisServer::start("always");
    let everysec = RedisServer::start("everysec");

    println!("add latency, send → ack, {adds} sequential adds after {WARM_UP} warm-up");
    header("store");
    for (label, config) in [
        ("sqlite file (synchronous=FULL)", sqlite(&file)),
        ("sqlite :memory:", sqlite(":memory:")),
        ("redis, appendfsync always", redis(&always, false)),
        ("redis, appendfsync everysec", redis(&everysec, true)),
    ] {
        row(label, runtime.block_on(add_latency(config, adds)));
    }

    let shared = RedisServer::start("always");
    let file = dir.path().join("delivery.db").to_str().unwrap().to_owned();
    println!();
    println!("delivery latency, writer's add sent → another client has the change, {adds} adds");
    header("watcher");
    let single = runtime.block_on(delivery(vec![sqlite(&file)], 0, adds, 1_000_000));
    row("one instance, sqlite file", single.clone());
    let same = runtime.block_on(delivery(
        vec![redis(&shared, false), redis(&shared, false)],
        0,
        adds,
        2_000_000,
    ));
    row("redis, writer's instance", same.clone());
    let other = runtime.block_on(delivery(
        vec![redis(&shared, false), redis(&shared, false)],
        1,
        adds,
        3_000_000,
    ));
    row("redis, another instance", other.clone());
    println!();
    println!(
        "cross-instance extra over one instance: p50 {}, p99 {}; over the writer's instance on redis: p50 {}, p99 {}",
        difference(&other, &single, 0.5),
        difference(&other, &single, 0.99),
        difference(&other, &same, 0.5),
        difference(&other, &same, 0.99),
    );
}

fn sqlite(db: &str) -> Config {
    Config {
        db: db.to_owned(),
        ..bench_config()
    }
}

fn redis(redis: &RedisServer, allow_unsafe: bool) -> Config {
    Config {
        redis: Some(redis.url()),
        redis_allow_unsafe_durability: allow_unsafe,
        ..bench_config()
    }
}

fn bench_config() -> Config {
    Config {
        dist: "/nonexistent".into(),
        write_rate: 1e9,
        write_burst: u32::MAX,
        ..Config::default()
    }
}

fn header(what: &str) {
    println!(
        "{what:<32} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "median", "p90", "p99", "max", "per s"
    );
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

fn row(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let total: Duration = samples.iter().sum();
    println!(
        "{label:<32} {:>9} {:>9} {:>9} {:>9} {:>10.0}",
        micros(quantile(&samples, 0.5)),
        micros(quantile(&samples, 0.9)),
        micros(quantile(&samples, 0.99)),
        micros(*samples.last().unwrap()),
        samples.len() as f64 / total.as_secs_f64()
    );
}

fn difference(a: &[Duration], b: &[Duration], q: f64) -> String {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    let extra = quantile(&a, q).as_secs_f64() - quantile(&b, q).as_secs_f64();
    format!("{:+.0} µs", extra * 1e6)
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// A server in this process; stopped by sending on the returned channel.
async fn start(config: Config) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(run(listener, Config { addr, ..config }, async {
        let _ = stopped.await;
    }));
    let url = format!("ws://{addr}/api/v1/users/ws");
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (url, stop)
}

/// A v1 client that has said hello and read its snapshot.
async fn greeted(url: &str) -> Socket {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(roster_protocol::SUBPROTOCOL),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let hello = ClientMessage::Hello {
        since: None,
        epoch: None,
        token: None,
    };
    ws.send(Message::text(hello.to_frame())).await.unwrap();
    next_where(&mut ws, |m| matches!(m, ServerMessage::Snapshot { .. })).await;
    ws
}

async fn next_where(ws: &mut Socket, wanted: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
    loop {
        let Some(Ok(Message::Text(text))) = ws.next().await else {
            panic!("connection ended");
        };
        if let Ok(message) = ServerMessage::decode(text.as_str()) {
            if wanted(&message) {
                return message;
            }
        }
    }
}

fn add_frame(i: usize) -> String {
    ClientMessage::Add {
        request_id: RequestId::parse(&format!("bench-{i}")).unwrap(),
        name: None,
        email: None,
    }
    .to_frame()
}

async fn add_latency(config: Config, adds: usize) -> Vec<Duration> {
    let (url, stop) = start(config).await;
    let mut ws = greeted(&url).await;
    let mut samples = Vec::with_capacity(adds);
    for i in 0..WARM_UP + adds {
        let sent = Instant::now();
        ws.send(Message::text(add_frame(i))).await.unwrap();
        let ServerMessage::Ack(ack) =
            next_where(&mut ws, |m| matches!(m, ServerMessage::Ack(_))).await
        else {
            unreachable!()
        };
        assert!(ack.error.is_none(), "{:?}", ack.error);
        if i >= WARM_UP {
            samples.push(sent.elapsed());
        }
    }
    let _ = stop.send(());
    samples
}

/// Starts an instance per config; the writer talks to the first, the
/// watcher to instance `watcher`. Request ids count from `first_id`.
async fn delivery(
    configs: Vec<Config>,
    watcher: usize,
    adds: usize,
    first_id: usize,
) -> Vec<Duration> {
    let mut servers = Vec::new();
    for config in configs {
        servers.push(start(config).await);
    }
    let mut writer = greeted(&servers[0].0).await;
    let mut watching = greeted(&servers[watcher].0).await;
    let mut samples = Vec::with_capacity(adds);
    for i in 0..WARM_UP + adds {
        let sent = Instant::now();
        writer
            .send(Message::text(add_frame(first_id + i)))
            .await
            .unwrap();
        next_where(&mut watching, |m| matches!(m, ServerMessage::Change(_))).await;
        if i >= WARM_UP {
            samples.push(sent.elapsed());
        }
        next_where(&mut writer, |m| matches!(m, ServerMessage::Ack(_))).await;
    }
    for (_, stop) in servers {
        let _ = stop.send(());
    }
    samples
}

/// A `redis-server` on a free port, with AOF fsync `appendfsync`.
struct RedisServer {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start(appendfsync: &str) -> Self {
        let port = StdListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "yes", "--appendfsync", appendfsync])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/bootstrap.sh --test installs it)");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Self {
            port,
            child,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
