//! Deterministic tests of the core: a virtual clock, an in-memory store
//! with the ring's version and tombstone rules, and flows that are plain
//! values. No sockets, no tokio.

use std::collections::BTreeMap;

use chord::{Id, NodeAddr, NodeRef, OpError, OpOutcome, Value};
use sip::dialog::Dialog;
use sip::{Header, Message, Method, Request, Response};

use super::*;

const RING_X: &str = "ws://127.0.0.1:7999";

/// One stored slot: value (None = tombstone), version.
type Slot = (Option<Vec<u8>>, u64);

struct Harness {
    core: SipCore,
    now_ms: u64,
    store: BTreeMap<(Id, Vec<u8>), Slot>,
    /// Make every store operation fail with this error.
    store_error: Option<OpError>,
    store_writes: usize,
    out: Vec<(Flow, Message)>,
}

fn me() -> NodeRef {
    NodeRef { id: Id::ZERO, addr: NodeAddr::new("ws://127.0.0.1:7000").expect("addr") }
}

impl Harness {
    fn new(cfg: CoreConfig) -> Harness {
        let local = Local::new(
            Some("127.0.0.1:5060".parse().expect("addr")),
            Some("127.0.0.1:5060".parse().expect("addr")),
            "127.0.0.1:8080".parse().expect("addr"),
            "ws://127.0.0.1:7000",
        );
        Harness { core: SipCore::new(cfg, local, 42), now_ms: 1_000, store: BTreeMap::new(), store_error: None, store_writes: 0, out: Vec::new() }
    }

    fn conn(&mut self, id: u64) -> Flow {
        self.core.handle_conn_opened(id, ConnKind::Ws);
        Flow::Conn(id)
    }

    fn apply(&mut self, op: StoreOp) -> Result<OpOutcome, OpError> {
        if let Some(e) = &self.store_error {
            return Err(e.clone());
        }
        match op {
            StoreOp::Get { key, prefix } => {
                let values = self
                    .store
                    .iter()
                    .filter(|((k, sk), (v, _))| *k == key && sk.starts_with(&prefix) && v.is_some())
                    .map(|((_, sk), (v, ver))| Value { sub_key: sk.clone(), version: *ver, ttl_ms: 60_000, value: v.clone().unwrap_or_default() })
                    .collect();
                Ok(OpOutcome::Got { from: me(), values })
            }
            StoreOp::Put { key, sub_key, value, version, .. } => self.write(key, sub_key, Some(value), version),
            StoreOp::Delete { key, sub_key, version, .. } => self.write(key, sub_key, None, version),
        }
    }

    fn write(&mut self, key: Id, sub_key: Vec<u8>, value: Option<Vec<u8>>, version: u64) -> Result<OpOutcome, OpError> {
        self.store_writes += 1;
        if let Some((_, current)) = self.store.get(&(key, sub_key.clone())) {
            if *current >= version {
                return Err(OpError::Stale { current_version: *current });
            }
        }
        self.store.insert((key, sub_key), (value, version));
        Ok(OpOutcome::Stored { stored_at: me() })
    }

    /// Runs store operations and collects transmits until quiet.
    fn pump(&mut self) {
        loop {
            let mut busy = false;
            while let Some(req) = self.core.poll_store() {
                busy = true;
                let result = self.apply(req.op);
                self.core.handle_store_result(self.now_ms, req.id, result);
            }
            while let Some(t) = self.core.poll_transmit() {
                busy = true;
                match sip::parse_datagram(&t.bytes, &sip::Limits::default()) {
                    Ok(msg) => self.out.push((t.flow, msg)),
                    // Replies to unparsable requests echo the sender's own
                    // (malformed) headers verbatim; only they may not parse.
                    Err(e) => {
                        let text = String::from_utf8_lossy(&t.bytes);
                        let status: u16 = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                        assert!(text.starts_with("SIP/2.0 ") && status >= 400, "the core sent unparsable SIP ({e}):\n{text}");
                    }
                }
            }
            if !busy {
                break;
            }
        }
    }

    fn input(&mut self, flow: &Flow, msg: impl Into<Message>) {
        let bytes = msg.into().to_bytes();
        self.core.handle_datagram(self.now_ms, flow.clone(), &bytes);
        self.pump();
    }

