//! Answers to remote requests and handling of one-way messages.
//!
//! Implementation notes:
//! - A node that is not a member answers lookups with an empty `NextHop`,
//!   which the asker counts as a failed hop and routes around at once,
//!   instead of letting it wait for a time-out.
//! - Writes are accepted from anyone and merged by version: a put that lands
//!   on a replica because the owner is down is not lost, and replica
//!   maintenance later moves it to wherever it belongs.
//! - After storing a client write the node pushes it to its first k-1
//!   successors at once rather than waiting for the next replica round.

use crate::addr::NodeAddr;
use crate::id::Id;
use crate::status::NodeState;
use crate::store::{Applied, Record, StoreError};
use crate::wire::Message;

use super::{Node, PendingKind};

impl Node {
    pub(crate) fn serve(&mut self, now_ms: u64, from: &NodeAddr, msg: Message) {
        let member = matches!(self.state, NodeState::Member);
        match msg {
            Message::Hello { .. } => {}
            Message::GetNeighbours { req } => {
                if self.state == NodeState::Leaving {
                    return;
                }
                let reply = Message::Neighbours {
                    req,
                    node: self.rt.me.clone(),
                    predecessor: self.rt.predecessor.clone(),
                    successors: self.rt.successors().to_vec(),
                };
                self.send(from, reply);
            }
            Message::Rectify { node } => {
                // Only a node may claim to be our predecessor, not a third party.
                if node.addr == *from {
                    self.on_rectify(now_ms, node);
                }
            }
            Message::Leaving {
                node,
                predecessor,
                successors,
            } => {
                if node.addr == *from {
                    self.on_leaving(now_ms, node, predecessor, successors);
                }
            }
            Message::FindSuccessor { req, key, hop } => {
                let reply = if !member {
                    Message::NextHop {
                        req,
                        hop,
                        candidates: Vec::new(),
                        successors: Vec::new(),
                    }
                } else if self.rt.owns(&key) || self.rt.successors().is_empty() {
                    let mut successors = vec![self.rt.me.clone()];
                    successors.extend(self.rt.successors().iter().cloned());
                    successors.truncate(crate::wire::MAX_LIST_LEN);
                    Message::FoundSuccessor {
                        req,
                        hop,
                        successors,
                    }
                } else if self.rt.successor_owns(&key) {
                    Message::FoundSuccessor {
                        req,
                        hop,
                        successors: self.rt.successors().to_vec(),
                    }
                } else {
                    let candidates =
                        self.rt
                            .closest_preceding(&key, self.cfg.lookup_candidates, now_ms);
                    let successors = self.rt.successors().to_vec();
                    Message::NextHop {
                        req,
                        hop,
                        candidates,
                        successors,
                    }
                };
                self.send(from, reply);
            }
            Message::Put { req, record } => {
                let result = if member {
                    self.accept_put(now_ms, &record)
                } else {
                    Err(StoreError::Unavailable)
                };
                self.send(from, Message::PutReply { req, result });
            }
            Message::Get { req, key, prefix, local_only } => {
                match self.read_through_target(now_ms, from, local_only) {
                    Some(successor) => {
                        let kind = PendingKind::ReadThrough { requester: from.clone(), req, key, prefix: prefix.clone() };
                        self.request(now_ms, &successor, kind, |r| Message::Get { req: r, key, prefix, local_only: true });
                    }
                    None => {
                        let values = self.store.get(now_ms, &key, prefix.as_deref());
                        self.send(from, Message::GetReply { req, values });
                    }
                }
            }
            Message::ReplicaDigest { node, items } => {
                if node.addr == *from && member {
                    self.on_digest(now_ms, from, items);
                }
            }
            Message::ReplicaWant { keys } => self.on_want(now_ms, from, keys),
            Message::ReplicaPush { records } => self.merge_records(now_ms, &records),
            Message::Handoff { req, records } => {
                self.merge_records(now_ms, &records);
                self.send(from, Message::HandoffAck { req });
            }
            // Answers are routed before `serve`; one without a pending
            // request was already counted there.
            Message::Neighbours { .. }
            | Message::FoundSuccessor { .. }
            | Message::NextHop { .. }
            | Message::PutReply { .. }
            | Message::GetReply { .. }
            | Message::HandoffAck { .. } => {}
        }
    }

    /// Stores a client write and pushes it to our first k-1 successors.
    pub(crate) fn accept_put(&mut self, now_ms: u64, record: &Record) -> Result<(), StoreError> {
        match self.store.apply(now_ms, record, &self.cfg, true) {
            Ok(Applied::Stored) => {
                let replicas = self.replica_targets();
                for addr in replicas {
                    self.send(
                        &addr,
                        Message::ReplicaPush {
                            records: vec![record.clone()],
                        },
                    );
                }
                Ok(())
            }
            Ok(Applied::Unchanged) => Ok(()),
            Err(e) => {
                self.counters.store_writes_rejected += 1;
                Err(e)
            }
        }
    }

    /// Merges replicated records (newer version wins), counting refusals.
    /// Where a read should be forwarded: for `join_read_through_ms` after
    /// joining, the values of our new range may still be on their way from
    /// our successor (its push and the reader's request travel different
    /// links), so reads go to the successor too and its values are merged
    /// in. A forwarded read is answered locally (one hop at most).
    fn read_through_target(&self, now_ms: u64, from: &NodeAddr, local_only: bool) -> Option<NodeAddr> {
        if local_only || self.read_through_until_ms.is_none_or(|t| now_ms >= t) {
            return None;
        }
        let successor = self.rt.successor()?;
        (successor.addr != self.rt.me.addr && &successor.addr != from).then(|| successor.addr.clone())
    }

    /// The successor answered a forwarded read: merge its values (newer
    /// versions win, local tombstones included) and answer the reader.
    pub(crate) fn on_read_through(&mut self, now_ms: u64, requester: &NodeAddr, req: u64, key: Id, prefix: Option<Vec<u8>>, values: Vec<crate::store::Value>) {
        let records: Vec<Record> = values
            .into_iter()
            .map(|v| Record { key, sub_key: v.sub_key, version: v.version, ttl_ms: v.ttl_ms, value: Some(v.value) })
            .collect();
        self.merge_records(now_ms, &records);
        let values = self.store.get(now_ms, &key, prefix.as_deref());
        self.send(requester, Message::GetReply { req, values });
    }

    pub(crate) fn merge_records(&mut self, now_ms: u64, records: &[Record]) {
        for r in records {
            if self.store.apply(now_ms, r, &self.cfg, false).is_err() {
                self.counters.store_writes_rejected += 1;
            }
        }
    }
}
