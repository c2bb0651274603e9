//! The host cache of super-nodes and the reconnect schedule, sans-IO.
//!
//! Hosts are HTTP base URLs (`http://127.0.0.1:8081`); the SIP WebSocket
//! of each is `ws://<host>/sip` (`wss` under `https`). The cache holds the
//! page's configured hosts, the ones saved from earlier visits and the ones
//! a super-node reports at `/api/hosts`, without duplicates and at most
//! [`MAX_HOSTS`]. After a drop the next host is tried at once, then with
//! exponential backoff; a connection that lived long enough resets it.

use crate::ua::Rng;

/// Most hosts kept (the configured ones always fit first).
pub const MAX_HOSTS: usize = 16;
/// First backoff step after the immediate retry.
const BACKOFF_BASE_MS: u64 = 250;
/// Longest wait between attempts.
const BACKOFF_MAX_MS: u64 = 8_000;
/// A connection open this long counts as healthy: the next drop starts the
/// backoff afresh.
const HEALTHY_AFTER_MS: u64 = 10_000;

/// One connection attempt to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The host's HTTP base URL.
    pub host: String,
    /// Its SIP WebSocket URL.
    pub ws_url: String,
    /// How long to wait before connecting.
    pub delay_ms: u64,
}

/// See the module doc.
#[derive(Clone, Debug, Default)]
pub struct HostCache {
    hosts: Vec<String>,
    /// Index of the host of the last attempt.
    current: Option<usize>,
    /// Failed or dropped attempts since the last healthy connection.
    failures: u32,
    opened_at_ms: Option<u64>,
}

/// `http(s)://host[:port]` from what a page or a super-node gives: an HTTP
/// or WebSocket URL, with or without a path. `None` for anything else.
pub fn normalize(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "http",
        "https" | "wss" => "https",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let valid = !authority.is_empty()
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b));
    valid.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// The SIP WebSocket URL of a normalised host.
pub fn ws_url(host: &str) -> String {
    match host.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}/sip"),
        None => format!("ws://{}/sip", host.strip_prefix("http://").unwrap_or(host)),
    }
}

impl HostCache {
    /// The configured hosts first, then the saved ones.
    pub fn new<'a>(configured: impl IntoIterator<Item = &'a str>, saved: impl IntoIterator<Item = &'a str>) -> HostCache {
        let mut cache = HostCache::default();
        cache.add(configured);
        cache.add(saved);
        cache
    }

    /// Adds hosts (a super-node's report); says whether any was new.
    pub fn add<'a>(&mut self, hosts: impl IntoIterator<Item = &'a str>) -> bool {
        let before = self.hosts.len();
        for host in hosts.into_iter().filter_map(normalize) {
            if self.hosts.len() < MAX_HOSTS && !self.hosts.contains(&host) {
                self.hosts.push(host);
            }
        }
        self.hosts.len() != before
    }

    /// Every host, in the order they are tried.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// The host of the last attempt.
    pub fn current(&self) -> Option<&str> {
        self.current.and_then(|i| self.hosts.get(i)).map(String::as_str)
    }

    /// The first attempt: the first host, now.
    pub fn first(&mut self) -> Option<Attempt> {
        self.current = None;
        self.failures = 0;
        self.advance(0)
    }

    /// The connection of the last attempt opened.
    pub fn handle_open(&mut self, now_ms: u64) {
        self.opened_at_ms = Some(now_ms);
    }

    /// The last attempt failed or its connection dropped: the next host,
    /// after the backoff.
    pub fn handle_close(&mut self, now_ms: u64, rng: &mut Rng) -> Option<Attempt> {
        let healthy = self.opened_at_ms.take().is_some_and(|at| now_ms.saturating_sub(at) >= HEALTHY_AFTER_MS);
        if healthy {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        // The first retry after a drop goes straight to another host.
        let delay_ms = match self.failures {
            0 | 1 => 0,
            n => {
                let step = BACKOFF_BASE_MS.saturating_mul(1 << (n - 2).min(16)).min(BACKOFF_MAX_MS);
                // Up to a quarter of jitter so tabs dropped together spread out.
                step + rng.below(step / 4 + 1)
            }
        };
        self.advance(delay_ms)
    }

    fn advance(&mut self, delay_ms: u64) -> Option<Attempt> {
        if self.hosts.is_empty() {
            return None;
        }
        let next = self.current.map_or(0, |i| (i + 1) % self.hosts.len());
        self.current = Some(next);
        let host = self.hosts[next].clone();
        Some(Attempt { ws_url: ws_url(&host), host, delay_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_urls() {
        assert_eq!(normalize("http://127.0.0.1:8081/"), Some("http://127.0.0.1:8081".into()));
        assert_eq!(normalize("WS://Node.Example:80/sip"), Some("http://node.example:80".into()));
        assert_eq!(normalize("wss://n.example"), Some("https://n.example".into()));
        assert_eq!(normalize("ftp://x"), None);
        assert_eq!(normalize("http://"), None);
        assert_eq!(normalize("http://a b"), None);
        assert_eq!(ws_url("http://127.0.0.1:8081"), "ws://127.0.0.1:8081/sip");
        assert_eq!(ws_url("https://n.example"), "wss://n.example/sip");
    }

    #[test]
    fn dedupes_and_bounds() {
        let mut cache = HostCache::new(["http://a:1", "http://a:1/"], ["http://b:2"]);
        assert_eq!(cache.hosts(), ["http://a:1", "http://b:2"]);
        assert!(!cache.add(["http://b:2/x"]));
        let many: Vec<String> = (0..40).map(|i| format!("http://h{i}:1")).collect();
        assert!(cache.add(many.iter().map(String::as_str)));
        assert_eq!(cache.hosts().len(), MAX_HOSTS);
    }

    #[test]
    fn fails_over_with_backoff() {
        let mut rng = Rng::new(1);
        let mut cache = HostCache::new(["http://a:1", "http://b:2"], []);
        let first = cache.first().expect("hosts");
        assert_eq!((first.host.as_str(), first.delay_ms), ("http://a:1", 0));
        cache.handle_open(1_000);
        // A drop goes to the next host at once ...
        let next = cache.handle_close(60_000, &mut rng).expect("hosts");
        assert_eq!((next.ws_url.as_str(), next.delay_ms), ("ws://b:2/sip", 0));
        // ... then backs off, growing, capped, around the ring of hosts.
        let delays: Vec<u64> = (0..8).map(|_| cache.handle_close(60_000, &mut rng).expect("hosts").delay_ms).collect();
        assert!((250..=312).contains(&delays[0]), "{delays:?}");
        assert!((500..=625).contains(&delays[1]), "{delays:?}");
        assert!(delays.iter().all(|&d| d <= BACKOFF_MAX_MS + BACKOFF_MAX_MS / 4));
        assert_eq!(cache.current(), Some("http://b:2"));
        // A healthy connection resets the schedule.
        cache.handle_open(100_000);
        assert_eq!(cache.handle_close(100_000 + HEALTHY_AFTER_MS, &mut rng).map(|a| a.delay_ms), Some(0));
        assert_eq!(HostCache::default().first(), None);
    }
}
