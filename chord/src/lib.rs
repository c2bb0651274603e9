//! Sans-IO Chord ring with a replicated, versioned, expiring store: the
//! location service of the super-nodes.
//!
//! # Layout
//! - [`id`]: 160-bit identifiers, SHA-1, interval arithmetic on the circle.
//! - [`addr`]: bounded node addresses and `NodeRef { id, addr }`.
//! - [`config`]: tunables and limits with defaults, and their validation.
//! - [`wire`]: the `Message` enum, frame codec (version + postcard), bounds.
//! - [`store`] (local part): slots by key and sub-key with versions,
//!   tombstones and expiry; digests for replica comparison.
//! - `routing` (private): successor list, predecessor, fingers, liveness.
//! - [`node`]: the state machine — `node/mod.rs` (inputs, outputs, request
//!   table), `node/ops.rs` (client calls, store step), `node/lookup.rs`
//!   (iterative lookup), `node/maintenance.rs` (join, stabilize, rectify,
//!   fingers, failures), `node/replication.rs` (digests, pushes, orphan
//!   hand-over), `node/serve.rs` (answers), `node/leave.rs` (graceful
//!   leave), `node/view.rs` (status and read-only accessors).
//! - [`event`]: events and operation results for the driver.
//! - [`status`]: serde snapshot and counters for the status endpoint.
//! - [`sim`]: deterministic multi-node simulation (virtual clock, seeded
//!   latency, loss and partitions) used by the tests and the benchmark;
//!   `sim/check.rs` (ground truth), `sim/workload.rs` (ring growth, lookup
//!   measurements), `sim/seed.rs` (`CHORD_SIM_SEED`, seed printing).
//! - `rng` (private): the seeded SplitMix64 used by the node and the sim.
//!
//! No IO, no clock, no threads: time comes in as `now_ms` arguments and
//! randomness from a seed. See [`Node`] for the driving order.
//!
//! # For drivers
//! - Frames are [`encode_frame`] / `Node::handle_frame` (two-byte
//!   [`PROTOCOL_VERSION`] then postcard); cap frames at
//!   `Config::max_message_bytes`.
//! - Send [`Node::hello`] first on every link you dial, and pass the
//!   advertised address it names as `from` for that link's frames.
//! - A transmit to an address with no link: dial it (queue a bounded number
//!   of frames meanwhile); if the dial fails, drop the frames and call
//!   `handle_link_down`. Same when an open link closes or errors.
//!
//! # Known limitations
//! - Rings split by a partition longer than failure detection do not merge
//!   again on their own (no ring-merge protocol); short partitions heal.
//! - Under heavy random message loss (5 %) false suspicions send a few
//!   percent of lookups to the owner's successor (a replica holder) until
//!   they lapse; ring links over TCP do not lose single messages.
//! - Many joins into the same gap are linked one per stabilize round, as in
//!   Chord; a small ring flooded with joins converges slowly.

pub mod addr;
pub mod config;
pub mod event;
pub mod id;
pub mod node;
mod rng;
mod routing;
pub mod sim;
pub mod status;
pub mod store;
pub mod wire;

pub use addr::{AddrError, NodeAddr, NodeRef};
pub use config::{Config, ConfigError};
pub use event::{Event, OpError, OpId, OpOutcome};
pub use id::{Id, IdError};
pub use node::{Node, Transmit};
pub use status::{Counters, NodeState, Status};
pub use store::{Record, StoreCounts, StoreError, Value};
pub use wire::{decode_frame, encode_frame, Message, WireError, PROTOCOL_VERSION};

/// Any error of this crate, for callers that want one type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad identifier text.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Bad node address.
    #[error(transparent)]
    Addr(#[from] AddrError),
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Bad frame or message.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// Refused store write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Failed operation.
    #[error(transparent)]
    Op(#[from] OpError),
}
