//! Properties of the transaction state machines under arbitrary input
//! sequences: no panic; nothing emitted after Terminated, which is the last
//! event and comes once; no timer left due after `handle_timeout`; and once
//! the TU has done its part (a final response on a server transaction, a
//! CANCEL for a proceeding INVITE), Terminated within 64·T1 + T4 of the last
//! input.

use proptest::prelude::*;
use sip::transaction::{ClientEvent, ClientState, ClientTransaction, ServerEvent, ServerState, ServerTransaction, Timers};
use sip::{rfc3261_branch, Method, NameAddr, Request, Response, Transport, Uri, Via};

#[derive(Clone, Debug)]
enum Input {
    /// Time passes, then the timers run.
    Advance(u64),
    /// Client: a response to our request. Server: the TU responds.
    Status(u16),
    /// Client: a response to someone else's request.
    Stray(u16),
    /// Server: the request again.
    Retransmission,
    /// Server: an ACK with the INVITE's branch.
    Ack,
    TransportError,
    /// Client: the TU sent a CANCEL.
    Cancel,
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        prop::sample::select(vec![100u16, 180, 183, 200, 202, 300, 401, 404, 486, 487, 500, 503, 603]),
        100u16..=699,
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        3 => prop_oneof![0u64..600, 0u64..40_000].prop_map(Input::Advance),
        3 => status().prop_map(Input::Status),
        1 => status().prop_map(Input::Stray),
        2 => Just(Input::Retransmission),
        1 => Just(Input::Ack),
        1 => Just(Input::TransportError),
        1 => Just(Input::Cancel),
    ]
}

fn timers() -> impl Strategy<Value = Timers> {
    (prop::sample::select(vec![500u64, 700, 1000]), 0u64..8000, 0u64..10_000)
        .prop_map(|(t1_ms, t2_ms, t4_ms)| Timers { t1_ms, t2_ms, t4_ms })
}

fn request(method: Method, branch: &str) -> Request {
    let bob = Uri::sip(Some("bob"), "example.org");
    Request::builder(method, bob.clone())
        .via(Via::new(Transport::Udp, "a.example.org", Some(5060), &rfc3261_branch(branch)))
        .from(NameAddr::new(Uri::sip(Some("alice"), "example.org")).with_tag("a"))
        .to(NameAddr::new(bob))
        .call_id("c@a.example.org")
        .cseq(1)
        .build()
}

fn response(request: &Request, status: u16) -> Response {
    Response::builder(request, status).to_tag("b").build()
}

fn ack_for(invite: &Request) -> Request {
    let mut ack = request(Method::Ack, "x");
    ack.headers = invite.headers.clone();
    ack.headers.set(sip::CSeq { seq: 1, method: Method::Ack }.into());
    ack
}

/// The bound once the TU is done: the longest single timer (64·T1, or
/// Timer D's 32 s floor) plus T4.
fn bound_ms(timers: &Timers) -> u64 {
    timers.timeout_ms().max(timers.timer_d_ms(false)) + timers.t4_ms
}

/// Collects a transaction's outputs and checks the "nothing after
/// Terminated" rules.
#[derive(Default)]
struct Watch {
    terminated: bool,
}

impl Watch {
    fn check<E: PartialEq + std::fmt::Debug>(&mut self, transmits: usize, events: &[E], terminated_event: &E) {
        if self.terminated {
            assert_eq!(transmits, 0, "transmit after Terminated");
            assert!(events.is_empty(), "event after Terminated: {events:?}");
            return;
        }
        if let Some(at) = events.iter().position(|e| e == terminated_event) {
            assert_eq!(at, events.len() - 1, "Terminated is the last event: {events:?}");
            self.terminated = true;
        }
    }
}

fn drain_client(txn: &mut ClientTransaction, watch: &mut Watch) -> Vec<ClientEvent> {
    let transmits = std::iter::from_fn(|| txn.poll_transmit()).count();
    let events: Vec<_> = std::iter::from_fn(|| txn.poll_event()).collect();
    watch.check(transmits, &events, &ClientEvent::Terminated);
    assert_eq!(watch.terminated, txn.state() == ClientState::Terminated);
    events
}

