//! `make bench-sip`: sipp REGISTER load and INVITE calls per second over
//! UDP on loopback, against one super-node and against a 3-node ring, and
//! the time from INVITE to 180.
//!
//! Method. For each figure the offered rate steps up, doubling from a start
//! rate while a step passes, then bisecting between the last pass and the
//! first failure (to within 15 %), within a time budget. A step offers
//! `rate` calls per second for STEP seconds (sipp `-r rate -m rate*STEP`)
//! to **freshly started** super-nodes, so no step inherits the previous
//! one's transactions. It passes when fewer than 1 % of its calls failed,
//! every call was started, and the calls completed at >= 90 % of the
//! offered rate. The figure is the completed calls per second of the
//! highest passing step. Each step's line shows the failure causes (503
//! reasons, time-outs, a 200 before its 180) and the datagrams the kernel
//! dropped for full UDP receive buffers.
//!
//! A STEP-second step measures a burst from an empty transaction table,
//! not the rate a node keeps up for minutes: see `_longrun_bound` below.
//!
//! - REGISTER: one sipp registers distinct users (user0..) at the entry
//!   node (the only node, or node A of the ring: bindings are stored on the
//!   ring under each AOR's key).
//! - Calls: a sipp UAS registers as bob on the last node (C) and answers;
//!   a sipp UAC calls sip:bob@example.org through the first node (A):
//!   INVITE/100/180/200/ACK/BYE/200, record-routed through A and C.
//! - INVITE to 180: median and p99 over every call of a run at a light load
//!   (LIGHT calls/s) and at half the highest passing rate, from the
//!   UAC's message log timestamps (microseconds; sipp's own rtd has 1 ms
//!   resolution).
//!
//! Also measured: how long each request keeps entries in the super-nodes'
//! transaction tables. Completed UDP transactions stay 64*T1 = 32 s (RFC
//! 3261 timer J; RFC 6026 timers L and M for INVITEs answered 2xx), others
//! T4 = 5 s (timer K), and all count toward the super-node's
//! `max_transactions` (503 past it). That bounds the rate a node can keep
//! up for longer than 32 s, whatever its CPU: the `_longrun_bound` figures
//! are max_transactions / (entries x linger) per request at the busiest
//! node, from a light run's table occupancy read right after it and again
//! T4 + 1 s later. (Checked by hand with 50 s runs on a 3-node ring: 190
//! calls/s had no failure, 260 calls/s had 503s from the 26th second on,
//! against a bound of 208.)
//!
//! The super-nodes run with `--max-requests-per-sec-per-flow 0`: one sipp
//! address sends all the load, so the per-flow limit (200 requests/s per
//! UDP source by default) would otherwise be the figure.
//!
//! The machine's cores are shared by sipp UAC, sipp UAS and the super-nodes.
//! All traffic goes to 127.0.0.1. Run: `make bench-sip` (needs sipp and the
//! release super-node; SUPERNODE_BIN overrides its path).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../../tests/sipp/run.rs"]
mod sipp;

use std::path::Path;
use std::time::{Duration, Instant};

use common::Proc;
use supernode::sipcore::config::CoreConfig;

/// Length of one load step.
const STEP_SECS: u64 = 3;
/// Time one rate search may take (it stops stepping after this).
const SEARCH_BUDGET: Duration = Duration::from_secs(75);
/// Light load for the INVITE-to-180 latency, in calls per second.
const LIGHT: u64 = 50;
/// A call without the answer it waits for for this long fails.
const RECV_TIMEOUT_MS: u64 = 2000;
/// Distinct users in the REGISTER injection file.
const USERS: u64 = 100_000;
/// Super-node options: all the load comes from one sipp UDP address, and
/// the per-flow request limit (default 200/s, bursts of 400) would be all
/// a step measured; a node's many phones each have their own.
const NODE_ARGS: &[&str] = &["--max-requests-per-sec-per-flow", "0"];

#[derive(Clone, Copy, PartialEq)]
enum Load {
    Register,
    Calls,
}

impl Load {
    fn name(self) -> &'static str {
        match self {
            Load::Register => "register",
            Load::Calls => "calls",
        }
    }
}

/// Fresh super-nodes, plus bob's UAS for calls.
struct Setup {
    nodes: Vec<Proc>,
    _uas: Option<sipp::Sipp>,
}

