//! Deterministic multi-node simulation: many [`Node`]s over a virtual
//! clock and a seeded network with latency, loss and partitions.
//!
//! A run is a pure function of its [`SimConfig`] (seed included), so any
//! failure replays exactly: tests take their seed from [`seed_from_env`]
//! (`CHORD_SIM_SEED`) and hold a [`SeedGuard`] that prints the seed when
//! the test panics.
//!
//! Implementation notes:
//! - One priority queue of (time, sequence) holds deliveries, timers and
//!   link-down reports; the sequence number breaks ties in insertion order,
//!   which keeps runs deterministic.
//! - The sim is a driver like the tokio one will be: after each input it
//!   drains transmits, events and the next timeout. Frames go through
//!   [`encode_frame`]/`Node::handle_frame` unless `encode_frames` is off
//!   (the 10,000-node benchmark turns it off to save time).
//! - A node's timer is re-armed only when its deadline moves earlier; a
//!   timer that fires early finds nothing due and is re-armed later. Stale
//!   queue entries are skipped by comparing with the node's armed time.
//! - Sending to a crashed or unknown node yields a link-down report to the
//!   sender after one latency when `link_down_on_dead` is set (a WebSocket
//!   driver sees a refused dial); partitions and loss drop silently, so
//!   only time-outs reveal them.

mod check;
mod seed;
mod workload;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::addr::{NodeAddr, NodeRef};
use crate::config::Config;
use crate::event::{Event, OpError, OpId, OpOutcome};
use crate::node::Node;
use crate::wire::{encode_frame, Message};

pub use crate::rng::Rng;
pub use check::RingOrder;
pub use seed::{seed_from_env, SeedGuard};
pub use workload::LookupStats;

/// Parameters of a simulation run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every random choice (latency, loss, node seeds).
    pub seed: u64,
    /// Configuration given to every node.
    pub node: Config,
    /// Smallest one-way latency.
    pub latency_min_ms: u64,
    /// Largest one-way latency.
    pub latency_max_ms: u64,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Report link-down to senders that address a dead node.
    pub link_down_on_dead: bool,
    /// Round-trip every message through the frame codec.
    pub encode_frames: bool,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            seed: 1,
            node: Config::default(),
            latency_min_ms: 5,
            latency_max_ms: 50,
            loss: 0.0,
            link_down_on_dead: true,
            encode_frames: true,
        }
    }
}

/// Message counts of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimStats {
    /// Messages delivered.
    pub delivered: u64,
    /// Messages lost to `loss`.
    pub lost: u64,
    /// Messages to crashed or unknown nodes.
    pub to_dead: u64,
    /// Messages dropped by a partition.
    pub partitioned: u64,
}

enum Payload {
    Frame(Vec<u8>),
    // Boxed: queue entries move on every heap sift, and a Message is large.
    Msg(Box<Message>),
}

enum Action {
    Deliver {
        to: usize,
        from: NodeAddr,
        payload: Payload,
    },
    Timer {
        node: usize,
    },
    LinkDown {
        node: usize,
        addr: NodeAddr,
    },
}

struct Scheduled {
    at_ms: u64,
    seq: u64,
    action: Action,
}

impl PartialEq for Scheduled {
    fn eq(&self, o: &Self) -> bool {
        (self.at_ms, self.seq) == (o.at_ms, o.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at_ms, self.seq).cmp(&(o.at_ms, o.seq))
    }
}

struct SimNode {
    node: Node,
    alive: bool,
    group: u32,
    events: Vec<Event>,
    timer_at_ms: Option<u64>,
}

/// A simulated network of ring nodes.
pub struct Sim {
    cfg: SimConfig,
    now_ms: u64,
    rng: Rng,
    seq: u64,
    queue: BinaryHeap<Reverse<Scheduled>>,
    nodes: Vec<SimNode>,
    by_addr: HashMap<NodeAddr, usize>,
    /// Message counts so far.
    pub stats: SimStats,
}

impl Sim {
    /// An empty network at time 0.
    pub fn new(cfg: SimConfig) -> Sim {
        let rng = Rng::new(cfg.seed);
        Sim {
            cfg,
            now_ms: 0,
            rng,
            seq: 0,
            queue: BinaryHeap::new(),
            nodes: Vec::new(),
            by_addr: HashMap::new(),
            stats: SimStats::default(),
        }
    }

