//! Tunables and limits of a ring node.
//!
//! Implementation notes:
//! - Every queue, table and message the node builds is bounded by a field
//!   here; [`Config::validate`] checks that the bounds fit together (for
//!   example that the largest record fits in the largest message) so a node
//!   cannot be configured into emitting frames its peers must reject.
//! - Defaults suit super-nodes on a WAN: one-second stabilisation, two-second
//!   request time-outs. The simulation uses the same defaults.

use serde::{Deserialize, Serialize};

/// Errors from [`Config::validate`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A field that must be positive was zero.
    #[error("config field `{0}` must be greater than zero")]
    Zero(&'static str),
    /// The replication factor exceeds the successor list length, so a node
    /// would not know all the replicas of its own keys.
    #[error("replication_factor {k} exceeds successor_list_len {r}")]
    ReplicationTooHigh {
        /// Configured replication factor.
        k: usize,
        /// Configured successor list length.
        r: usize,
    },
    /// Two limits contradict each other.
    #[error("inconsistent limits: {0}")]
    Inconsistent(&'static str),
}

/// Configuration of a [`Node`](crate::Node). Start from `Config::default()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// Successor list length r (Zave: the ring counts as stable once it has
    /// at least r+1 members).
    pub successor_list_len: usize,
    /// Replication factor k: the responsible node and its k-1 successors.
    pub replication_factor: usize,
    /// Period of stabilize (ask the successor for its predecessor and list,
    /// then rectify it).
    pub stabilize_interval_ms: u64,
    /// Period of fix-fingers (one finger lookup per period).
    pub fix_fingers_interval_ms: u64,
    /// Period of replica maintenance (digests to successors, orphan checks).
    pub replicate_interval_ms: u64,
    /// Period of the sweep that drops expired values.
    pub expire_sweep_interval_ms: u64,
    /// Time-out of one request to one node.
    pub request_timeout_ms: u64,
    /// Deadline of a whole client operation (lookup plus store step).
    pub op_timeout_ms: u64,
    /// Consecutive time-outs after which a node is taken for dead.
    pub failures_before_dead: u32,
    /// How long a node taken for dead is kept out of routing tables unless
    /// it speaks to us again.
    pub dead_memory_ms: u64,
    /// Longest lookup path, in requests, before failing with `HopLimit`.
    pub lookup_hops_max: u8,
    /// Routing candidates carried in one `NextHop` answer.
    pub lookup_candidates: usize,
    /// Client operations in flight; more fail at once with `Busy`. Each op
    /// has at most one request outstanding, so this (plus a handful of
    /// maintenance requests and the leave window) bounds pending requests.
    pub ops_max: usize,
    /// How long a held key may go without a digest from its responsible
    /// node before this node looks up the owner and hands it over.
    pub orphan_grace_ms: u64,
    /// Orphan hand-over checks started per replicate round.
    pub orphan_checks_per_round: usize,
    /// Time a graceful leave waits for hand-off acknowledgements.
    pub leave_timeout_ms: u64,
    /// After joining, reads are also answered from the successor for this
    /// long, while the new range's values arrive (0: never).
    pub join_read_through_ms: u64,
    /// Largest value, in bytes.
    pub max_value_bytes: usize,
    /// Largest sub-key, in bytes.
    pub max_sub_key_bytes: usize,
    /// Sub-keys (values and tombstones) one key may hold.
    pub max_sub_keys_per_key: usize,
    /// Sum of value bytes one key may hold.
    pub max_key_value_bytes: usize,
    /// Keys one node may store.
    pub max_keys: usize,
    /// Sum of value bytes one node may store.
    pub max_total_value_bytes: usize,
    /// Longest TTL accepted, in milliseconds.
    pub max_ttl_ms: u64,
    /// Records in one transfer message (push, hand-off).
    pub transfer_batch_records: usize,
    /// Value bytes in one transfer message.
    pub transfer_batch_bytes: usize,
    /// Key digests in one digest message.
    pub digest_batch_keys: usize,
    /// Largest encoded frame the driver should send or accept.
    pub max_message_bytes: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            successor_list_len: 8,
            replication_factor: 3,
            stabilize_interval_ms: 1_000,
            fix_fingers_interval_ms: 1_000,
            replicate_interval_ms: 2_000,
            expire_sweep_interval_ms: 1_000,
            request_timeout_ms: 2_000,
            op_timeout_ms: 10_000,
            failures_before_dead: 2,
            dead_memory_ms: 10_000,
            lookup_hops_max: 32,
            lookup_candidates: 4,
            ops_max: 1_024,
            orphan_grace_ms: 6_000,
            orphan_checks_per_round: 16,
            leave_timeout_ms: 5_000,
            join_read_through_ms: 5_000,
            max_value_bytes: 64 * 1024,
            max_sub_key_bytes: 256,
            max_sub_keys_per_key: 64,
            max_key_value_bytes: 256 * 1024,
            max_keys: 100_000,
            max_total_value_bytes: 256 * 1024 * 1024,
            max_ttl_ms: 7 * 24 * 3_600 * 1_000,
            transfer_batch_records: 128,
            transfer_batch_bytes: 512 * 1024,
            digest_batch_keys: 512,
            max_message_bytes: 1024 * 1024,
        }
    }
}

