//! Client transactions: RFC 3261 Figure 5 (INVITE, as amended by RFC 6026
//! Figure 5) and Figure 6 (non-INVITE).

use super::{drain, invite, options, parse_request, response};
use crate::transaction::{ClientEvent, ClientState, ClientTransaction, Timers, TxnError};
use crate::{CSeq, Method, Request, Response};

fn udp(request: Request) -> ClientTransaction {
    ClientTransaction::new(0, request, false, Timers::default()).expect("valid request")
}

fn tcp(request: Request) -> ClientTransaction {
    ClientTransaction::new(0, request, true, Timers::default()).expect("valid request")
}

fn events(txn: &mut ClientTransaction) -> Vec<ClientEvent> {
    drain(|| txn.poll_event())
}

fn statuses(events: &[ClientEvent]) -> Vec<u16> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Response(r) => Some(r.status),
            _ => None,
        })
        .collect()
}

/// Runs the timers, each at its deadline, until none is left before
/// `limit_ms`; returns the time of every request sent meanwhile.
fn run_timers(txn: &mut ClientTransaction, limit_ms: u64) -> Vec<u64> {
    let mut sends = Vec::new();
    while let Some(at) = txn.poll_timeout().filter(|at| *at <= limit_ms) {
        txn.handle_timeout(at);
        sends.extend(drain(|| txn.poll_transmit()).iter().map(|_| at));
    }
    sends
}

#[test]
fn invite_over_udp_timer_a_doubles_until_timer_b() {
    let mut txn = udp(invite());
    assert_eq!(txn.state(), ClientState::Calling);
    assert_eq!(txn.poll_transmit().as_ref(), Some(txn.request()));
    assert_eq!(txn.poll_timeout(), Some(500));
    let sends = run_timers(&mut txn, 100_000);
    // Timer A: 500, 1000, 2000, 4000, 8000, 16000 ms apart, no T2 cap.
    assert_eq!(sends, [500, 1500, 3500, 7500, 15_500, 31_500]);
    assert_eq!(txn.state(), ClientState::Terminated);
    assert_eq!(events(&mut txn), [ClientEvent::Timeout, ClientEvent::Terminated]);
    assert_eq!(txn.poll_timeout(), None);
}

#[test]
fn invite_timer_b_fires_at_64_t1() {
    let mut txn = udp(invite());
    drain(|| txn.poll_transmit());
    txn.handle_timeout(31_999);
    assert_eq!(txn.state(), ClientState::Calling);
    txn.handle_timeout(32_000);
    assert_eq!(events(&mut txn), [ClientEvent::Timeout, ClientEvent::Terminated]);
}

#[test]
fn invite_over_tcp_has_no_timer_a() {
    let mut txn = tcp(invite());
    assert_eq!(drain(|| txn.poll_transmit()).len(), 1);
    assert_eq!(txn.poll_timeout(), Some(32_000));
    let sends = run_timers(&mut txn, 100_000);
    assert!(sends.is_empty());
    assert_eq!(events(&mut txn), [ClientEvent::Timeout, ClientEvent::Terminated]);
}

#[test]
fn invite_provisional_stops_retransmissions_and_timer_b() {
    let mut txn = udp(invite());
    drain(|| txn.poll_transmit());
    txn.handle_timeout(500);
    assert_eq!(drain(|| txn.poll_transmit()).len(), 1);
    txn.handle_response(600, response(txn.request(), 100));
    txn.handle_response(700, response(txn.request(), 180));
    txn.handle_response(800, response(txn.request(), 180));
    assert_eq!(txn.state(), ClientState::Proceeding);
    assert_eq!(statuses(&events(&mut txn)), [100, 180, 180]);
    // No timer in Proceeding: the TU decides (CANCEL, or a proxy's Timer C).
    assert_eq!(txn.poll_timeout(), None);
    txn.handle_timeout(1_000_000);
    assert!(drain(|| txn.poll_transmit()).is_empty());
    assert_eq!(txn.state(), ClientState::Proceeding);
}

