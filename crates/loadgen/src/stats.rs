//! Quantiles of measured times, and a process's resident memory.

use std::time::Duration;

use serde_json::{json, Value};

/// The median, 99th percentile and maximum of some durations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub count: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    /// Nearest-rank quantiles; all zero for no samples.
    pub fn of(samples: &[Duration]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let pick = |q: f64| {
            if sorted.is_empty() {
                return Duration::ZERO;
            }
            let rank = (q * sorted.len() as f64).ceil() as usize;
            sorted[rank.clamp(1, sorted.len()) - 1]
        };
        Self {
            count: sorted.len(),
            p50: pick(0.5),
            p99: pick(0.99),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }

    /// In milliseconds, for the report.
    pub fn json(&self) -> Value {
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1e3;
        json!({ "count": self.count, "p50": ms(self.p50), "p99": ms(self.p99), "max": ms(self.max) })
    }
}

/// The resident set size of process `pid`, from `/proc/<pid>/status`.
pub fn rss_bytes(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|err| format!("process {pid}: {err}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| format!("no VmRSS for process {pid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let summary = Summary::of(&samples);
        assert_eq!(summary.p50, Duration::from_millis(50));
        assert_eq!(summary.p99, Duration::from_millis(99));
        assert_eq!(summary.max, Duration::from_millis(100));
        assert_eq!(Summary::of(&[]).max, Duration::ZERO);
    }

    #[test]
    fn this_process_has_a_resident_size() {
        assert!(rss_bytes(std::process::id()).unwrap() > 1024 * 1024);
    }
}
