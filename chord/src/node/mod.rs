//! The ring node: one sans-IO state machine per super-node.
//!
//! Implementation notes:
//! - All state sits behind `&mut self`; inputs are `handle_*` calls that take
//!   the caller's `now_ms`, outputs queue up until the driver polls them.
//! - Requests are tracked in one table keyed by request id, with a deadline
//!   index, so `poll_timeout` is the minimum of a few timers and the first
//!   deadline. Every client operation has at most one request outstanding,
//!   which bounds the table by `ops_max` plus a handful of maintenance
//!   requests and the leave window.
//! - Operations (client and internal: join, fix-fingers, orphan hand-over)
//!   share one table keyed by an increasing id. Their deadlines are the start
//!   time plus one constant, so the table's first entry is always the
//!   earliest deadline.
//! - The code is split by concern: `ops` (client calls and the store
//!   step), `lookup` (operation records and the iterative lookup),
//!   `maintenance` (join, stabilize, rectify, fingers, failures),
//!   `replication` (digests, pushes, hand-over), `serve` (answering remote
//!   requests), `leave`, and `view` (status and read-only accessors).

mod leave;
mod lookup;
mod maintenance;
mod ops;
mod replication;
mod serve;
mod view;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::addr::{NodeAddr, NodeRef};
use crate::config::{Config, ConfigError};
use crate::event::Event;
use crate::id::Id;
use crate::rng::Rng;
use crate::routing::RoutingTable;
use crate::status::{Counters, NodeState};
use crate::store::{Record, Store};
use crate::wire::{decode_frame, Message};

use leave::LeaveState;
use lookup::Op;

/// A message for the driver to send to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Destination ring address.
    pub to: NodeAddr,
    /// The message; encode it with [`encode_frame`](crate::wire::encode_frame).
    pub msg: Message,
}

/// What an outstanding request is for.
#[derive(Debug)]
pub(crate) enum PendingKind {
    /// `GetNeighbours` to the first successor (stabilize).
    Stabilize,
    /// `GetNeighbours` to the successor's predecessor before adopting it.
    Adopt,
    /// `GetNeighbours` to our predecessor after a conflicting rectify.
    PredCheck { candidate: NodeRef },
    /// A lookup step of an operation.
    Find { op: u64 },
    /// The store step (put or get) of an operation.
    Store { op: u64 },
    /// A read forwarded to the successor just after joining (see
    /// `serve.rs`); the answer goes to `requester` under its `req`.
    ReadThrough { requester: NodeAddr, req: u64, key: Id, prefix: Option<Vec<u8>> },
    /// A hand-off batch awaiting its acknowledgement.
    Handoff {
        purpose: HandoffPurpose,
        records: Vec<Record>,
    },
}

/// Why records are handed off.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HandoffPurpose {
    /// Graceful leave to the successor.
    Leave,
    /// A key held without confirmation, sent to its owner; `keep` when this
    /// node is still one of its replicas.
    Orphan { key: Id, keep: bool },
}

#[derive(Debug)]
pub(crate) struct Pending {
    to: NodeAddr,
    deadline_ms: u64,
    kind: PendingKind,
}