    /// Current virtual time.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// The run's random generator (for tests to draw keys and victims).
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Adds a node: a new ring when `join_via` is None, else it joins
    /// through node `join_via`. Returns its index.
    pub fn add_node(&mut self, join_via: Option<usize>) -> usize {
        let cfg = self.cfg.node.clone();
        self.add_node_with_config(join_via, cfg)
    }

    /// The address node number `idx` gets (known before it is added).
    pub fn addr_of(idx: usize) -> NodeAddr {
        NodeAddr::new(format!("sim://n{idx}")).expect("sim addresses are short printable ASCII")
    }

    /// Like [`Sim::add_node`] with a node configuration of its own.
    pub fn add_node_with_config(&mut self, join_via: Option<usize>, config: Config) -> usize {
        let idx = self.nodes.len();
        let addr = Sim::addr_of(idx);
        let me = NodeRef::from_addr(addr.clone());
        let seed = self.rng.next_u64();
        let node = Node::new(config, me, seed)
            .expect("node configs in the sim must be valid (a test bug otherwise)");
        self.nodes.push(SimNode {
            node,
            alive: true,
            group: 0,
            events: Vec::new(),
            timer_at_ms: None,
        });
        self.by_addr.insert(addr, idx);
        let boot = join_via.map(|j| self.nodes[j].node.me().addr.clone());
        let now = self.now_ms;
        self.nodes[idx].node.handle_start(now, boot);
        self.after_input(idx);
        idx
    }

    /// Adds a node that joins through a random live member.
    pub fn add_node_via_random(&mut self) -> usize {
        let members = self.members();
        let via = members[self.rng.below(members.len() as u64) as usize];
        self.add_node(Some(via))
    }

    /// Crashes node `idx`: it stops, silently.
    pub fn crash(&mut self, idx: usize) {
        self.nodes[idx].alive = false;
    }

    /// Node `idx` leaves gracefully.
    pub fn leave(&mut self, idx: usize) {
        let now = self.now_ms;
        self.nodes[idx].node.leave(now);
        self.after_input(idx);
    }

    /// Puts node `idx` in partition group `group` (0 is the default);
    /// messages between different groups are dropped.
    pub fn set_group(&mut self, idx: usize, group: u32) {
        self.nodes[idx].group = group;
    }

    /// Changes the loss probability from now on.
    pub fn set_loss(&mut self, loss: f64) {
        self.cfg.loss = loss;
    }

    /// Heals every partition.
    pub fn heal(&mut self) {
        for n in &mut self.nodes {
            n.group = 0;
        }
    }

    /// Number of nodes ever added.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True when no node was added.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether node `idx` has not crashed.
    pub fn is_alive(&self, idx: usize) -> bool {
        self.nodes[idx].alive
    }

    /// The node at `idx`.
    pub fn node(&self, idx: usize) -> &Node {
        &self.nodes[idx].node
    }

    /// Runs a closure on node `idx` as a client call would (then drains it).
    pub fn with_node<T>(&mut self, idx: usize, f: impl FnOnce(&mut Node, u64) -> T) -> T {
        let now = self.now_ms;
        let out = f(&mut self.nodes[idx].node, now);
        self.after_input(idx);
        out
    }

    /// Starts a lookup at node `idx`.
    pub fn lookup(&mut self, idx: usize, key: crate::id::Id) -> OpId {
        self.with_node(idx, |n, now| n.lookup(now, key))
    }

    /// Takes the events node `idx` emitted so far.
    pub fn take_events(&mut self, idx: usize) -> Vec<Event> {
        std::mem::take(&mut self.nodes[idx].events)
    }

    /// Removes and returns the result of `op` at node `idx`, if it is in.
    pub fn take_result(
        &mut self,
        idx: usize,
        op: OpId,
    ) -> Option<(u8, Result<OpOutcome, OpError>)> {
        let events = &mut self.nodes[idx].events;
        let pos = events
            .iter()
            .position(|e| matches!(e, Event::OpDone { op: o, .. } if *o == op))?;
        match events.remove(pos) {
            Event::OpDone { hops, result, .. } => Some((hops, result)),
            _ => None,
        }
    }

