//! Routing state: successor list, predecessor, finger table, and what this
//! node believes about the liveness of others.
//!
//! Implementation notes:
//! - The successor list never holds this node or duplicates; in a ring of
//!   at most r nodes it holds every other member. An empty list means the
//!   node is alone (its successor is itself).
//! - Fingers are an array of 160 optional entries; entry `i` is the
//!   successor of `self + 2^i`. One lookup fills every finger whose start
//!   lies before the node found, so a full refresh takes about log2 N
//!   lookups rather than 160 (see [`RoutingTable::set_finger`]).
//! - Routing candidates are drawn from fingers and the successor list
//!   together: the list gives precise short hops near the key, which keeps
//!   the path near ½·log2 N.
//! - Liveness is only ever suspected: `failures_before_dead` consecutive
//!   time-outs (or a link-down report) mark a node dead for
//!   `dead_memory_ms`, during which it is kept out of tables learnt from
//!   neighbours whose lists are older than ours. Any message from a node
//!   clears its record at once.

use std::collections::BTreeMap;

use crate::addr::{NodeAddr, NodeRef};
use crate::id::{Id, ID_BITS};

/// Most addresses remembered in the failure and dead tables.
const LIVENESS_ENTRIES_MAX: usize = 1024;

/// Routing state of one node (crate-private; snapshots go out in `Status`).
#[derive(Debug)]
pub(crate) struct RoutingTable {
    pub(crate) me: NodeRef,
    successors: Vec<NodeRef>,
    pub(crate) predecessor: Option<NodeRef>,
    fingers: Vec<Option<NodeRef>>,
    r: usize,
    failures: BTreeMap<NodeAddr, u32>,
    dead_until_ms: BTreeMap<NodeAddr, u64>,
}

impl RoutingTable {
    pub(crate) fn new(me: NodeRef, r: usize) -> RoutingTable {
        RoutingTable {
            me,
            successors: Vec::new(),
            predecessor: None,
            fingers: vec![None; ID_BITS],
            r,
            failures: BTreeMap::new(),
            dead_until_ms: BTreeMap::new(),
        }
    }

    pub(crate) fn successors(&self) -> &[NodeRef] {
        &self.successors
    }

    /// First successor, or None when alone.
    pub(crate) fn successor(&self) -> Option<&NodeRef> {
        self.successors.first()
    }

    /// Replaces the successor list: drops self, duplicates and nodes
    /// believed dead, keeps at most r.
    pub(crate) fn set_successors(&mut self, now_ms: u64, list: impl IntoIterator<Item = NodeRef>) {
        let mut out: Vec<NodeRef> = Vec::with_capacity(self.r);
        for n in list {
            if out.len() >= self.r {
                break;
            }
            if n.id == self.me.id || n.addr == self.me.addr {
                // In a small ring the list wraps back to us: stop there.
                break;
            }
            if self.is_dead(&n.addr, now_ms) || out.iter().any(|o| o.id == n.id || o.addr == n.addr)
            {
                continue;
            }
            out.push(n);
        }
        self.successors = out;
    }

    /// Is `key` in `(predecessor, me]`? Unknown predecessor means "can't say"
    /// unless the node is alone.
    pub(crate) fn owns(&self, key: &Id) -> bool {
        match &self.predecessor {
            Some(p) => key.in_half_open(&p.id, &self.me.id),
            None => self.successors.is_empty(),
        }
    }

    /// Is `key` in `(me, successor]` (so the successor is responsible)?
    pub(crate) fn successor_owns(&self, key: &Id) -> bool {
        match self.successor() {
            Some(s) => key.in_half_open(&self.me.id, &s.id),
            None => true,
        }
    }

    /// Known nodes in `(me, key)`, closest to `key` first, at most `n`.
    pub(crate) fn closest_preceding(&self, key: &Id, n: usize, now_ms: u64) -> Vec<NodeRef> {
        let mut cands: Vec<&NodeRef> = Vec::new();
        let mut last: Option<&NodeRef> = None;
        for f in self.fingers.iter().flatten().chain(self.successors.iter()) {
            if last.is_some_and(|l| l.id == f.id) {
                continue;
            }
            last = Some(f);
            if f.id.in_open(&self.me.id, key) && !self.is_dead(&f.addr, now_ms) {
                cands.push(f);
            }
        }
        cands.sort_by_key(|c| key.wrapping_sub(&c.id));
        cands.dedup_by_key(|c| c.id);
        cands.into_iter().take(n).cloned().collect()
    }

    #[cfg(test)]
    pub(crate) fn finger(&self, i: usize) -> Option<&NodeRef> {
        self.fingers.get(i).and_then(Option::as_ref)
    }

    /// Distinct finger entries in index order (for status).
    pub(crate) fn distinct_fingers(&self) -> Vec<NodeRef> {
        let mut out: Vec<NodeRef> = Vec::new();
        for f in self.fingers.iter().flatten() {
            if out.last().is_none_or(|l| l.id != f.id) {
                out.push(f.clone());
            }
        }
        out
    }

