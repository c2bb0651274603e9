//! The registrar and proxy on a 3-super-node loopback ring (issue 4):
//! registrations found across nodes, calls with INVITE/180/200/ACK/BYE
//! through both super-nodes, CANCEL, 404 and 480, bindings removed when a
//! WebSocket closes, MESSAGE delivered live and from the ring's mailbox,
//! and malformed input answered without hurting the node.

mod common;
#[path = "common/sip_ua.rs"]
mod sip_ua;

use std::time::Duration;

use common::{eventually, start_ring};
use sip::{Header, Message, Method, Request};
use sip_ua::Ua;

/// REGISTER query (no Contact) for `aor_user` sent by `ua`: the contacts.
async fn query(ua: &mut Ua, aor_user: &str) -> Vec<String> {
    let mut r = ua.request(Method::Register, sip::Uri::sip(Some(aor_user), sip_ua::DOMAIN));
    r.headers.retain(|h| !matches!(h, Header::Contact(_)));
    ua.send(r).await;
    let resp = ua.final_response(Method::Register).await;
    assert_eq!(resp.status, 200, "{resp}");
    resp.headers.contacts().map(|c| c.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_across_the_ring_completes() {
    let nodes = start_ring(3, &[]).await;
    let (a, c) = (&nodes[0], &nodes[2]);
    let mut alice = Ua::ws(&a.http, "alice").await;
    let mut bob = Ua::ws(&c.http, "bob").await;
    assert_eq!(alice.register(300).await.status, 200);
    let ok = bob.register(300).await;
    assert_eq!(ok.status, 200);
    let listed: Vec<String> = ok.headers.contacts().map(|c| c.to_string()).collect();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(listed[0].contains("expires="), "{listed:?}");

    // Alice's registration, made on A, is found from C.
    let mut carol = Ua::udp(&c.sip, "carol").await;
    let contacts = query(&mut carol, "alice").await;
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert!(contacts[0].contains("alice@"), "{contacts:?}");

    // Alice on A calls Bob on C.
    let invite = alice.invite(bob.aor());
    alice.send(invite.clone()).await;
    let trying = alice.response_where(|r| r.status == 100).await;
    assert_eq!(trying.headers.call_id(), invite.headers.call_id());
    let incoming = bob.request_of(Method::Invite).await;
    assert_eq!(incoming.headers.call_id(), invite.headers.call_id());
    assert_eq!(incoming.uri, bob.contact.uri, "Request-URI retargeted to Bob's contact");
    let rr: Vec<String> = incoming.headers.record_routes().map(|r| r.to_string()).collect();
    assert_eq!(rr.len(), 2, "one Record-Route per super-node: {rr:?}");
    assert!(rr.iter().all(|r| r.contains(";lr") && r.contains("ring=")), "{rr:?}");
    bob.send(bob.answer(&incoming, 180, "bobtag")).await;
    assert_eq!(alice.response_where(|r| r.status == 180).await.headers.to().and_then(|t| t.tag()), Some("bobtag"));
    bob.send(bob.answer(&incoming, 200, "bobtag")).await;
    let ok = alice.final_response(Method::Invite).await;
    assert_eq!(ok.status, 200, "{ok}");
    assert!(!ok.body.is_empty(), "the SDP answer reaches the caller");

    // ACK and BYE follow the Record-Route through both super-nodes.
    let mut alice_dialog = Ua::uac_dialog(&invite, &ok);
    let ack = alice_dialog.ack(1, alice.via());
    alice.send(ack).await;
    let got_ack = bob.request_of(Method::Ack).await;
    assert_eq!(got_ack.headers.call_id(), invite.headers.call_id());
    let mut bob_dialog = Ua::uas_dialog(&incoming, "bobtag");
    let bye = bob_dialog.request(Method::Bye, bob.via()).expect("in-dialog BYE");
    bob.send(bye).await;
    let got_bye = alice.request_of(Method::Bye).await;
    alice_dialog.handle_request(&got_bye).expect("BYE is in the dialog");
    alice.send(alice.answer(&got_bye, 200, "unused")).await;
    assert_eq!(bob.final_response(Method::Bye).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_before_the_answer() {
    let nodes = start_ring(3, &[]).await;
    let mut alice = Ua::ws(&nodes[0].http, "alice").await;
    let mut bob = Ua::ws(&nodes[2].http, "bob").await;
    assert_eq!(bob.register(300).await.status, 200);
    let invite = alice.invite(bob.aor());
    alice.send(invite.clone()).await;
    let incoming = bob.request_of(Method::Invite).await;
    bob.send(bob.answer(&incoming, 180, "bobtag")).await;
    alice.response_where(|r| r.status == 180).await;
    alice.send(sip::transaction::cancel_for(&invite)).await;
    assert_eq!(alice.final_response(Method::Cancel).await.status, 200);
    let cancel = bob.request_of(Method::Cancel).await;
    bob.send(bob.answer(&cancel, 200, "bobtag")).await;
    bob.send(bob.answer(&incoming, 487, "bobtag")).await;
    assert_eq!(alice.final_response(Method::Invite).await.status, 487);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_is_404_and_unreachable_is_480() {
    let mut nodes = start_ring(3, &[]).await;
    let mut alice = Ua::ws(&nodes[0].http, "alice").await;
    let invite = alice.invite(sip::Uri::sip(Some("nobody"), sip_ua::DOMAIN));
    alice.send(invite).await;
    assert_eq!(alice.final_response(Method::Invite).await.status, 404);

    // Bob registers on C, then C crashes: his binding is still on the ring
    // (replicated), but the super-node he is attached to is gone.
    let mut bob = Ua::udp(&nodes[2].sip, "bob").await;
    assert_eq!(bob.register(300).await.status, 200);
    nodes[2].kill();
    let invite = alice.invite(bob.aor());
    alice.send(invite).await;
    assert_eq!(alice.final_response(Method::Invite).await.status, 480);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_disappears_when_its_websocket_closes() {
    let nodes = start_ring(3, &[]).await;
    let mut bob = Ua::ws(&nodes[2].http, "bob").await;
    assert_eq!(bob.register(300).await.status, 200);
    let mut alice = Ua::udp(&nodes[0].sip, "alice").await;
    assert_eq!(query(&mut alice, "bob").await.len(), 1);
    bob.close().await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let last = loop {
        let last = query(&mut alice, "bob").await;
        if last.is_empty() || tokio::time::Instant::now() > deadline {
            break last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(last.is_empty(), "binding still there: {last:?}");
    let invite = alice.invite(sip::Uri::sip(Some("bob"), sip_ua::DOMAIN));
    alice.send(invite).await;
    assert_eq!(alice.final_response(Method::Invite).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_is_delivered_live_and_from_the_mailbox() {
    let nodes = start_ring(3, &[]).await;
    let mut alice = Ua::ws(&nodes[0].http, "alice").await;
    let mut bob = Ua::ws(&nodes[2].http, "bob").await;
    assert_eq!(bob.register(300).await.status, 200);
    let mut msg = alice.request(Method::Message, bob.aor());
    msg.headers.push(Header::from(sip::ContentType::new("text/plain")));
    msg.body = b"hello bob".to_vec();
    alice.send(msg).await;
    let got = bob.request_of(Method::Message).await;
    assert_eq!(got.body, b"hello bob");
    bob.send(bob.answer(&got, 200, "b")).await;
    assert_eq!(alice.final_response(Method::Message).await.status, 200);

    // Carol has never registered: the message waits on the ring (202)...
    let carol_aor = sip::Uri::sip(Some("carol"), sip_ua::DOMAIN);
    let mut msg = alice.request(Method::Message, carol_aor);
    msg.headers.push(Header::from(sip::ContentType::new("text/plain")));
    msg.body = b"hello carol".to_vec();
    alice.send(msg).await;
    assert_eq!(alice.final_response(Method::Message).await.status, 202);
    // ...and reaches her when she registers, on another super-node.
    let mut carol = Ua::ws(&nodes[1].http, "carol").await;
    assert_eq!(carol.register(300).await.status, 200);
    let got = carol.request_of(Method::Message).await;
    assert_eq!(got.body, b"hello carol");
    carol.send(carol.answer(&got, 200, "c")).await;
    // Delivered once: re-registering from a new device finds nothing queued.
    eventually(Duration::from_secs(5), "mailbox emptied", || async {
        let stats = common::http("GET", &nodes[1].http, "/api/sip", b"").await.expect("stats");
        stats.1.contains("\"messages_delivered_from_queue\":1")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_sip_answers_and_the_connection_stays() {
    let nodes = start_ring(3, &[]).await;
    let mut ua = Ua::ws(&nodes[0].http, "mallory").await;
    // A request whose Contact is malformed: 400 copying the Call-ID.
    ua.send_raw(b"INVITE sip:bob@example.org SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKbad1\r\nFrom: <sip:m@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\nCall-ID: bad-1\r\nCSeq: 1 INVITE\r\nContact: <sip:m@x;;>>\r\nContent-Length: 0\r\n\r\n").await;
    let Message::Response(r) = ua.recv().await else { panic!("expected a response") };
    assert_eq!((r.status, r.headers.call_id()), (400, Some("bad-1")));
    // Wrong SIP version: 505.
    ua.send_raw(b"OPTIONS sip:bob@example.org SIP/7.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKbad2\r\nFrom: <sip:m@example.org>;tag=1\r\nTo: <sip:bob@example.org>\r\nCall-ID: bad-2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").await;
    let Message::Response(r) = ua.recv().await else { panic!("expected a response") };
    assert_eq!(r.status, 505);
    // Max-Forwards: 0 → 483; a tel: Request-URI → 416; Proxy-Require → 420.
    let mut req = ua.request(Method::Message, sip::Uri::sip(Some("bob"), sip_ua::DOMAIN));
    req.headers.set(Header::MaxForwards(0));
    ua.send(req).await;
    assert_eq!(ua.final_response(Method::Message).await.status, 483);
    let mut req: Request = ua.request(Method::Message, sip::Uri::sip(Some("bob"), sip_ua::DOMAIN));
    req.uri = "tel:+15551234".parse().expect("tel uri");
    ua.send(req).await;
    assert_eq!(ua.final_response(Method::Message).await.status, 416);
    let mut req = ua.request(Method::Message, sip::Uri::sip(Some("bob"), sip_ua::DOMAIN));
    req.headers.push(Header::ProxyRequire(vec!["foo".into()]));
    ua.send(req).await;
    let r = ua.final_response(Method::Message).await;
    assert_eq!(r.status, 420);
    assert_eq!(r.headers.unsupported().collect::<Vec<_>>(), vec!["foo"]);
    // Too brief a registration: 423 with Min-Expires.
    let r = ua.register(10).await;
    assert_eq!(r.status, 423);
    assert_eq!(r.headers.other("Min-Expires").next(), Some("60"));
    // A MESSAGE whose body takes it past the 64 KiB limit: 413, and the
    // connection stays.
    let mut big = ua.request(Method::Message, sip::Uri::sip(Some("bob"), sip_ua::DOMAIN));
    big.headers.push(Header::from(sip::ContentType::new("text/plain")));
    big.body = vec![b'x'; 70 * 1024];
    ua.send(big).await;
    let Message::Response(r) = ua.recv().await else { panic!("expected a response") };
    assert_eq!(r.status, 413, "{r}");
    // Garbage with no Via cannot be answered, but does not hurt either.
    ua.send_raw(b"\x00\x01 not sip at all").await;
    // OPTIONS to the super-node itself: 200 (a heartbeat).
    let opt = ua.request(Method::Options, sip::Uri::sip(None, "127.0.0.1"));
    ua.send(opt).await;
    assert_eq!(ua.final_response(Method::Options).await.status, 200);
    assert_eq!(ua.register(300).await.status, 200, "the connection still works");
    let stats = common::http("GET", &nodes[0].http, "/api/sip", b"").await.expect("stats").1;
    let stats: serde_json::Value = serde_json::from_str(&stats).expect("json");
    assert!(stats["malformed_in"].as_u64().unwrap_or(0) >= 3, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_within_timer_c_is_408_and_the_callee_is_cancelled() {
    let nodes = start_ring(3, &["--timer-c-ms", "1500"]).await;
    let mut alice = Ua::ws(&nodes[0].http, "alice").await;
    let mut bob = Ua::ws(&nodes[2].http, "bob").await;
    assert_eq!(bob.register(300).await.status, 200);
    let invite = alice.invite(bob.aor());
    alice.send(invite).await;
    let incoming = bob.request_of(Method::Invite).await;
    bob.send(bob.answer(&incoming, 180, "bobtag")).await;
    let started = tokio::time::Instant::now();
    assert_eq!(alice.final_response(Method::Invite).await.status, 408);
    assert!(started.elapsed() >= Duration::from_millis(1000), "408 came before timer C");
    // The ringing phone is told to stop.
    let cancel = bob.request_of(Method::Cancel).await;
    assert_eq!(cancel.headers.call_id(), incoming.headers.call_id());
}