struct StepResult {
    rate: u64,
    achieved: f64,
    pass: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let started = Instant::now();
    let _ = sipp::find(); // fail early and clearly without sipp
    let dir = sipp::workdir("bench");
    let users = dir.join("users.csv");
    sipp::users_csv(&users, (0..USERS).map(|i| format!("user{i}")));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# bench-sip: sipp {} over UDP on 127.0.0.1, {cores} cores shared by sipp and the super-nodes", sipp_version());
    println!("# steps of {STEP_SECS} s on fresh super-nodes; pass = <1% failed, all started, >=90% of the offered rate completed");
    println!("# super-nodes run with {} (one sipp address sends all the load)", NODE_ARGS.join(" "));

    let cfg = supernode::sipcore::config::CoreConfig::default();
    let mut figures = Vec::new();
    for n in [1usize, 3] {
        for load in [Load::Register, Load::Calls] {
            let best = search(&dir, &users, n, load).await;
            let (name, unit) = match load {
                Load::Register => ("sip_register_per_sec", "reg/s"),
                Load::Calls => ("sip_calls_per_sec", "calls/s"),
            };
            figures.push(format!("figure: {name}_{n}node {:.0} {unit}", best.as_ref().map_or(0.0, |b| b.achieved)));
            let (light, bound) = light_run(&dir, &users, n, load, &cfg).await;
            figures.push(format!("figure: {name}_{n}node_longrun_bound {bound:.0} {unit}"));
            if load == Load::Calls {
                figures.push(format!("figure: sip_invite_to_180_ms_p50_{n}node {:.2} ms", sipp::quantile(&light, 0.5)));
                figures.push(format!("figure: sip_invite_to_180_ms_p99_{n}node {:.2} ms", sipp::quantile(&light, 0.99)));
                if let Some(b) = &best {
                    let half = (b.rate / 2).max(LIGHT);
                    let loaded = latency(&dir, n, half).await;
                    figures.push(format!("figure: sip_invite_to_180_ms_p50_{n}node_at_{half}cps {:.2} ms", sipp::quantile(&loaded, 0.5)));
                    figures.push(format!("figure: sip_invite_to_180_ms_p99_{n}node_at_{half}cps {:.2} ms", sipp::quantile(&loaded, 0.99)));
                }
            }
        }
    }
    println!("# latency: INVITE sent to 180 received at the UAC (sipp message log), light load {LIGHT} calls/s and half the highest passing rate");
    println!(
        "# _longrun_bound: max_transactions {} / transaction-table entry-seconds per request (busiest node): the most one node keeps up past 32 s",
        cfg.max_transactions
    );
    for f in &figures {
        println!("{f}");
    }
    println!("# total {:.0} s", started.elapsed().as_secs_f64());
    let _ = std::fs::remove_dir_all(&dir);
}

