//! The pure parts of the server's limits: which origins may open a socket,
//! and the per-connection write rate. Time is passed in, so both are tested
//! without a clock.

use std::time::{Duration, Instant};

/// A token bucket: `burst` tokens to start, refilled at `rate` per second.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: rate.max(0.0),
            burst,
            tokens: burst,
            refilled_at: now,
        }
    }

    /// Takes one token if there is one.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled_at);
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        self.refilled_at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until the next token, for the error message.
    pub fn wait(&self) -> Duration {
        if self.tokens >= 1.0 || self.rate == 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((1.0 - self.tokens) / self.rate)
    }
}

/// Whether a WebSocket upgrade with this `Origin` may proceed.
///
/// - No `Origin`: allowed. Browsers always send one on WebSocket requests;
///   other programs (the seed's Flutter client, CLIs) usually do not, and
///   the check exists to stop other *web pages* from using a visitor's
///   browser as a client.
/// - The server's own origin (its `Host`), and `localhost`, `127.0.0.1` or
///   `[::1]` on any port: allowed.
/// - Any origin in `extra` (exact match, without a trailing slash), or
///   anything when `extra` holds `*`: allowed.
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, extra: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if extra
        .iter()
        .any(|allowed| allowed == "*" || allowed.trim_end_matches('/') == origin)
    {
        return true;
    }
    let Some(authority) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false; // "null", file:, extensions…
    };
    if host.is_some_and(|host| host.eq_ignore_ascii_case(authority)) {
        return true;
    }
    let hostname = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    matches!(
        hostname.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(2.0, 3, start);
        assert!((0..3).all(|_| bucket.try_take(start)));
        assert!(!bucket.try_take(start));
        assert_eq!(bucket.wait(), Duration::from_millis(500));
        assert!(!bucket.try_take(start + Duration::from_millis(400)));
        assert!(bucket.try_take(start + Duration::from_millis(500)));
    }

    #[test]
    fn a_bucket_never_holds_more_than_its_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(100.0, 2, start);
        let later = start + Duration::from_secs(60);
        assert!(bucket.try_take(later) && bucket.try_take(later));
        assert!(!bucket.try_take(later));
    }

    #[test]
    fn origins_without_a_header_same_host_or_loopback_are_allowed() {
        let host = Some("roster.example.com:8080");
        for origin in [
            None,
            Some("http://roster.example.com:8080"),
            Some("https://roster.example.com:8080/"),
            Some("http://localhost:3000"),
            Some("http://127.0.0.1:9"),
            Some("http://[::1]:8080"),
            Some("http://LOCALHOST"),
        ] {
            assert!(origin_allowed(origin, host, &[]), "{origin:?}");
        }
    }

    #[test]
    fn foreign_and_opaque_origins_are_refused_unless_listed() {
        let host = Some("127.0.0.1:8080");
        for origin in [
            "http://evil.example",
            "null",
            "file://",
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
        ] {
            assert!(!origin_allowed(Some(origin), host, &[]), "{origin}");
        }
        let listed = vec!["https://dash.example.com".to_owned()];
        assert!(origin_allowed(
            Some("https://dash.example.com"),
            host,
            &listed
        ));
        assert!(origin_allowed(
            Some("http://anything"),
            host,
            &["*".to_owned()]
        ));
    }
}
