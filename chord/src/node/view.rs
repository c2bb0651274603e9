//! Read-only views of a node: identity, neighbours, the status snapshot
//! and local store counts, for the driver's status endpoint and for tests.

use crate::addr::NodeRef;
use crate::config::Config;
use crate::id::Id;
use crate::status::{Counters, NodeState, Status};
use crate::store::{StoreCounts, Value};
use crate::wire::Message;

use super::Node;

impl Node {
    /// This node's id and address.
    pub fn me(&self) -> &NodeRef {
        &self.rt.me
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The message a driver sends first on every link it dials, so the far
    /// side learns our advertised address.
    pub fn hello(&self) -> Message {
        Message::Hello {
            node: self.rt.me.clone(),
        }
    }

    /// Snapshot for the status endpoint.
    pub fn status(&self) -> Status {
        Status {
            id: self.rt.me.id,
            addr: self.rt.me.addr.clone(),
            state: self.state,
            stable: self.stable,
            predecessor: self.rt.predecessor.clone(),
            successors: self.rt.successors().to_vec(),
            fingers: self.rt.distinct_fingers(),
            store: self.store.counts(),
            ops_in_flight: self.ops.len(),
            pending_requests: self.pending.len(),
            counters: self.counters,
        }
    }

    /// Life-cycle state.
    pub fn state(&self) -> NodeState {
        self.state
    }

    /// Whether the node counts as stable (see [`Status::stable`]).
    pub fn is_stable(&self) -> bool {
        self.stable
    }

    /// The predecessor, if known.
    pub fn predecessor(&self) -> Option<&NodeRef> {
        self.rt.predecessor.as_ref()
    }

    /// The successor list, nearest first (empty when alone).
    pub fn successors(&self) -> &[NodeRef] {
        self.rt.successors()
    }

    /// Counts of the local store (cheap).
    pub fn store_counts(&self) -> StoreCounts {
        self.store.counts()
    }

    /// Counters (cheap).
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Live values of `key` held locally, without asking the ring (tests,
    /// diagnostics).
    pub fn local_get(&self, now_ms: u64, key: &Id, prefix: Option<&[u8]>) -> Vec<Value> {
        self.store.get(now_ms, key, prefix)
    }

    /// Keys held locally, in id order (tests, diagnostics).
    pub fn local_keys(&self) -> Vec<Id> {
        self.store.all_keys()
    }
}
