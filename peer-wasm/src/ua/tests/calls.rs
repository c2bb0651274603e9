//! Calls and messages between two agents through the test proxy.

use super::{Net, PROXY_HOST};
use crate::ua::{CallPhase, Event, UaError};
use sip::{Method, Response};

const OFFER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
const ANSWER: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";

/// (phase, code, reason) of every call event of `side`.
fn phases(events: &[Event]) -> Vec<(CallPhase, u16, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Call { phase, code, reason, .. } => Some((*phase, *code, reason.clone())),
            _ => None,
        })
        .collect()
}

fn phase(p: CallPhase, code: u16, reason: &str) -> (CallPhase, u16, String) {
    (p, code, reason.to_owned())
}

/// Alice calls bob; returns (alice's handle, bob's handle) with bob ringing.
fn ring(net: &mut Net) -> (u32, u32) {
    let call = net.uas[0].start_call("bob").expect("connected");
    net.uas[0].send_offer(net.now_ms, call, OFFER).expect("preparing");
    net.run();
    let incoming = net.take_events(1);
    let Some(Event::Incoming { call: theirs, from, display_name, sdp, video }) = incoming.into_iter().next() else {
        panic!("bob was not called")
    };
    assert_eq!((from.as_str(), display_name.as_deref(), sdp.as_str(), video), ("sip:alice@example.org", Some("Alice"), OFFER, true));
    assert_eq!(
        phases(&net.take_events(0)),
        [phase(CallPhase::Preparing, 0, ""), phase(CallPhase::Calling, 0, ""), phase(CallPhase::Ringing, 180, "Ringing")]
    );
    (call, theirs)
}

#[test]
fn call_answer_hang_up() {
    let mut net = Net::registered();
    let (call, theirs) = ring(&mut net);
    net.uas[1].accept(net.now_ms, theirs, ANSWER).expect("incoming");
    net.run();
    let events = net.take_events(0);
    assert!(events.contains(&Event::RemoteAnswer { call, sdp: ANSWER.into() }));
    assert_eq!(phases(&events), [phase(CallPhase::Connected, 200, "OK")]);
    assert_eq!(phases(&net.take_events(1)), [phase(CallPhase::Connected, 200, "OK")]);
    assert_eq!(net.uas[0].call_phase(call), Some(CallPhase::Connected));
    // The ACK went through the proxy to bob's contact, and bob got it.
    let ack = &net.sent_requests(0, &Method::Ack)[0];
    assert_eq!(ack.headers.routes().next().and_then(|r| r.uri.as_sip()).map(|u| u.host.as_str()), Some(PROXY_HOST));
    assert_eq!(ack.uri.to_string(), net.uas[1].contact_uri());
    net.advance_to(net.now_ms + 60_000);
    assert!(net.sent_requests(1, &Method::Bye).is_empty(), "the ACK arrived, no BYE for a missing one");
    net.uas[0].hangup(net.now_ms, call).expect("connected");
    net.run();
    let bye = &net.sent_requests(0, &Method::Bye)[0];
    assert_eq!(bye.uri.to_string(), net.uas[1].contact_uri());
    assert_eq!(bye.headers.cseq().map(|c| c.seq), Some(2));
    assert_eq!(phases(&net.take_events(0)), [phase(CallPhase::Ended, 0, "hung up")]);
    assert_eq!(phases(&net.take_events(1)), [phase(CallPhase::Ended, 0, "peer hung up")]);
    assert_eq!(net.sent_responses(1).last().map(|r| r.status), Some(200));
    assert_eq!(net.uas[0].hangup(net.now_ms, call), Err(UaError::NoSuchCall(call)));
    assert_eq!(net.uas[0].call_phase(call), None);
}

#[test]
fn callee_hangs_up() {
    let mut net = Net::registered();
    let (call, theirs) = ring(&mut net);
    net.uas[1].accept(net.now_ms, theirs, ANSWER).expect("incoming");
    net.run();
    net.take_events(0);
    net.uas[1].hangup(net.now_ms, theirs).expect("connected");
    net.run();
    let bye = &net.sent_requests(1, &Method::Bye)[0];
    assert_eq!(bye.uri.to_string(), net.uas[0].contact_uri());
    assert_eq!(phases(&net.take_events(0)), [phase(CallPhase::Ended, 0, "peer hung up")]);
    assert!(net.uas[0].hangup(net.now_ms, call).is_err());
}

