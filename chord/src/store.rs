//! The local part of the replicated store: versioned, expiring values by
//! key and sub-key, with tombstones.
//!
//! Implementation notes:
//! - A key holds a small dictionary of slots by sub-key (several contacts of
//!   one address-of-record, queued messages). A slot is a value or a
//!   tombstone, with a version and an absolute local expiry. Absolute times
//!   never leave the node: records on the wire carry remaining TTLs.
//! - Writes from clients are strict: a version at or below the stored one is
//!   `Stale` (an identical retry is accepted, so a re-sent put after a lost
//!   answer succeeds). Merges from replication are lenient: the higher
//!   version wins, ties go to the tombstone, and losers are ignored silently.
//! - A tombstone lives at least as long as the value it replaced, so a stale
//!   copy of that value cannot come back from a lagging replica.
//! - Tombstones count against the per-key and per-node limits, otherwise a
//!   flood of deletes would grow the store without bound.
//! - The digest of a key (FNV-1a over sub-key, version, tombstone flag) lets
//!   replicas compare keys without shipping values; expiry is left out since
//!   each node's clock origin differs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::id::Id;

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StoreError {
    /// The value or the sub-key is longer than the configured maximum.
    #[error("value or sub-key too large")]
    TooLarge,
    /// The TTL is zero or above the configured maximum.
    #[error("TTL is zero or too long")]
    BadTtl,
    /// The key already holds the maximum number of sub-keys or bytes.
    #[error("key is full")]
    KeyFull,
    /// The node holds the maximum number of keys or bytes.
    #[error("store is full")]
    StoreFull,
    /// The node does not take writes (not a ring member, or leaving).
    #[error("node does not accept writes")]
    Unavailable,
    /// A newer (or equal, different) version is stored.
    #[error("stale write: version {current_version} is stored")]
    Stale {
        /// The version that is stored.
        current_version: u64,
    },
}

/// One slot in transfer form: a value, or a tombstone when `value` is None.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The key (SHA-1 of the address-of-record).
    pub key: Id,
    /// The sub-key within the key (may be empty).
    pub sub_key: Vec<u8>,
    /// Writer's version; higher wins.
    pub version: u64,
    /// Remaining time to live in milliseconds.
    pub ttl_ms: u64,
    /// The value, or None for a tombstone.
    pub value: Option<Vec<u8>>,
}

impl Record {
    /// Bytes this record counts against the byte limits.
    pub fn size_bytes(&self) -> usize {
        self.sub_key.len() + self.value.as_ref().map_or(0, Vec::len)
    }
}

/// A live value as returned by a get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// The sub-key.
    pub sub_key: Vec<u8>,
    /// Writer's version.
    pub version: u64,
    /// Remaining time to live in milliseconds.
    pub ttl_ms: u64,
    /// The bytes.
    pub value: Vec<u8>,
}

/// Counts of what a node stores (cheap to read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreCounts {
    /// Keys held (including keys held only as replica).
    pub keys: usize,
    /// Live values plus tombstones.
    pub slots: usize,
    /// Tombstones among the slots.
    pub tombstones: usize,
    /// Sub-key plus value bytes.
    pub bytes: usize,
}

/// Result of a successful write or merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The slot changed.
    Stored,
    /// The slot already held this version (or a newer one, for merges).
    Unchanged,
}

#[derive(Debug, Clone)]
struct Slot {
    version: u64,
    expires_at_ms: u64,
    value: Option<Vec<u8>>,
}

impl Slot {
    fn bytes(&self, sub_key: &[u8]) -> usize {
        sub_key.len() + self.value.as_ref().map_or(0, Vec::len)
    }
}

#[derive(Debug, Clone, Default)]
struct KeyEntry {
    slots: BTreeMap<Vec<u8>, Slot>,
    bytes: usize,
    /// Last time the responsible node confirmed we are a replica of this key
    /// (or the time we received it).
    confirmed_at_ms: u64,
}

/// The local store. Crate-private: reached through [`Node`](crate::Node).
#[derive(Debug, Default)]
pub(crate) struct Store {
    keys: BTreeMap<Id, KeyEntry>,
    counts: StoreCounts,
}