#[test]
fn invite_non_2xx_over_udp_acks_and_absorbs_until_timer_d() {
    let invite = invite();
    let mut txn = udp(invite.clone());
    drain(|| txn.poll_transmit());
    txn.handle_response(100, response(&invite, 180));
    let busy = response(&invite, 486);
    txn.handle_response(200, busy.clone());
    assert_eq!(txn.state(), ClientState::Completed);
    assert_eq!(statuses(&events(&mut txn)), [180, 486]);
    let acks = drain(|| txn.poll_transmit());
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    // §17.1.1.3: Request-URI, Call-ID, From, CSeq number from the INVITE;
    // To from the response; only the top Via; the INVITE's Route headers.
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(ack.headers.call_id(), invite.headers.call_id());
    assert_eq!(ack.headers.from(), invite.headers.from());
    assert_eq!(ack.headers.to(), busy.headers.to());
    assert_eq!(ack.headers.cseq(), Some(&CSeq { seq: 31862, method: Method::Ack }));
    assert_eq!(ack.headers.vias().collect::<Vec<_>>(), invite.headers.vias().take(1).collect::<Vec<_>>());
    assert_eq!(ack.headers.routes().collect::<Vec<_>>(), invite.headers.routes().collect::<Vec<_>>());
    // Retransmissions of the final response: the ACK again, nothing for the TU.
    txn.handle_response(1200, busy.clone());
    txn.handle_response(1300, response(&invite, 180));
    assert_eq!(drain(|| txn.poll_transmit()), std::slice::from_ref(ack));
    assert!(events(&mut txn).is_empty());
    // Timer D: 32 s on UDP.
    assert_eq!(txn.poll_timeout(), Some(200 + 32_000));
    txn.handle_timeout(32_199);
    assert_eq!(txn.state(), ClientState::Completed);
    txn.handle_timeout(32_200);
    assert_eq!(events(&mut txn), [ClientEvent::Terminated]);
    txn.handle_response(40_000, busy);
    assert!(drain(|| txn.poll_transmit()).is_empty() && events(&mut txn).is_empty());
}

#[test]
fn invite_non_2xx_over_tcp_terminates_at_once() {
    let invite = invite();
    let mut txn = tcp(invite.clone());
    drain(|| txn.poll_transmit());
    txn.handle_response(100, response(&invite, 603));
    assert_eq!(txn.state(), ClientState::Terminated);
    let sent = drain(|| txn.poll_transmit());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::Ack);
    let ev = events(&mut txn);
    assert_eq!(statuses(&ev), [603]);
    assert_eq!(ev.last(), Some(&ClientEvent::Terminated));
}

#[test]
fn invite_2xx_enters_accepted_and_passes_every_2xx_until_timer_m() {
    let invite = invite();
    let mut txn = udp(invite.clone());
    drain(|| txn.poll_transmit());
    let ok = response(&invite, 200);
    txn.handle_response(300, ok.clone());
    assert_eq!(txn.state(), ClientState::Accepted);
    // No ACK from the transaction for a 2xx: the TU sends it.
    assert!(drain(|| txn.poll_transmit()).is_empty());
    txn.handle_response(800, ok.clone());
    let mut other_fork = ok.clone();
    other_fork.headers.to_mut().expect("To").set_tag("fork2");
    txn.handle_response(900, other_fork);
    txn.handle_response(950, response(&invite, 486));
    txn.handle_response(960, response(&invite, 180));
    assert_eq!(statuses(&events(&mut txn)), [200, 200, 200]);
    assert!(drain(|| txn.poll_transmit()).is_empty());
    // Timer M: 64·T1 from entering Accepted, whatever the transport.
    assert_eq!(txn.poll_timeout(), Some(300 + 32_000));
    txn.handle_timeout(32_300);
    assert_eq!(events(&mut txn), [ClientEvent::Terminated]);

    let mut txn = tcp(invite.clone());
    txn.handle_response(10, ok);
    assert_eq!(txn.poll_timeout(), Some(10 + 32_000));
}

#[test]
fn cancel_guard_bounds_a_proceeding_invite() {
    let invite = invite();
    let mut txn = udp(invite.clone());
    txn.handle_response(100, response(&invite, 180));
    assert_eq!(txn.poll_timeout(), None);
    txn.handle_cancel(5000);
    assert_eq!(txn.poll_timeout(), Some(5000 + 32_000));
    txn.handle_cancel(6000); // a second call does not push it back
    assert_eq!(txn.poll_timeout(), Some(5000 + 32_000));
    txn.handle_response(6000, response(&invite, 183));
    assert_eq!(txn.poll_timeout(), Some(5000 + 32_000));
    txn.handle_timeout(37_000);
    let ev = events(&mut txn);
    assert_eq!(ev[ev.len() - 2..], [ClientEvent::Timeout, ClientEvent::Terminated]);

    // The 487 that normally follows the CANCEL ends it the usual way.
    let mut txn = udp(invite.clone());
    txn.handle_cancel(50); // in Calling, Timer B is earlier anyway
    assert_eq!(txn.poll_timeout(), Some(500));
    txn.handle_response(100, response(&invite, 180));
    assert_eq!(txn.poll_timeout(), Some(50 + 32_000));
    txn.handle_response(200, response(&invite, 487));
    assert_eq!(txn.state(), ClientState::Completed);
    assert_eq!(txn.poll_timeout(), Some(200 + 32_000));
}