    fn advance(&mut self, ms: u64) {
        let until = self.now_ms + ms;
        while let Some(t) = self.core.poll_timeout().filter(|t| *t <= until) {
            self.now_ms = t.max(self.now_ms);
            self.core.handle_timeout(self.now_ms);
            self.pump();
        }
        self.now_ms = until;
    }

    /// Everything sent to `flow` since the last call, in order.
    fn take(&mut self, flow: &Flow) -> Vec<Message> {
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.out).into_iter().partition(|(f, _)| f == flow);
        self.out = rest;
        mine.into_iter().map(|(_, m)| m).collect()
    }

    fn responses(&mut self, flow: &Flow) -> Vec<u16> {
        self.take(flow).into_iter().filter_map(|m| m.as_response().map(|r| r.status)).collect()
    }

    /// The one request of `method` sent to `flow` (others are dropped).
    fn request_to(&mut self, flow: &Flow, method: Method) -> Request {
        let mut found: Vec<Request> = self.take(flow).into_iter().filter_map(|m| match m {
            Message::Request(r) if r.method == method => Some(r),
            _ => None,
        }).collect();
        assert_eq!(found.len(), 1, "expected one {method} to {flow}");
        found.remove(0)
    }
}

struct Ua {
    user: &'static str,
    n: u32,
}

impl Ua {
    fn req(&mut self, method: Method, to_user: &str) -> Request {
        self.n += 1;
        let to = sip::Uri::sip(Some(to_user), "example.org");
        let uri = if method == Method::Register { sip::Uri::sip(None, "example.org") } else { to.clone() };
        Request::builder(method, uri)
            .via(sip::Via::new(sip::Transport::Ws, format!("{}.invalid", self.user), None, &sip::rfc3261_branch(&format!("{}{}", self.user, self.n))))
            .from(sip::NameAddr::new(sip::Uri::sip(Some(self.user), "example.org")).with_tag(&format!("t{}", self.n)))
            .to(sip::NameAddr::new(to))
            .call_id(format!("{}-call-{}", self.user, self.n))
            .cseq(self.n)
            .contact(sip::Contact::Addr(sip::NameAddr::new(format!("sip:{}@{}.invalid;transport=ws", self.user, self.user).parse().expect("uri"))))
            .build()
    }

    fn register(&mut self, expires: u32) -> Request {
        let mut r = self.req(Method::Register, self.user);
        r.headers.push(Header::Expires(expires));
        r
    }

    fn answer(req: &Request, status: u16, tag: &str) -> Response {
        let mut b = Response::builder(req, status).to_tag(tag).record_route_from(req);
        if status == 200 && req.method == Method::Invite {
            b = b.contact(sip::Contact::Addr(sip::NameAddr::new("sip:callee@callee.invalid;transport=ws".parse().expect("uri"))));
        }
        b.build()
    }
}

fn registered(h: &mut Harness, ua: &mut Ua, flow: &Flow) {
    let r = ua.register(300);
    h.input(flow, r);
    assert_eq!(h.responses(flow), vec![200]);
}

#[test]
fn local_call_uses_double_record_route_and_in_dialog_requests_find_their_way() {
    let mut h = Harness::new(CoreConfig::default());
    let (a, b) = (h.conn(1), h.conn(2));
    let (mut alice, mut bob) = (Ua { user: "alice", n: 0 }, Ua { user: "bob", n: 0 });
    registered(&mut h, &mut bob, &b);
    let invite = alice.req(Method::Invite, "bob");
    h.input(&a, invite.clone());
    assert_eq!(h.responses(&a), vec![100]);
    let incoming = h.request_to(&b, Method::Invite);
    assert_eq!(incoming.headers.record_routes().count(), 2, "caller-side and callee-side routes");
    assert_eq!(incoming.headers.max_forwards(), Some(69));
    h.input(&b, Ua::answer(&incoming, 200, "bt"));
    let ok = h.take(&a).into_iter().find_map(|m| m.as_response().cloned()).expect("200 to alice");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.headers.vias().count(), 1, "our Via removed");
    let caller = Dialog::new_uac(&invite, &ok).expect("dialog");
    let ack = caller.ack(invite.headers.cseq().expect("cseq").seq, sip::Via::new(sip::Transport::Ws, "alice.invalid", None, &sip::rfc3261_branch("ack1")));
    h.input(&a, ack);
    h.request_to(&b, Method::Ack);
    let mut callee = Dialog::new_uas(&incoming, "bt").expect("dialog");
    let bye = callee.request(Method::Bye, sip::Via::new(sip::Transport::Ws, "bob.invalid", None, &sip::rfc3261_branch("bye1"))).expect("bye");
    h.input(&b, bye);
    let got = h.request_to(&a, Method::Bye);
    h.input(&a, Ua::answer(&got, 200, "x"));
    assert_eq!(h.responses(&b), vec![200]);
}

