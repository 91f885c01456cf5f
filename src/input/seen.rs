//! Which URLs were seen: [`Deduper`] for dedupe, on a compact set of
//! 64-bit fingerprints ([`FingerprintSet`], also behind `--resume`).
//!
//! Keys are already uniform hashes (keyed SipHash of the URL), so they index
//! the table directly: the top 8 bits pick one of 256 shards, the low bits a
//! slot in that shard's open-addressing table (linear probing, no control
//! bytes, 0 marks an empty slot). Each shard doubles on its own when it is
//! 85% full, so growing never holds two copies of the whole set — only of
//! one shard, 1/256 of it. About 12 bytes per fingerprint on average (8 at
//! full load, 16 just after a shard doubled); std's `HashSet<u64>` takes 9
//! bytes a bucket at up to 87.5% load and holds its old and new tables at
//! once while it grows. (At exactly a million URLs the two measured the same
//! peak RSS; see CHANGELOG.md.)

use std::hash::{BuildHasher, RandomState};

use url::{Position, Url};

const SHARDS: usize = 256;
const MAX_LOAD_PERCENT: usize = 85;

/// A set of `u64` fingerprints.
pub struct FingerprintSet {
    shards: Vec<Shard>,
}

#[derive(Default)]
struct Shard {
    slots: Vec<u64>,
    len: usize,
}

impl Default for FingerprintSet {
    fn default() -> Self {
        FingerprintSet {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
        }
    }
}

impl FingerprintSet {
    /// Adds `key`; true if it was not there before.
    pub fn insert(&mut self, key: u64) -> bool {
        // 0 marks empty slots, so 0 is stored as 1 (one more fingerprint
        // value shared, out of 2^64).
        let key = key.max(1);
        let shard = &mut self.shards[(key >> 56) as usize];
        if (shard.len + 1) * 100 > shard.slots.len() * MAX_LOAD_PERCENT {
            shard.grow();
        }
        shard.insert(key)
    }

    /// Whether `key` is in the set.
    pub fn contains(&self, key: u64) -> bool {
        let key = key.max(1);
        self.shards[(key >> 56) as usize].contains(key)
    }
}

impl Shard {
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    fn insert(&mut self, key: u64) -> bool {
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = key;
                    self.len += 1;
                    return true;
                }
                k if k == key => return false,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn contains(&self, key: u64) -> bool {
        if self.slots.is_empty() {
            return false;
        }
        let mask = self.mask();
        let mut i = key as usize & mask;
        loop {
            match self.slots[i] {
                0 => return false,
                k if k == key => return true,
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![0; size]);
        self.len = 0;
        for key in old.into_iter().filter(|&k| k != 0) {
            self.insert(key);
        }
    }
}

/// Remembers which URLs were seen, by a keyed 64-bit hash of the URL without
/// its fragment (fragments are not sent to servers). Memory: about 12 bytes
/// per distinct URL ([`FingerprintSet`]); a false "seen" needs a 64-bit
/// collision (odds about n²/2⁶⁵: one in 37 million for a million URLs).
pub struct Deduper {
    keys: RandomState,
    seen: FingerprintSet,
}

impl Default for Deduper {
    fn default() -> Self {
        Deduper {
            keys: RandomState::new(),
            seen: FingerprintSet::default(),
        }
    }
}

impl Deduper {
    /// True the first time a URL is offered, false for a repeat.
    pub fn first_time(&mut self, url: &Url) -> bool {
        let key = self.keys.hash_one(&url[..Position::AfterQuery]);
        self.seen.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_ignores_fragments_only() {
        let mut d = Deduper::default();
        let a = Url::parse("https://a.example/x#one").unwrap();
        let a2 = Url::parse("https://a.example/x#two").unwrap();
        let b = Url::parse("https://a.example/x?q").unwrap();
        assert!(d.first_time(&a));
        assert!(!d.first_time(&a2));
        assert!(d.first_time(&b));
        assert!(!d.first_time(&b));
    }
    use std::collections::HashSet;
    use std::hash::{BuildHasher, RandomState};

    #[test]
    fn behaves_like_a_hash_set() {
        let keys = RandomState::new();
        let mut ours = FingerprintSet::default();
        let mut std_set = HashSet::new();
        for i in 0..200_000u64 {
            // Repeats on purpose: every third key comes again.
            let k = keys.hash_one(i % 150_000);
            assert_eq!(ours.insert(k), std_set.insert(k));
        }
        for i in 0..300_000u64 {
            let k = keys.hash_one(i);
            assert_eq!(ours.contains(k), std_set.contains(&k), "{i}");
        }
    }

    #[test]
    fn zero_and_extreme_keys() {
        let mut s = FingerprintSet::default();
        assert!(!s.contains(0));
        assert!(s.insert(0));
        assert!(s.contains(0));
        assert!(!s.insert(0));
        assert!(s.insert(u64::MAX));
        assert!(!s.insert(u64::MAX));
        assert!(s.contains(u64::MAX));
    }

    #[test]
    fn skewed_keys_in_one_shard_still_work() {
        let mut s = FingerprintSet::default();
        for i in 0..10_000u64 {
            assert!(s.insert(i + 1)); // all in shard 0, consecutive slots
        }
        assert!((1..=10_000).all(|k| s.contains(k)));
        assert!(!s.contains(10_001));
    }
}