impl Store {
    pub(crate) fn counts(&self) -> StoreCounts {
        self.counts
    }

    /// Writes one record. `strict` is for client writes (see module notes).
    pub(crate) fn apply(
        &mut self,
        now_ms: u64,
        rec: &Record,
        cfg: &Config,
        strict: bool,
    ) -> Result<Applied, StoreError> {
        if rec.sub_key.len() > cfg.max_sub_key_bytes
            || rec
                .value
                .as_ref()
                .is_some_and(|v| v.len() > cfg.max_value_bytes)
        {
            return Err(StoreError::TooLarge);
        }
        if rec.ttl_ms == 0 || rec.ttl_ms > cfg.max_ttl_ms {
            return Err(StoreError::BadTtl);
        }
        let expires_at_ms = now_ms.saturating_add(rec.ttl_ms);
        // Expired slots of this key must not count against its limits.
        self.sweep_key(now_ms, &rec.key);
        if !self.keys.contains_key(&rec.key) && self.keys.len() >= cfg.max_keys {
            return Err(StoreError::StoreFull);
        }
        let entry = self.keys.entry(rec.key).or_insert_with(|| KeyEntry {
            confirmed_at_ms: now_ms,
            ..KeyEntry::default()
        });
        let new_bytes = rec.size_bytes();
        let old = entry.slots.get(&rec.sub_key);
        let mut expires_at_ms = expires_at_ms;
        if let Some(old) = old {
            let same = old.version == rec.version && old.value == rec.value;
            if same {
                return Ok(Applied::Unchanged);
            }
            let newer = rec.version > old.version
                || (!strict && rec.version == old.version && rec.value.is_none());
            if !newer {
                return if strict {
                    Err(StoreError::Stale {
                        current_version: old.version,
                    })
                } else {
                    Ok(Applied::Unchanged)
                };
            }
            if rec.value.is_none() {
                expires_at_ms = expires_at_ms.max(old.expires_at_ms);
            }
        }
        let old_bytes = old.map_or(0, |s| s.bytes(&rec.sub_key));
        if old.is_none() && entry.slots.len() >= cfg.max_sub_keys_per_key {
            return Err(StoreError::KeyFull);
        }
        if entry.bytes - old_bytes + new_bytes > cfg.max_key_value_bytes {
            return Err(StoreError::KeyFull);
        }
        if self.counts.bytes - old_bytes + new_bytes > cfg.max_total_value_bytes {
            return Err(StoreError::StoreFull);
        }
        let slot = Slot {
            version: rec.version,
            expires_at_ms,
            value: rec.value.clone(),
        };
        if let Some(prev) = entry.slots.insert(rec.sub_key.clone(), slot) {
            self.counts.slots -= 1;
            if prev.value.is_none() {
                self.counts.tombstones -= 1;
            }
        }
        self.counts.slots += 1;
        if rec.value.is_none() {
            self.counts.tombstones += 1;
        }
        entry.bytes = entry.bytes - old_bytes + new_bytes;
        self.counts.bytes = self.counts.bytes - old_bytes + new_bytes;
        self.counts.keys = self.keys.len();
        Ok(Applied::Stored)
    }

    /// Live values of `key` whose sub-key starts with `prefix`.
    pub(crate) fn get(&self, now_ms: u64, key: &Id, prefix: Option<&[u8]>) -> Vec<Value> {
        let Some(entry) = self.keys.get(key) else {
            return Vec::new();
        };
        entry
            .slots
            .iter()
            .filter(|(sk, _)| prefix.is_none_or(|p| sk.starts_with(p)))
            .filter(|(_, s)| s.expires_at_ms > now_ms)
            .filter_map(|(sk, s)| {
                s.value.as_ref().map(|v| Value {
                    sub_key: sk.clone(),
                    version: s.version,
                    ttl_ms: s.expires_at_ms - now_ms,
                    value: v.clone(),
                })
            })
            .collect()
    }

