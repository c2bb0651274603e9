//! Operation records and the iterative lookup.
//!
//! Implementation notes:
//! - Lookups are iterative: this node asks each hop in turn and the hop
//!   answers with the responsible node (`FoundSuccessor`) or with closer
//!   nodes (`NextHop`). Recursive routing would save half the messages, but
//!   iterative keeps every decision, time-out and retry at the originator:
//!   when a hop is dead the originator simply asks the next-best candidate it
//!   already holds, the hop count is exact, and intermediate nodes keep no
//!   per-lookup state (nothing to bound or to leak on their side).
//! - Progress is enforced: a candidate is only accepted if it lies strictly
//!   between the node that named it and the key, so a lying or confused hop
//!   cannot make a lookup loop; `lookup_hops_max` bounds the rest.
//! - Routing around failures: each answer's candidates go in front of the
//!   candidates still unused from earlier answers; on a time-out the next one
//!   is tried, and as a last resort this node's own table (minus the nodes
//!   that failed). The store step likewise walks the replica list: if the
//!   responsible node does not answer, its successors hold copies.
//! - Hops count lookup requests sent (including ones that timed out); a key
//!   this node is responsible for, or whose owner is its successor, takes 0.

use crate::addr::{NodeAddr, NodeRef};
use crate::event::{Event, OpError, OpId, OpOutcome};
use crate::id::Id;
use crate::store::Record;
use crate::wire::Message;

use super::{Node, PendingKind};

/// What an operation is for.
#[derive(Debug)]
pub(crate) enum OpKind {
    /// Client lookup.
    Lookup,
    /// Client put or delete (value None).
    Put(Record),
    /// Client get with optional sub-key prefix.
    Get(Option<Vec<u8>>),
    /// Our own join (lookup of our id through the bootstrap node).
    Join,
    /// Fix finger `i`.
    Finger(usize),
    /// Find the owner of a key held without confirmation.
    Orphan,
}

impl OpKind {
    pub(crate) fn is_client(&self) -> bool {
        matches!(self, OpKind::Lookup | OpKind::Put(_) | OpKind::Get(_))
    }
}

#[derive(Debug)]
pub(crate) enum Phase {
    Lookup {
        /// The node asked last, and its id when known.
        current: Option<(NodeAddr, Option<Id>)>,
        /// Unused candidates, best first.
        alternatives: Vec<NodeRef>,
        /// Nodes that failed to answer.
        tried: Vec<NodeAddr>,
        /// Whether our own table was already used as a last resort.
        fell_back: bool,
        /// The last node that answered `NextHop`, and its successor list.
        last_hop: Option<(Id, Vec<NodeRef>)>,
    },
    Store {
        targets: Vec<NodeRef>,
        idx: usize,
    },
}

#[derive(Debug)]
pub(crate) struct Op {
    pub(crate) key: Id,
    pub(crate) kind: OpKind,
    pub(crate) deadline_ms: u64,
    pub(crate) hops: u8,
    pub(crate) phase: Phase,
}

impl Node {
    /// Registers an operation and takes its first lookup step.
    pub(crate) fn start_op(&mut self, now_ms: u64, id: u64, key: Id, kind: OpKind) {
        let phase = Phase::Lookup {
            current: None,
            alternatives: Vec::new(),
            tried: Vec::new(),
            fell_back: false,
            last_hop: None,
        };
        let deadline_ms = now_ms + self.cfg.op_timeout_ms;
        let is_join = matches!(kind, OpKind::Join);
        self.ops.insert(
            id,
            Op {
                key,
                kind,
                deadline_ms,
                hops: 0,
                phase,
            },
        );
        if is_join {
            if let Some(boot) = self.join_bootstrap.clone() {
                self.send_find(now_ms, id, &boot, None);
            } else {
                self.fail_op(now_ms, id, OpError::NotMember);
            }
            return;
        }
        if self.rt.owns(&key) || self.rt.successors().is_empty() {
            let mut list = vec![self.rt.me.clone()];
            list.extend(self.rt.successors().iter().cloned());
            self.finish_lookup(now_ms, id, list);
        } else if self.rt.successor_owns(&key) {
            let list = self.rt.successors().to_vec();
            self.finish_lookup(now_ms, id, list);
        } else {
            let alts = self
                .rt
                .closest_preceding(&key, 2 * self.cfg.lookup_candidates, now_ms);
            if let Some(Op {
                phase: Phase::Lookup { alternatives, .. },
                ..
            }) = self.ops.get_mut(&id)
            {
                *alternatives = alts;
            }
            self.query_next(now_ms, id);
        }
    }

