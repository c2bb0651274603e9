//! Node addresses and node references.
//!
//! Implementation notes:
//! - A [`NodeAddr`] is the advertised ring address of a super-node, such as
//!   `ws://127.0.0.1:7001`. The state machine never parses it: it is an
//!   opaque key the driver maps to a link. It is bounded and restricted to
//!   printable ASCII so that a remote peer cannot make us store or log
//!   arbitrary bytes; the check runs on deserialisation too, so a frame with
//!   a bad address fails to decode.
//! - The text sits behind an `Arc<str>`: node references are copied into
//!   every successor list, finger and answer, and a reference-count bump is
//!   far cheaper than a string allocation.
//! - [`NodeRef`] pairs an address with its ring id. Ids are learnt from the
//!   wire, never recomputed, because a node may configure its own id.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::id::Id;

/// Longest accepted address, in bytes.
pub const NODE_ADDR_MAX_BYTES: usize = 256;

/// Errors from building a [`NodeAddr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    /// The address was empty.
    #[error("node address is empty")]
    Empty,
    /// The address was longer than [`NODE_ADDR_MAX_BYTES`].
    #[error("node address is {0} bytes, more than {NODE_ADDR_MAX_BYTES}")]
    TooLong(usize),
    /// The address held a space, a control character or non-ASCII text.
    #[error("node address holds a character that is not printable ASCII")]
    BadChar,
}

/// The advertised ring address of a node (bounded, printable ASCII).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeAddr(Arc<str>);

impl NodeAddr {
    /// Validates and wraps an address.
    pub fn new(s: impl Into<String>) -> Result<NodeAddr, AddrError> {
        let s = s.into();
        if s.is_empty() {
            return Err(AddrError::Empty);
        }
        if s.len() > NODE_ADDR_MAX_BYTES {
            return Err(AddrError::TooLong(s.len()));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AddrError::BadChar);
        }
        Ok(NodeAddr(Arc::from(s)))
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for NodeAddr {
    type Error = AddrError;
    fn try_from(s: String) -> Result<NodeAddr, AddrError> {
        NodeAddr::new(s)
    }
}

impl From<NodeAddr> for String {
    fn from(a: NodeAddr) -> String {
        a.0.to_string()
    }
}

impl FromStr for NodeAddr {
    type Err = AddrError;
    fn from_str(s: &str) -> Result<NodeAddr, AddrError> {
        NodeAddr::new(s)
    }
}

impl fmt::Display for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for NodeAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A ring member: its id and where to reach it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeRef {
    /// Position on the circle.
    pub id: Id,
    /// Advertised ring address.
    pub addr: NodeAddr,
}

impl NodeRef {
    /// A node whose id is SHA-1 of its advertised address (the default).
    pub fn from_addr(addr: NodeAddr) -> NodeRef {
        NodeRef {
            id: Id::hash(addr.as_str().as_bytes()),
            addr,
        }
    }

    /// A node with a configured id.
    pub fn with_id(id: Id, addr: NodeAddr) -> NodeRef {
        NodeRef { id, addr }
    }
}

impl fmt::Debug for NodeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}@{}", self.id, self.addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(NodeAddr::new("ws://127.0.0.1:7001").is_ok());
        assert_eq!(NodeAddr::new(""), Err(AddrError::Empty));
        assert_eq!(NodeAddr::new("a b"), Err(AddrError::BadChar));
        assert_eq!(NodeAddr::new("é"), Err(AddrError::BadChar));
        let long = "a".repeat(NODE_ADDR_MAX_BYTES + 1);
        assert_eq!(NodeAddr::new(long), Err(AddrError::TooLong(257)));
    }

    #[test]
    fn id_is_sha1_of_address() {
        let a = NodeAddr::new("ws://127.0.0.1:7001").expect("valid literal");
        assert_eq!(
            NodeRef::from_addr(a.clone()).id,
            Id::hash(a.as_str().as_bytes())
        );
    }
}
