//! A native load generator for Roster protocol v1 servers (Roster's own,
//! or the Node `ws` baseline in `bench/node-server/`). Each scenario opens
//! real WebSocket connections from this process and measures what arrives.
//!
//! - [`fanout`]: one client adds; how long until every client has it.
//! - [`sustained`]: adds at a fixed rate; delivered messages/s and lag.
//! - [`connect_storm`]: every client at once; time until all are in step.
//! - [`reconnect_storm`]: every client dropped by a server restart comes
//!   back with Roster's jittered backoff or a fixed delay.
//! - [`idle_memory`]: connections held open; the server's RSS per one.
//! - [`lists::lists`]: watchers on each of many lists; the server's RSS,
//!   and what a change to one list costs the others.

pub mod client;
pub mod lists;
pub mod raw;
pub mod stats;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roster_protocol::auth::Token;
use roster_protocol::engine::{retry_delay, EngineConfig, Rng};
use serde_json::{json, Value};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::Message;

use client::{Arrival, Protocol, Socket};
use stats::Summary;

/// How long a scenario waits for anything before it gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// Connections opened at the same time while setting a scenario up.
pub const CONNECT_CONCURRENCY: usize = 200;

/// Opens `count` clients with `connect`, [`CONNECT_CONCURRENCY`] at a
/// time; the first failure ends the scenario.
async fn connect_many<T, F, Fut>(count: usize, connect: F) -> Result<Vec<T>, String>
where
    T: Send + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, client::Failed>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut connecting = Vec::with_capacity(count);
    for _ in 0..count {
        let (gate, connecting_one) = (Arc::clone(&gate), connect());
        connecting.push(tokio::spawn(async move {
            let _permit = gate.acquire().await;
            connecting_one.await
        }));
    }
    let mut connected = Vec::with_capacity(count);
    for task in connecting {
        connected.push(
            task.await
                .map_err(|err| err.to_string())?
                .map_err(|err| err.0)?,
        );
    }
    Ok(connected)
}

/// Opens `count` watching clients, [`CONNECT_CONCURRENCY`] at a time, each
/// reporting what it reads to the returned receiver.
async fn watchers(
    url: &str,
    count: usize,
    protocol: Protocol,
    deflate: bool,
) -> Result<mpsc::UnboundedReceiver<Arrival>, String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    let connect = || {
        let url = url.to_owned();
        async move { raw::Watcher::connect(&url, protocol, deflate).await }
    };
    for watcher in connect_many(count, connect).await? {
        tokio::spawn(watcher.watch(sender.clone()));
    }
    Ok(receiver)
}

/// A client that adds, and reads the version of each of its acks.
struct Writer {
    ws: Socket,
    prefix: String,
    sent: usize,
}

impl Writer {
    async fn connect(url: &str) -> Result<Self, String> {
        let ws = client::connect(url, Protocol::V1)
            .await
            .map_err(|err| err.0)?;
        // Unique per run, so a server that keeps request ids never
        // answers one run's add with another's.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let prefix = format!("lg{nanos:x}");
        Ok(Self {
            ws,
            prefix,
            sent: 0,
        })
    }

    /// Sends one add; returns its request id.
    async fn add(&mut self) -> Result<String, String> {
        let id = format!("{}-{}", self.prefix, self.sent);
        self.sent += 1;
        self.ws
            .send(client::add_frame(&id))
            .await
            .map_err(|err| err.to_string())?;
        Ok(id)
    }

    /// Reads until an ack; returns its request id and version.
    async fn ack(&mut self) -> Result<(String, u64), String> {
        loop {
            let message = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .map_err(|_| "no ack in time".to_owned())?;
            match message {
                Some(Ok(Message::Text(text))) => {
                    if let Some(acked) = client::acked_version(text.as_str()) {
                        return Ok(acked);
                    }
                    if text.as_str().contains(r#""type":"ack""#) {
                        return Err(format!("add refused: {text}"));
                    }
                }
                Some(Ok(_)) => {}
                _ => return Err("the writer's connection ended".into()),
            }
        }
    }
}

/// Waits until `arrivals` has `count` entries for `version`; returns their
/// times. Others are kept in `early` for later rounds.
async fn arrivals_of(
    arrivals: &mut mpsc::UnboundedReceiver<Arrival>,
    early: &mut HashMap<u64, Vec<Instant>>,
    version: u64,
    count: usize,
) -> Result<Vec<Instant>, String> {
    let mut times = early.remove(&version).unwrap_or_default();
    while times.len() < count {
        let arrival = tokio::time::timeout(PATIENCE, arrivals.recv())
            .await
            .map_err(|_| format!("{} of {count} clients got version {version}", times.len()))?
            .ok_or("the watchers ended")?;
        if arrival.version == version {
            times.push(arrival.at);
        } else {
            early.entry(arrival.version).or_default().push(arrival.at);
        }
    }
    Ok(times)
}

