//! Replica maintenance: digests, pushes and orphan hand-over.
//!
//! Implementation notes:
//! - The responsible node drives replication. Every `replicate_interval_ms`
//!   it sends the digests of the keys in `(predecessor, self]` to its first
//!   k-1 successors. A receiver that holds a different digest asks for the
//!   key (`ReplicaWant`) and pushes its own records back, so both sides
//!   converge on the newest versions within a round trip; identical keys
//!   cost 28 bytes per round. After a crash the successor that inherits the
//!   range starts pushing, which restores k copies within a round or two of
//!   the rectify that extends its range.
//! - A replica only learns that it still is one through these digests: each
//!   held key remembers when it was last confirmed. A key not in our own
//!   range and unconfirmed for `orphan_grace_ms` (a join pushed us out of
//!   its replica set, or we received it on a leave) is looked up and handed
//!   to its owner with an acknowledged `Handoff`; we drop it afterwards
//!   unless the lookup shows we are still among its k holders.
//! - Messages are bounded by `digest_batch_keys`, `transfer_batch_records`
//!   and `transfer_batch_bytes`; large ranges go out as several messages.

use crate::addr::NodeAddr;
use crate::addr::NodeRef;
use crate::id::Id;
use crate::store::Record;
use crate::wire::{KeyDigest, Message};

use super::lookup::OpKind;
use super::{HandoffPurpose, Node};

impl Node {
    /// Where our own keys' copies go: our first k-1 successors.
    pub(crate) fn replica_targets(&self) -> Vec<NodeAddr> {
        self.rt.successors().iter().take(self.cfg.replicas() - 1).map(|s| s.addr.clone()).collect()
    }

    /// One replica maintenance round.
    pub(crate) fn replicate_round(&mut self, now_ms: u64) {
        let Some(pred) = self.rt.predecessor.clone() else {
            return;
        };
        let me = self.rt.me.clone();
        let owned = self.store.keys_in(&pred.id, &me.id);
        if !owned.is_empty() {
            let mut items = Vec::with_capacity(owned.len());
            for key in &owned {
                self.store.confirm(key, now_ms);
                if let Some(digest) = self.store.digest(now_ms, key) {
                    items.push(KeyDigest { key: *key, digest });
                }
            }
            let targets = self.replica_targets();
            for batch in items.chunks(self.cfg.digest_batch_keys) {
                for t in &targets {
                    self.send(
                        t,
                        Message::ReplicaDigest {
                            node: me.clone(),
                            items: batch.to_vec(),
                        },
                    );
                }
            }
        }
        self.start_orphan_checks(now_ms, &pred.id);
    }

    fn start_orphan_checks(&mut self, now_ms: u64, pred: &Id) {
        let me = self.rt.me.id;
        let mut started = 0;
        for key in self.store.all_keys() {
            if started >= self.cfg.orphan_checks_per_round {
                break;
            }
            if key.in_half_open(pred, &me) || self.orphans_in_flight.contains(&key) {
                continue;
            }
            let confirmed = self.store.confirmed_at_ms(&key).unwrap_or(now_ms);
            if confirmed.saturating_add(self.cfg.orphan_grace_ms) > now_ms {
                continue;
            }
            started += 1;
            self.orphans_in_flight.insert(key);
            let id = self.alloc_op();
            self.start_op(now_ms, id, key, OpKind::Orphan);
        }
    }