#[test]
fn decline_busy_and_decline() {
    for status in [486, 603] {
        let mut net = Net::registered();
        let (_, theirs) = ring(&mut net);
        net.uas[1].reject(net.now_ms, theirs, status).expect("incoming");
        net.run();
        let reason = sip::reason_phrase(status);
        assert_eq!(phases(&net.take_events(0)), [phase(CallPhase::Ended, status, reason)]);
        assert_eq!(phases(&net.take_events(1)), [phase(CallPhase::Ended, status, reason)]);
        // The ACK of a non-2xx reuses the INVITE's branch.
        let invite = &net.sent_requests(0, &Method::Invite)[0];
        let ack = &net.sent_requests(0, &Method::Ack)[0];
        assert_eq!(ack.headers.top_via().and_then(|v| v.branch()), invite.headers.top_via().and_then(|v| v.branch()));
        assert!(ack.headers.to().and_then(|t| t.tag()).is_some());
    }
    let mut net = Net::registered();
    let (_, theirs) = ring(&mut net);
    assert_eq!(net.uas[1].reject(net.now_ms, theirs, 200), Err(UaError::BadStatus(200)));
}

#[test]
fn cancel_before_the_answer() {
    let mut net = Net::registered();
    let (call, theirs) = ring(&mut net);
    net.uas[0].hangup(net.now_ms, call).expect("ringing");
    net.run();
    assert_eq!(net.sent_requests(0, &Method::Cancel).len(), 1);
    assert_eq!(phases(&net.take_events(1)), [phase(CallPhase::Ended, 487, "cancelled by caller")]);
    assert_eq!(phases(&net.take_events(0)), [phase(CallPhase::Ended, 487, "cancelled")]);
    assert!(net.uas[1].accept(net.now_ms, theirs, ANSWER).is_err());
}

#[test]
fn cancel_waits_for_a_provisional_response() {
    let mut net = Net::registered();
    let call = net.uas[0].start_call("sip:bob@example.org").expect("connected");
    net.uas[0].send_offer(net.now_ms, call, OFFER).expect("preparing");
    // Hung up before anything came back: no CANCEL yet (RFC 3261 §9.1).
    net.uas[0].hangup(net.now_ms, call).expect("calling");
    let queued: Vec<String> = std::iter::from_fn(|| net.uas[0].poll_transmit()).collect();
    assert_eq!(queued.len(), 1, "only the INVITE");
    assert!(queued[0].starts_with("INVITE "));
    // Replay through the proxy: the 100 Trying releases the CANCEL.
    let mut net = Net::registered();
    let call = net.uas[0].start_call("bob").expect("connected");
    net.uas[0].send_offer(net.now_ms, call, OFFER).expect("preparing");
    net.uas[0].hangup(net.now_ms, call).expect("calling");
    net.run();
    assert_eq!(net.sent_requests(0, &Method::Cancel).len(), 1);
    assert_eq!(phases(&net.take_events(0)).last(), Some(&phase(CallPhase::Ended, 487, "cancelled")));
}

#[test]
fn answer_crossing_cancel_is_acked_and_hung_up() {
    let mut net = Net::registered();
    let (call, theirs) = ring(&mut net);
    net.uas[0].hangup(net.now_ms, call).expect("ringing");
    net.uas[1].accept(net.now_ms, theirs, ANSWER).expect("incoming");
    net.run();
    assert_eq!(net.sent_requests(0, &Method::Ack).len(), 1);
    assert_eq!(net.sent_requests(0, &Method::Bye).len(), 1);
    assert_eq!(phases(&net.take_events(0)).last(), Some(&phase(CallPhase::Ended, 0, "hung up")));
    assert_eq!(phases(&net.take_events(1)).last(), Some(&phase(CallPhase::Ended, 0, "peer hung up")));
}

#[test]
fn unknown_address_is_not_found() {
    let mut net = Net::registered();
    let call = net.uas[0].start_call("carol@example.org").expect("connected");
    net.uas[0].send_offer(net.now_ms, call, OFFER).expect("preparing");
    net.run();
    assert_eq!(phases(&net.take_events(0)).last(), Some(&phase(CallPhase::Ended, 404, "Not Found")));
    assert!(matches!(net.uas[0].start_call("sip:nobody"), Err(UaError::BadAddress(_))));
}

#[test]
fn unanswered_invite_times_out_and_lost_connection_ends_calls() {
    let mut net = Net::registered();
    net.drop_all = true;
    let call = net.uas[0].start_call("bob").expect("connected");
    net.uas[0].send_offer(net.now_ms, call, OFFER).expect("preparing");
    net.run();
    net.advance_to(net.now_ms + 32_000);
    assert_eq!(phases(&net.take_events(0)).last(), Some(&phase(CallPhase::Ended, 408, "Request Timeout")));
    let call = net.uas[0].start_call("bob").expect("connected");
    net.uas[0].send_offer(net.now_ms, call, OFFER).expect("preparing");
    net.uas[0].handle_disconnected(net.now_ms);
    net.run();
    assert_eq!(phases(&net.take_events(0)).last(), Some(&phase(CallPhase::Ended, 503, "Connection lost")));
    assert_eq!(net.uas[0].start_call("bob"), Err(UaError::NotConnected));
}