    /// Asks the best unused candidate, or fails when none is left. First,
    /// if the last hop's successors between it and the key all failed, the
    /// first live one past the key is the owner: done without a round trip.
    fn query_next(&mut self, now_ms: u64, id: u64) {
        if let Some(list) = self.owner_past_failures(now_ms, id) {
            self.finish_lookup(now_ms, id, list);
            return;
        }
        loop {
            let Some(op) = self.ops.get_mut(&id) else {
                return;
            };
            let key = op.key;
            let Phase::Lookup {
                alternatives,
                tried,
                fell_back,
                ..
            } = &mut op.phase
            else {
                return;
            };
            alternatives.retain(|c| !tried.contains(&c.addr));
            if let Some(pos) = alternatives
                .iter()
                .position(|c| !self.rt.is_dead(&c.addr, now_ms))
            {
                let next = alternatives.remove(pos);
                self.send_find(now_ms, id, &next.addr, Some(next.id));
                return;
            }
            if *fell_back {
                self.fail_op(now_ms, id, OpError::Timeout);
                return;
            }
            *fell_back = true;
            let tried = tried.clone();
            let mut local = self
                .rt
                .closest_preceding(&key, 2 * self.cfg.lookup_candidates, now_ms);
            local.retain(|c| !tried.contains(&c.addr));
            if let Some(Op {
                phase: Phase::Lookup { alternatives, .. },
                ..
            }) = self.ops.get_mut(&id)
            {
                *alternatives = local;
            }
        }
    }

    /// See `query_next`: the owner from the last hop's successor list when
    /// every successor between that hop and the key has failed.
    fn owner_past_failures(&self, now_ms: u64, id: u64) -> Option<Vec<NodeRef>> {
        let op = self.ops.get(&id)?;
        let Phase::Lookup {
            tried,
            last_hop: Some((hop_id, succs)),
            ..
        } = &op.phase
        else {
            return None;
        };
        let failed = |n: &NodeRef| tried.contains(&n.addr) || self.rt.is_dead(&n.addr, now_ms);
        let j = succs
            .iter()
            .position(|s| op.key.in_half_open(hop_id, &s.id))?;
        if j == 0 || !succs[..j].iter().all(failed) || failed(&succs[j]) {
            return None;
        }
        Some(succs[j..].to_vec())
    }

    fn send_find(&mut self, now_ms: u64, id: u64, to: &NodeAddr, to_id: Option<Id>) {
        let Some(op) = self.ops.get_mut(&id) else {
            return;
        };
        if op.hops >= self.cfg.lookup_hops_max {
            self.fail_op(now_ms, id, OpError::HopLimit);
            return;
        }
        op.hops += 1;
        let (key, hop) = (op.key, op.hops);
        if let Phase::Lookup { current, .. } = &mut op.phase {
            *current = Some((to.clone(), to_id));
        }
        self.request(now_ms, to, PendingKind::Find { op: id }, |req| {
            Message::FindSuccessor { req, key, hop }
        });
    }

