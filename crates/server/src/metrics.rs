//! Counters for `GET /metrics`, in Prometheus' text format.
//!
//! Plain atomics, written without a metrics crate: a handful of fixed series
//! that cost one relaxed add each on the hot path.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use roster_protocol::v1::ErrorCode;

/// Which protocol a WebSocket connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Seed,
    V1,
}

impl Protocol {
    pub const ALL: [Protocol; 2] = [Protocol::Seed, Protocol::V1];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::V1 => "roster.v1",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Why a connection was refused or dropped by a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Origin,
    Capacity,
    SlowConsumer,
    FrameTooLarge,
}

impl Refusal {
    const ALL: [Refusal; 4] = [
        Refusal::Origin,
        Refusal::Capacity,
        Refusal::SlowConsumer,
        Refusal::FrameTooLarge,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Origin => "origin",
            Self::Capacity => "capacity",
            Self::SlowConsumer => "slow_consumer",
            Self::FrameTooLarge => "frame_too_large",
        }
    }
}

/// Upper bounds of the store latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Default)]
pub struct Metrics {
    connections: [AtomicU64; 2],
    connections_total: [AtomicU64; 2],
    frames_in: [AtomicU64; 2],
    frames_out: [AtomicU64; 2],
    refusals: [AtomicU64; 4],
    adds: AtomicU64,
    removes: AtomicU64,
    replays: AtomicU64,
    errors: [AtomicU64; ErrorCode::KNOWN.len()],
    errors_other: AtomicU64,
    store_buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    store_count: AtomicU64,
    store_micros: AtomicU64,
    /// 1 while the shared store (Redis) cannot be reached.
    store_down: AtomicU64,
    /// 1 when the shared store may lose acknowledged changes (allowed with
    /// `--redis-allow-unsafe-durability`).
    unsafe_durability: AtomicU64,
}

/// Counts one open connection until dropped.
pub struct ConnectionGauge<'a> {
    metrics: &'a Metrics,
    protocol: Protocol,
}

impl Drop for ConnectionGauge<'_> {
    fn drop(&mut self) {
        self.metrics.connections[self.protocol.index()].fetch_sub(1, Relaxed);
    }
}

