//! Counters for `GET /metrics`, with `prometheus-client` (OpenMetrics
//! text).
//!
//! Every series is registered once, when [`Metrics`] is made, and its
//! handle is kept here, so the hot path (a frame in or out) is one relaxed
//! atomic add, with no label lookup.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::time::Duration;

use strum::IntoEnumIterator;

use roster_protocol::v1::ErrorCode;

use crate::auth;
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Refusal {
    Origin,
    Capacity,
    SlowConsumer,
    FrameTooLarge,
}

/// Upper bounds of the store latency histogram, in seconds.
const LATENCY_BUCKETS: [f64; 11] = [
    0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByProtocol {
    protocol: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByReason {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByCode {
    code: String,
}

/// One series per protocol, registered as `name` (counters get `_total`).
fn per_protocol<M>(registry: &mut Registry, name: &str, help: &str) -> [M; 2]
where
    M: prometheus_client::metrics::TypedMetric
        + prometheus_client::encoding::EncodeMetric
        + Default
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let family = Family::<ByProtocol, M>::default();
    registry.register(name, help, family.clone());
    Protocol::ALL.map(|protocol| {
        family
            .get_or_create(&ByProtocol {
                protocol: protocol.as_str(),
            })
            .clone()
    })
}

pub struct Metrics {
    registry: Registry,
    users: Gauge,
    version: Gauge,
    connections: [Gauge; 2],
    connections_total: [Counter; 2],
    frames_in: [Counter; 2],
    frames_out: [Counter; 2],
    refusals: HashMap<Refusal, Counter>,
    /// One per `auth::Refusal` reason, by its name.
    auth_failures: HashMap<&'static str, Counter>,
    adds: Counter,
    removes: Counter,
    replays: Counter,
    /// One per known `ErrorCode`; any other counts as `other`.
    errors: HashMap<ErrorCode, Counter>,
    errors_other: Counter,
    store_commit: Histogram,
    /// 1 while the store answers for every list in memory; 0 while the
    /// shared store (Redis, or one shard of a cluster) cannot be reached
    /// for one of them.
    store_up: Gauge,
    /// Lists in memory whose change feed finds their store down.
    lists_store_down: Gauge,
    lists: Gauge,
    lists_loaded: Gauge,
    lists_evicted: Counter,
    lists_created: Counter,
    lists_deleted: Counter,
    /// 1 when the shared store may lose acknowledged changes (allowed with
    /// `--redis-allow-unsafe-durability`).
    unsafe_durability: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let counter = Counter::default();
            registry.register(name, help, counter.clone());
            counter
        };
        let users = gauge(&mut registry, "roster_users", "Users in the list `default`");
        let version = gauge(
            &mut registry,
            "roster_list_version",
            "Version of the list `default` (changes so far)",
        );
        // No list's name is ever a label: a label per list would be a
        // series per list (thousands). Per-list figures are in
        // `GET /api/v1/lists`.
        let lists = gauge(&mut registry, "roster_lists", "Lists that exist");
        let lists_loaded = gauge(&mut registry, "roster_lists_loaded", "Lists held in memory");
        let lists_evicted = counter(
            &mut registry,
            "roster_lists_evicted",
            "Lists dropped from memory after their last user left",
        );
        let lists_created = counter(&mut registry, "roster_lists_created", "Lists created");
        let lists_deleted = counter(&mut registry, "roster_lists_deleted", "Lists deleted");
        let lists_store_down = gauge(
            &mut registry,
            "roster_lists_store_down",
            "Lists in memory whose store cannot be reached",
        );
        let connections = per_protocol(
            &mut registry,
            "roster_connections",
            "Open WebSocket connections",
        );
        // `roster_connections_accepted_total`: a counter family may not
        // share the gauge's name (OpenMetrics adds `_total` to the sample).
        let connections_total = per_protocol(
            &mut registry,
            "roster_connections_accepted",
            "WebSocket connections accepted",
        );
        let frames_in = per_protocol(
            &mut registry,
            "roster_frames_in",
            "WebSocket frames received",
        );
        let frames_out = per_protocol(&mut registry, "roster_frames_out", "WebSocket frames sent");
        let refusal_family = Family::<ByReason, Counter>::default();
        registry.register(
            "roster_refusals",
            "Connections refused or closed by a limit",
            refusal_family.clone(),
        );
        let refusals = Refusal::iter()
            .map(|why| {
                let reason = why.into();
                (
                    why,
                    refusal_family.get_or_create(&ByReason { reason }).clone(),
                )
            })
            .collect();
        let auth_family = Family::<ByReason, Counter>::default();
        registry.register(
            "roster_auth_failures",
            "Clients refused by the access rules (no valid token, no scope, foreign origin)",
            auth_family.clone(),
        );
        let auth_failures = auth::Refusal::iter()
            .map(|why| {
                let reason = why.reason();
                (
                    reason,
                    auth_family.get_or_create(&ByReason { reason }).clone(),
                )
            })
            .collect();
        let adds = counter(&mut registry, "roster_adds", "Users added");
        let removes = counter(&mut registry, "roster_removes", "Users removed");
        let replays = counter(
            &mut registry,
            "roster_replays",
            "Retried requests answered from the idempotency record",
        );
        let error_family = Family::<ByCode, Counter>::default();
        registry.register(
            "roster_errors",
            "Errors reported to clients, by code",
            error_family.clone(),
        );
        let by_code = |code: String| error_family.get_or_create(&ByCode { code }).clone();
        let errors = ErrorCode::known()
            .map(|code| {
                let counter = by_code(code.to_string());
                (code, counter)
            })
            .collect();
        let errors_other = by_code("other".into());
        let store_commit = Histogram::new(LATENCY_BUCKETS);
        registry.register(
            "roster_store_commit_seconds",
            "Time to commit one change durably",
            store_commit.clone(),
        );
        let store_up = gauge(
            &mut registry,
            "roster_store_up",
            "1 while the store answers (0 during a Redis outage)",
        );
        store_up.set(1);
        let unsafe_durability = gauge(
            &mut registry,
            "roster_store_unsafe_durability",
            "1 when Redis may lose acknowledged changes (not appendfsync always)",
        );
        Self {
            registry,
            users,
            version,
            connections,
            connections_total,
            frames_in,
            frames_out,
            refusals,
            auth_failures,
            adds,
            removes,
            replays,
            errors,
            errors_other,
            store_commit,
            store_up,
            lists_store_down,
            lists,
            lists_loaded,
            lists_evicted,
            lists_created,
            lists_deleted,
            unsafe_durability,
        }
    }
}

