//! Interoperability with a SIP client we did not write: sipp (Debian's
//! `sip-tester`) over UDP against a 3-super-node loopback ring (issue 4).
//! Scenarios are in tests/sipp/ (register.xml, uac.xml, uas.xml).
//!
//! sipp must be installed (`make tools-sipp`); without it these tests fail
//! with that message rather than skip.

mod common;
#[path = "common/sip_ua.rs"]
mod sip_ua;
#[path = "../../tests/sipp/run.rs"]
mod sipp;

use std::time::Duration;

use common::start_ring;
use sip::{Header, Method};
use sip_ua::Ua;

const CALLS: u64 = 20;
const USERS: u64 = 200;

/// The contacts bound to `user@example.org`, asked by a REGISTER without
/// Contact sent from a test UA on `sip_addr`.
async fn contacts_of(sip_addr: &str, user: &str) -> Vec<String> {
    let mut ua = Ua::udp(sip_addr, "query").await;
    let mut r = ua.request(Method::Register, sip::Uri::sip(Some(user), sip_ua::DOMAIN));
    r.headers.retain(|h| !matches!(h, Header::Contact(_)));
    ua.send(r).await;
    let resp = ua.final_response(Method::Register).await;
    assert_eq!(resp.status, 200, "{resp}");
    resp.headers.contacts().map(|c| c.to_string()).collect()
}

