//! The ring side of a super-node: links to other super-nodes and the
//! driver of the Chord core.

pub mod driver;
pub mod frame;
pub mod links;
pub mod payload;

pub use driver::{Driver, LeaveReport, OpReply, RingError, RingHandle, RingReport, RingSip};
pub use payload::RingPayload;
