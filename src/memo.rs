//! A bounded, process-wide memo shared by worker threads: for pure functions whose
//! arguments repeat (a phone in every record of a lead, the same number formatted for a
//! target's body, its check and its diff). Split in shards so threads seldom wait on each
//! other; a shard is emptied when it outgrows its share of the bound.

use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;

use foldhash::{HashMap, HashMapExt};

const SHARDS: usize = 64;

/// Values by key, at most about `limit` of them.
pub struct Memo<K, V> {
    shards: Vec<Mutex<HashMap<K, V>>>,
    per_shard: usize,
    /// Picks the shard (a hash of its own, so a shard's map still spreads its keys).
    pick: foldhash::fast::RandomState,
}

impl<K: Hash + Eq, V: Clone> Memo<K, V> {
    /// A memo keeping at most about `limit` values.
    pub fn new(limit: usize) -> Memo<K, V> {
        Memo {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            per_shard: (limit / SHARDS).max(1),
            pick: foldhash::fast::RandomState::default(),
        }
    }

    /// The value for `key`, computed by `make` the first time (and again after its shard
    /// was emptied).
    pub fn get_or(&self, key: K, make: impl FnOnce() -> V) -> V {
        let hash = self.pick.hash_one(&key);
        let shard = &self.shards[(hash as usize) % SHARDS];
        if let Some(hit) = shard.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return hit.clone();
        }
        let value = make();
        let mut m = shard.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= self.per_shard {
            m.clear();
        }
        m.insert(key, value.clone());
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_and_stays_bounded() {
        let memo: Memo<u32, u32> = Memo::new(128);
        let mut calls = 0;
        assert_eq!(
            memo.get_or(7, || {
                calls += 1;
                49
            }),
            49
        );
        assert_eq!(memo.get_or(7, || unreachable!("cached")), 49);
        assert_eq!(calls, 1);
        for i in 100..10_100 {
            assert_eq!(memo.get_or(i, || i * 2), i * 2);
        }
        let held: usize = memo.shards.iter().map(|s| s.lock().unwrap().len()).sum();
        assert!(held <= 128 + SHARDS, "{held}");
    }
}