/// Runs sipp to completion within `limit`; panics with its output unless it
/// exits 0 with `expect` successful calls and none failed.
fn run_ok(mut run: sipp::Sipp, limit: Duration, expect: u64) -> sipp::Stats {
    let status = run.wait(limit);
    let stats = run.stats();
    let ok = status.is_some_and(|s| s.success())
        && stats.as_ref().is_some_and(|s| s.successful == expect && s.failed == 0);
    assert!(ok, "sipp {} exit {status:?}, stats {stats:?} (expected {expect} successful, 0 failed)\n{}", run.label, run.diagnostics());
    stats.expect("checked above")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_uac_calls_sipp_uas_across_the_ring() {
    let sipp_bin = sipp::find(); // fail first, and clearly, without sipp
    assert!(sipp_bin.is_file());
    let nodes = start_ring(3, &[]).await;
    let (a, c) = (&nodes[0], &nodes[2]);
    let dir = sipp::workdir("calls");

    // Bob registers on C from the port his UAS will listen on: the
    // super-node reaches a UDP device at its registration's source address.
    let bob_port = sipp::free_udp_port();
    let bob_csv = dir.join("bob.csv");
    sipp::users_csv(&bob_csv, ["bob".to_owned()]);
    let extra = vec!["-inf".into(), bob_csv.to_string_lossy().into_owned(), "-m".into(), "1".into()];
    let reg = sipp::spawn(&dir, "register-bob", "register.xml", bob_port, &c.sip, &extra, Duration::from_secs(20));
    run_ok(reg, Duration::from_secs(25), 1);
    let contacts = contacts_of(&a.sip, "bob").await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert!(contacts[0].contains(&format!("127.0.0.1:{bob_port}")), "{contacts:?}");

    // Bob's sipp UAS answers CALLS calls on that port.
    let extra = vec!["-m".into(), CALLS.to_string()];
    let uas = sipp::spawn(&dir, "uas", "uas.xml", bob_port, &c.sip, &extra, Duration::from_secs(40));
    sipp::wait_udp_bound(bob_port, Duration::from_secs(10));

    // The caller's sipp sends everything to A; A and C record-route.
    let extra = vec![
        "-s".into(),
        "bob".into(),
        "-m".into(),
        CALLS.to_string(),
        "-r".into(),
        "10".into(),
        "-recv_timeout".into(),
        "5000".into(),
        "-trace_msg".into(),
        "-message_file".into(),
        "uac.messages.log".into(),
    ];
    let uac = sipp::spawn(&dir, "uac", "uac.xml", sipp::free_udp_port(), &a.sip, &extra, Duration::from_secs(30));
    let stats = run_ok(uac, Duration::from_secs(35), CALLS);
    assert_eq!(stats.created, CALLS);
    run_ok(uas, Duration::from_secs(10), CALLS);

    // Every call went INVITE, 180, 200, ACK, BYE, 200 through both
    // super-nodes (at least: a UDP retransmission may add a copy).
    let log = std::fs::read_to_string(dir.join("uac.messages.log")).expect("uac message log");
    let count = |prefix: &str| log.lines().filter(|l| l.starts_with(prefix)).count() as u64;
    assert!(count("SIP/2.0 180 ") >= CALLS);
    assert!(count("ACK sip:bob@127.0.0.1:") >= CALLS, "ACK to Bob's contact");
    assert!(count("BYE sip:bob@127.0.0.1:") >= CALLS, "BYE to Bob's contact");
    let with_two_routes = log
        .lines()
        .filter(|l| l.starts_with("Route: ") && l.matches(";lr").count() == 2 && l.contains(&a.sip) && l.contains(&c.sip))
        .count() as u64;
    assert!(with_two_routes >= 2 * CALLS, "ACK and BYE carry Route through A then C");
    let latencies = sipp::invite_to_180_ms(&dir.join("uac.messages.log"));
    assert_eq!(latencies.len() as u64, CALLS, "a 180 for every INVITE");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_registers_many_distinct_users() {
    let sipp_bin = sipp::find();
    assert!(sipp_bin.is_file());
    let nodes = start_ring(3, &[]).await;
    let dir = sipp::workdir("register");
    let csv = dir.join("users.csv");
    sipp::users_csv(&csv, (0..USERS).map(|i| format!("user{i}")));
    let port = sipp::free_udp_port();
    let extra = vec![
        "-inf".into(),
        csv.to_string_lossy().into_owned(),
        "-m".into(),
        USERS.to_string(),
        "-r".into(),
        "100".into(),
        "-recv_timeout".into(),
        "5000".into(),
    ];
    let reg = sipp::spawn(&dir, "register", "register.xml", port, &nodes[1].sip, &extra, Duration::from_secs(30));
    let stats = run_ok(reg, Duration::from_secs(35), USERS);
    assert_eq!(stats.created, USERS);

    // The bindings are on the ring: found from the other super-nodes.
    for (i, node) in [(0, &nodes[0]), (USERS / 2, &nodes[2]), (USERS - 1, &nodes[0])] {
        let contacts = contacts_of(&node.sip, &format!("user{i}")).await;
        assert_eq!(contacts.len(), 1, "user{i}: {contacts:?}");
        assert!(contacts[0].contains(&format!("sip:user{i}@127.0.0.1:{port}")), "user{i}: {contacts:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_unknown_user_gets_404_and_the_ack_is_absorbed() {
    let sipp_bin = sipp::find();
    assert!(sipp_bin.is_file());
    let nodes = start_ring(3, &[]).await;
    let dir = sipp::workdir("not-found");
    let calls = 5u64;
    let extra = vec![
        "-s".into(),
        "nobody".into(),
        "-m".into(),
        calls.to_string(),
        "-r".into(),
        "10".into(),
        "-trace_msg".into(),
        "-message_file".into(),
        "uac.messages.log".into(),
    ];
    let uac = sipp::spawn(&dir, "uac-404", "uac_404.xml", sipp::free_udp_port(), &nodes[1].sip, &extra, Duration::from_secs(20));
    run_ok(uac, Duration::from_secs(25), calls);
    // One 404 per call: the ACK (same branch as the INVITE) ended the
    // server transaction's retransmissions (RFC 3261 §17.2.1, timer G).
    let log = std::fs::read_to_string(dir.join("uac.messages.log")).expect("uac message log");
    let not_found = log.lines().filter(|l| l.starts_with("SIP/2.0 404 ")).count() as u64;
    assert_eq!(not_found, calls, "404 retransmitted despite the ACK\n{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
