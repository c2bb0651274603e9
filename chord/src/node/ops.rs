//! Client operations: the public `lookup`, `put`, `delete` and `get`
//! calls, the store step that follows a lookup, and the completion,
//! expiry and abort of every operation.
//!
//! Implementation notes:
//! - Arguments are checked here first (sizes, TTL), so a bad call fails at
//!   once with an event instead of costing a lookup.
//! - The store step walks the replica list the lookup returned (the owner
//!   first, then its k-1 successors): if the owner does not answer, its
//!   successors hold copies, and they accept writes too (see `serve`).
//! - A key this node holds itself is served locally without a message.

use crate::addr::NodeAddr;
use crate::event::{Event, OpError, OpId, OpOutcome};
use crate::id::Id;
use crate::status::NodeState;
use crate::store::Record;
use crate::wire::Message;

use super::lookup::{Op, OpKind, Phase};
use super::{Node, PendingKind};

impl Node {
    /// Finds the node responsible for `key`.
    pub fn lookup(&mut self, now_ms: u64, key: Id) -> OpId {
        self.start_client_op(now_ms, key, OpKind::Lookup)
    }

    /// Stores `value` under `key`/`sub_key` with `version` for `ttl_ms` on
    /// the responsible node and its replicas.
    pub fn put(
        &mut self,
        now_ms: u64,
        key: Id,
        sub_key: Vec<u8>,
        value: Vec<u8>,
        version: u64,
        ttl_ms: u64,
    ) -> OpId {
        let rec = Record {
            key,
            sub_key,
            version,
            ttl_ms,
            value: Some(value),
        };
        self.start_client_op(now_ms, key, OpKind::Put(rec))
    }

    /// Deletes `key`/`sub_key` by writing a tombstone with `version` that
    /// lives `ttl_ms` (at least as long as the value it replaces).
    pub fn delete(
        &mut self,
        now_ms: u64,
        key: Id,
        sub_key: Vec<u8>,
        version: u64,
        ttl_ms: u64,
    ) -> OpId {
        let rec = Record {
            key,
            sub_key,
            version,
            ttl_ms,
            value: None,
        };
        self.start_client_op(now_ms, key, OpKind::Put(rec))
    }

    /// Reads the live values of `key`, only sub-keys starting with `prefix`
    /// when given.
    pub fn get(&mut self, now_ms: u64, key: Id, prefix: Option<Vec<u8>>) -> OpId {
        self.start_client_op(now_ms, key, OpKind::Get(prefix))
    }

    fn start_client_op(&mut self, now_ms: u64, key: Id, kind: OpKind) -> OpId {
        let id = self.alloc_op();
        let early = if self.state != NodeState::Member {
            Some(OpError::NotMember)
        } else if self.client_ops >= self.cfg.ops_max {
            Some(OpError::Busy)
        } else {
            match &kind {
                OpKind::Put(rec) => self.check_client_record(rec).err(),
                OpKind::Get(Some(p)) if p.len() > self.cfg.max_sub_key_bytes => {
                    Some(OpError::TooLarge)
                }
                _ => None,
            }
        };
        if let Some(err) = early {
            self.events.push_back(Event::OpDone {
                op: OpId(id),
                hops: 0,
                result: Err(err),
            });
            return OpId(id);
        }
        self.client_ops += 1;
        self.start_op(now_ms, id, key, kind);
        OpId(id)
    }

    fn check_client_record(&self, rec: &Record) -> Result<(), OpError> {
        if rec.sub_key.len() > self.cfg.max_sub_key_bytes
            || rec
                .value
                .as_ref()
                .is_some_and(|v| v.len() > self.cfg.max_value_bytes)
        {
            return Err(OpError::TooLarge);
        }
        if rec.ttl_ms == 0 || rec.ttl_ms > self.cfg.max_ttl_ms {
            return Err(OpError::BadTtl);
        }
        Ok(())
    }

