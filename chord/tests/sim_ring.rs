//! Ring formation and lookup path length in simulation.

mod common;

use common::{build_ring, settle_lists, sim};

fn converge_and_measure(name: &'static str, n: usize, seed: u64) {
    let (mut sim, _guard) = sim(name, seed, |_| {});
    build_ring(&mut sim, n, 200);
    println!("{name}: ring of {n} converged at t={} ms", sim.now_ms());
    settle_lists(&mut sim, 120_000);
    // Let fix-fingers cover the table (about log2 n lookups per node).
    sim.run_for(30_000);
    let stats = sim.measure_lookups(2_000, 20_000);
    assert!(
        stats.failed.is_empty() && stats.unfinished == 0,
        "lookups failed: {stats:?}"
    );
    assert_eq!(stats.wrong_owner, 0, "a lookup returned the wrong owner");
    let (mean, p99) = (stats.mean_hops(), stats.p99_hops());
    let bound = 0.5 * (n as f64).log2() + 1.0;
    println!("{name}: n={n} mean hops {mean:.2} (bound {bound:.2}), p99 {p99}");
    assert!(mean <= bound, "mean hops {mean:.2} above {bound:.2}");
}

#[test]
fn ring_of_10_converges() {
    converge_and_measure("ring_of_10_converges", 10, 10);
}

#[test]
fn ring_of_100_converges_and_lookups_are_short() {
    converge_and_measure("ring_of_100_converges_and_lookups_are_short", 100, 100);
}

#[test]
fn ring_of_1000_converges_and_lookups_are_short() {
    converge_and_measure("ring_of_1000_converges_and_lookups_are_short", 1000, 1000);
}
