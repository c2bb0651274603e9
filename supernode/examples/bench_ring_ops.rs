//! `make bench-ring` (second half): put and get operations per second on a
//! ring of five super-node processes on loopback, driven through the
//! opt-in store API by kept-alive HTTP connections.
//!
//! Prints `figure: ring_put_ops_per_sec_5proc N ops/s` and the get figure.
//! Run with the release binary built: `cargo run --release -p supernode
//! --example bench_ring_ops` (SUPERNODE_BIN overrides the binary's path).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{HttpConn, Proc};

const NODES: usize = 5;
const CLIENTS: usize = 32;
const PHASE: Duration = Duration::from_secs(5);
const KEYS: u64 = 10_000;

#[tokio::main]
async fn main() {
    let args = ["--enable-store-api"];
    let mut nodes = vec![Proc::start(None, &args)];
    for _ in 1..NODES {
        let join = nodes[0].ring.clone();
        nodes.push(Proc::start(Some(&join), &args));
    }
    // Let the ring settle: every node sees a full successor list.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut ready = 0;
        for p in &nodes {
            let s = common::ring_status(&p.http).await;
            if s["successors"].as_array().map_or(0, Vec::len) >= NODES - 1 && !s["predecessor"].is_null() {
                ready += 1;
            }
        }
        if ready == NODES {
            break;
        }
        assert!(Instant::now() < deadline, "ring did not settle");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let hosts: Vec<String> = nodes.iter().map(|p| p.http.clone()).collect();
    let (puts, put_errors) = phase(&hosts, true).await;
    let (gets, get_errors) = phase(&hosts, false).await;
    println!("figure: ring_put_ops_per_sec_5proc {:.0} ops/s", puts as f64 / PHASE.as_secs_f64());
    println!("figure: ring_get_ops_per_sec_5proc {:.0} ops/s", gets as f64 / PHASE.as_secs_f64());
    println!("figure: ring_put_errors_5proc {put_errors} ops");
    println!("figure: ring_get_errors_5proc {get_errors} ops");
}

/// Runs CLIENTS connections spread over the nodes for PHASE; returns
/// successful and failed operations.
async fn phase(hosts: &[String], write: bool) -> (u64, u64) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + PHASE;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let host = hosts[c % hosts.len()].clone();
        let (ok, failed) = (ok.clone(), failed.clone());
        tasks.spawn(async move {
            let mut conn = HttpConn::connect(&host).await.expect("connect to store API");
            let mut i = c as u64;
            while Instant::now() < end {
                let key = i % KEYS;
                let result = if write {
                    conn.request("PUT", &format!("/api/store/bench{key}/v?version={}", i + 1), b"benchmark-value").await
                } else {
                    conn.request("GET", &format!("/api/store/bench{key}"), b"").await
                };
                match result {
                    // 409: a concurrent client already wrote a newer version.
                    Ok((200 | 409, _)) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += CLIENTS as u64;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}
