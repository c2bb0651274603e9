//! Operations and the iterative lookup.
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
use crate::status::NodeState;
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
    fn is_client(&self) -> bool {
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
    hops: u8,
    phase: Phase,
}

impl Node {
    /// Finds the node responsible for `key`.
    pub fn lookup(&mut self, now_ms: u64, key: Id) -> OpId {
        self.start_client_op(now_ms, key, OpKind::Lookup)
    }

    /// Stores `value` under `key`/`sub_key` with `version` for `ttl_ms` on
    /// the responsible node and its replicas.
    pub fn put(&mut self, now_ms: u64, key: Id, sub_key: Vec<u8>, value: Vec<u8>, version: u64, ttl_ms: u64) -> OpId {
        let rec = Record { key, sub_key, version, ttl_ms, value: Some(value) };
        self.start_client_op(now_ms, key, OpKind::Put(rec))
    }

    /// Deletes `key`/`sub_key` by writing a tombstone with `version` that
    /// lives `ttl_ms` (at least as long as the value it replaces).
    pub fn delete(&mut self, now_ms: u64, key: Id, sub_key: Vec<u8>, version: u64, ttl_ms: u64) -> OpId {
        let rec = Record { key, sub_key, version, ttl_ms, value: None };
        self.start_client_op(now_ms, key, OpKind::Put(rec))
    }

    /// Reads the live values of `key`, only sub-keys starting with `prefix`
    /// when given.
    pub fn get(&mut self, now_ms: u64, key: Id, prefix: Option<Vec<u8>>) -> OpId {
        self.start_client_op(now_ms, key, OpKind::Get(prefix))
    }

    fn start_client_op(&mut self, now_ms: u64, key: Id, kind: OpKind) -> OpId {
        let id = self.alloc_op();
        let early = if self.state != NodeState::Member {
            Some(OpError::NotMember)
        } else if self.client_ops >= self.cfg.ops_max {
            Some(OpError::Busy)
        } else {
            match &kind {
                OpKind::Put(rec) => self.check_client_record(rec).err(),
                OpKind::Get(Some(p)) if p.len() > self.cfg.max_sub_key_bytes => Some(OpError::TooLarge),
                _ => None,
            }
        };
        if let Some(err) = early {
            self.events.push_back(Event::OpDone { op: OpId(id), hops: 0, result: Err(err) });
            return OpId(id);
        }
        self.client_ops += 1;
        self.start_op(now_ms, id, key, kind);
        OpId(id)
    }

    fn check_client_record(&self, rec: &Record) -> Result<(), OpError> {
        if rec.sub_key.len() > self.cfg.max_sub_key_bytes
            || rec.value.as_ref().is_some_and(|v| v.len() > self.cfg.max_value_bytes)
        {
            return Err(OpError::TooLarge);
        }
        if rec.ttl_ms == 0 || rec.ttl_ms > self.cfg.max_ttl_ms {
            return Err(OpError::BadTtl);
        }
        Ok(())
    }

