//! Wire messages between ring nodes, their framing and their bounds.
//!
//! A frame is the protocol version as two big-endian bytes followed by one
//! postcard-encoded [`Message`]. The driver carries frames over ring links
//! (one WebSocket binary message per frame); [`encode_frame`] and
//! [`decode_frame`] are the only codec, so the fuzz target covers it.
//!
//! Implementation notes:
//! - Requests carry a `req` id chosen by the sender; the answer echoes it and
//!   the sender matches it together with the address it asked, so a stray or
//!   forged answer from elsewhere is dropped and counted.
//! - One-way messages (rectify, leave notice, replica digests and pushes)
//!   carry no id: they are idempotent and repeated every maintenance round,
//!   so a lost one costs one round, not correctness.
//! - Decoding bounds the frame size; [`Message::validate`] then bounds every
//!   list and byte string against the node's [`Config`], so a decoded but
//!   oversized message is dropped before it touches any state.

use serde::{Deserialize, Serialize};

use crate::addr::NodeRef;
use crate::config::Config;
use crate::id::Id;
use crate::store::{Record, StoreError, Value};

/// Version of this wire protocol, first two bytes of every frame.
/// 2: `Get` carries `local_only` (read-through after a join).
pub const PROTOCOL_VERSION: u16 = 2;

/// Longest node list accepted in any message (successor lists, candidates).
pub const MAX_LIST_LEN: usize = 32;

/// Errors from decoding or validating a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The frame is larger than `Config::max_message_bytes`.
    #[error("frame of {0} bytes is too large")]
    TooLarge(usize),
    /// The frame is shorter than its version header.
    #[error("frame too short")]
    Truncated,
    /// The frame speaks another protocol version.
    #[error("unsupported protocol version {0}")]
    WrongVersion(u16),
    /// Postcard could not decode the body (includes bad addresses).
    #[error("undecodable message: {0}")]
    Decode(String),
    /// Bytes were left after the message.
    #[error("trailing bytes after message")]
    TrailingBytes,
    /// A decoded message exceeds a configured bound.
    #[error("message out of bounds: {0}")]
    OutOfBounds(&'static str),
}

/// One digest entry: a key and the digest of its slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDigest {
    /// The key.
    pub key: Id,
    /// Digest of its unexpired slots (see `store` module notes).
    pub digest: u64,
}

/// Every message exchanged on ring links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// First message on a link the sender dialled: its advertised identity,
    /// so the accepting driver knows which address to report as `from`.
    Hello {
        /// The dialling node.
        node: NodeRef,
    },
    /// Stabilize probe and liveness ping: "send me your neighbours".
    GetNeighbours {
        /// Request id.
        req: u64,
    },
    /// Answer to `GetNeighbours`.
    Neighbours {
        /// Echoed request id.
        req: u64,
        /// The answering node (its id, learnt here when we only knew its address).
        node: NodeRef,
        /// Its predecessor, if known.
        predecessor: Option<NodeRef>,
        /// Its successor list, nearest first.
        successors: Vec<NodeRef>,
    },
    /// One-way (Zave's rectify): "I believe I am your predecessor".
    Rectify {
        /// The sender.
        node: NodeRef,
    },
    /// One-way graceful-leave notice to the leaver's neighbours.
    Leaving {
        /// The node that leaves.
        node: NodeRef,
        /// Its predecessor, for its successor to adopt.
        predecessor: Option<NodeRef>,
        /// Its successor list, for its predecessor to adopt.
        successors: Vec<NodeRef>,
    },
    /// Iterative lookup step: "who is responsible for `key`, or who is closer?"
    FindSuccessor {
        /// Request id.
        req: u64,
        /// The key looked up.
        key: Id,
        /// Hop number of this request in its lookup (1 for the first).
        hop: u8,
    },
    /// Lookup answer: `successors[0]` is responsible for the key, the rest
    /// are its successors (the replica holders come first).
    FoundSuccessor {
        /// Echoed request id.
        req: u64,
        /// Echoed hop number.
        hop: u8,
        /// The responsible node then its successors.
        successors: Vec<NodeRef>,
    },
    /// Lookup answer: nodes closer to the key, best first.
    NextHop {
        /// Echoed request id.
        req: u64,
        /// Echoed hop number.
        hop: u8,
        /// Closer nodes, best first.
        candidates: Vec<NodeRef>,
        /// The answering node's successor list: if the candidates are dead,
        /// the asker can find the owner as the first live successor past
        /// the key without another round trip.
        successors: Vec<NodeRef>,
    },
    /// Store one record (value or tombstone) as a client write.
    Put {
        /// Request id.
        req: u64,
        /// The record; `value: None` deletes.
        record: Record,
    },
    /// Answer to `Put`.
    PutReply {
        /// Echoed request id.
        req: u64,
        /// Whether it was stored.
        result: Result<(), StoreError>,
    },
    /// Read the live values of a key.
    Get {
        /// Request id.
        req: u64,
        /// The key.
        key: Id,
        /// Only sub-keys starting with these bytes.
        prefix: Option<Vec<u8>>,
        /// Set on a read a just-joined node forwards to its successor (see
        /// `node/serve.rs`): answer from the local store, never forward again.
        local_only: bool,
    },
    /// Answer to `Get`.
    GetReply {
        /// Echoed request id.
        req: u64,
        /// The live values.
        values: Vec<Value>,
    },
    /// One-way replica maintenance from a key's responsible node.
    ReplicaDigest {
        /// The responsible node.
        node: NodeRef,
        /// Digests of the keys it is responsible for.
        items: Vec<KeyDigest>,
    },
    /// One-way: keys whose digest differed; the receiver pushes them.
    ReplicaWant {
        /// Keys wanted.
        keys: Vec<Id>,
    },
    /// One-way: records to merge (newer version wins).
    ReplicaPush {
        /// The records.
        records: Vec<Record>,
    },
    /// Records handed over on leave or to a key's owner; answered by `HandoffAck`.
    Handoff {
        /// Request id.
        req: u64,
        /// The records.
        records: Vec<Record>,
    },
    /// Answer to `Handoff`: the records were merged.
    HandoffAck {
        /// Echoed request id.
        req: u64,
    },
}

