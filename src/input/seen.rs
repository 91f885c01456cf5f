//! Which URLs were seen: [`Deduper`] for dedupe (and the line each was
//! first on), on a compact table of 64-bit fingerprints
//! ([`FingerprintMap`], also behind `--resume`).
//!
//! Keys are already uniform hashes (keyed SipHash of the URL), so they index
//! the table directly: the top 8 bits pick one of 256 shards, the low bits a
//! slot in that shard's open-addressing table (linear probing, no control
//! bytes, 0 marks an empty slot). Each shard grows by a quarter on its own
//! when it is 85% full, so growing never holds two copies of the whole set
//! — only of one shard, 1/256 of it. About 10.5 bytes per fingerprint on
//! average (9.4 at full load, 11.8 just after a shard grew), 16 with a
//! `u32` beside each; std's `HashSet<u64>` takes 9
//! bytes a bucket at up to 87.5% load and holds its old and new tables at
//! once while it grows. (At exactly a million URLs the two measured the same
//! peak RSS; see CHANGELOG.md.)

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use url::{Position, Url};

use super::request::{LineRequest, identity};

const SHARDS: usize = 256;
const MAX_LOAD_PERCENT: usize = 85;

/// A set of `u64` fingerprints.
pub type FingerprintSet = FingerprintMap<()>;

/// `u64` fingerprints, each with a small value beside it (`()` for a set:
/// no bytes).
pub struct FingerprintMap<V> {
    shards: Vec<Shard<V>>,
}

struct Shard<V> {
    slots: Vec<u64>,
    values: Vec<V>,
    len: usize,
}

impl<V: Copy + Default> Default for FingerprintMap<V> {
    fn default() -> Self {
        FingerprintMap {
            shards: (0..SHARDS)
                .map(|_| Shard {
                    slots: Vec::new(),
                    values: Vec::new(),
                    len: 0,
                })
                .collect(),
        }
    }
}

impl FingerprintSet {
    /// Adds `key`; true if it was not there before.
    pub fn insert(&mut self, key: u64) -> bool {
        self.insert_first(key, ()).is_none()
    }
}

impl<V: Copy + Default> FingerprintMap<V> {
    /// Adds `key` with `value` unless it is there: `None` when added, else
    /// the value it was first added with (which stays).
    pub fn insert_first(&mut self, key: u64, value: V) -> Option<V> {
        // 0 marks empty slots, so 0 is stored as 1 (one more fingerprint
        // value shared, out of 2^64).
        let key = key.max(1);
        let shard = &mut self.shards[(key >> 56) as usize];
        if (shard.len + 1) * 100 > shard.slots.len() * MAX_LOAD_PERCENT {
            shard.grow();
        }
        shard.insert(key, value)
    }

    /// The value of `key`, if it is there.
    pub fn get(&self, key: u64) -> Option<V> {
        let key = key.max(1);
        self.shards[(key >> 56) as usize].get(key)
    }

    /// Whether `key` is there.
    pub fn contains(&self, key: u64) -> bool {
        self.get(key).is_some()
    }
}

impl<V: Copy + Default> Shard<V> {
    /// Where `key`'s probe starts: its bits below the shard's, scaled to
    /// the table (tables grow by a quarter, so their size is not a power of
    /// two).
    fn home(&self, key: u64) -> usize {
        ((u128::from(key << 8) * self.slots.len() as u128) >> 64) as usize
    }

    fn next(&self, i: usize) -> usize {
        if i + 1 == self.slots.len() { 0 } else { i + 1 }
    }

    fn insert(&mut self, key: u64, value: V) -> Option<V> {
        let mut i = self.home(key);
        loop {
            match self.slots[i] {
                0 => {
                    self.slots[i] = key;
                    self.values[i] = value;
                    self.len += 1;
                    return None;
                }
                k if k == key => return Some(self.values[i]),
                _ => i = self.next(i),
            }
        }
    }

