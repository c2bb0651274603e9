//! Running sipp (Debian's `sip-tester`) from Rust: shared by
//! `supernode/tests/sipp_interop.rs` and `supernode/examples/bench_sip.rs`
//! (both include it with `#[path]`). Finds the binary, runs a scenario of
//! this folder with a bounded wall-clock time, reads its statistics file
//! (`-trace_stat`) and its message log (`-trace_msg`).

#![allow(dead_code)] // the test and the benchmark use different parts

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The folder holding the scenario XML files.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/sipp").join(name)
}

/// The `sipp` binary on PATH (or `SIPP`); panics with what to do when absent.
pub fn find() -> PathBuf {
    if let Ok(p) = std::env::var("SIPP") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("sipp");
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("sipp not installed: run `make tools-sipp` (installs Debian's sip-tester)");
}

/// A fresh, empty working folder for sipp's files (stats, logs, CSV).
pub fn workdir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipp-{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create sipp work folder");
    dir
}

/// Writes a SEQUENTIAL injection file with one user per line in field 0.
pub fn users_csv(path: &Path, users: impl IntoIterator<Item = String>) {
    let mut text = String::from("SEQUENTIAL\n");
    for u in users {
        text.push_str(&u);
        text.push_str(";\n");
    }
    std::fs::write(path, text).expect("write users csv");
}

/// A loopback UDP port that was free a moment ago.
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind probe socket");
    s.local_addr().expect("bound").port()
}

/// Waits until something holds UDP `port` on loopback (sipp started
/// listening), or panics after `limit`.
pub fn wait_udp_bound(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(Instant::now() < deadline, "sipp did not bind UDP port {port} within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One sipp process; killed on drop if still running.
pub struct Sipp {
    child: Child,
    pub dir: PathBuf,
    pub label: String,
}

/// Standard arguments: scenario, local address and port, statistics file
/// `<label>.stat.csv` written every second, unexpected messages logged to
/// `<label>.errors.log`, no keyboard, no global time-out beyond `limit`.
pub fn spawn(dir: &Path, label: &str, scenario_file: &str, port: u16, remote: &str, extra: &[String], limit: Duration) -> Sipp {
    let out = std::fs::File::create(dir.join(format!("{label}.out"))).expect("create sipp output file");
    let err = out.try_clone().expect("clone file handle");
    let mut args: Vec<String> = vec![
        "-sf".into(),
        scenario(scenario_file).to_string_lossy().into_owned(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-nostdin".into(),
        "-trace_stat".into(),
        "-stf".into(),
        format!("{label}.stat.csv"),
        "-fd".into(),
        "1".into(),
        "-trace_err".into(),
        "-error_file".into(),
        format!("{label}.errors.log"),
        "-timeout".into(),
        format!("{}s", limit.as_secs().max(1)),
    ];
    args.extend(extra.iter().cloned());
    args.push(remote.to_owned());
    let child = Command::new(find())
        .args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .unwrap_or_else(|e| panic!("starting sipp ({}): {e}", find().display()));
    Sipp { child, dir: dir.to_owned(), label: label.to_owned() }
}

impl Sipp {
    /// Waits for sipp to exit by itself; kills it after `limit`. Returns
    /// its exit status (None when it had to be killed).
    pub fn wait(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on sipp") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                self.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last line of its statistics file.
    pub fn stats(&self) -> Option<Stats> {
        Stats::read(&self.dir.join(format!("{}.stat.csv", self.label)))
    }

    /// Its screen output and unexpected-message log, for failure reports.
    pub fn diagnostics(&self) -> String {
        let read = |name: String| std::fs::read_to_string(self.dir.join(&name)).unwrap_or_default();
        let tail = |s: String| s.chars().rev().take(4000).collect::<Vec<_>>().into_iter().rev().collect::<String>();
        format!(
            "--- sipp {} output (tail) ---\n{}\n--- unexpected messages (tail) ---\n{}",
            self.label,
            tail(read(format!("{}.out", self.label))),
            tail(read(format!("{}.errors.log", self.label)))
        )
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Cumulative counters from sipp's `-trace_stat` file.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub created: u64,
    pub successful: u64,
    pub failed: u64,
    pub retransmissions: u64,
    /// From the first call to the last dump, in seconds (microseconds kept).
    pub elapsed: f64,
}

impl Stats {
    pub fn read(path: &Path) -> Option<Stats> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header: Vec<&str> = lines.next()?.split(';').collect();
        let last: Vec<&str> = lines.next_back()?.split(';').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).and_then(|i| last.get(i)).map(|v| v.trim());
        let num = |name: &str| col(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        // "2026-01-01\t12:00:00.000000\t1767268800.000000": the epoch seconds.
        let epoch = |name: &str| col(name).and_then(|v| v.split('\t').next_back()).and_then(|v| v.parse::<f64>().ok());
        Some(Stats {
            created: num("TotalCallCreated"),
            successful: num("SuccessfulCall(C)"),
            failed: num("FailedCall(C)"),
            retransmissions: num("Retransmissions(C)"),
            elapsed: epoch("CurrentTime")? - epoch("StartTime")?,
        })
    }
}

/// From a `-trace_msg` log: per Call-ID, the time from the first INVITE
/// sent to the first 180 received, in milliseconds (calls without a 180
/// are left out).
pub fn invite_to_180_ms(messages_log: &Path) -> Vec<f64> {
    use std::collections::HashMap;
    let text = format!("\n{}", std::fs::read_to_string(messages_log).unwrap_or_default());
    let mut sent: HashMap<String, f64> = HashMap::new();
    let mut out = Vec::new();
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    // Blocks start with "----- <date> <time>" then "UDP message sent|received".
    for block in text.split("\n-----").skip(1) {
        let mut lines = block.lines();
        let head = lines.next().unwrap_or_default();
        let Some(t) = head.split_whitespace().last().and_then(time_of_day) else { continue };
        let kind = lines.next().unwrap_or_default();
        let mut rest = lines.skip_while(|l| l.trim().is_empty());
        let start = rest.next().unwrap_or_default().to_owned();
        let call_id = rest
            .take_while(|l| !l.trim().is_empty())
            .find_map(|l| l.strip_prefix("Call-ID:").or_else(|| l.strip_prefix("i:")).map(|v| v.trim().to_owned()));
        let Some(call_id) = call_id else { continue };
        if kind.contains("sent") && start.starts_with("INVITE ") {
            sent.entry(call_id).or_insert(t);
        } else if kind.contains("received") && start.starts_with("SIP/2.0 180") && !done.contains(&call_id) {
            if let Some(t0) = sent.get(&call_id) {
                out.push((t - t0) * 1000.0);
                done.insert(call_id);
            }
        }
    }
    out
}

/// "12:34:56.789012" as seconds since midnight.
fn time_of_day(s: &str) -> Option<f64> {
    let mut parts = s.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let sec: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + sec)
}

/// The `q`-quantile (0..=1) of `values`, nearest rank; NaN when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}
