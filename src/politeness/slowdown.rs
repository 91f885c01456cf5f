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
//!
//! `--auto-throttle` adds Scrapy's AutoThrottle rule: each answer's
//! latency (to the response's headers) L gives a target gap L ÷ T (T the
//! target concurrency: `--per-host`, else 1); a host's gap moves halfway to
//! it, never below it, at most [`MAX_AUTO`], and an error answer may widen
//! the gap but not narrow it. A host's requests start at least the wider
//! of the two gaps apart.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use url::Url;

use crate::fetch::Answer;
use crate::urls::{HostMap, host_hash};

/// The gap at level 1.
const BASE: Duration = Duration::from_millis(250);

/// The highest level: gaps of 32 s.
pub const MAX_LEVEL: u32 = 8;

/// The widest gap `--auto-throttle` sets.
pub const MAX_AUTO: Duration = Duration::from_secs(60);

#[derive(Debug, Default)]
struct Host {
    name: String,
    level: u32,
    highest: u32,
    /// `--auto-throttle`: the gap latency asks for.
    auto: Duration,
    next: Option<Instant>,
}

/// Every host's slowdown.
#[derive(Default)]
pub struct Slowdown {
    /// Set once any host is slowed (or with `--auto-throttle`): until
    /// then, the per-URL calls take no lock (they are on every URL's path).
    active: AtomicBool,
    hosts: Mutex<HostMap<Host>>,
    /// `--auto-throttle`: the target concurrency per host.
    target: Option<f64>,
}

/// A host that was slowed, for the summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Slowed {
    /// scheme://host:port.
    pub host: String,
    /// The widest gap its requests were held to, in milliseconds.
    pub max_gap_ms: u64,
}

/// Scrapy's AutoThrottle step: halfway from `old` to latency ÷ `target`,
/// never below the latter, at most [`MAX_AUTO`]; an error answer does not
/// narrow the gap.
fn auto_gap(old: Duration, latency: Duration, target: f64, status: u16) -> Duration {
    let aim = latency.div_f64(target);
    let new = ((old + aim) / 2).max(aim).min(MAX_AUTO);
    match status >= 400 && new < old {
        true => old,
        false => new,
    }
}

/// The gap between a slowed host's requests at `level`, before jitter.
fn gap(level: u32) -> Duration {
    BASE * 2u32.pow(level.clamp(1, MAX_LEVEL) - 1)
}

impl Slowdown {
    /// With `--auto-throttle`: gaps from latency, for `target` requests in
    /// flight per host.
    pub fn auto_throttle(target: f64) -> Slowdown {
        Slowdown {
            target: Some(target.max(0.1)),
            active: AtomicBool::new(true),
            ..Slowdown::default()
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HostMap<Host>> {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How an answer from `url`'s host went: `throttled` for a 429 or 503
    /// without `Retry-After`, else a success or another failure (which
    /// says nothing about load: only answers with a status count).
    pub fn heard(&self, url: &Url, answer: Answer) {
        let Some(status) = answer.status else {
            return;
        };
        let throttled = matches!(status, 429 | 503) && !answer.retry_after;
        if throttled {
            self.active.store(true, Ordering::Relaxed);
        } else if !self.active.load(Ordering::Relaxed) {
            return;
        }
        let key = host_hash(url);
        let mut hosts = self.lock();
        if !throttled && self.target.is_none() && !hosts.contains_key(&key) {
            return;
        }
        let host = hosts.entry(key).or_default();
        if let (Some(target), Some(latency)) = (self.target, answer.latency) {
            host.auto = auto_gap(host.auto, latency, target, status);
        }
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
        if !self.active.load(Ordering::Relaxed) {
            return now;
        }
        let mut hosts = self.lock();
        let Some(host) = hosts.get_mut(&host_hash(url)) else {
            return now;
        };
        let backoff = match host.level {
            0 => Duration::ZERO,
            level => gap(level),
        };
        let wait = backoff.max(host.auto);
        if wait.is_zero() {
            host.next = None;
            return now;
        }
        let slot = host.next.filter(|n| *n > now).unwrap_or(now);
        host.next = Some(slot + wait.mul_f64(1.0 + jitter));
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

    fn answer(status: Option<u16>, retry_after: bool) -> Answer {
        Answer {
            status,
            latency: Some(Duration::from_millis(10)),
            retry_after,
        }
    }

    #[test]
    fn auto_throttle_follows_latency_as_scrapy_does() {
        let ms = Duration::from_millis;
        assert_eq!(
            auto_gap(ms(0), ms(100), 1.0, 200),
            ms(100),
            "never below latency / target"
        );
        assert_eq!(
            auto_gap(ms(400), ms(100), 1.0, 200),
            ms(250),
            "halfway down"
        );
        assert_eq!(auto_gap(ms(400), ms(100), 2.0, 200), ms(225));
        assert_eq!(
            auto_gap(ms(400), ms(100), 1.0, 500),
            ms(400),
            "an error does not narrow it"
        );
        assert_eq!(
            auto_gap(ms(0), Duration::from_secs(500), 1.0, 200),
            MAX_AUTO
        );
        let s = Slowdown::auto_throttle(1.0);
        let url = Url::parse("http://slow.test/").unwrap();
        let slow = Answer {
            status: Some(200),
            latency: Some(ms(200)),
            retry_after: false,
        };
        s.heard(&url, slow);
        let t0 = Instant::now();
        assert_eq!(s.reserve(&url, t0, 0.0), t0);
        assert_eq!(s.reserve(&url, t0, 0.0) - t0, ms(200));
        assert!(s.slowed().is_empty(), "a latency gap is not a 429 slowdown");
    }

    #[test]
    fn throttling_widens_the_gap_and_successes_narrow_it_step_by_step() {
        let s = Slowdown::default();
        let url = Url::parse("http://busy.test/a").unwrap();
        let other = Url::parse("http://calm.test/").unwrap();
        let t0 = Instant::now();
        assert_eq!(s.reserve(&url, t0, 0.0), t0, "not slowed yet");
        s.heard(&url, answer(Some(429), false));
        s.heard(&url, answer(Some(503), false));
        s.heard(&url, answer(Some(429), true)); // Retry-After: obeyed elsewhere
        s.heard(&url, answer(None, false)); // no answer: says nothing of load
        assert_eq!(s.reserve(&url, t0, 0.0), t0);
        assert_eq!(s.reserve(&url, t0, 0.0) - t0, Duration::from_millis(500));
        assert_eq!(s.reserve(&url, t0, 0.0) - t0, Duration::from_millis(1000));
        assert_eq!(s.reserve(&other, t0, 0.0), t0, "one host only");
        s.heard(&url, answer(Some(200), false));
        let t1 = t0 + Duration::from_secs(10);
        s.reserve(&url, t1, 0.0);
        assert_eq!(s.reserve(&url, t1, 0.0) - t1, Duration::from_millis(250));
        s.heard(&url, answer(Some(200), false));
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
            s.heard(&url, answer(Some(429), false));
        }
        assert_eq!(s.slowed()[0].max_gap_ms, 32_000);
    }
}