fn drain_server(txn: &mut ServerTransaction, watch: &mut Watch) {
    let transmits = std::iter::from_fn(|| txn.poll_transmit()).count();
    let events: Vec<_> = std::iter::from_fn(|| txn.poll_event()).collect();
    watch.check(transmits, &events, &ServerEvent::Terminated);
    assert_eq!(watch.terminated, txn.state() == ServerState::Terminated);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn client_transactions(invite in any::<bool>(), reliable in any::<bool>(), timers in timers(),
                           inputs in prop::collection::vec(input(), 0..40)) {
        let method = if invite { Method::Invite } else { Method::Options };
        let req = request(method.clone(), "c1");
        let other = request(method, "other");
        let mut now = 1_000u64;
        let mut txn = ClientTransaction::new(now, req.clone(), reliable, timers).expect("valid");
        let mut watch = Watch::default();
        let mut finals = 0;
        let mut count_finals = |events: &[ClientEvent], state_before: ClientState| {
            for event in events {
                if let ClientEvent::Response(r) = event {
                    if r.status >= 200 && state_before != ClientState::Accepted {
                        finals += 1;
                    }
                }
            }
        };
        count_finals(&drain_client(&mut txn, &mut watch), txn.state());
        for input in inputs {
            let before = txn.state();
            match input {
                Input::Advance(dt) => {
                    now += dt;
                    txn.handle_timeout(now);
                    if let Some(at) = txn.poll_timeout() {
                        prop_assert!(at > now, "timer left due: {at} <= {now}");
                    }
                }
                Input::Status(status) => txn.handle_response(now, response(&req, status)),
                Input::Stray(status) => txn.handle_response(now, response(&other, status)),
                Input::TransportError => txn.handle_transport_error(now),
                Input::Cancel => txn.handle_cancel(now),
                Input::Retransmission | Input::Ack => {}
            }
            count_finals(&drain_client(&mut txn, &mut watch), before);
        }
        // The first final response reaches the TU once; 2xx in Accepted
        // are extra by design and not counted.
        prop_assert!(finals <= 1, "{finals} final responses passed up");
        // The TU's part: give up on a proceeding INVITE.
        txn.handle_cancel(now);
        let last_input = now;
        let mut rounds = 0;
        while let Some(at) = txn.poll_timeout() {
            prop_assert!(at <= last_input + bound_ms(&timers), "timer at {at}, last input {last_input}");
            txn.handle_timeout(at);
            drain_client(&mut txn, &mut watch);
            rounds += 1;
            prop_assert!(rounds < 1000);
        }
        prop_assert!(txn.is_terminated(), "stuck in {:?}", txn.state());
    }

    #[test]
    fn server_transactions(invite in any::<bool>(), reliable in any::<bool>(), timers in timers(),
                           inputs in prop::collection::vec(input(), 0..40)) {
        let method = if invite { Method::Invite } else { Method::Options };
        let req = request(method, "s1");
        let ack = ack_for(&req);
        let mut now = 1_000u64;
        let mut txn = ServerTransaction::new(now, &req, reliable, timers).expect("valid");
        let mut watch = Watch::default();
        drain_server(&mut txn, &mut watch);
        for input in inputs {
            match input {
                Input::Advance(dt) => {
                    now += dt;
                    txn.handle_timeout(now);
                    if let Some(at) = txn.poll_timeout() {
                        prop_assert!(at > now, "timer left due: {at} <= {now}");
                    }
                }
                Input::Status(status) => {
                    let state = txn.state();
                    let result = txn.respond(now, response(&req, status));
                    if result.is_ok() {
                        prop_assert!(!matches!(state, ServerState::Completed | ServerState::Confirmed | ServerState::Terminated));
                    }
                }
                Input::Retransmission => { txn.handle_request(now, &req); }
                Input::Ack => { txn.handle_request(now, &ack); }
                Input::TransportError => txn.handle_transport_error(now),
                Input::Stray(_) | Input::Cancel => {}
            }
            drain_server(&mut txn, &mut watch);
        }
        // The TU's part: a final response, if it has not sent one.
        if matches!(txn.state(), ServerState::Trying | ServerState::Proceeding) {
            prop_assert!(txn.respond(now, response(&req, 500)).is_ok());
            drain_server(&mut txn, &mut watch);
        }
        let last_input = now;
        let mut rounds = 0;
        while let Some(at) = txn.poll_timeout() {
            prop_assert!(at <= last_input + bound_ms(&timers), "timer at {at}, last input {last_input}");
            txn.handle_timeout(at);
            drain_server(&mut txn, &mut watch);
            rounds += 1;
            prop_assert!(rounds < 1000);
        }
        prop_assert!(txn.is_terminated(), "stuck in {:?}", txn.state());
    }
}
