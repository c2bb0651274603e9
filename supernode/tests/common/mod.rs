//! Shared helpers of the multi-process tests: start real `supernode`
//! processes on loopback, talk HTTP to them, stop or kill them.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running super-node process.
pub struct Proc {
    pub child: Child,
    /// `127.0.0.1:port` of its HTTP server.
    pub http: String,
    /// Its advertised ring address (`ws://127.0.0.1:port`).
    pub ring: String,
    /// Its ring id (40 hex digits).
    pub id: String,
    /// `127.0.0.1:port` of SIP over UDP and TCP.
    pub sip: String,
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Starts a super-node with HTTP and ring on free loopback ports plus
    /// `extra` arguments, and waits until it serves.
    pub fn start(join: Option<&str>, extra: &[&str]) -> Proc {
        // Tests get the binary from cargo; the benchmark example takes the
        // release build (or SUPERNODE_BIN).
        let bin = std::env::var("SUPERNODE_BIN")
            .ok()
            .or(option_env!("CARGO_BIN_EXE_supernode").map(str::to_owned))
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/supernode").to_owned());
        let mut cmd = Command::new(bin);
        cmd.args(["--http-listen", "127.0.0.1:0", "--ring-listen", "127.0.0.1:0", "--sip-listen", "127.0.0.1:0", "--www-dir", "www"]);
        if let Some(j) = join {
            cmd.args(["--join", j]);
        }
        cmd.args(extra)
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("spawn supernode");
        let stdout = child.stdout.take().expect("piped stdout");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line.clone());
                sink.lock().expect("log lock").push(line);
            }
        });
        let (mut http, mut ring, mut id, mut sip) = (None, None, None, None);
        let deadline = Instant::now() + Duration::from_secs(15);
        while http.is_none() || ring.is_none() || sip.is_none() {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("supernode announced its addresses in time");
            if let Some(rest) = line.split("ring member ").nth(1) {
                let mut words = rest.split_whitespace();
                ring = words.next().map(str::to_owned);
                id = words.nth(1).map(str::to_owned);
            }
            if let Some(rest) = line.split("SIP over UDP and TCP at ").nth(1) {
                sip = rest.split_whitespace().next().map(str::to_owned);
            }
            if let Some(rest) = line.split("serving http://").nth(1) {
                http = rest.split('/').next().map(str::to_owned);
            }
        }
        Proc {
            child,
            http: http.expect("loop ends with http set"),
            ring: ring.expect("loop ends with ring set"),
            id: id.expect("ring line carries the id"),
            sip: sip.expect("loop ends with sip set"),
            logs,
        }
    }

    /// SIGKILL: a crash, no hand-off.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the process to exit (graceful leave).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait on child") {
                return status;
            }
            assert!(Instant::now() < deadline, "supernode did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        self.logs.lock().expect("log lock").join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 exchange (Connection: close). Returns status and body.
pub async fn http(method: &str, host: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(host).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out);
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    // axum answers small bodies with Content-Length, large ones chunked.
    let body = if text.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(&body) } else { body };
    Ok((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// `GET /api/ring` as JSON.
pub async fn ring_status(host: &str) -> serde_json::Value {
    let (code, body) = http("GET", host, "/api/ring", b"").await.expect("GET /api/ring");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).expect("ring status is JSON")
}

/// Waits until `check` holds, polling every 100 ms, or panics after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A kept-alive HTTP/1.1 connection, for load: one request at a time.
pub struct HttpConn {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
    host: String,
}

impl HttpConn {
    pub async fn connect(host: &str) -> std::io::Result<HttpConn> {
        let s = tokio::net::TcpStream::connect(host).await?;
        s.set_nodelay(true)?;
        Ok(HttpConn { stream: tokio::io::BufReader::new(s), host: host.to_owned() })
    }

    /// Sends one request and reads the response (Content-Length framed).
    pub async fn request(&mut self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        use tokio::io::AsyncBufReadExt;
        let head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n", self.host, body.len());
        self.stream.get_mut().write_all(head.as_bytes()).await?;
        self.stream.get_mut().write_all(body).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed mid-response"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// Every node's first successor is the next id and its predecessor the
/// previous one.
pub async fn converged(nodes: &[Proc]) -> bool {
    let mut ids: Vec<&str> = nodes.iter().map(|p| p.id.as_str()).collect();
    ids.sort_unstable();
    for p in nodes {
        let s = ring_status(&p.http).await;
        let i = ids.iter().position(|id| *id == p.id).expect("node is in the list");
        let next = ids[(i + 1) % ids.len()];
        let prev = ids[(i + ids.len() - 1) % ids.len()];
        if s["successors"][0]["id"] != next || s["predecessor"]["id"] != prev {
            return false;
        }
    }
    true
}

/// Starts `n` super-nodes joined into one ring and waits until it converged.
pub async fn start_ring(n: usize, extra: &[&str]) -> Vec<Proc> {
    let mut nodes = vec![Proc::start(None, extra)];
    for _ in 1..n {
        let join = nodes[0].ring.clone();
        nodes.push(Proc::start(Some(&join), extra));
    }
    if n > 1 {
        eventually(Duration::from_secs(30), "ring to converge", || converged(&nodes)).await;
    }
    nodes
}
