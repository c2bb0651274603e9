//! Ring links on loopback: hello, reuse of one socket both ways, bad frames
//! closing only their link, backoff after a failed connect, bounded shutdown.

use std::time::Duration;

use futures_util::SinkExt;
use supernode::ring::links::{LinkConfig, LinkEvent, Links, SendError};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

type Node = (Links<String>, mpsc::Receiver<LinkEvent<String>>, String);

async fn node(config: LinkConfig) -> Node {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = format!("ws://{}", listener.local_addr().expect("bound"));
    let (tx, rx) = mpsc::channel(64);
    // Payloads over 5000 bytes are "out of bounds" for these tests.
    let validate = std::sync::Arc::new(|m: &String| {
        if m.len() > 5000 { Err(format!("payload of {} bytes", m.len())) } else { Ok(()) }
    });
    let links = Links::new(addr.clone(), config, tx, validate);
    let server = links.clone();
    tokio::spawn(async move { server.serve(listener).await });
    (links, rx, addr)
}

async fn next_frame(rx: &mut mpsc::Receiver<LinkEvent<String>>) -> (String, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("event in time") {
            Some(LinkEvent::Frame { from, msg }) => return (from, msg),
            Some(LinkEvent::Down { .. }) => continue,
            None => panic!("event channel closed"),
        }
    }
}

async fn next_down(rx: &mut mpsc::Receiver<LinkEvent<String>>) -> (String, String) {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("event in time") {
            Some(LinkEvent::Down { addr, reason }) => return (addr, reason),
            Some(LinkEvent::Frame { .. }) => continue,
            None => panic!("event channel closed"),
        }
    }
}

#[tokio::test]
async fn frames_flow_both_ways_over_one_link() {
    let (a, mut a_rx, a_addr) = node(LinkConfig::default()).await;
    let (b, mut b_rx, b_addr) = node(LinkConfig::default()).await;
    a.send(&b_addr, "ping".into()).expect("queued");
    assert_eq!(next_frame(&mut b_rx).await, (a_addr.clone(), "ping".to_owned()));
    b.send(&a_addr, "pong".into()).expect("queued");
    assert_eq!(next_frame(&mut a_rx).await, (b_addr.clone(), "pong".to_owned()));
    // B answered over the link A opened: one inbound row, no outbound one.
    let rows = b.snapshot();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].direction, rows[0].state), ("inbound", "up"));
    assert_eq!(rows[0].frames_in, 1);
    assert_eq!(rows[0].frames_out, 1);
}

#[tokio::test]
async fn malformed_frame_closes_only_that_link() {
    let (b, mut b_rx, b_addr) = node(LinkConfig::default()).await;
    // A raw client that says hello, then sends garbage.
    let (mut raw, _) = tokio_tungstenite::connect_async(b_addr.as_str()).await.expect("connect");
    let hello = supernode::ring::frame::encode(
        &supernode::ring::frame::Frame::<String>::Hello { addr: "ws://127.0.0.1:1".into() },
        1024,
    )
    .expect("encode hello");
    raw.send(Message::Binary(hello.into())).await.expect("send hello");
    raw.send(Message::Binary(vec![supernode::ring::frame::LINK_PROTOCOL_VERSION, 0xff, 0xff, 0xff].into()))
        .await
        .expect("send garbage");
    let (addr, reason) = next_down(&mut b_rx).await;
    assert_eq!(addr, "ws://127.0.0.1:1");
    assert!(reason.contains("malformed"), "{reason}");
    assert_eq!(b.counters().closed_malformed.load(std::sync::atomic::Ordering::Relaxed), 1);
    // The node still serves other links.
    let (a, _a_rx, a_addr) = node(LinkConfig::default()).await;
    a.send(&b_addr, "still there".into()).expect("queued");
    assert_eq!(next_frame(&mut b_rx).await, (a_addr, "still there".to_owned()));
}

#[tokio::test]
async fn oversized_frame_closes_the_link() {
    let small = LinkConfig { max_frame_bytes: 256, ..LinkConfig::default() };
    let (b, mut b_rx, b_addr) = node(small).await;
    let (a, _a_rx, _a_addr) = node(LinkConfig::default()).await;
    a.send(&b_addr, "x".repeat(10_000)).expect("queued");
    let (_addr, reason) = next_down(&mut b_rx).await;
    assert!(reason.contains("too long") || reason.contains("malformed") || reason.contains("Space limit"), "{reason}");
    assert!(b.counters().closed_malformed.load(std::sync::atomic::Ordering::Relaxed) >= 1);
}

#[tokio::test]
async fn failed_connect_reports_down_then_backs_off() {
    let (a, mut a_rx, _) = node(LinkConfig::default()).await;
    // Bind and drop to get a loopback port with nothing listening.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        format!("ws://{}", l.local_addr().expect("bound"))
    };
    a.send(&dead, "hello?".into()).expect("first send starts a connect");
    let (addr, _reason) = next_down(&mut a_rx).await;
    assert_eq!(addr, dead);
    assert_eq!(a.send(&dead, "again".into()), Err(SendError::Backoff));
    assert_eq!(a.snapshot()[0].state, "backoff");
}

#[tokio::test]
async fn shutdown_flushes_and_returns() {
    let (a, _a_rx, _) = node(LinkConfig::default()).await;
    let (_b, mut b_rx, b_addr) = node(LinkConfig::default()).await;
    for i in 0..100 {
        a.send(&b_addr, format!("m{i}")).expect("queued");
    }
    a.shutdown(Duration::from_secs(5)).await;
    for i in 0..100 {
        assert_eq!(next_frame(&mut b_rx).await.1, format!("m{i}"));
    }
}

#[tokio::test]
async fn payload_failing_validation_closes_the_link() {
    let (b, mut b_rx, b_addr) = node(LinkConfig::default()).await;
    let (a, _a_rx, _a_addr) = node(LinkConfig::default()).await;
    a.send(&b_addr, "y".repeat(6000)).expect("queued");
    let (_addr, reason) = next_down(&mut b_rx).await;
    assert!(reason.contains("payload of 6000 bytes"), "{reason}");
    assert_eq!(b.counters().closed_malformed.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[tokio::test]
async fn failed_addresses_do_not_grow_the_table_without_bound() {
    let config = LinkConfig { max_links: 2, backoff_initial: std::time::Duration::from_millis(1), ..LinkConfig::default() };
    let (a, mut a_rx, _) = node(config).await;
    // Ports with nothing listening.
    let mut dead = Vec::new();
    for _ in 0..10 {
        let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        dead.push(format!("ws://{}", l.local_addr().expect("bound")));
    }
    let mut refused = 0;
    for addr in &dead {
        match a.send(addr, "x".into()) {
            Ok(()) => {
                next_down(&mut a_rx).await;
            }
            Err(SendError::TooManyLinks) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(a.snapshot().len() <= 4, "table bounded by twice max_links: {:?}", a.snapshot());
    // Once their backoff has passed, old entries make room again.
    if refused > 0 {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while a.send(&dead[0], "again".into()).is_err() {
            assert!(tokio::time::Instant::now() < deadline, "expired backoff entries never made room");
            tokio::task::yield_now().await;
        }
    }
}