#[test]
fn udp_retransmissions_are_absorbed() {
    let mut h = Harness::new(CoreConfig::default());
    let b = h.conn(2);
    let mut bob = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut bob, &b);
    let phone = Flow::Udp("127.0.0.1:5099".parse().expect("addr"));
    let mut alice = Ua { user: "alice", n: 0 };
    let invite = alice.req(Method::Invite, "bob");
    h.input(&phone, invite.clone());
    h.input(&phone, invite.clone());
    assert_eq!(h.responses(&phone), vec![100, 100], "the retransmission gets the 100 again");
    h.request_to(&b, Method::Invite);
    // A REGISTER retransmitted over UDP is answered from its transaction:
    // the store is written once.
    let mut carol = Ua { user: "carol", n: 0 };
    let reg = carol.register(300);
    let writes = h.store_writes;
    h.input(&phone, reg.clone());
    h.input(&phone, reg);
    assert_eq!(h.responses(&phone), vec![200, 200]);
    assert_eq!(h.store_writes, writes + 1);
}

/// Registers a second device of bob (its own contact) over `flow`; returns
/// the registrar's 200.
fn second_device(h: &mut Harness, flow: &Flow) -> Response {
    let mut reg = Ua { user: "bob", n: 10 }.register(300);
    reg.headers.retain(|h| !matches!(h, Header::Contact(_)));
    let contact = sip::NameAddr::new("sip:bob@phone2.invalid;transport=ws".parse().expect("uri"));
    reg.headers.push(Header::Contact(Box::new(sip::Contact::Addr(contact))));
    h.input(flow, reg);
    h.take(flow).into_iter().find_map(|m| m.as_response().cloned()).expect("200")
}

#[test]
fn fork_first_2xx_wins_and_the_rest_are_cancelled() {
    let mut h = Harness::new(CoreConfig::default());
    let (a, b1, b2) = (h.conn(1), h.conn(2), h.conn(3));
    let mut dev1 = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut dev1, &b1);
    let ok = second_device(&mut h, &b2);
    assert_eq!(ok.headers.contacts().count(), 2, "the 200 lists both devices");
    let invite = Ua { user: "alice", n: 0 }.req(Method::Invite, "bob");
    h.input(&a, invite);
    let (i1, i2) = (h.request_to(&b1, Method::Invite), h.request_to(&b2, Method::Invite));
    h.input(&b1, Ua::answer(&i1, 180, "d1"));
    h.input(&b2, Ua::answer(&i2, 180, "d2"));
    h.input(&b1, Ua::answer(&i1, 200, "d1"));
    let to_alice = h.responses(&a);
    assert_eq!(to_alice, vec![100, 180, 180, 200]);
    let cancel = h.request_to(&b2, Method::Cancel);
    h.input(&b2, Ua::answer(&cancel, 200, "d2"));
    h.input(&b2, Ua::answer(&i2, 487, "d2"));
    assert!(h.responses(&a).is_empty(), "the 487 of the losing branch is not passed on");
}

#[test]
fn fork_with_every_branch_failing_sends_the_best_answer() {
    let mut h = Harness::new(CoreConfig::default());
    let (a, b1, b2) = (h.conn(1), h.conn(2), h.conn(3));
    let mut dev1 = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut dev1, &b1);
    second_device(&mut h, &b2);
    h.input(&a, Ua { user: "alice", n: 0 }.req(Method::Invite, "bob"));
    let (i1, i2) = (h.request_to(&b1, Method::Invite), h.request_to(&b2, Method::Invite));
    h.input(&b1, Ua::answer(&i1, 480, "d1"));
    assert_eq!(h.responses(&a), vec![100], "waits for the other branch");
    h.input(&b2, Ua::answer(&i2, 486, "d2"));
    assert_eq!(h.responses(&a), vec![486], "486 says more than 480");
}