    fn get(&self, key: u64) -> Option<V> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.home(key);
        loop {
            match self.slots[i] {
                0 => return None,
                k if k == key => return Some(self.values[i]),
                _ => i = self.next(i),
            }
        }
    }

    /// A quarter larger: the table stays between 68 % and 85 % full, where
    /// doubling left it half empty after each growth.
    fn grow(&mut self) {
        let size = (self.slots.len() + self.slots.len() / 4).max(16);
        let slots = std::mem::replace(&mut self.slots, vec![0; size]);
        let values = std::mem::replace(&mut self.values, vec![V::default(); size]);
        self.len = 0;
        for (key, value) in slots.into_iter().zip(values).filter(|(k, _)| *k != 0) {
            self.insert(key, value);
        }
    }
}

/// Fingerprints with the line each was first on: 12 bytes a slot (the
/// line as a `u32`; a line past 4 294 967 294 goes into a side map).
#[derive(Default)]
pub struct FirstLines {
    short: FingerprintMap<u32>,
    long: HashMap<u64, u64>,
}

impl FirstLines {
    /// Adds `key` on `line` unless it is there: `None` when added, else
    /// the line it was first added on.
    pub fn insert_first(&mut self, key: u64, line: u64) -> Option<u64> {
        let short = u32::try_from(line).unwrap_or(u32::MAX);
        match self.short.insert_first(key, short) {
            None => {
                if short == u32::MAX {
                    self.long.insert(key, line);
                }
                None
            }
            Some(first) => Some(self.widen(key, first)),
        }
    }

    /// The line `key` was first added on.
    pub fn get(&self, key: u64) -> Option<u64> {
        self.short.get(key).map(|first| self.widen(key, first))
    }

    fn widen(&self, key: u64, short: u32) -> u64 {
        match short {
            u32::MAX => self.long.get(&key).copied().unwrap_or(u64::from(short)),
            short => u64::from(short),
        }
    }
}

/// Remembers which URLs were seen, and on which line first, by a keyed
/// 64-bit hash of the URL without its fragment (fragments are not sent to
/// servers). Memory: about 16 bytes per distinct URL ([`FirstLines`]). A
/// false "seen" needs a 64-bit collision (odds about n²/2⁶⁵: one in 37
/// million for a million URLs).
pub struct Deduper {
    keys: RandomState,
    seen: FirstLines,
}

impl Default for Deduper {
    fn default() -> Self {
        Deduper {
            keys: RandomState::new(),
            seen: FirstLines::default(),
        }
    }
}

impl Deduper {
    /// `None` the first time a URL (with a JSON line's `request`: the same
    /// method and body, [`identity`]) is offered (on `line`), else the line
    /// it was first offered on.
    pub fn first_line(
        &mut self,
        url: &Url,
        request: Option<&LineRequest>,
        line: u64,
    ) -> Option<u64> {
        let key = self
            .keys
            .hash_one(identity(&url[..Position::AfterQuery], request));
        self.seen.insert_first(key, line)
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
        assert_eq!(d.first_line(&a, None, 1), None);
        assert_eq!(d.first_line(&a2, None, 2), Some(1));
        assert_eq!(d.first_line(&b, None, 3), None);
        assert_eq!(d.first_line(&b, None, 4), Some(3));
        assert_eq!(d.first_line(&a, None, 5), Some(1));
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
    fn first_lines_past_u32_keep_their_number() {
        let mut f = FirstLines::default();
        let far = u64::from(u32::MAX) + 7;
        assert_eq!(f.insert_first(5, far), None);
        assert_eq!(f.insert_first(6, u64::from(u32::MAX)), None);
        assert_eq!(f.insert_first(7, 3), None);
        assert_eq!(f.insert_first(5, 9), Some(far));
        assert_eq!(f.get(6), Some(u64::from(u32::MAX)));
        assert_eq!(f.get(7), Some(3));
        assert_eq!(f.get(8), None);
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