    /// Registers an operation and takes its first lookup step.
    pub(crate) fn start_op(&mut self, now_ms: u64, id: u64, key: Id, kind: OpKind) {
        let phase = Phase::Lookup { current: None, alternatives: Vec::new(), tried: Vec::new(), fell_back: false, last_hop: None };
        let deadline_ms = now_ms + self.cfg.op_timeout_ms;
        let is_join = matches!(kind, OpKind::Join);
        self.ops.insert(id, Op { key, kind, deadline_ms, hops: 0, phase });
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
            let alts = self.rt.closest_preceding(&key, 2 * self.cfg.lookup_candidates, now_ms);
            if let Some(Op { phase: Phase::Lookup { alternatives, .. }, .. }) = self.ops.get_mut(&id) {
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
            let Some(op) = self.ops.get_mut(&id) else { return };
            let key = op.key;
            let Phase::Lookup { alternatives, tried, fell_back, .. } = &mut op.phase else { return };
            alternatives.retain(|c| !tried.contains(&c.addr));
            if let Some(pos) = alternatives.iter().position(|c| !self.rt.is_dead(&c.addr, now_ms)) {
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
            let mut local = self.rt.closest_preceding(&key, 2 * self.cfg.lookup_candidates, now_ms);
            local.retain(|c| !tried.contains(&c.addr));
            if let Some(Op { phase: Phase::Lookup { alternatives, .. }, .. }) = self.ops.get_mut(&id) {
                *alternatives = local;
            }
        }
    }

    /// See `query_next`: the owner from the last hop's successor list when
    /// every successor between that hop and the key has failed.
    fn owner_past_failures(&self, now_ms: u64, id: u64) -> Option<Vec<NodeRef>> {
        let op = self.ops.get(&id)?;
        let Phase::Lookup { tried, last_hop: Some((hop_id, succs)), .. } = &op.phase else { return None };
        let failed = |n: &NodeRef| tried.contains(&n.addr) || self.rt.is_dead(&n.addr, now_ms);
        let j = succs.iter().position(|s| op.key.in_half_open(hop_id, &s.id))?;
        if j == 0 || !succs[..j].iter().all(failed) || failed(&succs[j]) {
            return None;
        }
        Some(succs[j..].to_vec())
    }

    fn send_find(&mut self, now_ms: u64, id: u64, to: &NodeAddr, to_id: Option<Id>) {
        let Some(op) = self.ops.get_mut(&id) else { return };
        if op.hops >= self.cfg.lookup_hops_max {
            self.fail_op(now_ms, id, OpError::HopLimit);
            return;
        }
        op.hops += 1;
        let (key, hop) = (op.key, op.hops);
        if let Phase::Lookup { current, .. } = &mut op.phase {
            *current = Some((to.clone(), to_id));
        }
        self.request(now_ms, to, PendingKind::Find { op: id }, |req| Message::FindSuccessor { req, key, hop });
    }

    pub(crate) fn on_find_answer(&mut self, now_ms: u64, id: u64, from: &NodeAddr, msg: Message) {
        let me = self.rt.me.id;
        let cand_max = 2 * self.cfg.lookup_candidates;
        let Some(op) = self.ops.get_mut(&id) else { return };
        let key = op.key;
        let Phase::Lookup { current, alternatives, tried, last_hop, .. } = &mut op.phase else { return };
        match msg {
            Message::FoundSuccessor { successors, .. } => self.finish_lookup(now_ms, id, successors),
            Message::NextHop { candidates, successors, .. } => {
                let lower = current.as_ref().and_then(|(_, i)| *i).unwrap_or(me);
                *last_hop = current.as_ref().and_then(|(_, i)| *i).map(|i| (i, successors));
                let mut fresh: Vec<NodeRef> = candidates
                    .into_iter()
                    .filter(|c| c.id.in_open(&lower, &key) && c.id != me && !tried.contains(&c.addr))
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
        let Some(Op { phase: Phase::Lookup { tried, .. }, .. }) = self.ops.get_mut(&id) else { return };
        tried.push(addr.clone());
        self.query_next(now_ms, id);
    }

    fn finish_lookup(&mut self, now_ms: u64, id: u64, mut successors: Vec<NodeRef>) {
        self.counters.lookups_completed += 1;
        let Some(op) = self.ops.get_mut(&id) else { return };
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
                    if targets.len() < self.cfg.replicas() && !targets.iter().any(|t| t.id == s.id) {
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
                        let result = Ok(OpOutcome::Lookup { owner, successors: rest });
                        self.events.push_back(Event::OpDone { op: OpId(id), hops: op.hops, result });
                    }
                    OpKind::Join => self.join_found(now_ms, successors),
                    OpKind::Finger(i) => self.finger_found(i, &owner),
                    OpKind::Orphan => self.orphan_found(now_ms, op.key, successors),
                    OpKind::Put(_) | OpKind::Get(_) => unreachable!("handled in the arm above"),
                }
            }
        }
    }

