//! The pages a crawl has admitted, in about 5.3 bytes each: what keeps 10
//! million discovered URLs within the crawl's memory bound.
//!
//! A URL is a 56-bit fingerprint (keyed SipHash, cut): its top 16 bits pick
//! one of 65 536 buckets, the other 40 are kept, 5 bytes, in the bucket's
//! sorted vector (binary search, insertion in place; a bucket holds a few
//! hundred at 10 million, so an insertion moves a kilobyte at most). Buckets
//! grow by an eighth at a time, so slack stays near 6 %, and growing never
//! copies more than one bucket. A false "seen" (a page not fetched) needs a
//! 56-bit collision: odds about n²/2⁵⁷, one in 1 400 crawls of 10 million
//! pages. The lists' dedupe (`input::seen`) keeps 64 bits, at twice the
//! bytes: a list's lines are fewer than a crawl's discoveries.

use std::hash::{BuildHasher, RandomState};

const BUCKET_BITS: u32 = 16;

/// A set of URLs (their normal form's text).
pub struct Seen {
    keys: RandomState,
    buckets: Vec<Vec<[u8; 5]>>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen {
            keys: RandomState::new(),
            buckets: (0..1 << BUCKET_BITS).map(|_| Vec::new()).collect(),
        }
    }
}

impl Seen {
    fn split(&self, url: &str) -> (usize, [u8; 5]) {
        let h = self.keys.hash_one(url);
        let bucket = (h >> (64 - BUCKET_BITS)) as usize;
        let rest = (h >> (64 - BUCKET_BITS - 40)) & 0xff_ffff_ffff;
        let b = rest.to_be_bytes();
        (bucket, [b[3], b[4], b[5], b[6], b[7]])
    }

    /// Whether `url` is in the set.
    pub fn contains(&self, url: &str) -> bool {
        let (bucket, rest) = self.split(url);
        self.buckets[bucket].binary_search(&rest).is_ok()
    }

    /// Adds `url`; true when it was not there.
    pub fn insert(&mut self, url: &str) -> bool {
        let (bucket, rest) = self.split(url);
        let v = &mut self.buckets[bucket];
        match v.binary_search(&rest) {
            Ok(_) => false,
            Err(at) => {
                if v.len() == v.capacity() {
                    v.reserve_exact((v.len() / 8).max(4));
                }
                v.insert(at, rest);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_is_a_set() {
        let mut seen = Seen::default();
        for i in 0..100_000 {
            assert!(seen.insert(&format!("http://s.test/{i}")));
        }
        for i in 0..100_000 {
            assert!(!seen.insert(&format!("http://s.test/{i}")));
            assert!(seen.contains(&format!("http://s.test/{i}")));
        }
        let strays = (0..100_000)
            .filter(|i| seen.contains(&format!("http://t.test/{i}")))
            .count();
        assert_eq!(strays, 0);
        let held: usize = seen.buckets.iter().map(Vec::len).sum();
        assert_eq!(held, 100_000);
        let slots: usize = seen.buckets.iter().map(Vec::capacity).sum();
        assert!(slots < 100_000 * 5 / 4 + 4 * (1 << BUCKET_BITS), "{slots}");
    }
}
