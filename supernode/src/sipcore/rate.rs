//! Per-flow request rate limits: a token bucket for each connection and
//! each UDP source, so one peer cannot take a super-node's whole capacity.
//!
//! Implementation notes:
//! - Only new requests count (retransmissions are absorbed by their
//!   transactions before they get here); requests relayed by other
//!   super-nodes are not limited here, their edge already did it.
//! - Buckets are kept in milli-tokens so refill needs no floats. The table
//!   is bounded: when full, buckets that have refilled completely (idle
//!   peers) are dropped; if none has, an untracked source is let through and
//!   counted (failing open keeps new users working during a spoofed-source
//!   flood; the transaction limit still bounds the work).

use std::collections::HashMap;

use super::Flow;

/// Limits of the rate limiter.
#[derive(Debug, Clone, Copy)]
pub struct RateConfig {
    /// Sustained new requests per second per flow; 0 turns limiting off.
    pub per_sec: u32,
    /// Requests a flow may send at once after being idle.
    pub burst: u32,
    /// Flows tracked at most.
    pub max_tracked: usize,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    milli_tokens: u64,
    last_ms: u64,
}

/// The buckets.
#[derive(Debug)]
pub struct RateLimiter {
    cfg: RateConfig,
    buckets: HashMap<Flow, Bucket>,
    /// Requests let through because the table was full.
    pub untracked: u64,
}

impl RateLimiter {
    pub fn new(cfg: RateConfig) -> Self {
        RateLimiter { cfg, buckets: HashMap::new(), untracked: 0 }
    }

    fn capacity(&self) -> u64 {
        u64::from(self.cfg.burst.max(1)) * 1000
    }

    /// Whether `flow` may send one more request now (and takes a token).
    pub fn allow(&mut self, now_ms: u64, flow: &Flow) -> bool {
        if self.cfg.per_sec == 0 || matches!(flow, Flow::Ring(_)) {
            return true;
        }
        let (capacity, per_ms) = (self.capacity(), u64::from(self.cfg.per_sec));
        if !self.buckets.contains_key(flow) && self.buckets.len() >= self.cfg.max_tracked {
            self.evict_idle(now_ms);
            if self.buckets.len() >= self.cfg.max_tracked {
                self.untracked += 1;
                return true;
            }
        }
        let b = self.buckets.entry(flow.clone()).or_insert(Bucket { milli_tokens: capacity, last_ms: now_ms });
        // per_sec tokens per 1000 ms = per_sec milli-tokens per ms.
        let refill = now_ms.saturating_sub(b.last_ms).saturating_mul(per_ms);
        b.milli_tokens = b.milli_tokens.saturating_add(refill).min(capacity);
        b.last_ms = now_ms;
        if b.milli_tokens >= 1000 {
            b.milli_tokens -= 1000;
            true
        } else {
            false
        }
    }

    /// Drops the bucket of a flow that closed.
    pub fn forget(&mut self, flow: &Flow) {
        self.buckets.remove(flow);
    }

    fn evict_idle(&mut self, now_ms: u64) {
        let (capacity, per_ms) = (self.capacity(), u64::from(self.cfg.per_sec));
        self.buckets.retain(|_, b| b.milli_tokens.saturating_add(now_ms.saturating_sub(b.last_ms).saturating_mul(per_ms)) < capacity);
    }

    pub fn tracked(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp(port: u16) -> Flow {
        Flow::Udp(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
    }

    #[test]
    fn burst_then_sustained_rate() {
        let mut r = RateLimiter::new(RateConfig { per_sec: 10, burst: 5, max_tracked: 10 });
        let f = udp(1);
        assert_eq!((0..7).filter(|_| r.allow(0, &f)).count(), 5, "the burst");
        assert!(!r.allow(50, &f), "half a token after 50 ms");
        assert!(r.allow(100, &f), "one token per 100 ms at 10/s");
        assert!(!r.allow(100, &f));
        assert_eq!((0..100).filter(|i| r.allow(1_000 + i * 100, &f)).count(), 100, "sustained 10/s passes");
        assert!(r.allow(0, &Flow::Ring("ws://x:1".into())), "relays are not limited here");
    }

    #[test]
    fn table_is_bounded_and_idle_flows_make_room() {
        let mut r = RateLimiter::new(RateConfig { per_sec: 10, burst: 2, max_tracked: 2 });
        assert!(r.allow(0, &udp(1)) && r.allow(0, &udp(2)));
        assert!(r.allow(0, &udp(3)), "table full of busy flows: let through, untracked");
        assert_eq!((r.tracked(), r.untracked), (2, 1));
        assert!(r.allow(10_000, &udp(3)), "after idling, old buckets are evicted");
        assert_eq!(r.tracked(), 1);
        let mut off = RateLimiter::new(RateConfig { per_sec: 0, burst: 1, max_tracked: 1 });
        assert!((0..1000).all(|_| off.allow(0, &udp(1))));
    }
}
