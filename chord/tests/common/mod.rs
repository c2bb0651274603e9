//! Helpers shared by the simulation tests.
#![allow(dead_code)]

use chord::sim::{seed_from_env, SeedGuard, Sim, SimConfig};
use chord::{Event, Id, OpError, OpOutcome};

/// A simulation with its seed announced (and printed again on failure).
pub fn sim(name: &'static str, default_seed: u64, tweak: impl FnOnce(&mut SimConfig)) -> (Sim, SeedGuard) {
    let seed = seed_from_env(default_seed);
    let guard = SeedGuard::new(name, seed);
    let mut cfg = SimConfig { seed, ..SimConfig::default() };
    tweak(&mut cfg);
    (Sim::new(cfg), guard)
}

/// Builds a ring of `n` nodes by successive joins through random members,
/// one every `spacing_ms`, then waits until every successor and
/// predecessor is right. Panics with the ring state otherwise.
pub fn build_ring(sim: &mut Sim, n: usize, spacing_ms: u64) {
    sim.add_node(None);
    for _ in 1..n {
        sim.run_for(spacing_ms);
        sim.add_node_via_random();
    }
    let ok = sim.run_until(600_000, 1_000, |s| s.members().len() == n && s.check_ring().is_ok());
    assert!(ok, "ring of {n} did not converge by t={} ms: {:?}", sim.now_ms(), sim.check_ring());
}

/// Waits until the successor lists are exact too.
pub fn settle_lists(sim: &mut Sim, max_ms: u64) {
    let ok = sim.run_until(max_ms, 1_000, |s| s.check_ring().is_ok() && s.check_successor_lists().is_ok());
    assert!(ok, "successor lists did not settle: {:?}", sim.check_successor_lists());
}

/// Starts lookups of `keys` from random members, runs, and returns
/// (hops, correct owner) for each finished lookup plus the failures.
pub fn lookups(sim: &mut Sim, count: usize, run_ms: u64) -> (Vec<(u8, bool)>, Vec<OpError>) {
    let members = sim.members();
    let mut ops = Vec::new();
    for _ in 0..count {
        let from = members[sim.rng().below(members.len() as u64) as usize];
        let key = random_id(sim);
        let op = sim.lookup(from, key);
        ops.push((from, key, op));
    }
    sim.run_for(run_ms);
    let order = sim.ring_order();
    let mut ok = Vec::new();
    let mut failed = Vec::new();
    for (from, key, op) in ops {
        match sim.take_result(from, op) {
            Some((hops, Ok(OpOutcome::Lookup { owner, .. }))) => {
                let want = order.owner(&key).map(|i| sim.node(i).me().id);
                ok.push((hops, Some(owner.id) == want));
            }
            Some((_, Err(e))) => failed.push(e),
            Some((_, Ok(other))) => panic!("lookup returned {other:?}"),
            None => failed.push(OpError::Timeout),
        }
    }
    (ok, failed)
}

/// A random 160-bit id from the sim's generator.
pub fn random_id(sim: &mut Sim) -> Id {
    let mut b = [0u8; 20];
    for chunk in b.chunks_mut(8) {
        let v = sim.rng().next_u64().to_be_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    Id::from_bytes(b)
}

/// Mean and 99th percentile of hop counts.
pub fn mean_p99(hops: &[u8]) -> (f64, u8) {
    let mut v: Vec<u8> = hops.to_vec();
    v.sort_unstable();
    let mean = v.iter().map(|h| f64::from(*h)).sum::<f64>() / v.len().max(1) as f64;
    let p99 = v.get((v.len() * 99 / 100).min(v.len().saturating_sub(1))).copied().unwrap_or(0);
    (mean, p99)
}

/// Runs a client op at node `idx` to completion (or panics after 30 s).
pub fn run_op(sim: &mut Sim, idx: usize, start: impl FnOnce(&mut chord::Node, u64) -> chord::OpId) -> Result<OpOutcome, OpError> {
    let op = sim.with_node(idx, start);
    for _ in 0..300 {
        if let Some((_, r)) = sim.take_result(idx, op) {
            return r;
        }
        sim.run_for(100);
    }
    panic!("op {op:?} at n{idx} never finished");
}

/// Events of a kind, for assertions.
pub fn has_event(events: &[Event], f: impl Fn(&Event) -> bool) -> bool {
    events.iter().any(f)
}
