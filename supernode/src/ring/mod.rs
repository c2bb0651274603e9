//! The ring side of a super-node: links to other super-nodes.

pub mod frame;
pub mod links;
