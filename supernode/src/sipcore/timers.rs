//! A deadline queue keyed by whatever owns the timer, so the core can
//! answer `poll_timeout` in O(log n) and re-arm a key cheaply.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

/// Deadlines by key; each key has at most one.
#[derive(Debug)]
pub struct TimerQueue<K> {
    by_time: BTreeSet<(u64, K)>,
    by_key: HashMap<K, u64>,
}

impl<K: Ord + Hash + Clone> Default for TimerQueue<K> {
    fn default() -> Self {
        TimerQueue { by_time: BTreeSet::new(), by_key: HashMap::new() }
    }
}

impl<K: Ord + Hash + Clone> TimerQueue<K> {
    /// Sets (or with None clears) the deadline of `key`.
    pub fn set(&mut self, key: &K, deadline_ms: Option<u64>) {
        if let Some(old) = self.by_key.remove(key) {
            self.by_time.remove(&(old, key.clone()));
        }
        if let Some(d) = deadline_ms {
            self.by_key.insert(key.clone(), d);
            self.by_time.insert((d, key.clone()));
        }
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<u64> {
        self.by_time.first().map(|(d, _)| *d)
    }

    /// Removes and returns one key due at `now_ms`.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<K> {
        let (d, _) = self.by_time.first()?;
        if *d > now_ms {
            return None;
        }
        let (_, key) = self.by_time.pop_first()?;
        self.by_key.remove(&key);
        Some(key)
    }

    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rearm_and_pop_in_order() {
        let mut q = TimerQueue::default();
        q.set(&"a", Some(30));
        q.set(&"b", Some(10));
        q.set(&"a", Some(5));
        assert_eq!(q.next(), Some(5));
        assert_eq!(q.pop_due(4), None);
        assert_eq!(q.pop_due(20), Some("a"));
        assert_eq!(q.pop_due(20), Some("b"));
        assert_eq!(q.pop_due(100), None);
        q.set(&"c", Some(1));
        q.set(&"c", None);
        assert!(q.is_empty());
    }
}