impl Message {
    /// The request id this message answers, if it is an answer.
    pub fn answers(&self) -> Option<u64> {
        match self {
            Message::Neighbours { req, .. }
            | Message::FoundSuccessor { req, .. }
            | Message::NextHop { req, .. }
            | Message::PutReply { req, .. }
            | Message::GetReply { req, .. }
            | Message::HandoffAck { req } => Some(*req),
            _ => None,
        }
    }

    /// Checks every list and byte string against `cfg`.
    pub fn validate(&self, cfg: &Config) -> Result<(), WireError> {
        use WireError::OutOfBounds as Oob;
        let list = |l: &[NodeRef]| {
            if l.len() > MAX_LIST_LEN {
                Err(Oob("node list"))
            } else {
                Ok(())
            }
        };
        match self {
            Message::Neighbours { successors, .. }
            | Message::Leaving { successors, .. }
            | Message::FoundSuccessor { successors, .. } => {
                list(successors)?;
                if matches!(self, Message::FoundSuccessor { .. }) && successors.is_empty() {
                    return Err(Oob("empty successor list"));
                }
            }
            Message::NextHop {
                candidates,
                successors,
                ..
            } => {
                list(candidates)?;
                list(successors)?;
            }
            Message::Put { record, .. } => check_record(record, cfg)?,
            Message::Get { prefix, .. } => {
                if prefix
                    .as_ref()
                    .is_some_and(|p| p.len() > cfg.max_sub_key_bytes)
                {
                    return Err(Oob("prefix"));
                }
            }
            Message::GetReply { values, .. } => {
                if values.len() > cfg.max_sub_keys_per_key {
                    return Err(Oob("values per key"));
                }
                for v in values {
                    if v.sub_key.len() > cfg.max_sub_key_bytes
                        || v.value.len() > cfg.max_value_bytes
                    {
                        return Err(Oob("value size"));
                    }
                }
            }
            Message::ReplicaDigest { items, .. } => {
                if items.len() > cfg.digest_batch_keys {
                    return Err(Oob("digest batch"));
                }
            }
            Message::ReplicaWant { keys } => {
                if keys.len() > cfg.digest_batch_keys {
                    return Err(Oob("want batch"));
                }
            }
            Message::ReplicaPush { records } | Message::Handoff { records, .. } => {
                if records.len() > cfg.transfer_batch_records {
                    return Err(Oob("transfer batch"));
                }
                let mut bytes = 0usize;
                for r in records {
                    check_record(r, cfg)?;
                    bytes += r.size_bytes();
                }
                if bytes > cfg.transfer_batch_bytes {
                    return Err(Oob("transfer batch bytes"));
                }
            }
            Message::Hello { .. }
            | Message::GetNeighbours { .. }
            | Message::Rectify { .. }
            | Message::FindSuccessor { .. }
            | Message::PutReply { .. }
            | Message::HandoffAck { .. } => {}
        }
        Ok(())
    }
}