#[test]
fn timer_c_gives_408_and_cancels_the_ringing_branch() {
    let mut h = Harness::new(CoreConfig { timer_c_ms: 5_000, ..CoreConfig::default() });
    let (a, b) = (h.conn(1), h.conn(2));
    let mut bob = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut bob, &b);
    h.input(&a, Ua { user: "alice", n: 0 }.req(Method::Invite, "bob"));
    let incoming = h.request_to(&b, Method::Invite);
    h.input(&b, Ua::answer(&incoming, 180, "bt"));
    assert_eq!(h.responses(&a), vec![100, 180]);
    h.advance(4_999);
    assert!(h.take(&a).is_empty());
    h.advance(2);
    assert_eq!(h.responses(&a), vec![408]);
    h.request_to(&b, Method::Cancel);
}

#[test]
fn cancel_is_matched_to_its_invite_or_gets_481() {
    let mut h = Harness::new(CoreConfig::default());
    let (a, b) = (h.conn(1), h.conn(2));
    let mut bob = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut bob, &b);
    let invite = Ua { user: "alice", n: 0 }.req(Method::Invite, "bob");
    h.input(&a, sip::transaction::cancel_for(&invite));
    assert_eq!(h.responses(&a), vec![481]);
    h.input(&a, invite.clone());
    let incoming = h.request_to(&b, Method::Invite);
    h.input(&b, Ua::answer(&incoming, 180, "bt"));
    h.input(&a, sip::transaction::cancel_for(&invite));
    assert_eq!(h.responses(&a), vec![100, 180, 200]);
    let cancel = h.request_to(&b, Method::Cancel);
    h.input(&b, Ua::answer(&cancel, 200, "bt"));
    h.input(&b, Ua::answer(&incoming, 487, "bt"));
    assert_eq!(h.responses(&a), vec![487]);
}

#[test]
fn loop_is_detected_by_our_own_via() {
    let mut h = Harness::new(CoreConfig::default());
    let ring = Flow::Ring(RING_X.into());
    let mut req = Ua { user: "alice", n: 0 }.req(Method::Message, "bob");
    let hash = router::loop_hash(&req);
    let ours = sip::Via::new(sip::Transport::Ws, "127.0.0.1", Some(7000), &format!("z9hG4bK{hash}.abc"));
    req.headers.insert(1, Header::from(ours));
    h.input(&ring, req);
    assert_eq!(h.responses(&ring), vec![482]);
}

#[test]
fn closing_a_connection_removes_its_bindings() {
    let mut h = Harness::new(CoreConfig::default());
    let (a, b) = (h.conn(1), h.conn(2));
    let mut bob = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut bob, &b);
    h.core.handle_conn_closed(h.now_ms, 2);
    h.pump();
    h.input(&a, Ua { user: "alice", n: 0 }.req(Method::Invite, "bob"));
    assert_eq!(h.responses(&a), vec![100, 404]);
    // Registering again after the tombstone: the stale write is retried
    // with the version the store reports.
    let b2 = h.conn(3);
    registered(&mut h, &mut bob, &b2);
}

#[test]
fn register_ordering_and_limits() {
    let mut h = Harness::new(CoreConfig { max_bindings_per_aor: 1, ..CoreConfig::default() });
    let b = h.conn(2);
    let mut bob = Ua { user: "bob", n: 5 };
    let first = bob.register(300);
    h.input(&b, first.clone());
    assert_eq!(h.responses(&b), vec![200]);
    // Same Call-ID, lower CSeq: out of order (RFC 3261 §10.3 step 7).
    let mut old = first.clone();
    old.headers.set(Header::from(sip::CSeq { seq: 1, method: Method::Register }));
    if let Some(v) = old.headers.top_via_mut() {
        *v = sip::Via::new(sip::Transport::Ws, "bob.invalid", None, &sip::rfc3261_branch("old"));
    }
    h.input(&b, old);
    assert_eq!(h.responses(&b), vec![500]);
    // A second contact exceeds max_bindings_per_aor = 1.
    let mut second = bob.register(300);
    second.headers.retain(|h| !matches!(h, Header::Contact(_)));
    second.headers.push(Header::Contact(Box::new(sip::Contact::Addr(sip::NameAddr::new("sip:bob@other.invalid".parse().expect("uri"))))));
    h.input(&b, second);
    assert_eq!(h.responses(&b), vec![503]);
    // Contact: * with Expires: 0 removes everything.
    let mut all = bob.register(0);
    all.headers.retain(|h| !matches!(h, Header::Contact(_)));
    all.headers.push(Header::Contact(Box::new(sip::Contact::Wildcard)));
    h.input(&b, all);
    assert_eq!(h.responses(&b), vec![200]);
    assert!(h.store.values().all(|(v, _)| v.is_none()), "only tombstones left");
}

