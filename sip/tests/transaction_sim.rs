//! An INVITE client transaction and an INVITE server transaction talking
//! over a simulated UDP path with seeded loss and latency, driven by a
//! virtual clock, each with a minimal UA core on top (the UAS retransmits
//! its 2xx until the ACK, the UAC ACKs every 2xx). Whatever the loss, the
//! caller sees at most one final response and it is the one the callee
//! sent; without loss the exchange completes cleanly; both sides always
//! end. A failing case prints its seed (proptest shrinks to it).

use proptest::prelude::*;
use sip::transaction::{
    ClientEvent, ClientTransaction, ServerEvent, ServerRequestOutcome, ServerTransaction, Timers,
};
use sip::{rfc3261_branch, CSeq, Method, NameAddr, Request, Response, Transport, TransactionKey, Uri, Via};

/// xorshift64*: enough randomness for loss and latency, seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

enum Packet {
    ToCallee(Request),
    ToCaller(Response),
}

struct Net {
    rng: Rng,
    loss_pct: u64,
    in_flight: Vec<(u64, Packet)>,
}

impl Net {
    fn send(&mut self, now_ms: u64, packet: Packet) {
        if self.rng.below(100) >= self.loss_pct {
            let latency_ms = 5 + self.rng.below(300);
            self.in_flight.push((now_ms + latency_ms, packet));
        }
    }
    fn next_due(&self) -> Option<u64> {
        self.in_flight.iter().map(|(at, _)| *at).min()
    }
    fn take_due(&mut self, now_ms: u64) -> Vec<Packet> {
        let (due, rest): (Vec<_>, Vec<_>) = self.in_flight.drain(..).partition(|(at, _)| *at <= now_ms);
        self.in_flight = rest;
        due.into_iter().map(|(_, p)| p).collect()
    }
}

fn invite() -> Request {
    let bob = Uri::sip(Some("bob"), "example.org");
    Request::builder(Method::Invite, bob.clone())
        .via(Via::new(Transport::Udp, "alice.example.org", Some(5060), &rfc3261_branch("sim1")))
        .from(NameAddr::new(Uri::sip(Some("alice"), "example.org")).with_tag("a"))
        .to(NameAddr::new(bob))
        .call_id("sim@alice.example.org")
        .cseq(1)
        .build()
}

/// The UAC core's ACK for a 2xx: a new branch, no transaction.
fn ack_for_2xx(invite: &Request, ok: &Response, n: u64) -> Request {
    let mut ack = Request::builder(Method::Ack, invite.uri.clone())
        .via(Via::new(Transport::Udp, "alice.example.org", Some(5060), &rfc3261_branch(&format!("ack{n}"))))
        .call_id("sim@alice.example.org")
        .build();
    ack.headers.extend(invite.headers.from().map(|f| sip::Header::From(Box::new(f.clone()))));
    ack.headers.extend(ok.headers.to().map(|t| sip::Header::To(Box::new(t.clone()))));
    ack.headers.push(CSeq { seq: 1, method: Method::Ack }.into());
    ack
}

#[derive(Default)]
struct Outcome {
    caller_finals: Vec<u16>,
    caller_2xx: usize,
    caller_timeout: bool,
    callee_ack_timeout: bool,
    callee_got_non2xx_ack: bool,
    callee_got_2xx_ack: bool,
    end_ms: u64,
}

