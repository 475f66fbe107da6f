//! A bounded, process-wide memo shared by worker threads: for pure functions whose
//! arguments repeat (a phone in every record of a lead, the same number formatted for a
//! target's body, its check and its diff). Split in shards so threads seldom wait on each
//! other; a shard is emptied when it outgrows its share of the bound.

use std::borrow::Borrow;
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
        let shard = self.shard(&key);
        if let Some(hit) = lock(shard).get(&key) {
            return hit.clone();
        }
        self.keep(shard, key, make())
    }

    /// [`Memo::get_or`] for a borrowed key (a `&str` for `String` keys): the key is made
    /// owned only when its value is not kept yet.
    pub fn get_or_borrowed<Q>(&self, key: &Q, make: impl FnOnce() -> V) -> V
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let shard = self.shard(key);
        if let Some(hit) = lock(shard).get(key) {
            return hit.clone();
        }
        self.keep(shard, key.to_owned(), make())
    }

    /// Forgets every value, and the room they took.
    pub fn clear(&self) {
        for shard in &self.shards {
            *lock(shard) = HashMap::new();
        }
    }

    /// The shard of a key (borrowed keys hash as their owned form: `Borrow` says so).
    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> &Mutex<HashMap<K, V>> {
        &self.shards[(self.pick.hash_one(key) as usize) % SHARDS]
    }

    /// Keeps `value` for `key` in `shard`, emptied first when full; returns the value.
    fn keep(&self, shard: &Mutex<HashMap<K, V>>, key: K, value: V) -> V {
        let mut m = lock(shard);
        if m.len() >= self.per_shard {
            m.clear();
        }
        m.insert(key, value.clone());
        value
    }
}

/// A shard's map (a panic elsewhere while it was held leaves it usable: it holds only
/// finished values).
fn lock<K, V>(shard: &Mutex<HashMap<K, V>>) -> std::sync::MutexGuard<'_, HashMap<K, V>> {
    shard.lock().unwrap_or_else(|p| p.into_inner())
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

        // Cleared, it holds nothing, and no room for what it held; values come again.
        memo.clear();
        assert!(memo
            .shards
            .iter()
            .all(|s| s.lock().unwrap().capacity() == 0));
        assert_eq!(memo.get_or(7, || 50), 50);
    }
}
