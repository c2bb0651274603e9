//! Multi-process ring on loopback (issue 3): five super-nodes store 1,000
//! values; two non-neighbours are SIGKILLed and every value stays readable
//! after three stabilization periods; a sixth joins and takes over its
//! share; a SIGTERMed node hands off and nothing is lost.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{converged, eventually, http, ring_status, Proc};
use tokio::sync::Semaphore;

const VALUES: usize = 1_000;
const STABILIZE_MS: u64 = 500;
const ARGS: &[&str] = &["--enable-store-api", "--stabilize-interval-ms", "500", "--replicate-interval-ms", "1000"];

fn start(join: Option<&str>) -> Proc {
    Proc::start(join, ARGS)
}

/// Writes key k{i} through the nodes in turn, 16 at a time.
async fn put_all(hosts: &[String]) {
    let gate = Arc::new(Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..VALUES {
        let host = hosts[i % hosts.len()].clone();
        let permit = gate.clone().acquire_owned().await.expect("semaphore open");
        tasks.spawn(async move {
            let _permit = permit;
            let (code, body) = http("PUT", &host, &format!("/api/store/k{i}/v?version=1"), format!("value-{i}").as_bytes())
                .await
                .expect("PUT");
            assert_eq!(code, 200, "put k{i} via {host}: {body}");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("put task");
    }
}

/// Reads every key through the nodes in turn; returns the keys not read
/// back correctly and, for each key, the ring address that answered.
async fn read_all(hosts: &[String]) -> (Vec<usize>, Vec<String>) {
    let gate = Arc::new(Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..VALUES {
        let host = hosts[i % hosts.len()].clone();
        let permit = gate.clone().acquire_owned().await.expect("semaphore open");
        tasks.spawn(async move {
            let _permit = permit;
            let (code, body) = http("GET", &host, &format!("/api/store/k{i}"), b"").await.expect("GET");
            let ok_from = (code == 200)
                .then(|| serde_json::from_str::<serde_json::Value>(&body).ok())
                .flatten()
                .filter(|v| v["values"][0]["value"] == format!("value-{i}"))
                .map(|v| v["from"].as_str().unwrap_or_default().to_owned());
            (i, ok_from)
        });
    }
    let mut missing = Vec::new();
    let mut from = vec![String::new(); VALUES];
    while let Some(r) = tasks.join_next().await {
        let (i, ok_from) = r.expect("get task");
        match ok_from {
            Some(f) => from[i] = f,
            None => missing.push(i),
        }
    }
    missing.sort_unstable();
    (missing, from)
}

async fn stored_keys(nodes: &[Proc]) -> u64 {
    let mut sum = 0;
    for p in nodes {
        sum += ring_status(&p.http).await["store"]["keys"].as_u64().unwrap_or(0);
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_processes_survive_crashes_joins_and_leaves() {
    let first = start(None);
    let mut nodes = vec![first];
    for _ in 0..4 {
        let join = nodes[0].ring.clone();
        nodes.push(start(Some(&join)));
    }
    eventually(Duration::from_secs(30), "5-node ring to converge", || converged(&nodes)).await;

    let hosts: Vec<String> = nodes.iter().map(|p| p.http.clone()).collect();
    put_all(&hosts).await;
    let (missing, _) = read_all(&hosts).await;
    assert!(missing.is_empty(), "unreadable before any failure: {missing:?}");

    // Kill two nodes that are not ring neighbours: positions 0 and 2 in id order.
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut killed = vec![nodes.remove(2), nodes.remove(0)];
    for p in &mut killed {
        p.kill();
    }
    tokio::time::sleep(Duration::from_millis(3 * STABILIZE_MS)).await;
    let hosts: Vec<String> = nodes.iter().map(|p| p.http.clone()).collect();
    let (missing, _) = read_all(&hosts).await;
    assert!(missing.is_empty(), "{} values unreadable 3 periods after 2 crashes: {missing:?}", missing.len());
    // The three survivors restore k = 3 copies: each holds every key.
    eventually(Duration::from_secs(20), "k copies restored", || async { stored_keys(&nodes).await >= 3 * VALUES as u64 }).await;

    // A sixth node joins and takes over the keys it is now responsible for.
    let join = nodes[0].ring.clone();
    let sixth = start(Some(&join));
    nodes.push(sixth);
    eventually(Duration::from_secs(30), "ring with the sixth node to converge", || converged(&nodes)).await;
    let sixth_ring = nodes.last().expect("just pushed").ring.clone();
    let hosts: Vec<String> = nodes.iter().map(|p| p.http.clone()).collect();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let share = loop {
        let (missing, from) = read_all(&hosts).await;
        assert!(missing.is_empty(), "values lost after a join: {missing:?}");
        let share = from.iter().filter(|f| **f == sixth_ring).count();
        if share > 0 {
            break share;
        }
        assert!(std::time::Instant::now() < deadline, "the sixth node never answered for any key");
        tokio::time::sleep(Duration::from_millis(STABILIZE_MS)).await;
    };
    let keys_on_sixth = ring_status(&nodes.last().expect("sixth").http).await["store"]["keys"].as_u64().unwrap_or(0);
    assert!(keys_on_sixth >= share as u64, "sixth node answers for {share} keys but stores {keys_on_sixth}");
    eprintln!("sixth node answers for {share} of {VALUES} keys and stores {keys_on_sixth}");

    // SIGTERM one of the original survivors: it hands off, nothing is lost.
    let mut leaving = nodes.remove(0);
    let status = leaving.terminate();
    assert!(status.success(), "SIGTERM exit status {status}");
    assert!(leaving.log_text().contains("hand-off done"), "{}", leaving.log_text());
    let hosts: Vec<String> = nodes.iter().map(|p| p.http.clone()).collect();
    let (missing, _) = read_all(&hosts).await;
    assert!(missing.is_empty(), "{} values lost after a graceful leave: {missing:?}", missing.len());
}