    /// Runs until the queue is empty or virtual time reaches `now + ms`.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        while let Some(Reverse(s)) = self.queue.peek() {
            if s.at_ms > end {
                break;
            }
            let Some(Reverse(s)) = self.queue.pop() else {
                break;
            };
            self.now_ms = s.at_ms;
            self.dispatch(s.action);
        }
        self.now_ms = end;
    }

    /// Runs in steps of `step_ms` until `done` holds or `max_ms` passed;
    /// returns whether `done` held.
    pub fn run_until(
        &mut self,
        max_ms: u64,
        step_ms: u64,
        mut done: impl FnMut(&Sim) -> bool,
    ) -> bool {
        let end = self.now_ms + max_ms;
        while self.now_ms < end {
            if done(self) {
                return true;
            }
            self.run_for(step_ms.min(end - self.now_ms));
        }
        done(self)
    }

    fn dispatch(&mut self, action: Action) {
        let now = self.now_ms;
        match action {
            Action::Timer { node } => {
                let n = &mut self.nodes[node];
                if !n.alive || n.timer_at_ms != Some(now) {
                    return;
                }
                n.timer_at_ms = None;
                n.node.handle_timeout(now);
                self.after_input(node);
            }
            Action::Deliver { to, from, payload } => {
                if !self.nodes[to].alive {
                    self.stats.to_dead += 1;
                    self.report_dead(&from, to);
                    return;
                }
                self.stats.delivered += 1;
                let n = &mut self.nodes[to].node;
                match payload {
                    Payload::Frame(f) => n.handle_frame(now, &from, &f),
                    Payload::Msg(m) => n.handle_message(now, &from, *m),
                }
                self.after_input(to);
            }
            Action::LinkDown { node, addr } => {
                if self.nodes[node].alive {
                    self.nodes[node].node.handle_link_down(now, &addr);
                    self.after_input(node);
                }
            }
        }
    }

    /// Tells the sender of a message to dead node `to` that its link is down.
    fn report_dead(&mut self, from: &NodeAddr, to: usize) {
        if !self.cfg.link_down_on_dead {
            return;
        }
        if let Some(&sender) = self.by_addr.get(from) {
            let addr = self.nodes[to].node.me().addr.clone();
            let at = self.now_ms + self.latency();
            self.schedule(at, Action::LinkDown { node: sender, addr });
        }
    }

    fn latency(&mut self) -> u64 {
        let span = self
            .cfg
            .latency_max_ms
            .saturating_sub(self.cfg.latency_min_ms);
        self.cfg.latency_min_ms + self.rng.below(span + 1)
    }

    fn schedule(&mut self, at_ms: u64, action: Action) {
        self.seq += 1;
        self.queue.push(Reverse(Scheduled {
            at_ms,
            seq: self.seq,
            action,
        }));
    }

    /// Drains node `idx` after an input: transmits, events, next timer.
    fn after_input(&mut self, idx: usize) {
        let from = self.nodes[idx].node.me().addr.clone();
        while let Some(t) = self.nodes[idx].node.poll_transmit() {
            let Some(&to) = self.by_addr.get(&t.to) else {
                self.stats.to_dead += 1;
                if self.cfg.link_down_on_dead {
                    let at = self.now_ms + self.latency();
                    self.schedule(
                        at,
                        Action::LinkDown {
                            node: idx,
                            addr: t.to,
                        },
                    );
                }
                continue;
            };
            if self.nodes[to].group != self.nodes[idx].group {
                self.stats.partitioned += 1;
                continue;
            }
            if self.cfg.loss > 0.0 && self.rng.chance(self.cfg.loss) {
                self.stats.lost += 1;
                continue;
            }
            let payload = if self.cfg.encode_frames {
                Payload::Frame(encode_frame(&t.msg))
            } else {
                Payload::Msg(Box::new(t.msg))
            };
            let at = self.now_ms + self.latency();
            self.schedule(
                at,
                Action::Deliver {
                    to,
                    from: from.clone(),
                    payload,
                },
            );
        }
        let n = &mut self.nodes[idx];
        while let Some(e) = n.node.poll_event() {
            n.events.push(e);
        }
        if let Some(t) = n.node.poll_timeout() {
            let t = t.max(self.now_ms);
            if n.timer_at_ms.is_none_or(|cur| t < cur) {
                n.timer_at_ms = Some(t);
                self.schedule(t, Action::Timer { node: idx });
            }
        }
    }
}