/// `rounds` single adds, one after another, each delivered to `clients`
/// watchers: the time until all had it, and each client's delivery time.
/// Seed watchers get the whole list after each add (one frame each, as
/// the rounds do not overlap). With `pid`, also the server's resident
/// memory before the watchers connect and after the last round. With
/// `deflate`, the watchers offer permessage-deflate as browsers do.
pub async fn fanout(
    url: &str,
    clients: usize,
    rounds: usize,
    protocol: Protocol,
    pid: Option<u32>,
    deflate: bool,
) -> Result<Value, String> {
    let rss_before = pid.map(stats::rss_bytes).transpose()?;
    let mut arrivals = watchers(url, clients, protocol, deflate).await?;
    let mut writer = Writer::connect(url).await?;
    let (mut all, mut each) = (Vec::new(), Vec::new());
    let mut early = HashMap::new();
    for _ in 0..rounds {
        let sent = Instant::now();
        writer.add().await?;
        let (_, version) = writer.ack().await?;
        // Seed list frames carry no version (see `client::Arrival`).
        let version = if protocol == Protocol::Seed {
            0
        } else {
            version
        };
        let times = arrivals_of(&mut arrivals, &mut early, version, clients).await?;
        each.extend(times.iter().map(|at| at.duration_since(sent)));
        all.push(
            times
                .iter()
                .max()
                .map_or(Duration::ZERO, |at| at.duration_since(sent)),
        );
    }
    let rss_after = pid.map(stats::rss_bytes).transpose()?;
    Ok(json!({
        "scenario": "fanout",
        "watchers": format!("{protocol:?}").to_lowercase(),
        "deflate": deflate,
        "clients": clients,
        "rounds": rounds,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "all_delivered_ms": Summary::of(&all).json(),
        "per_client_ms": Summary::of(&each).json(),
    }))
}

