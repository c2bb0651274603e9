//! Ring formation and lookup path length in simulation.

mod common;

use common::{build_ring, lookups, mean_p99, settle_lists, sim};

fn converge_and_measure(name: &'static str, n: usize, seed: u64) {
    let (mut sim, _guard) = sim(name, seed, |_| {});
    build_ring(&mut sim, n, 200);
    println!("{name}: ring of {n} converged at t={} ms", sim.now_ms());
    settle_lists(&mut sim, 120_000);
    // Let fix-fingers cover the table (about log2 n lookups per node).
    sim.run_for(30_000);
    let (ok, failed) = lookups(&mut sim, 2_000, 20_000);
    assert!(failed.is_empty(), "{} lookups failed: {:?}", failed.len(), &failed[..failed.len().min(5)]);
    assert!(ok.iter().all(|(_, right)| *right), "a lookup returned the wrong owner");
    let hops: Vec<u8> = ok.iter().map(|(h, _)| *h).collect();
    let (mean, p99) = mean_p99(&hops);
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