    pub(crate) fn on_find_answer(&mut self, now_ms: u64, id: u64, from: &NodeAddr, msg: Message) {
        let me = self.rt.me.id;
        let cand_max = 2 * self.cfg.lookup_candidates;
        let Some(op) = self.ops.get_mut(&id) else {
            return;
        };
        let key = op.key;
        let Phase::Lookup {
            current,
            alternatives,
            tried,
            last_hop,
            ..
        } = &mut op.phase
        else {
            return;
        };
        match msg {
            Message::FoundSuccessor { successors, .. } => {
                self.finish_lookup(now_ms, id, successors)
            }
            Message::NextHop {
                candidates,
                successors,
                ..
            } => {
                let lower = current.as_ref().and_then(|(_, i)| *i).unwrap_or(me);
                *last_hop = current
                    .as_ref()
                    .and_then(|(_, i)| *i)
                    .map(|i| (i, successors));
                let mut fresh: Vec<NodeRef> = candidates
                    .into_iter()
                    .filter(|c| {
                        c.id.in_open(&lower, &key) && c.id != me && !tried.contains(&c.addr)
                    })
                    .collect();
                if fresh.is_empty() {
                    // No progress offered: count the hop as failed.
                    tried.push(from.clone());
                }
                fresh.extend(alternatives.drain(..).filter(|a| a.id.in_open(&me, &key)));
                let mut seen = Vec::with_capacity(fresh.len());
                fresh.retain(|c| {
                    let new = !seen.contains(&c.id);
                    seen.push(c.id);
                    new
                });
                fresh.truncate(cand_max);
                *alternatives = fresh;
                self.query_next(now_ms, id);
            }
            _ => self.on_find_failed(now_ms, id, from),
        }
    }

    pub(crate) fn on_find_failed(&mut self, now_ms: u64, id: u64, addr: &NodeAddr) {
        self.note_failure(now_ms, addr);
        let Some(Op {
            phase: Phase::Lookup { tried, .. },
            ..
        }) = self.ops.get_mut(&id)
        else {
            return;
        };
        tried.push(addr.clone());
        self.query_next(now_ms, id);
    }

    fn finish_lookup(&mut self, now_ms: u64, id: u64, mut successors: Vec<NodeRef>) {
        self.counters.lookups_completed += 1;
        let Some(op) = self.ops.get_mut(&id) else {
            return;
        };
        // Entries that already failed us are not the owner any more: the
        // next live successor has taken over (or will within a round).
        if let Phase::Lookup { tried, .. } = &op.phase {
            let failed = |n: &NodeRef| tried.contains(&n.addr) || self.rt.is_dead(&n.addr, now_ms);
            let skip = successors.iter().take_while(|s| failed(s)).count();
            if skip < successors.len() {
                successors.drain(..skip);
            }
        }
        match &op.kind {
            OpKind::Put(_) | OpKind::Get(_) => {
                let mut targets: Vec<NodeRef> = Vec::new();
                for s in successors {
                    if targets.len() < self.cfg.replicas() && !targets.iter().any(|t| t.id == s.id)
                    {
                        targets.push(s);
                    }
                }
                op.phase = Phase::Store { targets, idx: 0 };
                self.store_step(now_ms, id);
            }
            _ => {
                let op = self.ops.remove(&id).expect("looked up just above");
                let owner = successors[0].clone();
                match op.kind {
                    OpKind::Lookup => {
                        self.client_ops -= 1;
                        let rest = successors[1..].to_vec();
                        let result = Ok(OpOutcome::Lookup {
                            owner,
                            successors: rest,
                        });
                        self.events.push_back(Event::OpDone {
                            op: OpId(id),
                            hops: op.hops,
                            result,
                        });
                    }
                    OpKind::Join => self.join_found(now_ms, successors),
                    OpKind::Finger(i) => self.finger_found(i, &owner),
                    OpKind::Orphan => self.orphan_found(now_ms, op.key, successors),
                    OpKind::Put(_) | OpKind::Get(_) => unreachable!("handled in the arm above"),
                }
            }
        }
    }
}