fn run(seed: u64, loss_pct: u64, final_status: u16, answer_after_ms: u64) -> Outcome {
    let timers = Timers::default();
    let mut net = Net { rng: Rng(seed | 1), loss_pct, in_flight: Vec::new() };
    let invite = invite();
    let key = TransactionKey::for_request(&invite).expect("branch");
    let mut caller = Some(ClientTransaction::new(0, invite.clone(), false, timers).expect("valid"));
    let mut callee: Option<ServerTransaction> = None;
    let mut callee_started = false;
    // The UAS core: when to answer, and its 2xx retransmission schedule.
    let mut answer_at: Option<u64> = None;
    let mut ok_retransmit: Option<(u64, u64)> = None;
    let mut out = Outcome::default();
    let mut now = 0u64;
    let mut acks_sent = 0;
    for _ in 0..100_000 {
        // Drive both sides' outputs.
        if let Some(txn) = &mut caller {
            while let Some(req) = txn.poll_transmit() {
                net.send(now, Packet::ToCallee(req));
            }
            for event in std::iter::from_fn(|| txn.poll_event()).collect::<Vec<_>>() {
                match event {
                    ClientEvent::Response(r) if r.status >= 200 => {
                        if r.status < 300 {
                            out.caller_2xx += 1;
                            acks_sent += 1;
                            net.send(now, Packet::ToCallee(ack_for_2xx(&invite, &r, acks_sent)));
                        }
                        if out.caller_finals.is_empty() || r.status >= 300 {
                            out.caller_finals.push(r.status);
                        }
                    }
                    ClientEvent::Timeout => out.caller_timeout = true,
                    _ => {}
                }
            }
        }
        if caller.as_ref().is_some_and(ClientTransaction::is_terminated) {
            caller = None;
        }
        if let Some(txn) = &mut callee {
            while let Some(resp) = txn.poll_transmit() {
                net.send(now, Packet::ToCaller(resp));
            }
            while let Some(event) = txn.poll_event() {
                if event == ServerEvent::AckTimeout {
                    out.callee_ack_timeout = true;
                }
            }
        }
        if callee.as_ref().is_some_and(ServerTransaction::is_terminated) {
            callee = None;
            ok_retransmit = None;
        }
        let next = [
            caller.as_ref().and_then(|t| t.poll_timeout()),
            callee.as_ref().and_then(|t| t.poll_timeout()),
            net.next_due(),
            answer_at,
            ok_retransmit.map(|(at, _)| at),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { break };
        now = next.max(now);
        for packet in net.take_due(now) {
            match packet {
                Packet::ToCaller(resp) => {
                    if let Some(txn) = caller.as_mut().filter(|t| TransactionKey::for_response(&resp).as_ref() == Some(t.key())) {
                        txn.handle_response(now, resp);
                    }
                }
                Packet::ToCallee(req) => match callee.as_mut().filter(|t| TransactionKey::for_request(&req).as_ref() == Some(t.key())) {
                    Some(txn) => match txn.handle_request(now, &req) {
                        ServerRequestOutcome::Ack => out.callee_got_non2xx_ack = true,
                        ServerRequestOutcome::AckForTu => out.callee_got_2xx_ack = true,
                        _ => {}
                    },
                    // An ACK with its own branch acknowledges the 2xx.
                    None if req.method == Method::Ack && TransactionKey::for_request(&req) != Some(key.clone()) => {
                        out.callee_got_2xx_ack = true;
                        ok_retransmit = None;
                    }
                    None if req.method == Method::Ack => {}
                    None if !callee_started => {
                        callee_started = true;
                        let mut txn = ServerTransaction::new(now, &req, false, timers).expect("valid");
                        txn.respond(now, Response::builder(&req, 180).to_tag("b").build()).expect("allowed");
                        callee = Some(txn);
                        answer_at = Some(now + answer_after_ms);
                    }
                    // A retransmission after the transaction ended: a UAS
                    // core would recognise it by Call-ID/CSeq; ignore it.
                    None => {}
                },
            }
        }
        if answer_at.is_some_and(|at| at <= now) {
            answer_at = None;
            if let Some(txn) = &mut callee {
                let response = Response::builder(&invite, final_status).to_tag("b").build();
                txn.respond(now, response).expect("first final response");
                if final_status < 300 {
                    ok_retransmit = Some((now + timers.t1_ms, timers.t1_ms));
                }
            }
        }
        if let Some((_, interval)) = ok_retransmit.filter(|(at, _)| *at <= now) {
            if let Some(txn) = &mut callee {
                let response = Response::builder(&invite, final_status).to_tag("b").build();
                txn.respond(now, response).expect("2xx retransmission in Accepted");
            }
            let interval = (interval * 2).min(timers.t2_ms);
            ok_retransmit = Some((now + interval, interval));
        }
        if let Some(txn) = &mut caller {
            txn.handle_timeout(now);
        }
        if let Some(txn) = &mut callee {
            txn.handle_timeout(now);
        }
    }
    assert!(caller.is_none() && callee.is_none(), "seed {seed}: a transaction did not end");
    out.end_ms = now;
    out
}

fn final_status() -> impl Strategy<Value = u16> {
    prop::sample::select(vec![200u16, 486, 404, 603, 302])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lossy_invite_exchanges(seed in any::<u64>(), loss_pct in 0u64..60, status in final_status(), answer_after_ms in 0u64..3000) {
        let out = run(seed, loss_pct, status, answer_after_ms);
        // At most one non-2xx final, and only the callee's.
        prop_assert!(out.caller_finals.iter().all(|s| *s == status), "seed {seed}: {:?}", out.caller_finals);
        prop_assert!(out.caller_finals.iter().filter(|s| **s >= 300).count() <= 1, "seed {seed}");
        if status >= 300 && out.callee_got_non2xx_ack {
            prop_assert!(!out.callee_ack_timeout, "seed {seed}");
        }
        prop_assert!(out.end_ms < answer_after_ms + 200_000, "seed {seed}: ended at {}", out.end_ms);
    }

    #[test]
    fn lossless_invite_exchanges_complete(seed in any::<u64>(), status in final_status(), answer_after_ms in 0u64..3000) {
        let out = run(seed, 0, status, answer_after_ms);
        prop_assert_eq!(&out.caller_finals[..1], &[status][..]);
        prop_assert!(!out.caller_timeout);
        if status >= 300 {
            prop_assert!(out.callee_got_non2xx_ack && !out.callee_ack_timeout);
        } else {
            prop_assert!(out.callee_got_2xx_ack);
            prop_assert!(out.caller_2xx >= 1);
        }
    }
}
