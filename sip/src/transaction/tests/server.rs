//! Server transactions: RFC 3261 Figure 7 (INVITE, as amended by RFC 6026
//! Figure 7) and Figure 8 (non-INVITE).

use super::{drain, invite, options, parse_request, response};
use crate::transaction::{
    ServerEvent, ServerRequestOutcome, ServerState, ServerTransaction, Timers, TxnError, TRYING_DELAY_MS,
};
use crate::{Method, Request, Response};

fn udp(request: &Request) -> ServerTransaction {
    ServerTransaction::new(0, request, false, Timers::default()).expect("valid request")
}

fn tcp(request: &Request) -> ServerTransaction {
    ServerTransaction::new(0, request, true, Timers::default()).expect("valid request")
}

fn sent(txn: &mut ServerTransaction) -> Vec<u16> {
    drain(|| txn.poll_transmit()).iter().map(|r| r.status).collect()
}

fn events(txn: &mut ServerTransaction) -> Vec<ServerEvent> {
    drain(|| txn.poll_event())
}

/// The ACK a client transaction sends for `status` (same branch).
fn ack(invite: &Request, status: u16) -> Request {
    crate::transaction::build::ack_for_non_2xx(invite, &response(invite, status))
}

#[test]
fn invite_sends_100_trying_after_200_ms_of_tu_silence() {
    let invite = invite();
    let mut txn = udp(&invite);
    assert_eq!(txn.state(), ServerState::Proceeding);
    assert!(sent(&mut txn).is_empty());
    assert_eq!(txn.poll_timeout(), Some(TRYING_DELAY_MS));
    txn.handle_timeout(TRYING_DELAY_MS);
    let trying = drain(|| txn.poll_transmit());
    assert_eq!(trying.len(), 1);
    assert_eq!(trying[0].status, 100);
    assert_eq!(trying[0].headers.to().and_then(|t| t.tag()), None);
    assert_eq!(txn.poll_timeout(), None, "then the TU has the floor");
    // A retransmitted INVITE gets the 100 again.
    assert_eq!(txn.handle_request(900, &invite), ServerRequestOutcome::Retransmission);
    assert_eq!(sent(&mut txn), [100]);

    // A TU that answers within 200 ms: no 100 from the transaction.
    let mut txn = udp(&invite);
    txn.respond(50, response(&invite, 180)).expect("allowed");
    txn.handle_timeout(TRYING_DELAY_MS);
    assert_eq!(sent(&mut txn), [180]);

    // A client already retransmitting: 100 at once.
    let mut txn = udp(&invite);
    txn.handle_request(10, &invite);
    assert_eq!(sent(&mut txn), [100]);
    txn.handle_timeout(TRYING_DELAY_MS);
    assert!(sent(&mut txn).is_empty());
}

#[test]
fn invite_retransmission_resends_the_latest_provisional() {
    let invite = invite();
    let mut txn = udp(&invite);
    txn.respond(10, response(&invite, 180)).expect("allowed");
    txn.respond(20, response(&invite, 183)).expect("allowed");
    assert_eq!(sent(&mut txn), [180, 183]);
    txn.handle_request(30, &invite);
    txn.handle_request(31, &invite);
    assert_eq!(sent(&mut txn), [183], "one re-send while one is waiting");
    assert_eq!(txn.last_response().map(|r| r.status), Some(183));
}