/// Adds at `rate` per second for `seconds` into `clients` v1 clients:
/// delivered change frames per second and the lag from add to delivery.
pub async fn sustained(
    url: &str,
    clients: usize,
    rate: f64,
    seconds: f64,
) -> Result<Value, String> {
    let mut arrivals = watchers(url, clients, Protocol::V1, false).await?;
    let writer = Writer::connect(url).await?;
    let total = (rate * seconds).round().max(1.0) as usize;
    let started = Instant::now();
    let mut sent_at = HashMap::with_capacity(total);
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let (ws_out, mut ws_in) = writer.ws.split();
    let reader = tokio::spawn(async move {
        let mut versions = HashMap::new();
        while versions.len() < total {
            match tokio::time::timeout(PATIENCE, ws_in.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => {
                    if let Some((id, version)) = client::acked_version(text.as_str()) {
                        versions.insert(id, version);
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        versions
    });
    let mut out = ws_out;
    for n in 0..total {
        ticks.tick().await;
        let id = format!("{}-{n}", writer.prefix);
        sent_at.insert(id.clone(), Instant::now());
        out.send(client::add_frame(&id))
            .await
            .map_err(|err| err.to_string())?;
    }
    let sending = started.elapsed();
    let versions = reader.await.map_err(|err| err.to_string())?;
    if versions.len() < total {
        return Err(format!("{} of {total} adds acknowledged", versions.len()));
    }
    let sent_by_version: HashMap<u64, Instant> = versions
        .iter()
        .map(|(id, version)| (*version, sent_at[id]))
        .collect();
    let expected = total * clients;
    let mut lags = Vec::with_capacity(expected);
    let mut last = started;
    while lags.len() < expected {
        let arrival = tokio::time::timeout(PATIENCE, arrivals.recv())
            .await
            .map_err(|_| format!("{} of {expected} deliveries", lags.len()))?
            .ok_or("the watchers ended")?;
        if let Some(sent) = sent_by_version.get(&arrival.version) {
            lags.push(arrival.at.duration_since(*sent));
            last = last.max(arrival.at);
        }
    }
    let span = last.duration_since(started).as_secs_f64();
    Ok(json!({
        "scenario": "sustained",
        "clients": clients,
        "rate": rate,
        "adds": total,
        "send_seconds": sending.as_secs_f64(),
        "delivered": expected,
        "delivered_per_s": expected as f64 / span,
        "lag_ms": Summary::of(&lags).json(),
    }))
}

/// `clients` connections started at once; the time until every one has
/// its snapshot, and the snapshot's size on the wire. With `tokens`,
/// client `i` presents `tokens[i]` in its `hello` (made beforehand, as a
/// page has its token before it connects). With `deflate`, each offers
/// permessage-deflate as browsers do.
pub async fn connect_storm(
    url: &str,
    clients: usize,
    tokens: Option<Vec<Token>>,
    deflate: bool,
) -> Result<Value, String> {
    let mut tokens = tokens.map(Vec::into_iter);
    let with_tokens = tokens.is_some();
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let url = url.to_owned();
        let token = tokens.as_mut().and_then(Iterator::next);
        tasks.push(tokio::spawn(async move {
            let watcher = raw::Watcher::connect_with(&url, Protocol::V1, token, deflate).await?;
            Ok::<_, client::Failed>((watcher, Instant::now()))
        }));
    }
    let mut held: Vec<raw::Watcher> = Vec::with_capacity(clients);
    let mut failed = 0;
    let mut done = Vec::with_capacity(clients);
    for task in tasks {
        match task.await.map_err(|err| err.to_string())? {
            Ok((ws, at)) => {
                done.push(at.duration_since(started));
                held.push(ws);
            }
            Err(_) => failed += 1,
        }
    }
    Ok(json!({
        "scenario": "connect_storm",
        "clients": clients,
        "tokens": with_tokens,
        "deflate": held.iter().any(|watcher| watcher.deflate),
        "snapshot_wire_bytes": held.iter().map(|watcher| watcher.snapshot_wire_bytes).max(),
        "failed": failed,
        "all_in_step_ms": done.iter().max().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        "in_step_ms": Summary::of(&done).json(),
    }))
}

/// How dropped clients come back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backoff {
    /// Roster's client: full jitter, 500 ms doubling to a 30 s cap, over a
    /// window widened by the viewer count the server last reported
    /// (`roster_protocol::engine::retry_window`).
    Roster,
    /// A fixed 1 s delay between tries.
    Fixed,
}

/// `clients` connected, then dropped by a server restart (done by the
/// caller after `ready` is called); each comes back following `backoff`.
/// Reports the time from the first drop until all are in step again, the
/// peak rate of connections made (in the busiest second, and in the
/// busiest 100 ms), and the longest any client was away against the
/// backoff cap.
pub async fn reconnect_storm(
    url: &str,
    clients: usize,
    backoff: Backoff,
    ready: impl FnOnce(),
) -> Result<Value, String> {
    let config = EngineConfig::default();
    let (events, mut returns) = mpsc::unbounded_channel::<(Instant, Instant, Socket)>();
    let (told, mut crowd_known) = mpsc::unbounded_channel::<()>();
    let gate = Arc::new(Semaphore::new(CONNECT_CONCURRENCY));
    let mut connected = Vec::with_capacity(clients);
    for n in 0..clients {
        let (url, gate, events, told) = (
            url.to_owned(),
            Arc::clone(&gate),
            events.clone(),
            told.clone(),
        );
        connected.push(tokio::spawn(async move {
            let ws = {
                let _permit = gate.acquire().await;
                client::connect(&url, Protocol::V1).await
            }
            .map_err(|err| err.0)?;
            Ok::<_, String>(tokio::spawn(async move {
                let mut ws = ws;
                // The crowd as the server last told it, as the page's
                // engine keeps it.
                let mut viewers = 0;
                while let Some(Ok(message)) = ws.next().await {
                    if let Message::Text(text) = message {
                        if let Some(count) = client::presence_viewers(text.as_str()) {
                            if viewers < clients as u64 && count >= clients as u64 {
                                let _ = told.send(());
                            }
                            viewers = count;
                        }
                    }
                }
                let dropped = Instant::now();
                let mut rng = Rng::new(0x5eed ^ n as u64);
                let mut attempt = 0;
                loop {
                    let wait = match backoff {
                        Backoff::Roster => retry_delay(
                            &mut rng,
                            config.backoff_base_ms,
                            config.backoff_cap_ms,
                            attempt,
                            viewers,
                        ),
                        Backoff::Fixed => 1_000,
                    };
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    if let Ok(ws) = client::connect(&url, Protocol::V1).await {
                        // The socket goes along, held until the scenario ends.
                        let _ = events.send((dropped, Instant::now(), ws));
                        return;
                    }
                    attempt += 1;
                }
            }))
        }));
    }
    for task in connected {
        task.await.map_err(|err| err.to_string())??;
    }
    drop(told);
    // Clients of a server that reports presence restart knowing the whole
    // crowd, as pages that have been open a while do (presence goes out
    // once a second). A server without presence (the Node baseline) says
    // nothing, and the wait ends after 5 s without news.
    let mut knowing = 0;
    while knowing < clients {
        match tokio::time::timeout(Duration::from_secs(5), crowd_known.recv()).await {
            Ok(Some(())) => knowing += 1,
            Ok(None) | Err(_) => break,
        }
    }
    ready();
    let mut back = Vec::with_capacity(clients);
    let mut held = Vec::with_capacity(clients);
    while back.len() < clients {
        let (dropped, at, ws) = tokio::time::timeout(Duration::from_secs(120), returns.recv())
            .await
            .map_err(|_| format!("{} of {clients} clients came back", back.len()))?
            .ok_or("the clients ended")?;
        back.push((dropped, at));
        held.push(ws);
    }
    let first_drop = back
        .iter()
        .map(|(dropped, _)| *dropped)
        .min()
        .unwrap_or_else(Instant::now);
    let mut windows: HashMap<u128, usize> = HashMap::new();
    for (_, at) in &back {
        *windows
            .entry(at.duration_since(first_drop).as_millis() / 100)
            .or_default() += 1;
    }
    let away: Vec<Duration> = back
        .iter()
        .map(|(dropped, at)| at.duration_since(*dropped))
        .collect();
    let last = windows.keys().max().copied().unwrap_or(0);
    let per_window: Vec<usize> = (0..=last)
        .map(|w| windows.get(&w).copied().unwrap_or(0))
        .collect();
    Ok(json!({
        "scenario": "reconnect_storm",
        "clients": clients,
        "knew_the_crowd": knowing,
        "backoff": format!("{backoff:?}").to_lowercase(),
        "all_back_ms": back.iter().map(|(_, at)| at.duration_since(first_drop)).max().unwrap_or_default().as_secs_f64() * 1e3,
        // Connections made in the busiest second (any 1 s window, in
        // 100 ms steps), and the busiest 100 ms times ten: the second is
        // the rate; the short window also catches scheduling stalls of
        // this shared machine (a near-empty 100 ms followed by a double).
        "peak_connects_per_s": per_window.windows(10.min(per_window.len()).max(1)).map(|w| w.iter().sum::<usize>()).max().unwrap_or(0),
        "peak_connects_per_100ms_x10": windows.values().max().copied().unwrap_or(0) * 10,
        "connects_per_100ms": per_window,
        "away_ms": Summary::of(&away).json(),
        "backoff_cap_ms": config.backoff_cap_ms,
    }))
}

/// `clients` idle v1 connections held open; the resident memory of
/// process `pid` before and after, per connection. With `deflate`, the
/// connections agree permessage-deflate as browsers' do.
pub async fn idle_memory(
    url: &str,
    clients: usize,
    pid: u32,
    deflate: bool,
) -> Result<Value, String> {
    let before = stats::rss_bytes(pid)?;
    // Held open (not dropped) until the memory is read.
    let (held, agreed): (Vec<Box<dyn Send>>, bool) = if deflate {
        let connect = || {
            let url = url.to_owned();
            async move { raw::Watcher::connect(&url, Protocol::V1, true).await }
        };
        let held = connect_many(clients, connect).await?;
        let agreed = held.iter().all(|watcher| watcher.deflate);
        (
            held.into_iter()
                .map(|w| Box::new(w) as Box<dyn Send>)
                .collect(),
            agreed,
        )
    } else {
        let connect = || {
            let url = url.to_owned();
            async move { client::connect(&url, Protocol::V1).await }
        };
        let held = connect_many(clients, connect).await?;
        (
            held.into_iter()
                .map(|w| Box::new(w) as Box<dyn Send>)
                .collect(),
            false,
        )
    };
    // Let the server finish what the connects started (presence frames).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = stats::rss_bytes(pid)?;
    drop(held);
    Ok(json!({
        "scenario": "idle_memory",
        "clients": clients,
        "deflate": agreed,
        "rss_before": before,
        "rss_after": after,
        "bytes_per_connection": (after.saturating_sub(before)) as f64 / clients as f64,
    }))
}

/// One token for each of `clients` (`sub` `client-N`, able to read, for
/// the default audience), signed with the HS256 `secret`, valid for an
/// hour: what each page of a dashboard would hold.
pub fn mint_tokens(secret: &[u8], clients: usize) -> Result<Vec<Token>, String> {
    let key = jsonwebtoken::EncodingKey::from_secret(secret).map_err(|err| err.to_string())?;
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|err| err.to_string())?
        .as_secs()
        + 3_600;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    (0..clients)
        .map(|n| {
            let claims = json!({
                "sub": format!("client-{n}"), "scope": "roster:read", "aud": "roster", "exp": exp,
            });
            jsonwebtoken::encode(&header, &claims, &key)
                .map(Token::new)
                .map_err(|err| err.to_string())
        })
        .collect()
}