#[test]
fn ring_failures_become_503_or_480() {
    let mut h = Harness::new(CoreConfig::default());
    let a = h.conn(1);
    h.store_error = Some(OpError::Timeout);
    h.input(&a, Ua { user: "alice", n: 0 }.req(Method::Invite, "bob"));
    let out = h.take(&a);
    let last = out.last().and_then(|m| m.as_response()).expect("a response");
    assert_eq!(last.status, 503);
    assert!(last.headers.other("Retry-After").next().is_some());
    h.store_error = None;
    // Bob is attached to super-node X; the link to X fails while ringing.
    let binding = binding::Binding {
        contact: "sip:bob@bob.invalid;transport=ws".into(),
        path: "<sip:c1-0123456789abcdef@127.0.0.1:8081;transport=ws;lr;ring=127.0.0.1:7999>".to_owned(),
        supernode: RING_X.into(),
        instance: None,
        call_id: "x".into(),
        cseq: 1,
        q: None,
    };
    let key = Id::from_bytes(sip::Aor::from_uri(&sip::Uri::sip(Some("bob"), "example.org")).expect("aor").key());
    h.store.insert((key, binding::Binding::sub_key(None, &binding.contact)), (Some(binding.encode()), 1));
    h.input(&a, Ua { user: "alice", n: 7 }.req(Method::Invite, "bob"));
    let ring = Flow::Ring(RING_X.into());
    let fwd = h.request_to(&ring, Method::Invite);
    assert!(fwd.headers.routes().next().is_some_and(|r| r.to_string().contains("ring=127.0.0.1:7999")));
    h.core.handle_flow_failed(h.now_ms, &ring);
    h.pump();
    assert_eq!(h.responses(&a), vec![100, 480]);
}

#[test]
fn transaction_limits_answer_503() {
    // Finished transactions linger (32 s over UDP) but are not work in
    // progress: only unanswered requests count against max_pending_requests.
    let mut h = Harness::new(CoreConfig { max_pending_requests: 1, ..CoreConfig::default() });
    let phone = Flow::Udp("127.0.0.1:5099".parse().expect("addr"));
    let mut carol = Ua { user: "carol", n: 0 };
    for _ in 0..3 {
        let r = carol.req(Method::Options, "nobody");
        h.input(&phone, r);
    }
    assert_eq!(h.responses(&phone), vec![404, 404, 404]);
    assert_eq!(h.core.stats().transactions, 3, "lingering for retransmissions");
    // The memory bound counts every transaction held.
    let mut h = Harness::new(CoreConfig { max_transactions: 2, ..CoreConfig::default() });
    let (a, b) = (h.conn(1), h.conn(2));
    let mut bob = Ua { user: "bob", n: 0 };
    registered(&mut h, &mut bob, &b);
    // An unanswered INVITE holds a server and a client transaction.
    let mut alice = Ua { user: "alice", n: 0 };
    h.input(&a, alice.req(Method::Invite, "bob"));
    assert_eq!(h.responses(&a), vec![100]);
    h.input(&a, alice.req(Method::Invite, "bob"));
    assert_eq!(h.responses(&a), vec![503]);
}