#[test]
fn invite_non_2xx_over_udp_timer_g_until_timer_h() {
    let invite = invite();
    let mut txn = udp(&invite);
    txn.respond(0, response(&invite, 486)).expect("allowed");
    assert_eq!(txn.state(), ServerState::Completed);
    assert_eq!(sent(&mut txn), [486]);
    let mut resends = Vec::new();
    while let Some(at) = txn.poll_timeout() {
        txn.handle_timeout(at);
        resends.extend(drain(|| txn.poll_transmit()).iter().map(|_| at));
    }
    // Timer G: 500, 1000, 2000, then T2 = 4000 apart; Timer H at 64·T1.
    assert_eq!(resends, [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    assert_eq!(events(&mut txn), [ServerEvent::AckTimeout, ServerEvent::Terminated]);
}

#[test]
fn invite_ack_confirms_then_timer_i() {
    let invite = invite();
    let mut txn = udp(&invite);
    txn.respond(0, response(&invite, 404)).expect("allowed");
    sent(&mut txn);
    txn.handle_timeout(500);
    assert_eq!(sent(&mut txn), [404]);
    // A retransmitted INVITE in Completed gets the final response again.
    assert_eq!(txn.handle_request(700, &invite), ServerRequestOutcome::Retransmission);
    assert_eq!(sent(&mut txn), [404]);
    assert_eq!(txn.handle_request(800, &ack(&invite, 404)), ServerRequestOutcome::Ack);
    assert_eq!(txn.state(), ServerState::Confirmed);
    assert_eq!(txn.poll_timeout(), Some(800 + 5000), "Timer I = T4; G and H stopped");
    // Confirmed absorbs ACKs and INVITEs without sending.
    assert_eq!(txn.handle_request(900, &ack(&invite, 404)), ServerRequestOutcome::Ack);
    assert_eq!(txn.handle_request(900, &invite), ServerRequestOutcome::Retransmission);
    assert!(sent(&mut txn).is_empty());
    assert!(txn.respond(950, response(&invite, 500)).is_err());
    txn.handle_timeout(5800);
    assert_eq!(events(&mut txn), [ServerEvent::Terminated]);
    assert_eq!(txn.handle_request(6000, &invite), ServerRequestOutcome::Unmatched);
}

#[test]
fn invite_non_2xx_over_tcp() {
    let invite = invite();
    let mut txn = tcp(&invite);
    txn.respond(0, response(&invite, 480)).expect("allowed");
    assert_eq!(sent(&mut txn), [480]);
    // No Timer G; Timer H still guards the ACK.
    assert_eq!(txn.poll_timeout(), Some(32_000));
    txn.handle_request(100, &ack(&invite, 480));
    assert_eq!(txn.state(), ServerState::Terminated, "Timer I is zero");
    assert_eq!(events(&mut txn), [ServerEvent::Terminated]);

    let mut txn = tcp(&invite);
    txn.respond(0, response(&invite, 480)).expect("allowed");
    txn.handle_timeout(32_000);
    assert_eq!(events(&mut txn), [ServerEvent::AckTimeout, ServerEvent::Terminated]);
}

#[test]
fn invite_2xx_accepted_until_timer_l() {
    let invite = invite();
    let mut txn = udp(&invite);
    txn.respond(100, response(&invite, 180)).expect("allowed");
    txn.respond(200, response(&invite, 200)).expect("allowed");
    assert_eq!(txn.state(), ServerState::Accepted);
    assert_eq!(sent(&mut txn), [180, 200]);
    assert_eq!(txn.poll_timeout(), Some(200 + 32_000), "Timer L; no Timer G for 2xx");
    // Retransmitted INVITEs are absorbed: the TU retransmits the 2xx.
    assert_eq!(txn.handle_request(700, &invite), ServerRequestOutcome::Retransmission);
    assert!(sent(&mut txn).is_empty());
    txn.respond(700, response(&invite, 200)).expect("2xx retransmission");
    assert_eq!(sent(&mut txn), [200]);
    let refused = [(180, ServerState::Accepted), (486, ServerState::Accepted)];
    for (status, state) in refused {
        assert_eq!(txn.respond(800, response(&invite, status)), Err(TxnError::NotAllowed { state, status }));
    }
    // An ACK reusing the INVITE's branch goes to the TU.
    assert_eq!(txn.handle_request(900, &ack(&invite, 200)), ServerRequestOutcome::AckForTu);
    // Timer L is not pushed back by the TU's retransmissions.
    assert_eq!(txn.poll_timeout(), Some(200 + 32_000));
    txn.handle_timeout(32_200);
    assert_eq!(events(&mut txn), [ServerEvent::Terminated]);
    assert!(txn.respond(40_000, response(&invite, 200)).is_err());

    let mut txn = tcp(&invite);
    txn.respond(5, response(&invite, 200)).expect("allowed");
    assert_eq!(txn.poll_timeout(), Some(5 + 32_000), "Timer L on any transport");
}

#[test]
fn non_invite_over_udp_timer_j() {
    let options = options();
    let mut txn = udp(&options);
    assert_eq!(txn.state(), ServerState::Trying);
    assert_eq!(txn.poll_timeout(), None, "no automatic 100 for non-INVITE");
    // Trying: retransmissions are absorbed silently.
    assert_eq!(txn.handle_request(10, &options), ServerRequestOutcome::Retransmission);
    assert!(sent(&mut txn).is_empty());
    txn.respond(20, response(&options, 100)).expect("allowed");
    assert_eq!(txn.state(), ServerState::Proceeding);
    assert_eq!(sent(&mut txn), [100]);
    txn.handle_request(30, &options);
    assert_eq!(sent(&mut txn), [100]);
    txn.respond(40, response(&options, 200)).expect("allowed");
    assert_eq!(txn.state(), ServerState::Completed);
    assert_eq!(sent(&mut txn), [200]);
    assert_eq!(txn.poll_timeout(), Some(40 + 32_000), "no retransmission timer, J = 64·T1");
    txn.handle_request(50, &options);
    assert_eq!(sent(&mut txn), [200]);
    assert!(matches!(txn.respond(60, response(&options, 500)), Err(TxnError::NotAllowed { .. })));
    assert!(matches!(txn.respond(60, response(&options, 180)), Err(TxnError::NotAllowed { .. })));
    txn.handle_timeout(32_040);
    assert_eq!(events(&mut txn), [ServerEvent::Terminated]);
}

#[test]
fn non_invite_over_tcp_ends_with_the_final_response() {
    let options = options();
    let mut txn = tcp(&options);
    txn.respond(0, response(&options, 404)).expect("allowed");
    assert_eq!(txn.state(), ServerState::Terminated);
    assert_eq!(sent(&mut txn), [404]);
    assert_eq!(events(&mut txn), [ServerEvent::Terminated]);
}

#[test]
fn transport_errors_by_state() {
    let invite = invite();
    // INVITE Proceeding: the TU is told, the transaction stays.
    let mut txn = udp(&invite);
    txn.respond(0, response(&invite, 180)).expect("allowed");
    txn.handle_transport_error(1);
    assert_eq!((txn.state(), events(&mut txn)), (ServerState::Proceeding, vec![ServerEvent::TransportError]));
    // INVITE Completed: terminated.
    txn.respond(2, response(&invite, 500)).expect("allowed");
    txn.handle_transport_error(3);
    assert_eq!(events(&mut txn), [ServerEvent::TransportError, ServerEvent::Terminated]);
    // INVITE Accepted: told, stays until Timer L.
    let mut txn = udp(&invite);
    txn.respond(0, response(&invite, 200)).expect("allowed");
    txn.handle_transport_error(1);
    assert_eq!((txn.state(), events(&mut txn)), (ServerState::Accepted, vec![ServerEvent::TransportError]));
    // INVITE Confirmed: nothing is being sent.
    let mut txn = udp(&invite);
    txn.respond(0, response(&invite, 603)).expect("allowed");
    txn.handle_request(1, &ack(&invite, 603));
    txn.handle_transport_error(2);
    assert!(events(&mut txn).is_empty());
    // Non-INVITE: Trying ignores it; Proceeding and Completed terminate.
    let options = options();
    let mut txn = udp(&options);
    txn.handle_transport_error(0);
    assert!(events(&mut txn).is_empty());
    txn.respond(1, response(&options, 100)).expect("allowed");
    txn.handle_transport_error(2);
    assert_eq!(events(&mut txn), [ServerEvent::TransportError, ServerEvent::Terminated]);
    let mut txn = udp(&options);
    txn.respond(1, response(&options, 200)).expect("allowed");
    txn.handle_transport_error(2);
    assert_eq!(events(&mut txn), [ServerEvent::TransportError, ServerEvent::Terminated]);
}

#[test]
fn respond_checks_status_and_transaction() {
    let invite = invite();
    let mut txn = udp(&invite);
    let mut bad = response(&invite, 200);
    bad.status = 700;
    assert_eq!(txn.respond(0, bad), Err(TxnError::BadStatus(700)));
    let other = super::request(Method::Invite, "other");
    assert_eq!(txn.respond(0, response(&other, 200)), Err(TxnError::WrongTransaction));
    assert_eq!(txn.handle_request(0, &other), ServerRequestOutcome::Unmatched);
    assert_eq!(txn.handle_request(0, &options()), ServerRequestOutcome::Unmatched);
    assert_eq!(txn.state(), ServerState::Proceeding);
}

#[test]
fn new_refuses_ack_and_matches_rfc2543_requests_by_the_fallback() {
    let invite = invite();
    assert_eq!(ServerTransaction::new(0, &ack(&invite, 486), false, Timers::default()).err(), Some(TxnError::AckIsNotATransaction));
    let inv2543 = parse_request(
        "INVITE sip:UserB@example.com SIP/2.0\nVia: SIP/2.0/UDP iftgw.example.com\n\
         From: <sip:+13035551111@ift.client.example.net;user=phone>\nTo: sip:+16505552222@ss1.example.net;user=phone\n\
         Call-ID: inv2543.1717@ift.client.example.com\nCSeq: 56 INVITE\n\n",
    );
    let mut txn = ServerTransaction::new(0, &inv2543, false, Timers::default()).expect("RFC 2543 fallback key");
    assert!(!txn.key().is_rfc3261());
    // A retransmission of it is recognised by the same fallback key.
    assert_eq!(txn.handle_request(10, &inv2543), ServerRequestOutcome::Retransmission);
    // Its responses are recognised by the top Via and CSeq method.
    txn.respond(20, Response::builder(&inv2543, 404).to_tag("t").build()).expect("a response to it");
    assert!(txn.poll_transmit().is_some_and(|r| r.status == 404 || r.status == 100));
    let badbranch = parse_request("OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP a;branch=z9hG4bK\nCSeq: 1 OPTIONS\n\n");
    assert!(ServerTransaction::new(0, &badbranch, false, Timers::default()).is_ok());
}

#[test]
fn queues_stay_bounded_when_the_driver_does_not_drain() {
    let invite = invite();
    let mut txn = udp(&invite);
    txn.respond(0, response(&invite, 486)).expect("allowed");
    for i in 0..10_000 {
        txn.handle_request(i, &invite);
        txn.handle_timeout(i);
        txn.handle_transport_error(i);
    }
    assert!(drain(|| txn.poll_transmit()).len() <= 2);
    assert!(events(&mut txn).len() <= 3);

    let mut txn = udp(&invite);
    for i in 0..16 {
        txn.respond(i, response(&invite, 180)).expect("room left");
    }
    assert_eq!(txn.respond(16, response(&invite, 180)), Err(TxnError::QueueFull));
    for i in 0..10_000 {
        txn.handle_transport_error(i);
    }
    assert!(events(&mut txn).len() <= 32);
}
