//! RFC 4475 torture messages sent over UDP to a running super-node: each
//! gets the answer a registrar/proxy owes (../shared/sip-torture/README.md),
//! and the node keeps working afterwards.

mod common;

use std::time::Duration;

use tokio::net::UdpSocket;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// This final status.
    Status(u16),
    /// A final answer that is not a parse-error answer (400/413/505/513).
    Handled,
    /// No answer at all (malformed or stray responses are dropped).
    Nothing,
}

use Expect::{Handled, Nothing, Status};

const CASES: &[(&str, Expect)] = &[
    ("valid/wsinv", Handled), // RFC 2543 branch: §17.2.3 fallback matching
    ("valid/intmeth", Handled),
    ("valid/esc01", Handled),
    ("valid/escnull", Status(200)),
    ("valid/esc02", Handled),
    ("valid/lwsdisp", Handled),
    ("valid/longreq", Handled), // no branch at all: fallback matching
    ("valid/dblreq", Status(200)),
    ("valid/semiuri", Handled),
    ("valid/transports", Handled),
    ("valid/mpart01", Handled),
    ("valid/unreason", Nothing),
    ("valid/noreason", Nothing),
    ("invalid/badaspec", Status(400)),
    ("invalid/baddate", Handled),
    ("invalid/baddn", Status(400)),
    ("invalid/badinv01", Status(400)),
    ("invalid/badvers", Status(505)),
    ("invalid/bigcode", Nothing),
    ("invalid/clerr", Status(400)),
    ("invalid/escruri", Status(400)),
    ("invalid/ltgtruri", Status(400)),
    ("invalid/lwsruri", Status(400)),
    ("invalid/lwsstart", Status(400)),
    ("invalid/mismatch01", Status(400)),
    ("invalid/mismatch02", Status(400)),
    ("invalid/ncl", Status(400)),
    ("invalid/quotbal", Status(400)),
    ("invalid/regbadct", Status(400)),
    ("invalid/scalar02", Status(400)),
    ("invalid/scalarlg", Nothing),
    ("invalid/trws", Status(400)),
    ("semantic/badbranch", Handled), // bare cookie: fallback matching
    ("semantic/bcast", Nothing),
    ("semantic/bext01", Status(420)),
    ("semantic/cparam01", Status(200)),
    ("semantic/cparam02", Status(200)),
    ("semantic/insuf", Status(400)),
    ("semantic/inv2543", Handled),
    ("semantic/invut", Handled),
    ("semantic/mcl01", Status(400)),
    ("semantic/multi01", Status(400)),
    ("semantic/novelsc", Status(416)),
    ("semantic/regaut01", Status(200)),
    ("semantic/regescrt", Status(200)),
    ("semantic/sdp01", Handled),
    ("semantic/unkscm", Status(416)),
    ("semantic/unksm2", Status(400)),
    ("semantic/zeromf", Status(483)),
];

fn torture(name: &str, run: &str) -> Vec<u8> {
    let path = format!("{}/../../shared/sip-torture/{name}.sip", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // The RFC's messages are independent tests, but several reuse one Via
    // branch and sent-by (cparam01/02, novelsc/unkscm...): to a proxy those
    // would be retransmissions of one request. Make each branch unique,
    // except where the branch itself is what the message tests.
    if name.ends_with("badbranch") {
        return bytes;
    }
    let unique = format!("z9hG4bK{run}{}x", name.replace('/', "-"));
    replace_all(&bytes, b"z9hG4bK", unique.as_bytes())
}

fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len() + 64);
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Sends one message and returns the final answers (status, whole text)
/// received within the wait.
async fn exchange(server: String, bytes: Vec<u8>, wait: Duration) -> Vec<(u16, String)> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    socket.send_to(&bytes, &server).await.expect("send");
    let mut finals = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut buf = vec![0u8; 65536];
    while let Ok(Ok((n, _))) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await {
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        // The status line only: some replies carry the request's own
        // malformed headers back verbatim, as RFC 4475 expects.
        let status = text.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        if status >= 200 {
            finals.push((status, text));
        }
    }
    finals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_torture_message_gets_its_answer() {
    let nodes = common::start_ring(1, &[]).await;
    let server = nodes[0].sip.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, expect) in CASES {
        let (server, bytes) = (server.clone(), torture(name, "a"));
        tasks.spawn(async move { (*name, *expect, exchange(server, bytes, Duration::from_millis(1500)).await) });
    }
    let mut failures = Vec::new();
    while let Some(r) = tasks.join_next().await {
        let (name, expect, finals) = r.expect("task");
        let statuses: Vec<u16> = finals.iter().map(|(s, _)| *s).collect();
        // An INVITE's non-2xx final is retransmitted over UDP until ACKed
        // (timer G): count distinct answers.
        let mut statuses = statuses;
        statuses.dedup();
        let ok = match expect {
            Status(code) => statuses == [code],
            Handled => statuses.len() == 1 && ![400, 413, 505, 513].contains(&statuses[0]),
            Nothing => statuses.is_empty(),
        };
        if !ok {
            failures.push(format!("{name}: expected {expect:?}, got {statuses:?}"));
        }
        // Facts the registrar must get right (README semantic/ lines).
        let text = finals.first().map(|(_, t)| t.as_str()).unwrap_or("");
        match name {
            "semantic/cparam01" if !text.contains("<sip:+19725552222@gw1.example.net>;expires=") => {
                failures.push(format!("{name}: unknownparam must stay a contact parameter:\n{text}"));
            }
            "semantic/cparam02" if !text.contains("<sip:+19725552222@gw1.example.net;unknownparam>;expires=") => {
                failures.push(format!("{name}: unknownparam must stay in the URI:\n{text}"));
            }
            "semantic/regescrt" if !text.contains("?Route=%3Csip:sip.example.com%3E>") => {
                failures.push(format!("{name}: the escaped Route must be kept in the binding:\n{text}"));
            }
            "valid/escnull" if text.matches("Contact:").count() != 2 => {
                failures.push(format!("{name}: two distinct contacts expected:\n{text}"));
            }
            "semantic/bext01" if !text.contains("noProxiesSupportThis") => {
                failures.push(format!("{name}: Unsupported must list the Proxy-Require tags:\n{text}"));
            }
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Still serving (a new branch: the same one would be a retransmission).
    let finals = exchange(server, torture("semantic/regaut01", "b"), Duration::from_millis(1500)).await;
    assert_eq!(finals.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![200]);
}
