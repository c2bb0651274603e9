//! Serde-serialisable snapshot of a node for the HTTP status endpoint.

use serde::{Deserialize, Serialize};

use crate::addr::{NodeAddr, NodeRef};
use crate::id::Id;
use crate::store::StoreCounts;

/// Life-cycle state of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeState {
    /// Created; `handle_start` not called yet.
    Idle,
    /// Looking up its successor through the bootstrap node.
    Joining,
    /// A ring member.
    Member,
    /// Handing its values to its successor.
    Leaving,
    /// Left the ring; ignores all input.
    Left,
}

/// Counters of notable events since the node started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Messages handed to the node.
    pub messages_in: u64,
    /// Messages the node emitted.
    pub messages_out: u64,
    /// Frames that failed to decode (size, version, postcard, address).
    pub frames_malformed: u64,
    /// Decoded messages dropped for exceeding a configured bound.
    pub messages_out_of_bounds: u64,
    /// Answers with no matching request (late, duplicate or from elsewhere).
    pub answers_unexpected: u64,
    /// Requests that timed out.
    pub requests_timed_out: u64,
    /// Times a node was taken for dead (time-outs or link down).
    pub nodes_declared_dead: u64,
    /// Records refused by the local store (limits, stale client writes).
    pub store_writes_rejected: u64,
    /// Lookups (client and internal) that found the responsible node.
    pub lookups_completed: u64,
    /// Lookups that failed (time-out, hop limit, no route).
    pub lookups_failed: u64,
    /// Records handed to another node on join, leave or orphan check.
    pub records_handed_off: u64,
}

/// Snapshot returned by [`Node::status`](crate::Node::status).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// This node's id.
    pub id: Id,
    /// This node's advertised address.
    pub addr: NodeAddr,
    /// Life-cycle state.
    pub state: NodeState,
    /// Zave's stability: a member with a known predecessor and a full
    /// successor list of r distinct live nodes, i.e. the ring has at least
    /// r+1 members. Rings smaller than that work but never count as stable.
    pub stable: bool,
    /// Predecessor, if known.
    pub predecessor: Option<NodeRef>,
    /// Successor list, nearest first.
    pub successors: Vec<NodeRef>,
    /// Distinct finger entries, nearest first.
    pub fingers: Vec<NodeRef>,
    /// What the local store holds.
    pub store: StoreCounts,
    /// Client and internal operations in flight.
    pub ops_in_flight: usize,
    /// Requests awaiting an answer.
    pub pending_requests: usize,
    /// Counters.
    pub counters: Counters,
}
