//! Lookup path length in simulated rings of 10, 100, 1,000 and 10,000
//! nodes built by successive joins.
//!
//! `cargo run --release -p chord --example bench_ring_sim` prints one
//! `figure: NAME VALUE UNIT` line per figure on stdout (progress goes to
//! stderr). Set `CHORD_SIM_SEED` to change the seed and `BENCH_MAX_N` to
//! stop at a smaller ring.

use std::time::Instant;

use chord::sim::{seed_from_env, Sim, SimConfig};

/// Lookups measured per ring size.
const LOOKUPS: usize = 5_000;

fn main() {
    let seed = seed_from_env(7);
    let max_n: usize = std::env::var("BENCH_MAX_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    eprintln!("bench_ring_sim: seed {seed}");
    for n in [10usize, 100, 1_000, 10_000] {
        if n > max_n {
            break;
        }
        let started = Instant::now();
        // Frames are encoded in the smaller rings; the 10,000-node ring
        // passes messages directly to save time (same state machine).
        let cfg = SimConfig {
            seed: seed ^ n as u64,
            encode_frames: n < 10_000,
            ..SimConfig::default()
        };
        let mut sim = Sim::new(cfg);
        // Successive joins, one every 200 ms while the ring is small and
        // then at a pace of one per 10 s per member (see
        // `Sim::grow_ring_paced`), reported every 1,000 nodes.
        let mut joined = 1;
        while joined < n {
            joined = (joined + 1_000).min(n);
            sim.grow_ring_paced(joined, 10_000, 200);
            eprintln!(
                "  n={n}: {joined} nodes at t={} s, wall {:.1} s",
                sim.now_ms() / 1000,
                started.elapsed().as_secs_f64()
            );
        }
        let converge_ms = match sim.wait_converged(n, 1_200_000) {
            Ok(ms) => ms,
            Err(e) => {
                eprintln!("n={n}: {e}");
                std::process::exit(1);
            }
        };
        // Fix-fingers needs about log2 n lookups per node to fill the table.
        sim.run_for(30_000);
        let stats = sim.measure_lookups(LOOKUPS, 20_000);
        let mean = stats.mean_hops();
        let bound = 0.5 * (n as f64).log2() + 1.0;
        eprintln!(
            "n={n}: converged {converge_ms} ms after the last join, \
             {} lookups ok, {} wrong owner, {} failed, {} unfinished; mean {mean:.2} (bound {bound:.2}); \
             {} messages; wall {:.1} s",
            stats.hops.len(),
            stats.wrong_owner,
            stats.failed.len(),
            stats.unfinished,
            sim.stats.delivered,
            started.elapsed().as_secs_f64()
        );
        println!("figure: ring_lookup_hops_mean_n{n} {mean:.2} hops");
        println!(
            "figure: ring_lookup_hops_p99_n{n} {} hops",
            stats.p99_hops()
        );
        println!(
            "figure: ring_lookup_success_n{n} {:.2} %",
            stats.success_rate() * 100.0
        );
    }
}