impl Metrics {
    pub fn connection_opened(&self, protocol: Protocol) -> ConnectionGauge<'_> {
        self.connections[protocol.index()].fetch_add(1, Relaxed);
        self.connections_total[protocol.index()].fetch_add(1, Relaxed);
        ConnectionGauge {
            metrics: self,
            protocol,
        }
    }

    pub fn open_connections(&self) -> u64 {
        self.connections.iter().map(|c| c.load(Relaxed)).sum()
    }

    pub fn frame_in(&self, protocol: Protocol) {
        self.frames_in[protocol.index()].fetch_add(1, Relaxed);
    }

    pub fn frame_out(&self, protocol: Protocol) {
        self.frames_out[protocol.index()].fetch_add(1, Relaxed);
    }

    pub fn refused(&self, why: Refusal) {
        self.refusals[why as usize].fetch_add(1, Relaxed);
    }

    pub fn added(&self) {
        self.adds.fetch_add(1, Relaxed);
    }

    pub fn removed(&self) {
        self.removes.fetch_add(1, Relaxed);
    }

    pub fn replayed(&self) {
        self.replays.fetch_add(1, Relaxed);
    }

    pub fn error(&self, code: &ErrorCode) {
        match ErrorCode::KNOWN.iter().position(|known| known == code) {
            Some(index) => self.errors[index].fetch_add(1, Relaxed),
            None => self.errors_other.fetch_add(1, Relaxed),
        };
    }

    pub fn store_latency(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.store_buckets.iter().zip(LATENCY_BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.store_count.fetch_add(1, Relaxed);
        self.store_micros
            .fetch_add(took.as_micros() as u64, Relaxed);
    }

    /// Whether the shared store answers, as the change feed and writes
    /// last found; returns whether that changed.
    pub fn store_up(&self, up: bool) -> bool {
        self.store_down.swap(u64::from(!up), Relaxed) != u64::from(!up)
    }

    pub fn is_store_up(&self) -> bool {
        self.store_down.load(Relaxed) == 0
    }

    pub fn set_unsafe_durability(&self) {
        self.unsafe_durability.store(1, Relaxed);
    }

    /// The text `GET /metrics` returns; `users` and `version` are read by
    /// the caller from the roster.
    pub fn render(&self, users: usize, version: u64) -> String {
        let mut text = String::with_capacity(4096);
        let section = |text: &mut String, name: &str, kind: &str, help: &str| {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        };
        section(&mut text, "roster_users", "gauge", "Users in the list.");
        let _ = writeln!(text, "roster_users {users}");
        section(
            &mut text,
            "roster_list_version",
            "gauge",
            "Version of the list (changes so far).",
        );
        let _ = writeln!(text, "roster_list_version {version}");
        let per_protocol = [
            (
                "roster_connections",
                "gauge",
                "Open WebSocket connections.",
                &self.connections,
            ),
            (
                "roster_connections_total",
                "counter",
                "WebSocket connections accepted.",
                &self.connections_total,
            ),
            (
                "roster_frames_in_total",
                "counter",
                "WebSocket frames received.",
                &self.frames_in,
            ),
            (
                "roster_frames_out_total",
                "counter",
                "WebSocket frames sent.",
                &self.frames_out,
            ),
        ];
        for (name, kind, help, values) in per_protocol {
            section(&mut text, name, kind, help);
            for protocol in Protocol::ALL {
                let value = values[protocol.index()].load(Relaxed);
                let _ = writeln!(text, "{name}{{protocol=\"{}\"}} {value}", protocol.as_str());
            }
        }
        section(
            &mut text,
            "roster_refusals_total",
            "counter",
            "Connections refused or closed by a limit.",
        );
        for why in Refusal::ALL {
            let value = self.refusals[why as usize].load(Relaxed);
            let _ = writeln!(
                text,
                "roster_refusals_total{{reason=\"{}\"}} {value}",
                why.as_str()
            );
        }
        let totals = [
            ("roster_adds_total", "Users added.", &self.adds),
            ("roster_removes_total", "Users removed.", &self.removes),
            (
                "roster_replays_total",
                "Retried requests answered from the idempotency record.",
                &self.replays,
            ),
        ];
        for (name, help, value) in totals {
            section(&mut text, name, "counter", help);
            let _ = writeln!(text, "{name} {}", value.load(Relaxed));
        }
        section(
            &mut text,
            "roster_errors_total",
            "counter",
            "Errors reported to clients, by code.",
        );
        for (code, value) in ErrorCode::KNOWN.iter().zip(&self.errors) {
            let _ = writeln!(
                text,
                "roster_errors_total{{code=\"{code}\"}} {}",
                value.load(Relaxed)
            );
        }
        let _ = writeln!(
            text,
            "roster_errors_total{{code=\"other\"}} {}",
            self.errors_other.load(Relaxed)
        );
        section(
            &mut text,
            "roster_store_commit_seconds",
            "histogram",
            "Time to commit one change durably.",
        );
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.store_buckets) {
            let _ = writeln!(
                text,
                "roster_store_commit_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.store_count.load(Relaxed);
        let _ = writeln!(
            text,
            "roster_store_commit_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.store_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(text, "roster_store_commit_seconds_sum {sum}");
        let _ = writeln!(text, "roster_store_commit_seconds_count {count}");
        section(
            &mut text,
            "roster_store_up",
            "gauge",
            "1 while the store answers (0 during a Redis outage).",
        );
        let _ = writeln!(
            text,
            "roster_store_up {}",
            1 - self.store_down.load(Relaxed)
        );
        section(
            &mut text,
            "roster_store_unsafe_durability",
            "gauge",
            "1 when Redis may lose acknowledged changes (not appendfsync always).",
        );
        let _ = writeln!(
            text,
            "roster_store_unsafe_durability {}",
            self.unsafe_durability.load(Relaxed)
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_follow_open_connections() {
        let metrics = Metrics::default();
        let gauge = metrics.connection_opened(Protocol::V1);
        assert_eq!(metrics.open_connections(), 1);
        drop(gauge);
        assert_eq!(metrics.open_connections(), 0);
        assert!(metrics
            .render(0, 0)
            .contains("roster_connections_total{protocol=\"roster.v1\"} 1"));
    }

    #[test]
    fn latency_lands_in_every_bucket_at_or_above_it() {
        let metrics = Metrics::default();
        metrics.store_latency(Duration::from_millis(3));
        let text = metrics.render(0, 0);
        assert!(text.contains("roster_store_commit_seconds_bucket{le=\"0.0025\"} 0"));
        assert!(text.contains("roster_store_commit_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("roster_store_commit_seconds_bucket{le=\"+Inf\"} 1"));
    }

    #[test]
    fn errors_are_counted_by_code() {
        let metrics = Metrics::default();
        metrics.error(&ErrorCode::RateLimited);
        metrics.error(&ErrorCode::Other("x".into()));
        let text = metrics.render(0, 0);
        assert!(text.contains("roster_errors_total{code=\"rate_limited\"} 1"));
        assert!(text.contains("roster_errors_total{code=\"other\"} 1"));
    }
}
