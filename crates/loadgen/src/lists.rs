//! Many lists on one server: `lists` watchers on each of `lists` lists,
//! the server's memory with them, and what a change to one list costs
//! the others (nothing, if lists share nothing).

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::client::{Arrival, Protocol};
use crate::{arrivals_of, connect_many, raw, stats, Writer};

/// The name of list `n` of a run: `l0000`, `l0001`, …
pub fn list_name(n: usize) -> String {
    format!("l{n:04}")
}

/// `template` with `{list}` replaced by list `n`'s name.
fn url_of(template: &str, n: usize) -> String {
    template.replace("{list}", &list_name(n))
}

/// How long stray frames to other lists are waited for after the change
/// has reached its own list: a frame sent to them would be on its way by
/// then.
const STRAY_WINDOW: Duration = Duration::from_secs(1);

/// `clients` watchers on each of `lists` lists (`template` has `{list}`
/// where the name goes; the lists exist), held open: the server's memory
/// with them. Then one add to the first list, `rounds` times: how long
/// until its watchers all have it, how many change frames reached the
/// other lists' watchers, and how many frames the server sent in all
/// (`roster_frames_out_total`, from `/metrics` on the same host).
pub async fn lists(
    template: &str,
    lists: usize,
    clients: usize,
    rounds: usize,
    pid: u32,
) -> Result<Value, String> {
    let rss_before = stats::rss_bytes(pid)?;
    let first = url_of(template, 0);
    let mut writer = Writer::connect(&first).await?;
    let (target, mut target_arrivals) = mpsc::unbounded_channel();
    let (others, mut other_arrivals) = mpsc::unbounded_channel::<Arrival>();
    let connect = |n: usize| {
        let url = url_of(template, n);
        async move { raw::Watcher::connect(&url, Protocol::V1, true).await }
    };
    for n in 0..lists {
        let watchers = connect_many(clients, || connect(n)).await?;
        let arrivals = if n == 0 { &target } else { &others };
        for watcher in watchers {
            tokio::spawn(watcher.watch(arrivals.clone()));
        }
    }
    // Let the server finish what the connects started (presence frames,
    // at most one a second to each socket).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_with_sockets = stats::rss_bytes(pid)?;
    while other_arrivals.try_recv().is_ok() {}

    let frames_before = frames_out(&first).await?;
    let mut delivered = Vec::with_capacity(rounds);
    let mut early = std::collections::HashMap::new();
    for _ in 0..rounds {
        let sent = Instant::now();
        writer.add().await?;
        let (_, version) = writer.ack().await?;
        let times = arrivals_of(&mut target_arrivals, &mut early, version, clients).await?;
        delivered.push(
            times
                .iter()
                .max()
                .map_or(Duration::ZERO, |at| at.duration_since(sent)),
        );
    }
    tokio::time::sleep(STRAY_WINDOW).await;
    let frames_after = frames_out(&first).await?;
    let mut stray = 0;
    while other_arrivals.try_recv().is_ok() {
        stray += 1;
    }
    let sockets = lists * clients;
    Ok(json!({
        "scenario": "lists",
        "lists": lists,
        "clients_per_list": clients,
        "rounds": rounds,
        "rss_before": rss_before,
        "rss_with_sockets": rss_with_sockets,
        "bytes_per_connection": rss_with_sockets.saturating_sub(rss_before) as f64 / sockets as f64,
        "delivered_ms": stats::Summary::of(&delivered).json(),
        "other_lists_change_frames": stray,
        // Each round: one change to each watcher of the first list, and
        // the writer's ack and change.
        "frames_out": frames_after.saturating_sub(frames_before),
        "frames_out_expected": rounds * (clients + 2),
    }))
}

/// The server's `roster_frames_out_total` for v1 sockets, read from
/// `/metrics` on the host of `url`.
async fn frames_out(url: &str) -> Result<u64, String> {
    let host = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("{url}: only ws:// URLs are supported"))?;
    let mut stream = TcpStream::connect(host)
        .await
        .map_err(|err| err.to_string())?;
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|err| err.to_string())?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .await
        .map_err(|err| err.to_string())?;
    text.lines()
        .find_map(|line| line.strip_prefix(r#"roster_frames_out_total{protocol="roster.v1"} "#))
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| "no roster_frames_out_total in /metrics".to_owned())
}