fn sipp_version() -> String {
    let out = std::process::Command::new(sipp::find()).arg("-v").output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    out.ok()
        .and_then(|s| s.split_whitespace().find(|w| w.starts_with('v')).map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

/// Doubling from a start rate while steps pass, then bisecting; the
/// highest passing step.
async fn search(dir: &Path, users: &Path, n: usize, load: Load) -> Option<StepResult> {
    let deadline = Instant::now() + SEARCH_BUDGET;
    let (mut rate, cap) = match load {
        Load::Register => (500u64, 32_000u64),
        Load::Calls => (100, 16_000),
    };
    let mut best: Option<StepResult> = None;
    let mut fail: Option<u64> = None;
    while Instant::now() < deadline {
        let r = step(dir, users, n, load, rate).await;
        let passed = r.pass;
        if passed {
            best = Some(r);
        } else {
            fail = Some(rate);
        }
        let lo = best.as_ref().map_or(0, |b| b.rate);
        rate = match fail {
            None if rate * 2 <= cap => rate * 2,
            None => break,
            Some(hi) if lo == 0 => {
                // Even the start rate failed: halve down to a floor.
                if hi <= 25 {
                    break;
                }
                hi / 2
            }
            Some(hi) if hi as f64 / lo as f64 > 1.15 => (lo + hi) / 2,
            Some(_) => break,
        };
    }
    best
}

/// One step: fresh super-nodes, `rate` calls/s for STEP_SECS.
async fn step(dir: &Path, users: &Path, n: usize, load: Load, rate: u64) -> StepResult {
    let setup = fresh(dir, n, load).await;
    let entry = &setup.nodes[0];
    let count = rate * STEP_SECS;
    let label = format!("{}-{n}node-{rate}", load.name());
    let mut extra: Vec<String> = vec![
        "-m".into(),
        count.to_string(),
        "-r".into(),
        rate.to_string(),
        "-l".into(),
        rate.max(200).to_string(),
        "-recv_timeout".into(),
        RECV_TIMEOUT_MS.to_string(),
        "-max_recv_loops".into(),
        "10000".into(),
        "-max_sched_loops".into(),
        "10000".into(),
    ];
    let scenario = match load {
        Load::Register => {
            extra.extend(["-inf".into(), users.to_string_lossy().into_owned()]);
            "register.xml"
        }
        Load::Calls => {
            extra.extend(["-s".into(), "bob".into()]);
            "uac.xml"
        }
    };
    let limit = Duration::from_secs(STEP_SECS + 20);
    let drops_before = udp_rcvbuf_errors();
    let mut run = sipp::spawn(dir, &label, scenario, sipp::free_udp_port(), &entry.sip, &extra, limit);
    run.wait(limit + Duration::from_secs(5));
    let stats = run.stats().unwrap_or_default();
    let drops = udp_rcvbuf_errors().saturating_sub(drops_before);
    let done = stats.successful + stats.failed;
    let achieved = if stats.elapsed > 0.0 { stats.successful as f64 / stats.elapsed } else { 0.0 };
    let pass = stats.created == count && done == count && stats.failed * 100 < done.max(1) && achieved >= 0.9 * rate as f64;
    println!(
        "step: {} {n}node offered {rate}/s: {} ok, {} failed of {count}, {:.2} s, completed {achieved:.0}/s, {} retransmissions, {drops} UDP datagrams dropped by full receive buffers -> {}",
        load.name(),
        stats.successful,
        stats.failed,
        stats.elapsed,
        stats.retransmissions,
        if pass { "pass" } else { "FAIL" }
    );
    if stats.failed > 0 {
        println!("      failures: {}", error_summary(&dir.join(format!("{label}.errors.log"))));
    }
    StepResult { rate, achieved, pass }
}

/// Why calls failed, from a sipp error log: counts per cause, most first.
fn error_summary(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for line in text.lines() {
        let cause = if line.contains("receive timeout") {
            "no answer within the receive timeout".to_owned()
        } else if let Some(rest) = line.split("while expecting '").nth(1) {
            let expected = rest.split('\'').next().unwrap_or("?");
            let got = rest.split("received '").nth(1).map_or("?", |r| r.trim_end_matches('\''));
            format!("{got} while expecting {expected}")
        } else {
            continue;
        };
        *counts.entry(cause).or_default() += 1;
    }
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by_key(|c| std::cmp::Reverse(c.1));
    v.iter().map(|(c, n)| format!("{n} x {c}")).collect::<Vec<_>>().join("; ")
}

/// INVITE-to-180 times (ms) of every call of a STEP_SECS run at `rate`
/// on fresh super-nodes.
async fn latency(dir: &Path, n: usize, rate: u64) -> Vec<f64> {
    let setup = fresh(dir, n, Load::Calls).await;
    traced_calls(dir, &setup, n, rate)
}

fn traced_calls(dir: &Path, setup: &Setup, n: usize, rate: u64) -> Vec<f64> {
    let label = format!("latency-{n}node-{rate}");
    let log = format!("{label}.messages.log");
    let extra: Vec<String> = vec![
        "-s".into(),
        "bob".into(),
        "-m".into(),
        (rate * STEP_SECS).to_string(),
        "-r".into(),
        rate.to_string(),
        "-recv_timeout".into(),
        RECV_TIMEOUT_MS.to_string(),
        "-trace_msg".into(),
        "-message_file".into(),
        log.clone(),
    ];
    let limit = Duration::from_secs(STEP_SECS + 20);
    let mut run = sipp::spawn(dir, &label, "uac.xml", sipp::free_udp_port(), &setup.nodes[0].sip, &extra, limit);
    run.wait(limit + Duration::from_secs(5));
    let stats = run.stats().unwrap_or_default();
    let ms = sipp::invite_to_180_ms(&dir.join(&log));
    println!(
        "latency: {n}node at {rate} calls/s: {} calls ({} failed), INVITE->180 p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        stats.failed,
        sipp::quantile(&ms, 0.5),
        sipp::quantile(&ms, 0.99),
        sipp::quantile(&ms, 1.0)
    );
    let _ = std::fs::remove_file(dir.join(&log));
    ms
}

/// A light run (LIGHT/s for STEP_SECS) on fresh super-nodes: the
/// INVITE-to-180 times for calls, and the long-run rate bound the
/// transaction table sets. Table entries per request are read right after
/// the run (all) and T4 + 1 s later (those lingering 64*T1); the busiest
/// node's entry-seconds per request divide `max_transactions`.
async fn light_run(dir: &Path, users: &Path, n: usize, load: Load, cfg: &CoreConfig) -> (Vec<f64>, f64) {
    let setup = fresh(dir, n, load).await;
    let (ms, ok) = match load {
        Load::Calls => {
            let ms = traced_calls(dir, &setup, n, LIGHT);
            let ok = ms.len() as u64;
            (ms, ok)
        }
        Load::Register => {
            let label = format!("light-register-{n}node");
            let extra: Vec<String> = vec![
                "-inf".into(),
                users.to_string_lossy().into_owned(),
                "-m".into(),
                (LIGHT * STEP_SECS).to_string(),
                "-r".into(),
                LIGHT.to_string(),
            ];
            let limit = Duration::from_secs(STEP_SECS + 20);
            let mut run = sipp::spawn(dir, &label, "register.xml", sipp::free_udp_port(), &setup.nodes[0].sip, &extra, limit);
            run.wait(limit + Duration::from_secs(5));
            (Vec::new(), run.stats().unwrap_or_default().successful)
        }
    };
    let mut all = Vec::new();
    for p in &setup.nodes {
        all.push(sip_counter(&p.http, "transactions").await);
    }
    let short_linger = cfg.timers.t4_ms as f64 / 1000.0;
    let long_linger = cfg.timers.timeout_ms() as f64 / 1000.0;
    tokio::time::sleep(Duration::from_millis(cfg.timers.t4_ms + 1000)).await;
    let mut worst = 0.0f64;
    let mut per_node = Vec::new();
    for (p, all) in setup.nodes.iter().zip(all) {
        let long = sip_counter(&p.http, "transactions").await;
        let per = |x: u64| x as f64 / ok.max(1) as f64;
        let entry_secs = per(long) * long_linger + per(all.saturating_sub(long)) * short_linger;
        worst = worst.max(entry_secs);
        per_node.push(format!("{:.2}+{:.2}", per(long), per(all.saturating_sub(long))));
    }
    let bound = if worst > 0.0 { cfg.max_transactions as f64 / worst } else { f64::INFINITY };
    println!(
        "table: {} {n}node, {ok} requests: entries per request lingering {long_linger:.0} s + {short_linger:.0} s, per node {} -> {bound:.0}/s past {long_linger:.0} s",
        load.name(),
        per_node.join(", ")
    );
    (ms, bound)
}

/// Datagrams the kernel dropped for full UDP receive buffers, all sockets
/// (Linux `/proc/net/snmp` RcvbufErrors; 0 elsewhere).
fn udp_rcvbuf_errors() -> u64 {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else { return 0 };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Starts `n` super-nodes (one, or a converged ring); for calls, registers
/// bob with sipp on the last node and starts his UAS on that port.
async fn fresh(dir: &Path, n: usize, load: Load) -> Setup {
    let nodes = if n == 1 { vec![Proc::start(None, NODE_ARGS)] } else { common::start_ring(n, NODE_ARGS).await };
    let uas = if load == Load::Calls {
        let callee = &nodes[n - 1];
        let port = sipp::free_udp_port();
        let bob = dir.join("bob.csv");
        sipp::users_csv(&bob, ["bob".to_owned()]);
        let extra = vec!["-inf".into(), bob.to_string_lossy().into_owned(), "-m".into(), "1".into()];
        let mut reg = sipp::spawn(dir, "register-bob", "register.xml", port, &callee.sip, &extra, Duration::from_secs(10));
        let status = reg.wait(Duration::from_secs(15));
        assert!(status.is_some_and(|s| s.success()), "registering bob failed\n{}", reg.diagnostics());
        let extra = vec!["-max_recv_loops".into(), "10000".into(), "-max_sched_loops".into(), "10000".into()];
        let uas = sipp::spawn(dir, "uas", "uas.xml", port, &callee.sip, &extra, Duration::from_secs(STEP_SECS + 60));
        sipp::wait_udp_bound(port, Duration::from_secs(10));
        Some(uas)
    } else {
        None
    };
    Setup { nodes, _uas: uas }
}

/// One counter of `GET /api/sip`.
async fn sip_counter(http: &str, name: &str) -> u64 {
    let Ok((200, body)) = common::http("GET", http, "/api/sip", b"").await else { return 0 };
    serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v[name].as_u64()).unwrap_or(0)
}