/// A Chord ring member with its share of the replicated store.
///
/// # Driving order
/// 1. `Node::new(config, self_ref, seed)`, then `handle_start(now_ms, join)`
///    once: `None` creates a ring, `Some(addr)` joins through any member.
/// 2. Feed inputs as they happen: `handle_frame` (or `handle_message` with a
///    decoded message) for every frame from a ring link, `handle_link_down`
///    when a link to an address fails or cannot be opened, and
///    `handle_timeout` when the deadline from `poll_timeout` is reached.
///    Client calls (`put`, `get`, `delete`, `lookup`, `leave`) may come at
///    any time; their results arrive later as events.
/// 3. After every input, drain `poll_transmit` until None (send each to its
///    address, dialling if needed), drain `poll_event`, then re-arm one timer
///    at `poll_timeout()`.
///
/// `now_ms` must never decrease between calls.
#[derive(Debug)]
pub struct Node {
    cfg: Config,
    rt: RoutingTable,
    store: Store,
    rng: Rng,
    state: NodeState,
    stable: bool,
    join_bootstrap: Option<NodeAddr>,
    join_attempts: u32,
    join_retry_at_ms: Option<u64>,
    next_req: u64,
    next_op: u64,
    pending: BTreeMap<u64, Pending>,
    deadlines: BTreeSet<(u64, u64)>,
    ops: BTreeMap<u64, Op>,
    client_ops: usize,
    stabilize_at_ms: u64,
    fix_fingers_at_ms: u64,
    replicate_at_ms: u64,
    sweep_at_ms: u64,
    stabilizing: bool,
    pred_checking: bool,
    finger_cursor: usize,
    finger_op: Option<u64>,
    orphans_in_flight: BTreeSet<Id>,
    leave: Option<LeaveState>,
    /// Until when reads are also forwarded to the successor (set on join).
    read_through_until_ms: Option<u64>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    counters: Counters,
}

impl Node {
    /// A node that is not yet part of a ring. `seed` feeds the only
    /// randomness (timer phases and request ids).
    pub fn new(config: Config, me: NodeRef, seed: u64) -> Result<Node, ConfigError> {
        config.validate()?;
        let mut rng = Rng::new(seed ^ u64::from_be_bytes(first8(&me.id)));
        let next_req = rng.next_u64() >> 16;
        Ok(Node {
            rt: RoutingTable::new(me, config.successor_list_len),
            cfg: config,
            store: Store::default(),
            rng,
            state: NodeState::Idle,
            stable: false,
            join_bootstrap: None,
            join_attempts: 0,
            join_retry_at_ms: None,
            next_req,
            next_op: 1,
            pending: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            ops: BTreeMap::new(),
            client_ops: 0,
            stabilize_at_ms: 0,
            fix_fingers_at_ms: 0,
            replicate_at_ms: 0,
            sweep_at_ms: 0,
            stabilizing: false,
            pred_checking: false,
            finger_cursor: 0,
            finger_op: None,
            orphans_in_flight: BTreeSet::new(),
            leave: None,
            read_through_until_ms: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
        })
    }

    /// Starts the node: `None` creates a new ring, `Some(addr)` joins the
    /// ring through the member at `addr`. Ignored after the first call.
    pub fn handle_start(&mut self, now_ms: u64, join: Option<NodeAddr>) {
        if self.state != NodeState::Idle {
            return;
        }
        self.arm_timers(now_ms);
        match join {
            Some(addr) if addr != self.rt.me.addr => {
                self.state = NodeState::Joining;
                self.join_bootstrap = Some(addr);
                self.begin_join(now_ms);
            }
            _ => {
                self.state = NodeState::Member;
                let me = self.rt.me.clone();
                self.events.push_back(Event::Joined { successor: me });
            }
        }
    }

    /// Decodes and handles one frame from the ring link to `from`. Frames
    /// that fail to decode are dropped and counted.
    pub fn handle_frame(&mut self, now_ms: u64, from: &NodeAddr, frame: &[u8]) {
        match decode_frame(frame, self.cfg.max_message_bytes) {
            Ok(msg) => self.handle_message(now_ms, from, msg),
            Err(_) => self.counters.frames_malformed += 1,
        }
    }

    /// Handles one decoded message from `from` (the sender's advertised
    /// address). Out-of-bounds messages are dropped and counted.
    pub fn handle_message(&mut self, now_ms: u64, from: &NodeAddr, msg: Message) {
        if matches!(self.state, NodeState::Idle | NodeState::Left) {
            return;
        }
        self.counters.messages_in += 1;
        if msg.validate(&self.cfg).is_err() {
            self.counters.messages_out_of_bounds += 1;
            return;
        }
        self.rt.note_alive(from);
        if let Some(req) = msg.answers() {
            let matches = self.pending.get(&req).is_some_and(|p| &p.to == from);
            if !matches {
                self.counters.answers_unexpected += 1;
                return;
            }
            let p = self.take_pending(req).expect("presence checked just above");
            self.on_answer(now_ms, from, p.kind, msg);
        } else {
            self.serve(now_ms, from, msg);
        }
    }

