//! Join, stabilize, rectify, fix-fingers and failure handling, after Zave's
//! corrected Chord ("Reasoning about identifier spaces: How to make Chord
//! correct", IEEE TSE 2017).
//!
//! Implementation notes:
//! - Join: look up our own id through the bootstrap node; the answer's
//!   owner becomes our first successor and its list the rest. The
//!   predecessor starts unknown; nobody routes to us until our successor
//!   accepts our rectify and its predecessor adopts us in its own stabilize.
//! - Stabilize asks the first successor for its predecessor and list, and
//!   takes `[successor] + its list` (truncated to r) as our list. If the
//!   successor's predecessor lies between us, it is probed before being
//!   adopted, as Zave requires: adopting a dead node would put a hole in the
//!   ring until the next round.
//! - Successor-list repair: when the first successor is taken for dead it is
//!   removed and stabilize runs again at once against the next live entry.
//!   A first time-out is retried at once too, so a crash is noticed after
//!   `failures_before_dead` request time-outs, not that many rounds.
//! - Rectify replaces notify: the receiver adopts the sender as predecessor
//!   if it has none, if the sender is between, or if the current
//!   predecessor proves dead when pinged. A predecessor is never cleared by
//!   a timer, only by evidence of its death.
//! - When a new predecessor takes over part of our range we push it the
//!   records in that part at once (it becomes responsible before anyone
//!   routes to it, see the join note above).
//! - Stable (Zave): member, predecessor known and a full list of r
//!   successors, which implies at least r+1 members.

use crate::addr::{NodeAddr, NodeRef};
use crate::event::Event;
use crate::id::Id;
use crate::status::NodeState;
use crate::wire::Message;

use super::lookup::OpKind;
use super::{Node, PendingKind};

impl Node {
    pub(crate) fn begin_join(&mut self, now_ms: u64) {
        let id = self.alloc_op();
        let key = self.rt.me.id;
        self.start_op(now_ms, id, key, OpKind::Join);
    }

    pub(crate) fn join_found(&mut self, now_ms: u64, successors: Vec<NodeRef>) {
        if self.state != NodeState::Joining {
            return;
        }
        if successors[0].id == self.rt.me.id {
            // Another member holds our id: joining would split its range.
            self.join_failed(now_ms);
            return;
        }
        self.rt.set_successors(now_ms, successors);
        let Some(first) = self.rt.successor().cloned() else {
            self.join_failed(now_ms);
            return;
        };
        self.state = NodeState::Member;
        self.read_through_until_ms = Some(now_ms + self.cfg.join_read_through_ms);
        self.events.push_back(Event::Joined { successor: first });
        self.stabilize_at_ms = now_ms;
        self.fix_fingers_at_ms = now_ms
            + self
                .cfg
                .fix_fingers_interval_ms
                .min(self.cfg.stabilize_interval_ms);
        self.stabilize(now_ms);
    }

    pub(crate) fn join_failed(&mut self, now_ms: u64) {
        if self.state != NodeState::Joining {
            return;
        }
        self.join_attempts += 1;
        self.events.push_back(Event::JoinFailed {
            attempt: self.join_attempts,
        });
        self.join_retry_at_ms = Some(now_ms + self.cfg.stabilize_interval_ms);
    }

    /// One stabilize round (skipped while the previous one is in flight).
    pub(crate) fn stabilize(&mut self, now_ms: u64) {
        if self.stabilizing {
            return;
        }
        if self.rt.successor().is_none() {
            // Every successor failed: fall back on the nearest finger, or
            // on a node that rectified us (the two-node case of ring
            // creation, where the creator's only contact is its predecessor).
            let fallback = self
                .rt
                .distinct_fingers()
                .into_iter()
                .next()
                .or_else(|| self.rt.predecessor.clone());
            match fallback {
                Some(p) => self.rt.set_successors(now_ms, [p]),
                None => return self.update_stable(),
            }
        }
        let Some(succ) = self.rt.successor().cloned() else {
            return;
        };
        self.stabilizing = true;
        self.request(now_ms, &succ.addr, PendingKind::Stabilize, |req| {
            Message::GetNeighbours { req }
        });
    }

    pub(crate) fn on_neighbours(
        &mut self,
        now_ms: u64,
        kind: PendingKind,
        node: NodeRef,
        predecessor: Option<NodeRef>,
        successors: Vec<NodeRef>,
    ) {
        match kind {
            PendingKind::Stabilize => {
                let mut list = vec![node.clone()];
                list.extend(successors);
                self.rt.set_successors(now_ms, list);
                let me = self.rt.me.id;
                // A candidate we took for dead is probed all the same: the
                // probe is the liveness check, and an answer clears a false
                // suspicion (lost messages) within one round.
                let candidate = predecessor
                    .filter(|p| p.id.in_open(&me, &node.id) && p.addr != self.rt.me.addr);
                match candidate {
                    Some(p) => {
                        self.request(now_ms, &p.addr, PendingKind::Adopt, |req| {
                            Message::GetNeighbours { req }
                        });
                    }
                    None => self.finish_stabilize(&node),
                }
            }
            PendingKind::Adopt => {
                let mut list = vec![node.clone()];
                list.extend(successors);
                self.rt.set_successors(now_ms, list);
                self.finish_stabilize(&node);
            }
            PendingKind::PredCheck { .. } => self.pred_checking = false,
            _ => {}
        }
    }

