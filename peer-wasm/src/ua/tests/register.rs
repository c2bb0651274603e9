//! Registration: refresh, 423, reconnect, unregister, failures.

use super::Net;
use crate::ua::{Config, Event, RegistrationState, UserAgent};
use sip::{Method, Request};

fn states(events: &[Event]) -> Vec<(RegistrationState, u32, u16)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Registration { state, expires_secs, code, .. } => Some((*state, *expires_secs, *code)),
            _ => None,
        })
        .collect()
}

fn expires(r: &Request) -> Option<u32> {
    r.headers.expires()
}

#[test]
fn registers_and_refreshes_before_expiry() {
    let mut net = Net::new();
    net.uas[0].register(net.now_ms, "alice@example.org", Some("Alice")).expect("valid");
    net.run();
    assert_eq!(states(&net.take_events(0)), [(RegistrationState::Registered, 300, 200)]);
    let first = net.sent_requests(0, &Method::Register);
    assert_eq!(first.len(), 1);
    let reg = &first[0];
    assert_eq!(reg.uri.to_string(), "sip:example.org");
    assert_eq!(expires(reg), Some(600));
    let contact = reg.headers.contacts().next().expect("contact").to_string();
    assert!(contact.contains(";transport=ws;ob>;+sip.instance=\"<urn:uuid:"), "{contact}");
    assert_eq!(reg.headers.to().map(|t| t.to_string()).as_deref(), Some("\"Alice\" <sip:alice@example.org>"));
    // Refreshed at three quarters of the 300 s granted, same Call-ID, next CSeq.
    net.advance_to(1_000 + 224_000);
    assert_eq!(net.sent_requests(0, &Method::Register).len(), 1);
    net.advance_to(1_000 + 226_000);
    let all = net.sent_requests(0, &Method::Register);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].headers.call_id(), reg.headers.call_id());
    assert_eq!(all[1].headers.cseq().map(|c| c.seq), Some(2));
    assert_eq!(states(&net.take_events(0)), [(RegistrationState::Registered, 300, 200)]);
}

#[test]
fn too_brief_gets_min_expires() {
    let mut net = Net::new();
    net.uas[0] = UserAgent::new(Config { register_expires_secs: 30, ..Config::default() }, 9);
    net.uas[0].handle_connected(net.now_ms);
    net.uas[0].register(net.now_ms, "alice@example.org", None).expect("valid");
    net.run();
    let sent: Vec<_> = net.sent_requests(0, &Method::Register).iter().map(expires).collect();
    assert_eq!(sent, [Some(30), Some(60)]);
    assert_eq!(states(&net.take_events(0)), [(RegistrationState::Registered, 60, 200)]);
}

#[test]
fn registers_again_after_reconnect_and_unregisters() {
    let mut net = Net::registered();
    net.uas[1].handle_disconnected(net.now_ms);
    net.run();
    assert_eq!(states(&net.take_events(1)), [(RegistrationState::Unregistered, 0, 0)]);
    // No refresh is attempted while disconnected.
    net.advance_to(net.now_ms + 400_000);
    assert_eq!(net.sent_requests(1, &Method::Register).len(), 1);
    net.uas[1].handle_connected(net.now_ms);
    net.run();
    assert_eq!(states(&net.take_events(1)), [(RegistrationState::Registered, 300, 200)]);
    assert_eq!(net.sent_requests(1, &Method::Register).len(), 2);
    net.uas[1].unregister(net.now_ms);
    net.run();
    assert_eq!(expires(net.sent_requests(1, &Method::Register).last().expect("sent")), Some(0));
    assert_eq!(states(&net.take_events(1)), [(RegistrationState::Unregistered, 0, 200)]);
    // Nothing is refreshed any more.
    net.advance_to(net.now_ms + 1_000_000);
    assert_eq!(net.sent_requests(1, &Method::Register).len(), 3);
}

#[test]
fn unanswered_register_fails_then_retries() {
    let mut net = Net::new();
    net.drop_all = true;
    net.uas[0].register(net.now_ms, "alice@example.org", None).expect("valid");
    net.run();
    net.advance_to(1_000 + 32_000);
    assert_eq!(states(&net.take_events(0)), [(RegistrationState::Failed, 0, 408)]);
    net.drop_all = false;
    net.advance_to(1_000 + 34_001);
    assert_eq!(states(&net.take_events(0)), [(RegistrationState::Registered, 300, 200)]);
}

#[test]
fn bad_addresses_are_refused() {
    let mut net = Net::new();
    assert!(net.uas[0].register(net.now_ms, "alice", None).is_err());
    assert!(net.uas[0].register(net.now_ms, "tel:+1234", None).is_err());
    assert!(net.sent[0].is_empty());
}