    /// Records `found` as the successor of finger `i`'s start, and of every
    /// later finger whose start lies in `(start_i, found]`. Returns the index
    /// of the first finger left to look up (160 when the table is full).
    pub(crate) fn set_finger(&mut self, i: usize, found: &NodeRef) -> usize {
        let me = self.me.id;
        let is_me = found.id == me;
        let reach = me.distance_to(&found.id);
        let mut j = i;
        while j < ID_BITS {
            let start = me.finger_start(j);
            let covered = is_me || (j == i) || me.distance_to(&start) <= reach;
            if !covered {
                break;
            }
            self.fingers[j] = if is_me { None } else { Some(found.clone()) };
            j += 1;
        }
        j
    }

    /// First finger index at or after `from` whose start lies beyond the
    /// successor; fingers before it are set to the successor on the way.
    pub(crate) fn next_finger_to_fix(&mut self, from: usize) -> Option<usize> {
        let succ = self.successor()?.clone();
        let reach = self.me.id.distance_to(&succ.id);
        let mut i = from;
        while i < ID_BITS {
            let start = self.me.id.finger_start(i);
            if self.me.id.distance_to(&start) > reach {
                return Some(i);
            }
            self.fingers[i] = Some(succ.clone());
            i += 1;
        }
        None
    }

    /// Drops `addr` from every table (successors, fingers, predecessor).
    pub(crate) fn remove(&mut self, addr: &NodeAddr) {
        self.successors.retain(|s| &s.addr != addr);
        for f in &mut self.fingers {
            if f.as_ref().is_some_and(|n| &n.addr == addr) {
                *f = None;
            }
        }
        if self.predecessor.as_ref().is_some_and(|p| &p.addr == addr) {
            self.predecessor = None;
        }
    }

    pub(crate) fn is_dead(&self, addr: &NodeAddr, now_ms: u64) -> bool {
        self.dead_until_ms
            .get(addr)
            .is_some_and(|until| *until > now_ms)
    }

    /// Notes a message from `addr`: it is alive.
    pub(crate) fn note_alive(&mut self, addr: &NodeAddr) {
        if !self.failures.is_empty() {
            self.failures.remove(addr);
        }
        if !self.dead_until_ms.is_empty() {
            self.dead_until_ms.remove(addr);
        }
    }

    /// Notes a time-out; returns true when `addr` is now taken for dead.
    pub(crate) fn note_failure(&mut self, addr: &NodeAddr, threshold: u32) -> bool {
        if self.failures.len() >= LIVENESS_ENTRIES_MAX && !self.failures.contains_key(addr) {
            self.failures.pop_first();
        }
        let n = self.failures.entry(addr.clone()).or_insert(0);
        *n += 1;
        *n >= threshold
    }

    /// Marks `addr` dead until `until_ms` and drops it from every table.
    pub(crate) fn mark_dead(&mut self, addr: &NodeAddr, until_ms: u64, now_ms: u64) {
        self.failures.remove(addr);
        if self.dead_until_ms.len() >= LIVENESS_ENTRIES_MAX {
            self.dead_until_ms.retain(|_, u| *u > now_ms);
            if self.dead_until_ms.len() >= LIVENESS_ENTRIES_MAX {
                self.dead_until_ms.pop_first();
            }
        }
        self.dead_until_ms.insert(addr.clone(), until_ms);
        self.remove(addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u64) -> NodeRef {
        NodeRef::with_id(
            Id::from_u64(id),
            NodeAddr::new(format!("n{id}")).expect("valid"),
        )
    }

    #[test]
    fn successor_list_drops_self_and_duplicates() {
        let mut t = RoutingTable::new(node(50), 3);
        t.set_successors(0, vec![node(60), node(60), node(70), node(50), node(80)]);
        assert_eq!(t.successors(), &[node(60), node(70)]);
        t.mark_dead(&node(70).addr, 100, 0);
        t.set_successors(0, vec![node(60), node(70), node(80), node(90)]);
        assert_eq!(t.successors(), &[node(60), node(80), node(90)]);
    }

    #[test]
    fn closest_preceding_orders_by_nearness() {
        let mut t = RoutingTable::new(node(0), 8);
        t.set_successors(0, vec![node(10), node(20), node(30)]);
        let c = t.closest_preceding(&Id::from_u64(25), 4, 0);
        assert_eq!(c, vec![node(20), node(10)]);
    }

    #[test]
    fn set_finger_fills_forward() {
        let mut t = RoutingTable::new(node(0), 8);
        t.set_successors(0, vec![node(3)]);
        assert_eq!(t.next_finger_to_fix(0), Some(2)); // starts 1, 2 covered by 3
        let next = t.set_finger(2, &node(9)); // start 4 -> 9; start 8 also -> 9
        assert_eq!(next, 4);
        assert_eq!(t.finger(3), Some(&node(9)));
        assert_eq!(t.finger(4), None);
    }
}