/// Counts one open connection until dropped.
pub struct ConnectionGauge<'a> {
    metrics: &'a Metrics,
    protocol: Protocol,
}

impl Drop for ConnectionGauge<'_> {
    fn drop(&mut self) {
        self.metrics.connections[self.protocol.index()].dec();
    }
}

impl Metrics {
    pub fn connection_opened(&self, protocol: Protocol) -> ConnectionGauge<'_> {
        self.connections[protocol.index()].inc();
        self.connections_total[protocol.index()].inc();
        ConnectionGauge {
            metrics: self,
            protocol,
        }
    }

    pub fn open_connections(&self) -> u64 {
        self.connections.iter().map(|c| c.get().max(0) as u64).sum()
    }

    pub fn frame_in(&self, protocol: Protocol) {
        self.frames_in[protocol.index()].inc();
    }

    pub fn frame_out(&self, protocol: Protocol) {
        self.frames_out[protocol.index()].inc();
    }

    pub fn refused(&self, why: Refusal) {
        if let Some(counter) = self.refusals.get(&why) {
            counter.inc();
        }
    }

    /// A client refused by the access rules, for `refusal`'s reason.
    pub fn auth_failed(&self, refusal: &auth::Refusal) {
        if let Some(counter) = self.auth_failures.get(refusal.reason()) {
            counter.inc();
        }
    }

    pub fn added(&self) {
        self.adds.inc();
    }

    pub fn removed(&self) {
        self.removes.inc();
    }

    pub fn replayed(&self) {
        self.replays.inc();
    }

    pub fn error(&self, code: &ErrorCode) {
        match self.errors.get(code) {
            Some(counter) => counter.inc(),
            None => self.errors_other.inc(),
        };
    }

    pub fn store_latency(&self, took: Duration) {
        self.store_commit.observe(took.as_secs_f64());
    }

    /// One list's store stopped (`false`) or started (`true`) answering,
    /// as its change feed found; `roster_store_up` is 1 while none is
    /// down.
    pub fn list_store_up(&self, up: bool) {
        let down = if up {
            self.lists_store_down.dec() - 1
        } else {
            self.lists_store_down.inc() + 1
        };
        self.store_up.set(i64::from(down <= 0));
    }

    pub fn list_loaded(&self) {
        self.lists_loaded.inc();
    }

    pub fn list_unloaded(&self, evicted: bool) {
        self.lists_loaded.dec();
        if evicted {
            self.lists_evicted.inc();
        }
    }

    pub fn list_created(&self) {
        self.lists_created.inc();
    }

    pub fn list_deleted(&self) {
        self.lists_deleted.inc();
    }

    /// Lists held in memory now.
    pub fn loaded_lists(&self) -> u64 {
        self.lists_loaded.get().max(0) as u64
    }

    pub fn set_unsafe_durability(&self) {
        self.unsafe_durability.set(1);
    }

    /// The text `GET /metrics` returns (OpenMetrics); `users` and
    /// `version` (the list `default`'s) and `lists` (how many exist, when
    /// the store said) are read by the caller.
    pub fn render(&self, users: usize, version: u64, lists: Option<u64>) -> String {
        self.users.set(i64::try_from(users).unwrap_or(i64::MAX));
        self.version.set(i64::try_from(version).unwrap_or(i64::MAX));
        if let Some(lists) = lists {
            self.lists.set(i64::try_from(lists).unwrap_or(i64::MAX));
        }
        let mut text = String::with_capacity(4096);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
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
            .render(0, 0, None)
            .contains("roster_connections_accepted_total{protocol=\"roster.v1\"} 1"));
    }

    #[test]
    fn the_text_is_openmetrics_with_one_family_per_name() {
        let text = Metrics::default().render(3, 7, Some(2));
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("roster_users 3\n"));
        assert!(text.contains("roster_list_version 7\n"));
        assert!(text.contains("roster_store_up 1\n"));
        assert!(text.contains("roster_lists 2\n"));
        let mut families: Vec<&str> = text
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .map(|line| line.split(' ').next().unwrap())
            .collect();
        let count = families.len();
        families.dedup();
        assert_eq!(families.len(), count, "a family name twice: {text}");
    }

    #[test]
    fn the_store_counts_as_up_while_no_list_finds_it_down() {
        let metrics = Metrics::default();
        metrics.list_store_up(false);
        metrics.list_store_up(false);
        assert!(metrics.render(0, 0, None).contains("roster_store_up 0\n"));
        metrics.list_store_up(true);
        assert!(metrics.render(0, 0, None).contains("roster_store_up 0\n"));
        metrics.list_store_up(true);
        assert!(metrics.render(0, 0, None).contains("roster_store_up 1\n"));
    }

    #[test]
    fn latency_lands_in_every_bucket_at_or_above_it() {
        let metrics = Metrics::default();
        metrics.store_latency(Duration::from_millis(3));
        let text = metrics.render(0, 0, None);
        assert!(text.contains("roster_store_commit_seconds_bucket{le=\"0.0025\"} 0"));
        assert!(text.contains("roster_store_commit_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("roster_store_commit_seconds_bucket{le=\"+Inf\"} 1"));
    }

    #[test]
    fn errors_are_counted_by_code() {
        let metrics = Metrics::default();
        metrics.error(&ErrorCode::RateLimited);
        metrics.error(&ErrorCode::Other("x".into()));
        let text = metrics.render(0, 0, None);
        assert!(text.contains("roster_errors_total{code=\"rate_limited\"} 1"));
        assert!(text.contains("roster_errors_total{code=\"other\"} 1"));
    }
}