    fn finish_stabilize(&mut self, succ: &NodeRef) {
        self.stabilizing = false;
        let msg = Message::Rectify {
            node: self.rt.me.clone(),
        };
        self.send(&succ.addr, msg);
        self.update_stable();
    }

    pub(crate) fn on_neighbours_failed(&mut self, now_ms: u64, kind: PendingKind, addr: &NodeAddr) {
        let dead = self.note_failure(now_ms, addr);
        match kind {
            PendingKind::Stabilize => {
                self.stabilizing = false;
                // Retry at once: against the same node if not yet dead,
                // else against the next live entry of the list.
                self.stabilize(now_ms);
            }
            PendingKind::Adopt => {
                self.stabilizing = false;
                if let Some(succ) = self.rt.successor().cloned() {
                    self.finish_stabilize(&succ);
                }
            }
            PendingKind::PredCheck { candidate } => {
                self.pred_checking = false;
                if dead {
                    self.set_predecessor(now_ms, candidate);
                } else {
                    self.check_predecessor(now_ms, candidate);
                }
            }
            _ => {}
        }
    }

    /// Zave's rectify: `node` believes it is our predecessor.
    pub(crate) fn on_rectify(&mut self, now_ms: u64, node: NodeRef) {
        if self.state != NodeState::Member || node.id == self.rt.me.id {
            return;
        }
        match self.rt.predecessor.clone() {
            None => self.set_predecessor(now_ms, node),
            Some(p) if p.id == node.id => {}
            Some(p) if node.id.in_open(&p.id, &self.rt.me.id) => self.set_predecessor(now_ms, node),
            Some(p) if self.rt.is_dead(&p.addr, now_ms) => self.set_predecessor(now_ms, node),
            Some(_) => self.check_predecessor(now_ms, node),
        }
    }

    fn check_predecessor(&mut self, now_ms: u64, candidate: NodeRef) {
        let Some(p) = self.rt.predecessor.clone() else {
            return self.set_predecessor(now_ms, candidate);
        };
        if self.pred_checking {
            return;
        }
        self.pred_checking = true;
        self.request(
            now_ms,
            &p.addr,
            PendingKind::PredCheck { candidate },
            |req| Message::GetNeighbours { req },
        );
    }

    fn set_predecessor(&mut self, now_ms: u64, node: NodeRef) {
        if node.id == self.rt.me.id {
            return;
        }
        let old = self.rt.predecessor.replace(node.clone());
        if let Some(old) = old {
            if node.id.in_open(&old.id, &self.rt.me.id) {
                // The newcomer took over (old, node]: give it those records.
                self.push_range(now_ms, &node.addr, &old.id, &node.id);
            }
        }
        if self.rt.successor().is_none() {
            self.rt.set_successors(now_ms, [node]);
        }
        self.update_stable();
    }

    /// A neighbour leaves gracefully: splice it out using its lists.
    pub(crate) fn on_leaving(
        &mut self,
        now_ms: u64,
        node: NodeRef,
        pred: Option<NodeRef>,
        succs: Vec<NodeRef>,
    ) {
        let until = now_ms + self.cfg.dead_memory_ms;
        let was_succ = self.rt.successor().is_some_and(|s| s.id == node.id);
        let was_pred = self
            .rt
            .predecessor
            .as_ref()
            .is_some_and(|p| p.id == node.id);
        self.rt.mark_dead(&node.addr, until, now_ms);
        if was_succ {
            let mut list: Vec<NodeRef> = succs;
            list.extend(self.rt.successors().iter().cloned());
            self.rt.set_successors(now_ms, list);
        }
        if was_pred {
            if let Some(p) = pred.filter(|p| p.id != self.rt.me.id) {
                self.rt.predecessor = Some(p);
            }
        }
        self.update_stable();
    }

    /// Takes `addr` for dead: out of every table; stabilize again at once
    /// if it was the first successor.
    pub(crate) fn declare_dead(&mut self, now_ms: u64, addr: &NodeAddr) {
        let was_succ = self.rt.successor().is_some_and(|s| &s.addr == addr);
        self.counters.nodes_declared_dead += 1;
        self.rt
            .mark_dead(addr, now_ms + self.cfg.dead_memory_ms, now_ms);
        if was_succ && self.state == NodeState::Member {
            self.stabilize_at_ms = now_ms;
        }
        self.update_stable();
    }

    pub(crate) fn update_stable(&mut self) {
        let stable = self.state == NodeState::Member
            && self.rt.predecessor.is_some()
            && self.rt.successors().len() >= self.cfg.successor_list_len;
        if stable != self.stable {
            self.stable = stable;
            self.events.push_back(Event::StableChanged { stable });
        }
    }

    /// Starts one finger lookup (if none is in flight).
    pub(crate) fn fix_fingers(&mut self, now_ms: u64) {
        if self.finger_op.is_some() {
            return;
        }
        let index = match self.rt.next_finger_to_fix(self.finger_cursor) {
            Some(i) => i,
            None => match self.rt.next_finger_to_fix(0) {
                Some(i) => i,
                None => return,
            },
        };
        let id = self.alloc_op();
        self.finger_op = Some(id);
        let start: Id = self.rt.me.id.finger_start(index);
        self.start_op(now_ms, id, start, OpKind::Finger(index));
    }

    pub(crate) fn finger_found(&mut self, index: usize, owner: &NodeRef) {
        self.finger_op = None;
        let next = self.rt.set_finger(index, owner);
        self.finger_cursor = if next >= crate::id::ID_BITS { 0 } else { next };
    }
}