#[test]
fn transport_error_terminates_in_every_live_state() {
    let invite = invite();
    for answer in [None, Some(180), Some(200), Some(486)] {
        let mut txn = udp(invite.clone());
        if let Some(status) = answer {
            txn.handle_response(10, response(&invite, status));
        }
        events(&mut txn);
        txn.handle_transport_error(20);
        assert_eq!(events(&mut txn), [ClientEvent::TransportError, ClientEvent::Terminated], "{answer:?}");
        txn.handle_transport_error(30);
        assert!(events(&mut txn).is_empty());
    }
}

#[test]
fn unrelated_responses_are_ignored() {
    let invite = invite();
    let mut txn = udp(invite.clone());
    let mut other_branch = response(&invite, 200);
    other_branch.headers.top_via_mut().expect("Via").params.set("branch", Some("z9hG4bKother"));
    txn.handle_response(10, other_branch);
    let mut other_method = response(&invite, 200);
    other_method.headers.set(CSeq { seq: 31862, method: Method::Cancel }.into());
    txn.handle_response(10, other_method);
    assert_eq!(txn.state(), ClientState::Calling);
    assert_eq!(txn.key().method, Method::Invite);
}

#[test]
fn new_refuses_ack_and_rfc2543_requests() {
    let ack = parse_request("ACK sip:b@h SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\nCSeq: 1 ACK\n\n");
    assert_eq!(ClientTransaction::new(0, ack, false, Timers::default()).err(), Some(TxnError::AckIsNotATransaction));
    let old = parse_request("OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP a;branch=1\nCSeq: 1 OPTIONS\n\n");
    assert_eq!(ClientTransaction::new(0, old, false, Timers::default()).err(), Some(TxnError::NoRfc3261Branch));
}

#[test]
fn non_invite_over_udp_timer_e_caps_at_t2_until_timer_f() {
    let mut txn = udp(options());
    assert_eq!(txn.state(), ClientState::Trying);
    assert_eq!(drain(|| txn.poll_transmit()).len(), 1);
    let sends = run_timers(&mut txn, 100_000);
    // Timer E: 500, 1000, 2000, then T2 = 4000 apart; F at 32 s.
    assert_eq!(sends, [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    assert_eq!(events(&mut txn), [ClientEvent::Timeout, ClientEvent::Terminated]);
}

#[test]
fn non_invite_proceeding_retransmits_every_t2() {
    let options = options();
    let mut txn = udp(options.clone());
    drain(|| txn.poll_transmit());
    txn.handle_response(100, response(&options, 100));
    assert_eq!(txn.state(), ClientState::Proceeding);
    let sends = run_timers(&mut txn, 20_000);
    assert_eq!(sends, [500, 4500, 8500, 12_500, 16_500]);
    // Timer F still runs from the start.
    run_timers(&mut txn, 100_000);
    let ev = events(&mut txn);
    assert_eq!(statuses(&ev), [100]);
    assert_eq!(ev[1..], [ClientEvent::Timeout, ClientEvent::Terminated]);
}

#[test]
fn non_invite_final_over_udp_lingers_timer_k() {
    let options = options();
    let mut txn = udp(options.clone());
    drain(|| txn.poll_transmit());
    let ok = response(&options, 200);
    txn.handle_response(700, ok.clone());
    assert_eq!(txn.state(), ClientState::Completed);
    assert!(drain(|| txn.poll_transmit()).is_empty(), "no ACK for non-INVITE");
    txn.handle_response(800, ok.clone());
    txn.handle_response(900, response(&options, 500));
    assert_eq!(statuses(&events(&mut txn)), [200]);
    assert_eq!(txn.poll_timeout(), Some(700 + 5000));
    txn.handle_timeout(5700);
    assert_eq!(events(&mut txn), [ClientEvent::Terminated]);

    let mut txn = tcp(options.clone());
    txn.handle_response(10, ok);
    assert_eq!(txn.state(), ClientState::Terminated);
    assert_eq!(statuses(&events(&mut txn)), [200]);
}

#[test]
fn a_late_driver_gets_one_retransmission_not_a_burst() {
    let mut txn = udp(options());
    drain(|| txn.poll_transmit());
    txn.handle_timeout(20_000);
    assert_eq!(drain(|| txn.poll_transmit()).len(), 1);
    assert_eq!(txn.poll_timeout(), Some(21_000));
}

#[test]
fn queues_stay_bounded_when_the_driver_does_not_drain() {
    let invite = invite();
    let mut txn = udp(invite.clone());
    for i in 0..10_000 {
        txn.handle_response(i, response(&invite, 180));
        txn.handle_timeout(i);
    }
    let final_response: Response = response(&invite, 486);
    for i in 0..10_000 {
        txn.handle_response(10_000 + i, final_response.clone());
    }
    let sent = drain(|| txn.poll_transmit());
    assert!(sent.len() <= 3, "{}", sent.len());
    let ev = events(&mut txn);
    assert!(ev.len() <= 40, "{}", ev.len());
    // The final response is never the one dropped.
    assert_eq!(statuses(&ev).last(), Some(&486));
}