    /// All unexpired slots of `key` (values and tombstones) as records.
    pub(crate) fn records(&self, now_ms: u64, key: &Id) -> Vec<Record> {
        let Some(entry) = self.keys.get(key) else {
            return Vec::new();
        };
        entry
            .slots
            .iter()
            .filter(|(_, s)| s.expires_at_ms > now_ms)
            .map(|(sk, s)| Record {
                key: *key,
                sub_key: sk.clone(),
                version: s.version,
                ttl_ms: s.expires_at_ms - now_ms,
                value: s.value.clone(),
            })
            .collect()
    }

    /// Digest of the unexpired slots of `key`, None if it holds none.
    pub(crate) fn digest(&self, now_ms: u64, key: &Id) -> Option<u64> {
        let entry = self.keys.get(key)?;
        let mut h = Fnv::new();
        let mut any = false;
        for (sk, s) in entry.slots.iter().filter(|(_, s)| s.expires_at_ms > now_ms) {
            any = true;
            h.write(&(sk.len() as u64).to_be_bytes());
            h.write(sk);
            h.write(&s.version.to_be_bytes());
            h.write(&[u8::from(s.value.is_some())]);
        }
        any.then_some(h.0)
    }

    /// Keys in the half-open interval `(a, b]`, in circle order from `a`.
    pub(crate) fn keys_in(&self, a: &Id, b: &Id) -> Vec<Id> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        if a == b {
            // The whole circle, starting after `a`.
            let mut v: Vec<Id> = self
                .keys
                .range((Excluded(*a), Unbounded))
                .map(|(k, _)| *k)
                .collect();
            v.extend(self.keys.range((Unbounded, Included(*a))).map(|(k, _)| *k));
            return v;
        }
        if a < b {
            self.keys
                .range((Excluded(*a), Included(*b)))
                .map(|(k, _)| *k)
                .collect()
        } else {
            let mut v: Vec<Id> = self
                .keys
                .range((Excluded(*a), Unbounded))
                .map(|(k, _)| *k)
                .collect();
            v.extend(self.keys.range((Unbounded, Included(*b))).map(|(k, _)| *k));
            v
        }
    }

    /// Every key held, in id order.
    pub(crate) fn all_keys(&self) -> Vec<Id> {
        self.keys.keys().copied().collect()
    }

    pub(crate) fn confirm(&mut self, key: &Id, now_ms: u64) {
        if let Some(e) = self.keys.get_mut(key) {
            e.confirmed_at_ms = now_ms;
        }
    }

    pub(crate) fn confirmed_at_ms(&self, key: &Id) -> Option<u64> {
        self.keys.get(key).map(|e| e.confirmed_at_ms)
    }

    /// Drops a key and everything under it.
    pub(crate) fn remove_key(&mut self, key: &Id) {
        if let Some(e) = self.keys.remove(key) {
            self.forget(&e);
        }
    }

    /// Drops expired slots and empty keys; returns how many slots went.
    pub(crate) fn sweep(&mut self, now_ms: u64) -> usize {
        let keys: Vec<Id> = self.keys.keys().copied().collect();
        keys.iter().map(|k| self.sweep_key(now_ms, k)).sum()
    }

    fn sweep_key(&mut self, now_ms: u64, key: &Id) -> usize {
        let Some(entry) = self.keys.get_mut(key) else {
            return 0;
        };
        let mut dropped = 0;
        let mut freed_bytes = 0;
        let mut freed_tombs = 0;
        entry.slots.retain(|sk, s| {
            let keep = s.expires_at_ms > now_ms;
            if !keep {
                dropped += 1;
                freed_bytes += s.bytes(sk);
                freed_tombs += usize::from(s.value.is_none());
            }
            keep
        });
        entry.bytes -= freed_bytes;
        self.counts.bytes -= freed_bytes;
        self.counts.slots -= dropped;
        self.counts.tombstones -= freed_tombs;
        if entry.slots.is_empty() {
            self.keys.remove(key);
            self.counts.keys = self.keys.len();
        }
        dropped
    }

    fn forget(&mut self, e: &KeyEntry) {
        self.counts.bytes -= e.bytes;
        self.counts.slots -= e.slots.len();
        self.counts.tombstones -= e.slots.values().filter(|s| s.value.is_none()).count();
        self.counts.keys = self.keys.len();
    }
}

/// 64-bit FNV-1a: tiny, deterministic, good enough to compare replicas.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
