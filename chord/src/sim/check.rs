//! Ground truth for simulation checks: the ring as an omniscient observer
//! sees it, and comparisons of each node's view against it.

use crate::id::Id;
use crate::status::NodeState;

use super::Sim;

/// Live members sorted by id: who should be whose neighbour and owner.
#[derive(Debug, Clone)]
pub struct RingOrder {
    /// (id, node index), ascending by id.
    pub nodes: Vec<(Id, usize)>,
}

impl RingOrder {
    /// Index of the node responsible for `key`: the first id at or after it.
    pub fn owner(&self, key: &Id) -> Option<usize> {
        if self.nodes.is_empty() {
            return None;
        }
        let pos = self.nodes.partition_point(|(id, _)| id < key);
        Some(self.nodes[pos % self.nodes.len()].1)
    }

    /// Indices of the owner of `key` and its k-1 successors.
    pub fn replicas(&self, key: &Id, k: usize) -> Vec<usize> {
        if self.nodes.is_empty() {
            return Vec::new();
        }
        let pos = self.nodes.partition_point(|(id, _)| id < key);
        (0..k.min(self.nodes.len()))
            .map(|i| self.nodes[(pos + i) % self.nodes.len()].1)
            .collect()
    }
}

impl Sim {
    /// Indices of live nodes that are ring members.
    pub fn members(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|i| self.nodes[*i].alive && self.nodes[*i].node.state() == NodeState::Member)
            .collect()
    }

    /// The ground-truth ring of live members.
    pub fn ring_order(&self) -> RingOrder {
        let mut nodes: Vec<(Id, usize)> = self
            .members()
            .into_iter()
            .map(|i| (self.nodes[i].node.me().id, i))
            .collect();
        nodes.sort();
        RingOrder { nodes }
    }

    /// Checks that every live member's first successor and predecessor are
    /// its true neighbours; returns the first few mismatches otherwise.
    pub fn check_ring(&self) -> Result<(), String> {
        let order = self.ring_order();
        let n = order.nodes.len();
        let mut errors = Vec::new();
        for (pos, (_, idx)) in order.nodes.iter().enumerate() {
            let node = &self.nodes[*idx].node;
            let want_succ = order.nodes[(pos + 1) % n].0;
            let want_pred = order.nodes[(pos + n - 1) % n].0;
            let succ = node
                .successors()
                .first()
                .map(|s| s.id)
                .unwrap_or(node.me().id);
            let pred = node.predecessor().map(|p| p.id);
            if n > 1 && (succ != want_succ || pred != Some(want_pred)) {
                errors.push(format!(
                    "n{idx}: succ {succ:?} want {want_succ:?}, pred {pred:?} want {want_pred:?}"
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            let total = errors.len();
            errors.truncate(5);
            Err(format!("{total} of {n} nodes wrong: {}", errors.join("; ")))
        }
    }

    /// Checks that every live member's successor list is the next r (or
    /// n-1) live members in order.
    pub fn check_successor_lists(&self) -> Result<(), String> {
        let order = self.ring_order();
        let n = order.nodes.len();
        for (pos, (_, idx)) in order.nodes.iter().enumerate() {
            let node = &self.nodes[*idx].node;
            let r = node.config().successor_list_len.min(n - 1);
            let want: Vec<Id> = (1..=r).map(|i| order.nodes[(pos + i) % n].0).collect();
            let got: Vec<Id> = node.successors().iter().map(|s| s.id).collect();
            if got != want {
                return Err(format!("n{idx}: successor list {got:?}, want {want:?}"));
            }
        }
        Ok(())
    }
}