    /// Sends the put or get to the current replica target, or serves it here.
    pub(crate) fn store_step(&mut self, now_ms: u64, id: u64) {
        let Some(op) = self.ops.get(&id) else { return };
        let Phase::Store { targets, idx } = &op.phase else {
            return;
        };
        let Some(target) = targets.get(*idx).cloned() else {
            self.fail_op(now_ms, id, OpError::Timeout);
            return;
        };
        if target.id == self.rt.me.id {
            let result = match &op.kind {
                OpKind::Put(rec) => {
                    let rec = rec.clone();
                    self.accept_put(now_ms, &rec)
                        .map(|()| OpOutcome::Stored { stored_at: target })
                }
                OpKind::Get(prefix) => {
                    let values = self.store.get(now_ms, &op.key, prefix.as_deref());
                    Ok(OpOutcome::Got {
                        from: target,
                        values,
                    })
                }
                _ => return,
            };
            self.complete_op(id, result.map_err(OpError::from));
            return;
        }
        let msg_of = match &op.kind {
            OpKind::Put(rec) => {
                let record = rec.clone();
                Box::new(move |req| Message::Put { req, record }) as Box<dyn FnOnce(u64) -> Message>
            }
            OpKind::Get(prefix) => {
                let (key, prefix) = (op.key, prefix.clone());
                Box::new(move |req| Message::Get { req, key, prefix, local_only: false })
            }
            _ => return,
        };
        self.request(now_ms, &target.addr, PendingKind::Store { op: id }, msg_of);
    }

    pub(crate) fn on_store_answer(&mut self, now_ms: u64, id: u64, msg: Message) {
        let Some(op) = self.ops.get(&id) else { return };
        let Phase::Store { targets, idx } = &op.phase else {
            return;
        };
        let target = targets[*idx].clone();
        let result = match msg {
            Message::PutReply {
                result: Err(crate::store::StoreError::Unavailable),
                ..
            } => {
                // The target is leaving: try the next replica.
                self.on_store_failed(now_ms, id, &target.addr);
                return;
            }
            Message::PutReply { result, .. } => result
                .map(|()| OpOutcome::Stored { stored_at: target })
                .map_err(OpError::from),
            Message::GetReply { values, .. } => Ok(OpOutcome::Got {
                from: target.clone(),
                values,
            }),
            _ => {
                self.on_store_failed(now_ms, id, &target.addr);
                return;
            }
        };
        self.complete_op(id, result);
    }

    pub(crate) fn on_store_failed(&mut self, now_ms: u64, id: u64, addr: &NodeAddr) {
        self.note_failure(now_ms, addr);
        if let Some(Op {
            phase: Phase::Store { idx, .. },
            ..
        }) = self.ops.get_mut(&id)
        {
            *idx += 1;
            self.store_step(now_ms, id);
        }
    }

    /// Ends a client operation with `result`.
    fn complete_op(&mut self, id: u64, result: Result<OpOutcome, OpError>) {
        if let Some(op) = self.ops.remove(&id) {
            if op.kind.is_client() {
                self.client_ops -= 1;
                self.events.push_back(Event::OpDone {
                    op: OpId(id),
                    hops: op.hops,
                    result,
                });
            }
        }
    }

    /// Ends any operation with an error.
    pub(crate) fn fail_op(&mut self, now_ms: u64, id: u64, err: OpError) {
        let Some(op) = self.ops.remove(&id) else {
            return;
        };
        if matches!(op.phase, Phase::Lookup { .. }) {
            self.counters.lookups_failed += 1;
        }
        match op.kind {
            OpKind::Lookup | OpKind::Put(_) | OpKind::Get(_) => {
                self.client_ops -= 1;
                self.events.push_back(Event::OpDone {
                    op: OpId(id),
                    hops: op.hops,
                    result: Err(err),
                });
            }
            OpKind::Join => self.join_failed(now_ms),
            OpKind::Finger(_) => self.finger_op = None,
            OpKind::Orphan => {
                self.orphans_in_flight.remove(&op.key);
            }
        }
    }

    /// Fails every operation whose deadline has passed.
    pub(crate) fn expire_ops(&mut self, now_ms: u64) {
        while let Some((&id, op)) = self.ops.iter().next() {
            if op.deadline_ms > now_ms {
                break;
            }
            self.fail_op(now_ms, id, OpError::Timeout);
        }
    }

    /// Fails every operation (the node left the ring).
    pub(crate) fn abort_ops(&mut self, now_ms: u64) {
        let ids: Vec<u64> = self.ops.keys().copied().collect();
        for id in ids {
            self.fail_op(now_ms, id, OpError::NotMember);
        }
    }
}
