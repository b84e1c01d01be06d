//! The engine's settings, their defaults, and reading them from a page's
//! query string (`?ping_ms=1000&outbox_max=5`).

use crate::query::query_param;

/// Every tunable of the connection engine, in milliseconds or entries.
///
/// The defaults suit a dashboard on a real network; tests shorten them
/// through the query string, where each field has a parameter of the same
/// name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineConfig {
    /// How often an open v1 connection sends a ping. Default 25,000 (25 s:
    /// below the 30–60 s idle timeouts of common proxies).
    pub ping_ms: u64,
    /// How long after a ping some frame must arrive before the connection
    /// is declared dead (closed with 4000 and replaced). Default 10,000.
    pub pong_timeout_ms: u64,
    /// How long a socket may take to open. Default 10,000.
    pub connect_timeout_ms: u64,
    /// The first retry waits up to this long (full jitter)... Default 500.
    pub backoff_base_ms: u64,
    /// ...and no retry waits longer than this. Default 5,000: a page is
    /// back within seconds of a partition healing.
    pub backoff_cap_ms: u64,
    /// How long a connection must stay open before the attempt counter
    /// resets (a v1 snapshot resets it at once). Default 5,000.
    pub healthy_after_ms: u64,
    /// How many adds may wait to be done at once. Default 100.
    pub outbox_max: usize,
    /// How long an add may wait for a connection before it is dropped
    /// with an error. An add already handed to a v1 server is kept until
    /// acknowledged instead, since the server may have done it. Default
    /// 60,000.
    pub outbox_ttl_ms: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            ping_ms: 25_000,
            pong_timeout_ms: 10_000,
            connect_timeout_ms: 10_000,
            backoff_base_ms: 500,
            backoff_cap_ms: 5_000,
            healthy_after_ms: 5_000,
            outbox_max: 100,
            outbox_ttl_ms: 60_000,
        }
    }
}

/// Every query parameter [`EngineConfig::from_query`] reads, with its
/// default, in the order the README lists them.
pub const QUERY_PARAMETERS: [&str; 8] = [
    "ping_ms",
    "pong_timeout_ms",
    "connect_timeout_ms",
    "backoff_base_ms",
    "backoff_cap_ms",
    "healthy_after_ms",
    "outbox_max",
    "outbox_ttl_ms",
];

impl EngineConfig {
    /// The defaults, overridden by any of [`QUERY_PARAMETERS`] in `search`.
    /// A value that is not a whole number (or is 0 where 0 makes no sense)
    /// is ignored and described in the returned problems, so the page can
    /// say so instead of silently running with something else.
    pub fn from_query(search: &str) -> (Self, Vec<String>) {
        Self::from_lookup(|name| query_param(search, name))
    }

    /// The settings `get` gives by name (see [`crate::settings`] for where
    /// a page looks), over the defaults, and what was ignored and why.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> (Self, Vec<String>) {
        let mut config = Self::default();
        let mut problems = Vec::new();
        for name in QUERY_PARAMETERS {
            let Some(text) = get(name) else {
                continue;
            };
            let parsed = text.trim().parse::<u64>().ok().filter(|n| *n > 0);
            let Some(value) = parsed else {
                problems.push(format!(
                    "ignored {name}={text:?}: expected a whole number above 0"
                ));
                continue;
            };
            let field = match name {
                "ping_ms" => &mut config.ping_ms,
                "pong_timeout_ms" => &mut config.pong_timeout_ms,
                "connect_timeout_ms" => &mut config.connect_timeout_ms,
                "backoff_base_ms" => &mut config.backoff_base_ms,
                "backoff_cap_ms" => &mut config.backoff_cap_ms,
                "healthy_after_ms" => &mut config.healthy_after_ms,
                "outbox_ttl_ms" => &mut config.outbox_ttl_ms,
                _ => {
                    config.outbox_max = usize::try_from(value).unwrap_or(usize::MAX);
                    continue;
                }
            };
            *field = value;
        }
        if config.backoff_cap_ms < config.backoff_base_ms {
            problems.push(format!(
                "backoff_cap_ms ({}) is below backoff_base_ms ({}); using {} for both",
                config.backoff_cap_ms, config.backoff_base_ms, config.backoff_cap_ms
            ));
            config.backoff_base_ms = config.backoff_cap_ms;
        }
        (config, problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameters_give_the_documented_defaults() {
        let (config, problems) = EngineConfig::from_query("?server=ws://x");
        assert_eq!(config, EngineConfig::default());
        assert!(problems.is_empty());
        assert_eq!(
            (
                config.ping_ms,
                config.pong_timeout_ms,
                config.connect_timeout_ms
            ),
            (25_000, 10_000, 10_000)
        );
        assert_eq!(
            (
                config.backoff_base_ms,
                config.backoff_cap_ms,
                config.healthy_after_ms
            ),
            (500, 5_000, 5_000)
        );
        assert_eq!((config.outbox_max, config.outbox_ttl_ms), (100, 60_000));
    }

    #[test]
    fn every_parameter_is_read() {
        let search = "?ping_ms=1&pong_timeout_ms=2&connect_timeout_ms=3&backoff_base_ms=4\
                      &backoff_cap_ms=5&healthy_after_ms=6&outbox_max=7&outbox_ttl_ms=8";
        let (config, problems) = EngineConfig::from_query(search);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            config,
            EngineConfig {
                ping_ms: 1,
                pong_timeout_ms: 2,
                connect_timeout_ms: 3,
                backoff_base_ms: 4,
                backoff_cap_ms: 5,
                healthy_after_ms: 6,
                outbox_max: 7,
                outbox_ttl_ms: 8,
            }
        );
    }

    #[test]
    fn bad_values_are_ignored_and_reported() {
        let (config, problems) =
            EngineConfig::from_query("?ping_ms=soon&outbox_max=0&pong_timeout_ms=-1");
        assert_eq!(config, EngineConfig::default());
        assert_eq!(problems.len(), 3);
        assert!(problems[0].contains("ping_ms=\"soon\""), "{problems:?}");
    }

    #[test]
    fn a_cap_below_the_base_wins() {
        let (config, problems) = EngineConfig::from_query("?backoff_cap_ms=100");
        assert_eq!((config.backoff_base_ms, config.backoff_cap_ms), (100, 100));
        assert_eq!(problems.len(), 1);
    }
}
