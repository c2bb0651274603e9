//! The registrar and proxy of a super-node, as a sans-IO state machine.
//!
//! # Layout
//! - [`flow`]: where messages come from and go to; flow tokens.
//! - [`local`]: this super-node's addresses, Via and Record-Route URIs.
//! - [`binding`]: a registration as stored on the ring.
//! - [`config`]: limits and timers.
//! - `incoming` (private): parsing, sanity checks, received/rport, dispatch.
//! - `registrar`: REGISTER over the ring's replicated store.
//! - `router`: Route processing and the choice of target for a request.
//! - `fork`: stateful forwarding to one or many branches, response choice,
//!   CANCEL and timer C.
//! - `mailbox`: MESSAGEs stored for an AOR with no binding, delivered when
//!   it registers.
//! - `txns`: the server and client transactions (from `sip::transaction`)
//!   and their timers.
//! - [`rate`]: per-flow request rate limits (token buckets).
//! - `stats`: counters for the status API.
//!
//! # Driving order
//! Like every state machine in this project: feed inputs with `handle_*`
//! (connections opening and closing, messages from any flow, results of
//! ring store operations, timer expiries), then drain [`SipCore::poll_transmit`]
//! (send each on its flow), [`SipCore::poll_store`] (start each ring
//! operation; give its result back with its id), and re-arm one timer at
//! [`SipCore::poll_timeout`]. No IO, no clock: `now_ms` comes in, and the
//! only randomness is a seeded generator for tags and branches.

pub mod binding;
pub mod config;
mod fork;
pub mod flow;
mod incoming;
pub mod local;
mod mailbox;
pub mod rate;
mod registrar;
mod router;
mod stats;
pub mod timers;
mod txns;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};

use chord::{Id, OpError, OpOutcome};
use sip::rng::Rng;

pub use config::CoreConfig;
pub use flow::{ConnKind, Flow, FlowTokens};
pub use local::Local;
pub use stats::Stats;

use fork::Fork;
use mailbox::MailboxCtx;
use registrar::Registration;
use router::LocateCtx;
use timers::TimerQueue;
use txns::Txns;

/// Bytes to send on a flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub flow: Flow,
    pub bytes: Vec<u8>,
}

/// A ring store operation the driver must run and answer with
/// [`SipCore::handle_store_result`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreRequest {
    pub id: u64,
    pub op: StoreOp,
}

/// The ring operations the core uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOp {
    /// Live values under `key` whose sub-key starts with `prefix`.
    Get { key: Id, prefix: Vec<u8> },
    /// Store unless a newer version is there.
    Put { key: Id, sub_key: Vec<u8>, value: Vec<u8>, version: u64, ttl_ms: u64 },
    /// Versioned delete (a tombstone kept for `ttl_ms`).
    Delete { key: Id, sub_key: Vec<u8>, version: u64, ttl_ms: u64 },
}

/// What a store operation was for.
#[derive(Debug)]
enum StoreCtx {
    /// A REGISTER's read or write.
    Register { reg: u64 },
    /// Finding the contacts of a request's target.
    Locate(LocateCtx),
    /// Removing a binding whose connection closed; nothing waits for it.
    Cleanup,
    /// A mailbox step.
    Mailbox(MailboxCtx),
}

/// Timers owned by the core (transactions have their own, see `txns`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum TimerKey {
    Server(u64),
    Client(u64),
    /// RFC 3261 timer C of a fork.
    ForkC(u64),
}

/// A binding written over a connection, removed when it closes.
#[derive(Debug, Clone)]
struct TrackedBinding {
    key: Id,
    sub_key: Vec<u8>,
    version: u64,
}

/// The registrar and proxy state machine of one super-node.
pub struct SipCore {
    cfg: CoreConfig,
    local: Local,
    tokens: FlowTokens,
    rng: Rng,
    /// Live connections and their transport.
    conns: HashMap<u64, ConnKind>,
    /// Bindings registered over each live connection.
    flow_bindings: HashMap<u64, Vec<TrackedBinding>>,
    txns: Txns,
    rate: rate::RateLimiter,
    forks: HashMap<u64, Fork>,
    regs: HashMap<u64, Registration>,
    mail: HashMap<u64, mailbox::MailItem>,
    store_ops: HashMap<u64, StoreCtx>,
    timers: TimerQueue<TimerKey>,
    transmits: VecDeque<Transmit>,
    store_requests: VecDeque<StoreRequest>,
    next_id: u64,
    stats: Stats,
}