/// Room left in a frame for everything but values: ids, sub-keys, headers.
const FRAME_OVERHEAD_BYTES: usize = 64 * 1024;

impl Config {
    /// Checks that every bound is positive and that the bounds fit together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive: [(&'static str, u64); 16] = [
            ("successor_list_len", self.successor_list_len as u64),
            ("replication_factor", self.replication_factor as u64),
            ("stabilize_interval_ms", self.stabilize_interval_ms),
            ("fix_fingers_interval_ms", self.fix_fingers_interval_ms),
            ("replicate_interval_ms", self.replicate_interval_ms),
            ("expire_sweep_interval_ms", self.expire_sweep_interval_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("op_timeout_ms", self.op_timeout_ms),
            ("failures_before_dead", u64::from(self.failures_before_dead)),
            ("lookup_hops_max", u64::from(self.lookup_hops_max)),
            ("lookup_candidates", self.lookup_candidates as u64),
            ("ops_max", self.ops_max as u64),
            ("max_sub_keys_per_key", self.max_sub_keys_per_key as u64),
            ("max_keys", self.max_keys as u64),
            ("transfer_batch_records", self.transfer_batch_records as u64),
            ("digest_batch_keys", self.digest_batch_keys as u64),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError::Zero(name));
        }
        if self.replication_factor > self.successor_list_len {
            return Err(ConfigError::ReplicationTooHigh {
                k: self.replication_factor,
                r: self.successor_list_len,
            });
        }
        if self.successor_list_len > crate::wire::MAX_LIST_LEN
            || self.lookup_candidates > crate::wire::MAX_LIST_LEN
        {
            return Err(ConfigError::Inconsistent(
                "lists longer than wire::MAX_LIST_LEN",
            ));
        }
        if self.max_value_bytes > self.max_key_value_bytes {
            return Err(ConfigError::Inconsistent(
                "max_value_bytes > max_key_value_bytes",
            ));
        }
        if self.max_value_bytes > self.transfer_batch_bytes {
            return Err(ConfigError::Inconsistent(
                "max_value_bytes > transfer_batch_bytes",
            ));
        }
        // One key must fit in one transfer batch: orphan hand-over sends a
        // key's records in a single acknowledged message.
        if self.max_sub_keys_per_key > self.transfer_batch_records
            || self.max_key_value_bytes > self.transfer_batch_bytes
        {
            return Err(ConfigError::Inconsistent(
                "a full key does not fit in one transfer batch",
            ));
        }
        let biggest_payload = self.max_key_value_bytes.max(self.transfer_batch_bytes);
        if biggest_payload + FRAME_OVERHEAD_BYTES > self.max_message_bytes {
            return Err(ConfigError::Inconsistent(
                "max_message_bytes too small for a full key or transfer batch",
            ));
        }
        Ok(())
    }

    /// The smaller of the successor list length and the replication factor,
    /// never below 1: how many nodes hold each key.
    pub(crate) fn replicas(&self) -> usize {
        self.replication_factor
            .clamp(1, self.successor_list_len.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(Config::default().validate(), Ok(()));
    }

    #[test]
    fn rejects_contradictions() {
        let c = Config {
            replication_factor: 9,
            ..Config::default()
        };
        assert!(matches!(
            c.validate(),
            Err(ConfigError::ReplicationTooHigh { .. })
        ));
        let c = Config {
            stabilize_interval_ms: 0,
            ..Config::default()
        };
        assert_eq!(
            c.validate(),
            Err(ConfigError::Zero("stabilize_interval_ms"))
        );
        let c = Config {
            max_message_bytes: 1000,
            ..Config::default()
        };
        assert!(matches!(c.validate(), Err(ConfigError::Inconsistent(_))));
    }
}