    /// The driver's link to `addr` went down or could not be opened: the
    /// node is taken for dead and its outstanding requests fail now.
    pub fn handle_link_down(&mut self, now_ms: u64, addr: &NodeAddr) {
        if matches!(self.state, NodeState::Idle | NodeState::Left) || addr == &self.rt.me.addr {
            return;
        }
        let reqs: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| &p.to == addr)
            .map(|(r, _)| *r)
            .collect();
        self.declare_dead(now_ms, addr);
        for req in reqs {
            if let Some(p) = self.take_pending(req) {
                self.on_request_failed(now_ms, p);
            }
        }
    }

    /// Runs everything due at `now_ms`: request time-outs, operation
    /// deadlines and the periodic stabilize, fix-fingers, replica
    /// maintenance and expiry sweep.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if matches!(self.state, NodeState::Idle | NodeState::Left) {
            return;
        }
        while let Some(&(deadline, req)) = self.deadlines.first() {
            if deadline > now_ms {
                break;
            }
            if let Some(p) = self.take_pending(req) {
                self.counters.requests_timed_out += 1;
                self.on_request_failed(now_ms, p);
            }
        }
        self.expire_ops(now_ms);
        if self.state == NodeState::Joining && self.join_retry_at_ms.is_some_and(|t| t <= now_ms) {
            self.join_retry_at_ms = None;
            self.begin_join(now_ms);
        }
        if self.state == NodeState::Member {
            if self.stabilize_at_ms <= now_ms {
                self.stabilize_at_ms = now_ms + self.cfg.stabilize_interval_ms;
                self.stabilize(now_ms);
            }
            if self.fix_fingers_at_ms <= now_ms {
                self.fix_fingers_at_ms = now_ms + self.cfg.fix_fingers_interval_ms;
                self.fix_fingers(now_ms);
            }
            if self.replicate_at_ms <= now_ms {
                self.replicate_at_ms = now_ms + self.cfg.replicate_interval_ms;
                self.replicate_round(now_ms);
            }
        }
        if self.sweep_at_ms <= now_ms {
            self.sweep_at_ms = now_ms + self.cfg.expire_sweep_interval_ms;
            self.store.sweep(now_ms);
        }
        if self.state == NodeState::Leaving {
            self.check_leave_done(now_ms);
        }
    }

    /// The next message to send, if any.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When `handle_timeout` should next be called (None: only on input).
    pub fn poll_timeout(&self) -> Option<u64> {
        if matches!(self.state, NodeState::Idle | NodeState::Left) {
            return None;
        }
        let mut t = self.sweep_at_ms;
        if let Some((d, _)) = self.deadlines.first() {
            t = t.min(*d);
        }
        if let Some(op) = self.ops.values().next() {
            t = t.min(op.deadline_ms);
        }
        match self.state {
            NodeState::Member => {
                t = t
                    .min(self.stabilize_at_ms)
                    .min(self.fix_fingers_at_ms)
                    .min(self.replicate_at_ms);
            }
            NodeState::Joining => {
                if let Some(r) = self.join_retry_at_ms {
                    t = t.min(r);
                }
            }
            NodeState::Leaving => {
                if let Some(l) = &self.leave {
                    t = t.min(l.deadline_ms);
                }
            }
            NodeState::Idle | NodeState::Left => {}
        }
        Some(t)
    }

    fn arm_timers(&mut self, now_ms: u64) {
        // Random phases keep a ring of nodes started together from
        // stabilising in lock-step.
        self.stabilize_at_ms = now_ms + self.rng.below(self.cfg.stabilize_interval_ms);
        self.fix_fingers_at_ms = now_ms + self.rng.below(self.cfg.fix_fingers_interval_ms);
        self.replicate_at_ms = now_ms + self.rng.below(self.cfg.replicate_interval_ms);
        self.sweep_at_ms = now_ms + self.cfg.expire_sweep_interval_ms;
    }

    fn alloc_op(&mut self) -> u64 {
        let id = self.next_op;
        self.next_op += 1;
        id
    }

    /// Queues a one-way message.
    fn send(&mut self, to: &NodeAddr, msg: Message) {
        self.counters.messages_out += 1;
        self.transmits.push_back(Transmit {
            to: to.clone(),
            msg,
        });
    }

    /// Queues a request and tracks it; returns its id.
    fn request(
        &mut self,
        now_ms: u64,
        to: &NodeAddr,
        kind: PendingKind,
        make: impl FnOnce(u64) -> Message,
    ) -> u64 {
        let req = self.next_req;
        self.next_req = self.next_req.wrapping_add(1);
        let deadline_ms = now_ms + self.cfg.request_timeout_ms;
        self.pending.insert(
            req,
            Pending {
                to: to.clone(),
                deadline_ms,
                kind,
            },
        );
        self.deadlines.insert((deadline_ms, req));
        self.send(to, make(req));
        req
    }

    fn take_pending(&mut self, req: u64) -> Option<Pending> {
        let p = self.pending.remove(&req)?;
        self.deadlines.remove(&(p.deadline_ms, req));
        Some(p)
    }

    fn on_answer(&mut self, now_ms: u64, from: &NodeAddr, kind: PendingKind, msg: Message) {
        match (kind, msg) {
            (PendingKind::Find { op }, msg) => self.on_find_answer(now_ms, op, from, msg),
            (PendingKind::Store { op }, msg) => self.on_store_answer(now_ms, op, msg),
            (PendingKind::ReadThrough { requester, req, key, prefix }, Message::GetReply { values, .. }) => {
                self.on_read_through(now_ms, &requester, req, key, prefix, values);
            }
            (PendingKind::Handoff { purpose, records }, Message::HandoffAck { .. }) => {
                self.on_handoff_ack(now_ms, purpose, records.len());
            }
            (
                kind,
                Message::Neighbours {
                    node,
                    predecessor,
                    successors,
                    ..
                },
            ) => {
                self.on_neighbours(now_ms, kind, node, predecessor, successors);
            }
            (kind, _) => {
                // The id matched but the answer is of the wrong type: treat
                // as a failed request so the waiting logic moves on.
                self.counters.answers_unexpected += 1;
                let p = Pending {
                    to: from.clone(),
                    deadline_ms: now_ms,
                    kind,
                };
                self.on_request_failed(now_ms, p);
            }
        }
    }

    /// A request timed out or its link went down.
    fn on_request_failed(&mut self, now_ms: u64, p: Pending) {
        match p.kind {
            PendingKind::Find { op } => self.on_find_failed(now_ms, op, &p.to),
            PendingKind::Store { op } => self.on_store_failed(now_ms, op, &p.to),
            PendingKind::Handoff { purpose, records } => {
                self.on_handoff_failed(now_ms, &p.to, purpose, records);
            }
            PendingKind::ReadThrough { requester, req, key, prefix } => {
                // The successor did not answer: what we have is all we know.
                self.note_failure(now_ms, &p.to);
                let values = self.store.get(now_ms, &key, prefix.as_deref());
                self.send(&requester, Message::GetReply { req, values });
            }
            kind => self.on_neighbours_failed(now_ms, kind, &p.to),
        }
    }

    /// Records a failed request to `addr`; declares it dead past the
    /// threshold. Returns whether it is now taken for dead.
    fn note_failure(&mut self, now_ms: u64, addr: &NodeAddr) -> bool {
        if self.rt.is_dead(addr, now_ms) {
            return true;
        }
        if self.rt.note_failure(addr, self.cfg.failures_before_dead) {
            self.declare_dead(now_ms, addr);
            true
        } else {
            false
        }
    }
}

fn first8(id: &Id) -> [u8; 8] {
    let mut b = [0u8; 8];
    b.copy_from_slice(&id.as_bytes()[..8]);
    b
}