    /// The owner of an unconfirmed key is known: hand the key over.
    pub(crate) fn orphan_found(&mut self, now_ms: u64, key: Id, successors: Vec<NodeRef>) {
        let me = self.rt.me.id;
        let owner = successors[0].clone();
        if owner.id == me {
            self.orphans_in_flight.remove(&key);
            self.store.confirm(&key, now_ms);
            return;
        }
        let keep = successors
            .iter()
            .take(self.cfg.replicas())
            .any(|s| s.id == me);
        let records = self.store.records(now_ms, &key);
        if records.is_empty() {
            self.orphans_in_flight.remove(&key);
            self.store.remove_key(&key);
            return;
        }
        // Config::validate guarantees one key fits in one transfer batch.
        let kind = super::PendingKind::Handoff {
            purpose: HandoffPurpose::Orphan { key, keep },
            records: Vec::new(),
        };
        let n = records.len();
        self.request(now_ms, &owner.addr, kind, |req| Message::Handoff {
            req,
            records,
        });
        self.counters.records_handed_off += n as u64;
    }

    pub(crate) fn on_handoff_ack(&mut self, now_ms: u64, purpose: HandoffPurpose, records: usize) {
        match purpose {
            HandoffPurpose::Orphan { key, keep } => {
                self.orphans_in_flight.remove(&key);
                if keep {
                    self.store.confirm(&key, now_ms);
                } else {
                    self.store.remove_key(&key);
                }
            }
            HandoffPurpose::Leave => self.on_leave_ack(now_ms, records),
        }
    }

    pub(crate) fn on_handoff_failed(
        &mut self,
        now_ms: u64,
        to: &NodeAddr,
        purpose: HandoffPurpose,
        records: Vec<Record>,
    ) {
        self.note_failure(now_ms, to);
        match purpose {
            HandoffPurpose::Orphan { key, .. } => {
                self.orphans_in_flight.remove(&key);
            }
            HandoffPurpose::Leave => self.on_leave_failed(now_ms, to, records),
        }
    }

    /// A responsible node sent digests: confirm, and reconcile differences.
    pub(crate) fn on_digest(&mut self, now_ms: u64, from: &NodeAddr, items: Vec<KeyDigest>) {
        let mut wants = Vec::new();
        let mut ours = Vec::new();
        for item in items {
            self.store.confirm(&item.key, now_ms);
            if self.store.digest(now_ms, &item.key) != Some(item.digest) {
                wants.push(item.key);
                ours.extend(self.store.records(now_ms, &item.key));
            }
        }
        if !wants.is_empty() {
            self.send(from, Message::ReplicaWant { keys: wants });
        }
        self.push_records(from, ours);
    }

    pub(crate) fn on_want(&mut self, now_ms: u64, from: &NodeAddr, keys: Vec<Id>) {
        let mut records = Vec::new();
        for key in keys {
            records.extend(self.store.records(now_ms, &key));
        }
        self.push_records(from, records);
    }

    /// Pushes the records of keys in `(a, b]` to `to` (a new predecessor).
    pub(crate) fn push_range(&mut self, now_ms: u64, to: &NodeAddr, a: &Id, b: &Id) {
        let mut records = Vec::new();
        for key in self.store.keys_in(a, b) {
            records.extend(self.store.records(now_ms, &key));
        }
        self.counters.records_handed_off += records.len() as u64;
        self.push_records(to, records);
    }

    /// Sends records as `ReplicaPush` batches within the transfer bounds.
    fn push_records(&mut self, to: &NodeAddr, records: Vec<Record>) {
        for batch in self.batches(records) {
            self.send(to, Message::ReplicaPush { records: batch });
        }
    }

    /// Splits records into batches within `transfer_batch_records` and
    /// `transfer_batch_bytes`.
    pub(crate) fn batches(&self, records: Vec<Record>) -> Vec<Vec<Record>> {
        let mut out = Vec::new();
        let mut cur: Vec<Record> = Vec::new();
        let mut bytes = 0usize;
        for r in records {
            let size = r.size_bytes();
            if !cur.is_empty()
                && (cur.len() >= self.cfg.transfer_batch_records
                    || bytes + size > self.cfg.transfer_batch_bytes)
            {
                out.push(std::mem::take(&mut cur));
                bytes = 0;
            }
            bytes += size;
            cur.push(r);
        }
        if !cur.is_empty() {
            out.push(cur);
        }
        out
    }
}
