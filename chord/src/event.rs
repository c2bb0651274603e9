//! What the node reports to its driver: operation results and ring changes.

use serde::{Deserialize, Serialize};

use crate::addr::NodeRef;
use crate::store::{StoreError, Value};

/// Identifies a client operation; its result comes back in [`Event::OpDone`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OpId(pub u64);

/// Why a client operation failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum OpError {
    /// No answer before `op_timeout_ms`, or every route and replica timed out.
    #[error("operation timed out")]
    Timeout,
    /// The lookup needed more than `lookup_hops_max` requests.
    #[error("lookup exceeded the hop limit")]
    HopLimit,
    /// The value or sub-key exceeds the configured size.
    #[error("value or sub-key too large")]
    TooLarge,
    /// The TTL is zero or longer than `max_ttl_ms`.
    #[error("TTL is zero or too long")]
    BadTtl,
    /// The key holds the maximum number of sub-keys or bytes.
    #[error("key is full")]
    KeyFull,
    /// The responsible node's store is full.
    #[error("store is full")]
    StoreFull,
    /// A newer version is stored.
    #[error("stale write: version {current_version} is stored")]
    Stale {
        /// The version that is stored.
        current_version: u64,
    },
    /// `ops_max` operations are already in flight.
    #[error("too many operations in flight")]
    Busy,
    /// The node has not joined a ring yet, or is leaving.
    #[error("node is not a ring member")]
    NotMember,
}

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> OpError {
        match e {
            StoreError::TooLarge => OpError::TooLarge,
            StoreError::BadTtl => OpError::BadTtl,
            StoreError::KeyFull => OpError::KeyFull,
            StoreError::StoreFull => OpError::StoreFull,
            StoreError::Stale { current_version } => OpError::Stale { current_version },
            StoreError::Unavailable => OpError::NotMember,
        }
    }
}

/// The result of a successful operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpOutcome {
    /// `lookup`: the responsible node and its successors (replica holders first).
    Lookup {
        /// The node responsible for the key.
        owner: NodeRef,
        /// The owner's successors as the last hop knew them.
        successors: Vec<NodeRef>,
    },
    /// `put` or `delete` was stored by `stored_at`.
    Stored {
        /// The node that accepted the write (the owner unless it was down).
        stored_at: NodeRef,
    },
    /// `get`: the live values, possibly empty.
    Got {
        /// The node that answered.
        from: NodeRef,
        /// Values, in sub-key order.
        values: Vec<Value>,
    },
}

/// Something the driver should know; read with [`Node::poll_event`](crate::Node::poll_event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The node found its successor and is a ring member (or created a ring).
    Joined {
        /// The first successor (the node itself for a new ring).
        successor: NodeRef,
    },
    /// A join attempt failed; the node retries every `stabilize_interval_ms`.
    JoinFailed {
        /// Attempts so far.
        attempt: u32,
    },
    /// The node entered or left the stable state (see [`Status::stable`](crate::Status)).
    StableChanged {
        /// Whether it is now stable.
        stable: bool,
    },
    /// A client operation finished.
    OpDone {
        /// The operation.
        op: OpId,
        /// Lookup requests it took (0 when this node was responsible).
        hops: u8,
        /// What happened.
        result: Result<OpOutcome, OpError>,
    },
    /// A graceful leave finished; the driver may now close links and exit.
    LeaveDone {
        /// Records sent to the successor.
        records_handed_off: usize,
        /// Whether every hand-off batch was acknowledged before the deadline.
        acknowledged: bool,
    },
}
