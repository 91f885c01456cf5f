//! Hosts that say "too many requests" without saying how long to wait: a
//! 429 or 503 without `Retry-After` slows that host down for every worker,
//! and successes bring it back, a step at a time (Scrapy's AutoThrottle and
//! the back-off of the peers' trackers, without their knobs).
//!
//! A host's level rises by one with each such answer (at most
//! [`MAX_LEVEL`]) and falls by one with each success. While it is above
//! zero, the host's requests start at least `BASE × 2^(level − 1)` apart
//! (250 ms, 500 ms, … 32 s), each gap stretched by a random 0 to 50 % so
//! that workers do not come back in step. A `Retry-After` is obeyed as it
//! says, elsewhere (the host queue's pause).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use url::Url;

use crate::urls::host_hash;

/// The gap at level 1.
const BASE: Duration = Duration::from_millis(250);

/// The highest level: gaps of 32 s.
pub const MAX_LEVEL: u32 = 8;

#[derive(Debug, Default)]
struct Host {
    name: String,
    level: u32,
    highest: u32,
    next: Option<Instant>,
}

/// Every host's slowdown.
#[derive(Default)]
pub struct Slowdown {
    hosts: Mutex<HashMap<u64, Host>>,
}

/// A host that was slowed, for the summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Slowed {
    /// scheme://host:port.
    pub host: String,
    /// The widest gap its requests were held to, in milliseconds.
    pub max_gap_ms: u64,
}

/// The gap between a slowed host's requests at `level`, before jitter.
fn gap(level: u32) -> Duration {
    BASE * 2u32.pow(level.clamp(1, MAX_LEVEL) - 1)
}

impl Slowdown {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Host>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How an answer from `url`'s host went: `throttled` for a 429 or 503
    /// without `Retry-After`, else a success or another failure (which
    /// says nothing about load: only answers with a status count).
    pub fn heard(&self, url: &Url, status: Option<u16>, retry_after: bool) {
        let Some(status) = status else {
            return;
        };
        let throttled = matches!(status, 429 | 503) && !retry_after;
        let key = host_hash(url);
        let mut hosts = self.lock();
        if !throttled && !hosts.contains_key(&key) {
            return;
        }
        let host = hosts.entry(key).or_default();
        if throttled {
            if host.name.is_empty() {
                host.name = crate::urls::host_key(url);
            }
            host.level = (host.level + 1).min(MAX_LEVEL);
            host.highest = host.highest.max(host.level);
        } else if status < 400 {
            host.level = host.level.saturating_sub(1);
        }
    }

    /// The start slot for a request to `url`'s host at `now`: `now` unless
    /// the host is slowed.
    fn reserve(&self, url: &Url, now: Instant, jitter: f64) -> Instant {
        let mut hosts = self.lock();
        let Some(host) = hosts.get_mut(&host_hash(url)) else {
            return now;
        };
        if host.level == 0 {
            host.next = None;
            return now;
        }
        let slot = host.next.filter(|n| *n > now).unwrap_or(now);
        host.next = Some(slot + gap(host.level).mul_f64(1.0 + jitter));
        slot
    }

    /// Waits until a request to `url`'s host may start (or the run stops).
    pub fn wait(&self, url: &Url, cancel: &AtomicBool) {
        let slot = self.reserve(url, Instant::now(), fastrand::f64() * 0.5);
        super::sleep_until(slot, cancel);
    }

    /// The hosts that were slowed, widest gap first.
    pub fn slowed(&self) -> Vec<Slowed> {
        let mut all: Vec<Slowed> = self
            .lock()
            .values()
            .filter(|h| h.highest > 0)
            .map(|h| Slowed {
                host: h.name.clone(),
                max_gap_ms: gap(h.highest).as_millis() as u64,
            })
            .collect();
        all.sort_by(|a, b| b.max_gap_ms.cmp(&a.max_gap_ms).then(a.host.cmp(&b.host)));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_widens_the_gap_and_successes_narrow_it_step_by_step() {
        let s = Slowdown::default();
        let url = Url::parse("http://busy.test/a").unwrap();
        let other = Url::parse("http://calm.test/").unwrap();
        let t0 = Instant::now();
        assert_eq!(s.reserve(&url, t0, 0.0), t0, "not slowed yet");
        s.heard(&url, Some(429), false);
        s.heard(&url, Some(503), false);
        s.heard(&url, Some(429), true); // Retry-After: obeyed elsewhere
        s.heard(&url, None, false); // no answer: says nothing of load
        assert_eq!(s.reserve(&url, t0, 0.0), t0);
        assert_eq!(s.reserve(&url, t0, 0.0) - t0, Duration::from_millis(500));
        assert_eq!(s.reserve(&url, t0, 0.0) - t0, Duration::from_millis(1000));
        assert_eq!(s.reserve(&other, t0, 0.0), t0, "one host only");
        s.heard(&url, Some(200), false);
        let t1 = t0 + Duration::from_secs(10);
        s.reserve(&url, t1, 0.0);
        assert_eq!(s.reserve(&url, t1, 0.0) - t1, Duration::from_millis(250));
        s.heard(&url, Some(200), false);
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(s.reserve(&url, t2, 0.0), t2);
        assert_eq!(s.reserve(&url, t2, 0.0), t2, "recovered");
        let slowed = s.slowed();
        assert_eq!(slowed.len(), 1);
        assert_eq!(slowed[0].host, "http://busy.test:80");
        assert_eq!(slowed[0].max_gap_ms, 500);
    }

    #[test]
    fn the_gap_is_bounded() {
        let s = Slowdown::default();
        let url = Url::parse("http://busy.test/").unwrap();
        for _ in 0..50 {
            s.heard(&url, Some(429), false);
        }
        assert_eq!(s.slowed()[0].max_gap_ms, 32_000);
    }
}
