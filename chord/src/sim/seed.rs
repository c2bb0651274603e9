//! Seeds for reproducible runs.

/// The seed from `CHORD_SIM_SEED` (decimal or 0x-hex) if set, else `default`.
pub fn seed_from_env(default: u64) -> u64 {
    match std::env::var("CHORD_SIM_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s.parse().ok(),
            };
            parsed.unwrap_or(default)
        }
        Err(_) => default,
    }
}

/// Prints the seed of a run when the test holding it panics, with the
/// command that replays it.
#[derive(Debug)]
pub struct SeedGuard {
    name: &'static str,
    seed: u64,
}

impl SeedGuard {
    /// Announces the seed (captured by the test harness, shown on failure).
    pub fn new(name: &'static str, seed: u64) -> SeedGuard {
        println!("{name}: seed {seed} (replay with CHORD_SIM_SEED={seed})");
        SeedGuard { name, seed }
    }
}

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "{} FAILED with seed {}; replay: CHORD_SIM_SEED={} cargo test -p chord {}",
                self.name, self.seed, self.seed, self.name
            );
        }
    }
}