    /// Sends the put or get to the current replica target, or serves it here.
    fn store_step(&mut self, now_ms: u64, id: u64) {
        let Some(op) = self.ops.get(&id) else { return };
        let Phase::Store { targets, idx } = &op.phase else { return };
        let Some(target) = targets.get(*idx).cloned() else {
            self.fail_op(now_ms, id, OpError::Timeout);
            return;
        };
        if target.id == self.rt.me.id {
            let result = match &op.kind {
                OpKind::Put(rec) => {
                    let rec = rec.clone();
                    self.accept_put(now_ms, &rec).map(|()| OpOutcome::Stored { stored_at: target })
                }
                OpKind::Get(prefix) => {
                    let values = self.store.get(now_ms, &op.key, prefix.as_deref());
                    Ok(OpOutcome::Got { from: target, values })
                }
                _ => return,
            };
            self.complete_op(id, result.map_err(OpError::from));
            return;
        }
        let msg_of = match &op.kind {
            OpKind::Put(rec) => {
                let record = rec.clone();
                Box::new(move |req| Message::Put { req, record }) as Box<dyn FnOnce(u64) -> Message>
            }
            OpKind::Get(prefix) => {
                let (key, prefix) = (op.key, prefix.clone());
                Box::new(move |req| Message::Get { req, key, prefix })
            }
            _ => return,
        };
        self.request(now_ms, &target.addr, PendingKind::Store { op: id }, msg_of);
    }

    pub(crate) fn on_store_answer(&mut self, now_ms: u64, id: u64, msg: Message) {
        let Some(op) = self.ops.get(&id) else { return };
        let Phase::Store { targets, idx } = &op.phase else { return };
        let target = targets[*idx].clone();
        let result = match msg {
            Message::PutReply { result: Err(crate::store::StoreError::Unavailable), .. } => {
                // The target is leaving: try the next replica.
                self.on_store_failed(now_ms, id, &target.addr);
                return;
            }
            Message::PutReply { result, .. } => {
                result.map(|()| OpOutcome::Stored { stored_at: target }).map_err(OpError::from)
            }
            Message::GetReply { values, .. } => Ok(OpOutcome::Got { from: target.clone(), values }),
            _ => {
                self.on_store_failed(now_ms, id, &target.addr);
                return;
            }
        };
        self.complete_op(id, result);
    }

    pub(crate) fn on_store_failed(&mut self, now_ms: u64, id: u64, addr: &NodeAddr) {
        self.note_failure(now_ms, addr);
        if let Some(Op { phase: Phase::Store { idx, .. }, .. }) = self.ops.get_mut(&id) {
            *idx += 1;
            self.store_step(now_ms, id);
        }
    }

    /// Ends a client operation with `result`.
    fn complete_op(&mut self, id: u64, result: Result<OpOutcome, OpError>) {
        if let Some(op) = self.ops.remove(&id) {
            if op.kind.is_client() {
                self.client_ops -= 1;
                self.events.push_back(Event::OpDone { op: OpId(id), hops: op.hops, result });
            }
        }
    }

    /// Ends any operation with an error.
    pub(crate) fn fail_op(&mut self, now_ms: u64, id: u64, err: OpError) {
        let Some(op) = self.ops.remove(&id) else { return };
        if matches!(op.phase, Phase::Lookup { .. }) {
            self.counters.lookups_failed += 1;
        }
        match op.kind {
            OpKind::Lookup | OpKind::Put(_) | OpKind::Get(_) => {
                self.client_ops -= 1;
                self.events.push_back(Event::OpDone { op: OpId(id), hops: op.hops, result: Err(err) });
            }
            OpKind::Join => self.join_failed(now_ms),
            OpKind::Finger(_) => self.finger_op = None,
            OpKind::Orphan => {
                self.orphans_in_flight.remove(&op.key);
            }
        }
    }

    /// Fails every operation whose deadline has passed.
    pub(crate) fn expire_ops(&mut self, now_ms: u64) {
        while let Some((&id, op)) = self.ops.iter().next() {
            if op.deadline_ms > now_ms {
                break;
            }
            self.fail_op(now_ms, id, OpError::Timeout);
        }
    }

    /// Fails every operation (the node left the ring).
    pub(crate) fn abort_ops(&mut self, now_ms: u64) {
        let ids: Vec<u64> = self.ops.keys().copied().collect();
        for id in ids {
            self.fail_op(now_ms, id, OpError::NotMember);
        }
    }
}