fn check_record(r: &Record, cfg: &Config) -> Result<(), WireError> {
    if r.sub_key.len() > cfg.max_sub_key_bytes {
        return Err(WireError::OutOfBounds("sub-key size"));
    }
    if r.value
        .as_ref()
        .is_some_and(|v| v.len() > cfg.max_value_bytes)
    {
        return Err(WireError::OutOfBounds("value size"));
    }
    if r.ttl_ms > cfg.max_ttl_ms {
        return Err(WireError::OutOfBounds("ttl"));
    }
    Ok(())
}

/// Encodes a message as a frame: version header then postcard body.
pub fn encode_frame(msg: &Message) -> Vec<u8> {
    let mut out = PROTOCOL_VERSION.to_be_bytes().to_vec();
    // Serialising plain data into a Vec cannot fail: postcard only errors
    // on unsupported serde features (maps with unknown length, etc.) that
    // Message does not use.
    let body = postcard::to_allocvec(msg).expect("Message is postcard-serialisable");
    out.extend_from_slice(&body);
    out
}

/// Decodes a frame of at most `max_bytes` (does not run [`Message::validate`]).
pub fn decode_frame(frame: &[u8], max_bytes: usize) -> Result<Message, WireError> {
    if frame.len() > max_bytes {
        return Err(WireError::TooLarge(frame.len()));
    }
    let Some((head, body)) = frame.split_first_chunk::<2>() else {
        return Err(WireError::Truncated);
    };
    let version = u16::from_be_bytes(*head);
    if version != PROTOCOL_VERSION {
        return Err(WireError::WrongVersion(version));
    }
    let (msg, rest) =
        postcard::take_from_bytes::<Message>(body).map_err(|e| WireError::Decode(e.to_string()))?;
    if !rest.is_empty() {
        return Err(WireError::TrailingBytes);
    }
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::NodeAddr;

    fn node(a: &str) -> NodeRef {
        NodeRef::from_addr(NodeAddr::new(a).expect("valid literal"))
    }

    #[test]
    fn round_trip() {
        let msg = Message::Neighbours {
            req: 7,
            node: node("ws://a:1"),
            predecessor: Some(node("ws://b:1")),
            successors: vec![node("ws://c:1")],
        };
        let frame = encode_frame(&msg);
        assert_eq!(decode_frame(&frame, 1 << 20), Ok(msg));
    }

    #[test]
    fn rejects_bad_frames() {
        let frame = encode_frame(&Message::GetNeighbours { req: 1 });
        assert_eq!(decode_frame(&frame[..1], 100), Err(WireError::Truncated));
        assert_eq!(
            decode_frame(&frame, 2),
            Err(WireError::TooLarge(frame.len()))
        );
        let mut wrong = frame.clone();
        wrong[1] = 99;
        assert_eq!(decode_frame(&wrong, 100), Err(WireError::WrongVersion(99)));
        let mut long = frame.clone();
        long.push(0);
        assert_eq!(decode_frame(&long, 100), Err(WireError::TrailingBytes));
        let [hi, lo] = PROTOCOL_VERSION.to_be_bytes();
        assert!(matches!(
            decode_frame(&[hi, lo, 200], 100),
            Err(WireError::Decode(_))
        ));
    }

    #[test]
    fn bad_address_fails_to_decode() {
        let frame = encode_frame(&Message::Hello {
            node: node("ws://a:1"),
        });
        // Replace one address byte with a space.
        let mut bad = frame.clone();
        let pos = bad.len() - 1;
        bad[pos] = b' ';
        assert!(matches!(
            decode_frame(&bad, 1000),
            Err(WireError::Decode(_))
        ));
    }

    #[test]
    fn validate_bounds_lists() {
        let cfg = Config::default();
        let many = vec![node("ws://a:1"); MAX_LIST_LEN + 1];
        let msg = Message::NextHop {
            req: 1,
            hop: 1,
            candidates: many,
            successors: vec![],
        };
        assert_eq!(msg.validate(&cfg), Err(WireError::OutOfBounds("node list")));
        let msg = Message::FoundSuccessor {
            req: 1,
            hop: 1,
            successors: vec![],
        };
        assert!(msg.validate(&cfg).is_err());
    }
}
