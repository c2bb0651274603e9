//! Workloads shared by the tests and the benchmark: growing a ring by
//! successive joins and measuring lookups against the ground truth.

use crate::event::{OpError, OpOutcome};
use crate::id::Id;

use super::Sim;

/// Outcome of a batch of lookups.
#[derive(Debug, Clone, Default)]
pub struct LookupStats {
    /// Hop counts of the lookups that succeeded.
    pub hops: Vec<u8>,
    /// Successful lookups whose owner differs from the ground truth.
    pub wrong_owner: usize,
    /// Errors of the lookups that failed.
    pub failed: Vec<OpError>,
    /// Lookups with no result by the end of the run.
    pub unfinished: usize,
}

impl LookupStats {
    /// Mean hop count of the successful lookups.
    pub fn mean_hops(&self) -> f64 {
        self.hops.iter().map(|h| f64::from(*h)).sum::<f64>() / self.hops.len().max(1) as f64
    }

    /// 99th percentile hop count of the successful lookups.
    pub fn p99_hops(&self) -> u8 {
        let mut v = self.hops.clone();
        v.sort_unstable();
        v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    /// Fraction of lookups that succeeded.
    pub fn success_rate(&self) -> f64 {
        let total = self.hops.len() + self.failed.len() + self.unfinished;
        self.hops.len() as f64 / total.max(1) as f64
    }
}

impl Sim {
    /// A random 160-bit id from the run's generator.
    pub fn random_id(&mut self) -> Id {
        let mut b = [0u8; 20];
        for chunk in b.chunks_mut(8) {
            let v = self.rng.next_u64().to_be_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Id::from_bytes(b)
    }

    /// Grows the network to `n` nodes: the first creates the ring (if the
    /// network is empty), each later one joins through a random member
    /// `spacing_ms` after the previous one.
    pub fn grow_ring(&mut self, n: usize, spacing_ms: u64) {
        if self.is_empty() {
            self.add_node(None);
        }
        while self.len() < n {
            self.run_for(spacing_ms);
            self.add_node_via_random();
        }
    }

    /// Grows the network to `n` nodes at a pace proportional to its size:
    /// the next node joins `min(cap_ms, per_node_ms / size)` after the
    /// previous one, so each member sees a newcomer in its neighbourhood
    /// about every `per_node_ms`. Chord links concurrent joins into the same
    /// gap one per stabilize round, so a small ring flooded with joins
    /// converges slowly; this pace keeps the gaps short.
    pub fn grow_ring_paced(&mut self, n: usize, per_node_ms: u64, cap_ms: u64) {
        if self.is_empty() {
            self.add_node(None);
        }
        while self.len() < n {
            let size = self.len() as u64;
            self.run_for((per_node_ms / size).clamp(1, cap_ms));
            self.add_node_via_random();
        }
    }

    /// Runs until every member's successor and predecessor are right and
    /// `members` nodes are in; returns the virtual time it took.
    pub fn wait_converged(&mut self, members: usize, max_ms: u64) -> Result<u64, String> {
        let t0 = self.now_ms();
        if self.run_until(max_ms, 1_000, |s| {
            s.members().len() == members && s.check_ring().is_ok()
        }) {
            Ok(self.now_ms() - t0)
        } else {
            Err(format!(
                "not converged after {max_ms} ms: {:?}",
                self.check_ring()
            ))
        }
    }

    /// Starts `count` lookups of random keys from random members, runs for
    /// `run_ms`, and checks each result against the ground truth.
    pub fn measure_lookups(&mut self, count: usize, run_ms: u64) -> LookupStats {
        let members = self.members();
        let mut ops = Vec::with_capacity(count);
        for _ in 0..count {
            let from = members[self.rng.below(members.len() as u64) as usize];
            let key = self.random_id();
            ops.push((from, key, self.lookup(from, key)));
        }
        self.run_for(run_ms);
        let order = self.ring_order();
        let mut stats = LookupStats::default();
        for (from, key, op) in ops {
            match self.take_result(from, op) {
                Some((hops, Ok(OpOutcome::Lookup { owner, .. }))) => {
                    stats.hops.push(hops);
                    if order.owner(&key).map(|i| self.node(i).me().id) != Some(owner.id) {
                        stats.wrong_owner += 1;
                    }
                }
                Some((_, Err(e))) => stats.failed.push(e),
                Some((_, Ok(_))) | None => stats.unfinished += 1,
            }
        }
        stats
    }
}
