//! In-memory dedup store: sharded maps of hash → expiry, with a FIFO per shard so expired
//! and (past the capacity) oldest hashes are dropped in O(1). Memory is bounded by capacity.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};

use super::{Claim, DedupError, DedupStore};

const SHARDS: usize = 16;

/// The first 128 bits of the SHA-256: collisions are out of reach, memory is halved.
type Key = [u8; 16];

/// Keys are already uniform (a SHA-256 prefix), so hashing them again is wasted work:
/// the map uses their first eight bytes as the hash.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

#[derive(Default)]
struct Shard {
    expiry_ms: HashMap<Key, u64, BuildHasherDefault<PrefixHasher>>,
    /// Claims in the order they were made (with their expiry); may hold stale entries
    /// for keys re-claimed since, which are skipped when they reach the front.
    order: VecDeque<(Key, u64)>,
}

/// The in-memory dedup store: hashes with a TTL, sharded, bounded (the oldest are dropped past the capacity).
pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    capacity_per_shard: usize,
    epoch: Instant,
}

impl MemoryStore {
    /// A store that keeps at most about `capacity` hashes (at least one per shard).
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            capacity_per_shard: (capacity / SHARDS).max(1),
            epoch: Instant::now(),
        }
    }

    /// Hashes currently held (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().map(|s| s.expiry_ms.len()).unwrap_or(0)).sum()
    }

    /// True when no hash is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claim_now(&self, hash: &str, ttl: Duration) -> Claim {
        let key = key_of(hash);
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let shard = &self.shards[usize::from(key[0]) % SHARDS];
        // A poisoned shard only means another request panicked mid-claim; the map is
        // still a valid map, so keep using it.
        let mut shard = shard.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        shard.sweep(now_ms, self.capacity_per_shard);
        if shard.expiry_ms.get(&key).is_some_and(|&expiry| expiry > now_ms) {
            return Claim::Duplicate;
        }
        let expiry = now_ms.saturating_add(ttl.as_millis() as u64);
        shard.expiry_ms.insert(key, expiry);
        shard.order.push_back((key, expiry));
        shard.sweep(now_ms, self.capacity_per_shard);
        Claim::New
    }
}

impl Shard {
    /// Drops expired claims at the front, then the oldest while over capacity.
    fn sweep(&mut self, now_ms: u64, capacity: usize) {
        while let Some(&(key, expiry)) = self.order.front() {
            let over = self.expiry_ms.len() > capacity || self.order.len() > capacity * 2;
            if expiry > now_ms && !over {
                break;
            }
            self.order.pop_front();
            if self.expiry_ms.get(&key) == Some(&expiry) {
                self.expiry_ms.remove(&key);
            }
        }
    }
}

fn key_of(hash: &str) -> Key {
    let mut key = [0u8; 16];
    if hex::decode_to_slice(hash.get(..32).unwrap_or(""), &mut key).is_err() {
        // Not our hex hash (cannot happen for hashes from `payload`): fold the bytes instead.
        for (i, b) in hash.bytes().enumerate() {
            key[i % 16] = key[i % 16].wrapping_mul(31).wrapping_add(b);
        }
    }
    key
}

impl DedupStore for MemoryStore {
    fn claim<'a>(&'a self, hash: &'a str, ttl: Duration) -> BoxFuture<'a, Result<Claim, DedupError>> {
        let claim = self.claim_now(hash, ttl);
        futures::future::ready(Ok(claim)).boxed()
    }

    fn check_ready(&self) -> BoxFuture<'_, Result<(), DedupError>> {
        futures::future::ready(Ok(())).boxed()
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::payload::failure_hash;

    #[test]
    fn second_claim_is_a_duplicate_until_the_ttl_passes() {
        let store = MemoryStore::new(1000);
        let h = failure_hash("t", "r");
        assert_eq!(store.claim_now(&h, Duration::from_millis(30)), Claim::New);
        assert_eq!(store.claim_now(&h, Duration::from_millis(30)), Claim::Duplicate);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(store.claim_now(&h, Duration::from_millis(30)), Claim::New);
    }

    #[test]
    fn capacity_bounds_memory() {
        let store = MemoryStore::new(160);
        for i in 0..10_000 {
            store.claim_now(&failure_hash("t", &i.to_string()), Duration::from_secs(3600));
        }
        assert!(store.len() <= 160, "{}", store.len());
        let shard = store.shards[0].lock().unwrap();
        assert!(shard.order.len() <= 20, "{}", shard.order.len());
    }
}
