//! Graceful leave: tell the neighbours, hand every record to the successor.
//!
//! Implementation notes:
//! - The neighbours get a `Leaving` notice with our predecessor and
//!   successor list so they splice us out at once, without waiting for a
//!   time-out.
//! - All held records go to the first successor, which becomes responsible
//!   for our range (it already holds most of it as replica; versions make
//!   the merge idempotent). Replica maintenance then restores k copies and
//!   moves keys we only held as replica to where they belong.
//! - Batches are acknowledged, at most `LEAVE_WINDOW` in flight, built
//!   lazily from a list of keys so a large store is not copied at once. A
//!   batch that fails is re-sent to the next successor in the list.
//! - The leave ends when every batch is acknowledged or at
//!   `leave_timeout_ms`, whichever comes first; `Event::LeaveDone` says which.

use crate::addr::{NodeAddr, NodeRef};
use crate::event::Event;
use crate::id::Id;
use crate::status::NodeState;
use crate::store::Record;
use crate::wire::Message;

use super::{HandoffPurpose, Node, PendingKind};

/// Hand-off batches in flight during a leave.
const LEAVE_WINDOW: usize = 8;

#[derive(Debug)]
pub(crate) struct LeaveState {
    pub(crate) deadline_ms: u64,
    keys: Vec<Id>,
    retry: Vec<Vec<Record>>,
    targets: Vec<NodeRef>,
    target_idx: usize,
    in_flight: usize,
    handed: usize,
    all_acked: bool,
}

impl Node {
    /// Leaves the ring gracefully. `Event::LeaveDone` follows once the
    /// successor acknowledged our records or `leave_timeout_ms` passed.
    pub fn leave(&mut self, now_ms: u64) {
        match self.state {
            NodeState::Member => {}
            NodeState::Idle | NodeState::Joining => {
                self.state = NodeState::Left;
                self.abort_ops(now_ms);
                self.events.push_back(Event::LeaveDone {
                    records_handed_off: 0,
                    acknowledged: true,
                });
                return;
            }
            NodeState::Leaving | NodeState::Left => return,
        }
        self.state = NodeState::Leaving;
        self.update_stable();
        let me = self.rt.me.clone();
        let pred = self.rt.predecessor.clone();
        let succs = self.rt.successors().to_vec();
        let notice = Message::Leaving {
            node: me,
            predecessor: pred.clone(),
            successors: succs.clone(),
        };
        if let Some(s) = succs.first() {
            self.send(&s.addr, notice.clone());
        }
        if let Some(p) = pred.filter(|p| succs.first().is_none_or(|s| s.id != p.id)) {
            self.send(&p.addr, notice);
        }
        let mut keys = self.store.all_keys();
        keys.reverse(); // popped from the back, so sent in id order
        self.leave = Some(LeaveState {
            deadline_ms: now_ms + self.cfg.leave_timeout_ms,
            keys,
            retry: Vec::new(),
            targets: succs,
            target_idx: 0,
            in_flight: 0,
            handed: 0,
            all_acked: true,
        });
        self.pump_leave(now_ms);
    }

    /// Sends batches up to the window; finishes when nothing is left.
    fn pump_leave(&mut self, now_ms: u64) {
        loop {
            let Some(l) = self.leave.as_mut() else { return };
            if l.target_idx >= l.targets.len() {
                // Nobody left to take the records.
                l.all_acked &= l.keys.is_empty() && l.retry.is_empty();
                l.keys.clear();
                l.retry.clear();
            }
            if l.in_flight >= LEAVE_WINDOW {
                return;
            }
            let batch = match l.retry.pop() {
                Some(b) => b,
                None => {
                    let mut batch = Vec::new();
                    let mut bytes = 0;
                    while let Some(key) = l.keys.last().copied() {
                        let recs = self.store.records(now_ms, &key);
                        let size: usize = recs.iter().map(Record::size_bytes).sum();
                        let full = batch.len() + recs.len() > self.cfg.transfer_batch_records
                            || bytes + size > self.cfg.transfer_batch_bytes;
                        if full && !batch.is_empty() {
                            break;
                        }
                        l.keys.pop();
                        bytes += size;
                        batch.extend(recs);
                    }
                    batch
                }
            };
            if batch.is_empty() {
                if l.in_flight == 0 {
                    self.finish_leave(now_ms);
                }
                return;
            }
            l.in_flight += 1;
            let to = l.targets[l.target_idx].addr.clone();
            let kind = PendingKind::Handoff {
                purpose: HandoffPurpose::Leave,
                records: batch.clone(),
            };
            self.counters.records_handed_off += batch.len() as u64;
            self.request(now_ms, &to, kind, |req| Message::Handoff {
                req,
                records: batch,
            });
        }
    }

    pub(crate) fn on_leave_ack(&mut self, now_ms: u64, records: usize) {
        if let Some(l) = self.leave.as_mut() {
            l.in_flight -= 1;
            l.handed += records;
        }
        self.pump_leave(now_ms);
    }

    pub(crate) fn on_leave_failed(&mut self, now_ms: u64, to: &NodeAddr, records: Vec<Record>) {
        if let Some(l) = self.leave.as_mut() {
            l.in_flight -= 1;
            if l.targets.get(l.target_idx).is_some_and(|t| &t.addr == to) {
                l.target_idx += 1;
            }
            l.retry.push(records);
        }
        self.pump_leave(now_ms);
    }

    pub(crate) fn check_leave_done(&mut self, now_ms: u64) {
        if self.leave.as_ref().is_some_and(|l| l.deadline_ms <= now_ms) {
            if let Some(l) = self.leave.as_mut() {
                l.all_acked = false;
            }
            self.finish_leave(now_ms);
        }
    }

    fn finish_leave(&mut self, now_ms: u64) {
        let Some(l) = self.leave.take() else { return };
        self.state = NodeState::Left;
        self.abort_ops(now_ms);
        self.pending.clear();
        self.deadlines.clear();
        self.events.push_back(Event::LeaveDone {
            records_handed_off: l.handed,
            acknowledged: l.all_acked,
        });
    }
}
