//! Helpers shared by the simulation tests.
#![allow(dead_code)]

use chord::sim::{seed_from_env, SeedGuard, Sim, SimConfig};
use chord::{Event, OpError, OpOutcome};

/// A simulation with its seed announced (and printed again on failure).
pub fn sim(
    name: &'static str,
    default_seed: u64,
    tweak: impl FnOnce(&mut SimConfig),
) -> (Sim, SeedGuard) {
    let seed = seed_from_env(default_seed);
    let guard = SeedGuard::new(name, seed);
    let mut cfg = SimConfig {
        seed,
        ..SimConfig::default()
    };
    tweak(&mut cfg);
    (Sim::new(cfg), guard)
}

/// Builds a ring of `n` nodes by successive joins through random members,
/// one every `spacing_ms`, then waits until every successor and
/// predecessor is right. Panics with the ring state otherwise.
pub fn build_ring(sim: &mut Sim, n: usize, spacing_ms: u64) {
    sim.grow_ring(n, spacing_ms);
    if let Err(e) = sim.wait_converged(n, 600_000) {
        panic!("ring of {n}: {e}");
    }
}

/// Waits until the successor lists are exact too.
pub fn settle_lists(sim: &mut Sim, max_ms: u64) {
    let ok = sim.run_until(max_ms, 1_000, |s| {
        s.check_ring().is_ok() && s.check_successor_lists().is_ok()
    });
    assert!(
        ok,
        "successor lists did not settle: {:?}",
        sim.check_successor_lists()
    );
}

/// Runs a client op at node `idx` to completion (or panics after 30 s).
pub fn run_op(
    sim: &mut Sim,
    idx: usize,
    start: impl FnOnce(&mut chord::Node, u64) -> chord::OpId,
) -> Result<OpOutcome, OpError> {
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