impl SipCore {
    /// A core for a super-node at `local`. `seed` must be unpredictable: it
    /// feeds tags, branches and the flow-token secret.
    pub fn new(cfg: CoreConfig, local: Local, seed: u64) -> SipCore {
        let mut rng = Rng::new(seed);
        let mut secret = [0u8; 16];
        secret[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
        secret[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
        SipCore {
            rate: rate::RateLimiter::new(cfg.rate),
            cfg,
            local,
            tokens: FlowTokens::new(secret),
            rng,
            conns: HashMap::new(),
            flow_bindings: HashMap::new(),
            txns: Txns::default(),
            forks: HashMap::new(),
            regs: HashMap::new(),
            mail: HashMap::new(),
            store_ops: HashMap::new(),
            timers: TimerQueue::default(),
            transmits: VecDeque::new(),
            store_requests: VecDeque::new(),
            next_id: 1,
            stats: Stats::default(),
        }
    }

    /// This super-node's addresses.
    pub fn local(&self) -> &Local {
        &self.local
    }

    /// Counters for the status API.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats.clone();
        s.connections = self.conns.len() as u64;
        s.transactions = self.txns.len() as u64;
        s.pending_requests = self.txns.unanswered() as u64;
        s.store_ops_in_flight = self.store_ops.len() as u64;
        s.rate_untracked = self.rate.untracked;
        s
    }

    /// A WebSocket or TCP connection opened.
    pub fn handle_conn_opened(&mut self, conn: u64, kind: ConnKind) {
        self.conns.insert(conn, kind);
    }

    /// A connection closed: its bindings are removed from the ring and
    /// transactions waiting on it fail.
    pub fn handle_conn_closed(&mut self, now_ms: u64, conn: u64) {
        self.conns.remove(&conn);
        self.rate.forget(&Flow::Conn(conn));
        for b in self.flow_bindings.remove(&conn).unwrap_or_default() {
            self.stats.bindings_removed_on_close += 1;
            // version + 1: a newer registration of the same contact, made
            // through another connection meanwhile, wins over this delete.
            let op = StoreOp::Delete { key: b.key, sub_key: b.sub_key, version: b.version + 1, ttl_ms: 60_000 };
            if self.start_store(op, StoreCtx::Cleanup).is_none() {
                tracing::warn!("binding of closed connection #{conn} left to expire: store busy");
            }
        }
        self.flow_failed(now_ms, &Flow::Conn(conn));
    }

    /// Sends to `flow` can no longer succeed (a ring link went down or could
    /// not be opened): client transactions towards it fail now.
    pub fn handle_flow_failed(&mut self, now_ms: u64, flow: &Flow) {
        self.flow_failed(now_ms, flow);
    }

    /// One SIP message from a datagram-framed flow: UDP, WebSocket (one
    /// message per frame, RFC 7118) or a ring link.
    pub fn handle_datagram(&mut self, now_ms: u64, flow: Flow, bytes: &[u8]) {
        let parsed = sip::parse_datagram(bytes, &self.cfg.limits);
        self.handle_parsed(now_ms, flow, parsed, bytes);
    }

    /// One SIP message already framed by the driver (TCP uses
    /// `sip::parse_stream`); `raw` is its bytes, for error replies.
    pub fn handle_parsed(&mut self, now_ms: u64, flow: Flow, parsed: Result<sip::Message, sip::ParseError>, raw: &[u8]) {
        self.incoming(now_ms, flow, parsed, raw);
    }

    /// The result of a store operation started from [`SipCore::poll_store`].
    pub fn handle_store_result(&mut self, now_ms: u64, id: u64, result: Result<OpOutcome, OpError>) {
        let Some(ctx) = self.store_ops.remove(&id) else { return };
        match ctx {
            StoreCtx::Register { reg } => self.registrar_store_done(now_ms, reg, id, result),
            StoreCtx::Locate(ctx) => self.locate_done(now_ms, ctx, result),
            StoreCtx::Cleanup => {
                if let Err(e) = result {
                    // Stale: the contact registered again elsewhere; fine.
                    if !matches!(e, OpError::Stale { .. }) {
                        tracing::warn!("removing a closed connection's binding failed: {e}");
                    }
                }
            }
            StoreCtx::Mailbox(ctx) => self.mailbox_store_done(now_ms, ctx, result),
        }
    }

    /// Runs every timer due at `now_ms`.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        while let Some(key) = self.timers.pop_due(now_ms) {
            match key {
                TimerKey::Server(id) => self.server_timeout(now_ms, id),
                TimerKey::Client(id) => self.client_timeout(now_ms, id),
                TimerKey::ForkC(id) => self.fork_timer_c(now_ms, id),
            }
        }
    }

    /// Next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Next ring operation to start.
    pub fn poll_store(&mut self) -> Option<StoreRequest> {
        self.store_requests.pop_front()
    }

    /// When to call [`SipCore::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.timers.next()
    }

    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Queues a store operation and returns its id; None when too many
    /// are in flight.
    fn start_store(&mut self, op: StoreOp, ctx: StoreCtx) -> Option<u64> {
        if self.store_ops.len() >= self.cfg.max_store_ops {
            self.stats.store_ops_refused += 1;
            return None;
        }
        let id = self.next_id();
        self.store_ops.insert(id, ctx);
        self.store_requests.push_back(StoreRequest { id, op });
        Some(id)
    }

    fn send(&mut self, flow: Flow, bytes: Vec<u8>) {
        self.transmits.push_back(Transmit { flow, bytes });
    }

    fn conn_kind(&self, flow: &Flow) -> Option<ConnKind> {
        match flow {
            Flow::Conn(id) => self.conns.get(id).copied(),
            _ => None,
        }
    }

    /// Whether a message can still be sent on a local flow.
    fn flow_alive(&self, flow: &Flow) -> bool {
        match flow {
            Flow::Conn(id) => self.conns.contains_key(id),
            Flow::Udp(_) | Flow::Ring(_) => true,
        }
    }

    /// Remembers a binding written over a connection (bounded per flow).
    fn track_binding(&mut self, flow: &Flow, b: TrackedBinding) {
        let Flow::Conn(conn) = flow else { return };
        if !self.conns.contains_key(conn) {
            return;
        }
        let list = self.flow_bindings.entry(*conn).or_default();
        list.retain(|t| !(t.key == b.key && t.sub_key == b.sub_key));
        if list.len() < self.cfg.max_tracked_bindings_per_flow {
            list.push(b);
        }
    }

    fn untrack_binding(&mut self, flow: &Flow, key: &Id, sub_key: &[u8]) {
        if let Flow::Conn(conn) = flow {
            if let Some(list) = self.flow_bindings.get_mut(conn) {
                list.retain(|t| !(t.key == *key && t.sub_key == sub_key));
            }
        }
    }
}