#[test]
fn a_flooding_flow_gets_503_and_others_are_served() {
    let mut h = Harness::new(CoreConfig { rate: rate::RateConfig { per_sec: 10, burst: 5, max_tracked: 100 }, ..CoreConfig::default() });
    let (a, b) = (h.conn(1), h.conn(2));
    let mut alice = Ua { user: "alice", n: 0 };
    for _ in 0..8 {
        let r = alice.req(Method::Options, "nobody");
        h.input(&a, r);
    }
    let statuses = h.responses(&a);
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 3, "{statuses:?}");
    assert_eq!(h.core.stats().rate_limited, 3);
    h.input(&b, Ua { user: "bob", n: 0 }.req(Method::Options, "nobody"));
    assert_eq!(h.responses(&b), vec![404], "another flow is not affected");
    h.advance(1_000);
    h.input(&a, alice.req(Method::Options, "nobody"));
    assert_eq!(h.responses(&a), vec![404], "tokens come back with time");
}

mod props {
    //! Whatever arrives, in whatever order: no panic, everything sent
    //! parses, and once input stops every transaction, fork, registration
    //! and store operation ends (nothing leaks).

    use proptest::prelude::*;

    use super::*;

    fn torture_messages() -> Vec<Vec<u8>> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/sip-torture");
        let mut out = Vec::new();
        for sub in ["valid", "invalid", "semantic"] {
            if let Ok(entries) = std::fs::read_dir(format!("{dir}/{sub}")) {
                for e in entries.flatten() {
                    if let Ok(b) = std::fs::read(e.path()) {
                        out.push(b);
                    }
                }
            }
        }
        assert!(out.len() >= 49, "RFC 4475 messages expected in {dir}");
        out
    }

    #[derive(Debug, Clone)]
    enum Step {
        /// A message on flow `flow` (0..4: conn 1, conn 2, UDP, ring).
        Send { flow: u8, kind: u8, seed: u16, mutate: Vec<(u16, u8)> },
        Advance(u16),
        Close(u8),
        Reopen(u8),
        StoreFails(bool),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            6 => (0u8..4, 0u8..4, any::<u16>(), proptest::collection::vec((any::<u16>(), any::<u8>()), 0..4))
                .prop_map(|(flow, kind, seed, mutate)| Step::Send { flow, kind, seed, mutate }),
            2 => (0u16..40_000).prop_map(Step::Advance),
            1 => (1u8..3).prop_map(Step::Close),
            1 => (1u8..3).prop_map(Step::Reopen),
            1 => any::<bool>().prop_map(Step::StoreFails),
        ]
    }

    fn flow(n: u8) -> Flow {
        match n {
            0 => Flow::Conn(1),
            1 => Flow::Conn(2),
            2 => Flow::Udp("127.0.0.1:5099".parse().expect("addr")),
            _ => Flow::Ring(RING_X.into()),
        }
    }

    /// A message of one of four kinds: a valid request between the test
    /// users, a response to the last thing sent to that flow, an RFC 4475
    /// message, or raw bytes.
    fn message(h: &mut Harness, torture: &[Vec<u8>], f: &Flow, kind: u8, seed: u16) -> Vec<u8> {
        let users = ["alice", "bob"];
        match kind {
            0 => {
                let methods = [Method::Register, Method::Invite, Method::Message, Method::Options, Method::Bye, Method::Cancel];
                let mut ua = Ua { user: users[usize::from(seed % 2)], n: u32::from(seed) };
                let m = methods[usize::from(seed / 2) % methods.len()].clone();
                let r = if m == Method::Register { ua.register(u32::from(seed % 3) * 100) } else { ua.req(m, users[usize::from(seed / 7 % 2)]) };
                r.to_bytes()
            }
            1 => {
                let last = h.out.iter().rev().find(|(fl, m)| fl == f && m.as_request().is_some()).map(|(_, m)| m.clone());
                match last {
                    Some(Message::Request(r)) => {
                        let statuses = [100, 180, 200, 404, 486, 487, 503, 603];
                        Ua::answer(&r, statuses[usize::from(seed) % statuses.len()], "t").to_bytes()
                    }
                    _ => Vec::new(),
                }
            }
            2 => torture[usize::from(seed) % torture.len()].clone(),
            _ => (0..usize::from(seed % 300)).map(|i| (i as u16 ^ seed) as u8).collect(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn nothing_panics_and_nothing_leaks(steps in proptest::collection::vec(step(), 1..40)) {
            let torture = torture_messages();
            let mut h = Harness::new(CoreConfig { timer_c_ms: 60_000, ..CoreConfig::default() });
            let (c1, c2) = (h.conn(1), h.conn(2));
            // Both users start registered, so requests between them are
            // forwarded (the interesting path), until steps change that.
            h.input(&c1, Ua { user: "alice", n: 60_000 }.register(300));
            h.input(&c2, Ua { user: "bob", n: 60_000 }.register(300));
            for s in steps {
                match s {
                    Step::Send { flow: n, kind, seed, mutate } => {
                        let f = flow(n);
                        let mut bytes = message(&mut h, &torture, &f, kind, seed);
                        for (pos, b) in mutate {
                            if !bytes.is_empty() {
                                let i = usize::from(pos) % bytes.len();
                                bytes[i] = b;
                            }
                        }
                        h.core.handle_datagram(h.now_ms, f, &bytes);
                        h.pump();
                    }
                    Step::Advance(ms) => h.advance(u64::from(ms)),
                    Step::Close(c) => {
                        h.core.handle_conn_closed(h.now_ms, u64::from(c));
                        h.pump();
                    }
                    Step::Reopen(c) => {
                        h.conn(u64::from(c));
                    }
                    Step::StoreFails(fail) => h.store_error = fail.then_some(OpError::Timeout),
                }
            }
            // Input stops; the ring answers again; let every timer run out.
            h.store_error = None;
            h.advance(600_000);
            h.advance(600_000);
            let c = &h.core;
            prop_assert_eq!(c.txns.len(), 0, "transactions left");
            prop_assert_eq!(c.txns.unanswered(), 0, "unanswered count drifted");
            prop_assert!(c.forks.is_empty(), "forks left");
            prop_assert!(c.regs.is_empty(), "registrations left");
            prop_assert!(c.store_ops.is_empty(), "store operations left");
            prop_assert!(c.mail.is_empty(), "mailbox items left");
            prop_assert!(c.timers.is_empty(), "timers left");
        }
    }
}

#[test]
fn a_callee_that_mangles_vias_still_gets_its_answer_to_the_caller() {
    // Found by the property test: the upstream transaction refused the
    // response and, having no timer before its final answer, never ended.
    let mut h = Harness::new(CoreConfig::default());
    let (a, b) = (h.conn(1), h.conn(2));
    registered(&mut h, &mut Ua { user: "bob", n: 0 }, &b);
    h.input(&a, Ua { user: "alice", n: 0 }.req(Method::Message, "bob"));
    let fwd = h.request_to(&b, Method::Message);
    let mut resp = Ua::answer(&fwd, 486, "t");
    let caller_via = resp.headers.position(|h| matches!(h, Header::Via(_))).expect("via") + 1;
    resp.headers.remove(caller_via);
    resp.headers.insert(caller_via, Header::from(sip::Via::new(sip::Transport::Ws, "mangled.invalid", None, "z9hG4bKzzz")));
    h.input(&b, resp);
    let out = h.take(&a);
    let r = out.iter().find_map(|m| m.as_response()).expect("an answer");
    assert_eq!(r.status, 486);
    assert_eq!(r.headers.top_via().map(|v| v.host.as_str()), Some("alice.invalid"));
    h.advance(600_000);
    assert_eq!(h.core.txns.len(), 0);
}

#[test]
fn timer_c_cancels_a_branch_that_only_said_100() {
    // Found by the property test: 100 Trying was not counted as a
    // provisional response, so no CANCEL went out and the INVITE client
    // transaction waited for ever.
    let mut h = Harness::new(CoreConfig { timer_c_ms: 5_000, ..CoreConfig::default() });
    let (a, b) = (h.conn(1), h.conn(2));
    registered(&mut h, &mut Ua { user: "bob", n: 0 }, &b);
    h.input(&a, Ua { user: "alice", n: 0 }.req(Method::Invite, "bob"));
    let fwd = h.request_to(&b, Method::Invite);
    h.input(&b, Ua::answer(&fwd, 100, "t"));
    h.advance(5_001);
    assert_eq!(h.responses(&a), vec![100, 408]);
    h.request_to(&b, Method::Cancel);
    h.advance(600_000);
    assert_eq!(h.core.txns.len(), 0, "the INVITE transaction ended 64·T1 after the CANCEL");
}