#[test]
fn missing_ack_hangs_up() {
    let mut net = Net::registered();
    let (_, theirs) = ring(&mut net);
    net.uas[1].accept(net.now_ms, theirs, ANSWER).expect("incoming");
    net.drop_all = true; // the ACK never arrives
    net.run();
    net.take_events(1);
    net.advance_to(net.now_ms + 32_000);
    assert_eq!(phases(&net.take_events(1)), [phase(CallPhase::Ended, 408, "no ACK")]);
    assert_eq!(net.sent_requests(1, &Method::Bye).len(), 1);
}

#[test]
fn messages_both_ways() {
    let mut net = Net::registered();
    let id = net.uas[0].send_message(net.now_ms, "bob", "hello bob ✓").expect("connected");
    net.run();
    assert!(net.take_events(0).contains(&Event::MessageStatus { message: id, code: 200, reason: "OK".into() }));
    assert_eq!(
        net.take_events(1),
        [Event::Message { from: "sip:alice@example.org".into(), display_name: Some("Alice".into()), text: "hello bob ✓".into() }]
    );
    let id = net.uas[1].send_message(net.now_ms, "alice@example.org", "hi").expect("connected");
    net.run();
    assert!(net.take_events(1).contains(&Event::MessageStatus { message: id, code: 200, reason: "OK".into() }));
    assert!(matches!(&net.take_events(0)[..], [Event::Message { text, .. }] if text == "hi"));
    let id = net.uas[1].send_message(net.now_ms, "carol@example.org", "?").expect("connected");
    net.run();
    assert!(net.take_events(1).contains(&Event::MessageStatus { message: id, code: 404, reason: "Not Found".into() }));
}

#[test]
fn bad_input_is_answered_not_fatal() {
    let mut net = Net::registered();
    for junk in [&b""[..], b"\xff\xfe", b"INVITE", b"SIP/2.0 200 OK\r\n\r\n"] {
        net.uas[0].handle_frame(net.now_ms, junk);
    }
    // No Call-ID: 400 back along the Via.
    let no_call_id = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bKz\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    net.uas[0].handle_frame(net.now_ms, no_call_id.as_bytes());
    let sent: Vec<Response> = std::iter::from_fn(|| net.uas[0].poll_transmit())
        .filter_map(|t| sip::Message::parse(t.as_bytes()).ok()?.as_response().cloned())
        .collect();
    assert_eq!(sent.iter().map(|r| r.status).collect::<Vec<_>>(), [400]);
    // A BYE for no dialog: 481. An unknown method: 405. An offer-less INVITE: 488.
    let bye = no_call_id.replace("OPTIONS", "BYE").replace("CSeq: 1 BYE", "Call-ID: q\r\nCSeq: 1 BYE").replace("To: <sip:a@b>", "To: <sip:a@b>;tag=9");
    net.uas[0].handle_frame(net.now_ms, bye.as_bytes());
    let sub = no_call_id.replace("OPTIONS", "SUBSCRIBE").replace("CSeq: 1 SUBSCRIBE", "Call-ID: q\r\nCSeq: 1 SUBSCRIBE");
    net.uas[0].handle_frame(net.now_ms, sub.as_bytes());
    let invite = no_call_id.replace("OPTIONS", "INVITE").replace("CSeq: 1 INVITE", "Call-ID: q\r\nCSeq: 1 INVITE\r\nContact: <sip:x@y>");
    net.uas[0].handle_frame(net.now_ms, invite.as_bytes());
    let statuses: Vec<u16> = std::iter::from_fn(|| net.uas[0].poll_transmit())
        .filter_map(|t| sip::Message::parse(t.as_bytes()).ok()?.as_response().map(|r| r.status))
        .collect();
    assert_eq!(statuses, [481, 405, 488]);
    assert!(std::iter::from_fn(|| net.uas[0].poll_event()).next().is_none());
}

#[test]
fn retransmitted_invite_is_absorbed() {
    let mut net = Net::registered();
    let (_, _) = ring(&mut net);
    let invite_at_bob = net.sent_requests(0, &Method::Invite)[0].clone();
    // The proxy's copy is what bob saw; replay it as a retransmission.
    let mut replay = invite_at_bob;
    let branch = format!("z9hG4bKproxy{}", replay.headers.top_via().and_then(|v| v.branch()).unwrap_or(""));
    replay.headers.prepend_record_route(sip::NameAddr::new(format!("sip:{PROXY_HOST};lr").parse().expect("valid")));
    replay.headers.prepend_via(sip::Via::new(sip::Transport::Ws, PROXY_HOST, None, &branch));
    replay.uri = net.uas[1].contact_uri().parse().expect("valid");
    let before = net.sent_responses(1).len();
    net.uas[1].handle_frame(net.now_ms, replay.to_string().as_bytes());
    let again: Vec<String> = std::iter::from_fn(|| net.uas[1].poll_transmit()).collect();
    assert_eq!(again.len(), 1);
    assert!(again[0].starts_with("SIP/2.0 180 Ringing"), "{}", again[0]);
    assert!(net.uas[1].poll_event().is_none(), "no second incoming call");
    assert_eq!(net.sent_responses(1).len(), before);
}
