//! Politeness: what a worker must ask before and after it fetches a URL.
//!
//! One [`Gate`] stands for all of it, so the worker loop has one call
//! before a fetch ([`Gate::admit`]: may this URL be fetched?), one during
//! it ([`Gate::pause`]: a server said `Retry-After`) and one after it
//! ([`Gate::release`]: the host's slot is free again). Behind it:
//!
//! - [`hosts::HostQueue`] (`--per-host`, `--delay`, Crawl-delay and
//!   Retry-After pauses): per-host queues the workers take jobs from, a job
//!   at a time for a host whose slot is free and whose delay has passed;
//! - [`robots::RobotsCache`] (`--robots`): each host's robots.txt, fetched
//!   once;
//! - [`breaker::Breaker`] (`--max-host-errors`): hosts that stopped
//!   answering are not asked again;
//! - [`rate::Rate`] (`--rate`): at most N requests a second, all hosts
//!   together;
//! - [`slowdown::Slowdown`]: a host that answers 429 or 503 without
//!   `Retry-After` is slowed down for every worker, and recovers step by
//!   step.
//!
//! During a fetch the gate hears how each attempt went ([`Watch`]): a
//! `Retry-After` pauses the host for every worker, and a host that does not
//! answer counts towards its breaker. Without `--per-host`, `--delay`,
//! `--robots` and `--max-host-errors`, every call returns at once.

pub mod breaker;
pub mod hosts;
pub mod rate;
pub mod robots;
pub mod slowdown;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use url::Url;

use crate::error::{ErrorKind, FetchError};
use crate::fetch::{Answer, Watch};
use crate::urls::host_key;
use breaker::Breaker;
use hosts::HostQueue;
use rate::Rate;
use robots::{RobotsCache, Verdict};
use slowdown::{Slowdown, Slowed};

/// How long a worker waiting for its slot sleeps before it looks at
/// Ctrl-C again.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Sleeps until `slot`, or until the run stops.
pub fn sleep_until(slot: Instant, cancel: &AtomicBool) {
    loop {
        let now = Instant::now();
        if now >= slot || cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        std::thread::sleep((slot - now).min(CANCEL_POLL));
    }
}

/// The per-host rules, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Politeness {
    /// Requests in flight per host at most (`--per-host`).
    pub per_host: usize,
    /// Least time between request starts to one host (`--delay`).
    pub delay: Duration,
}

/// The politeness rules of a run, as the workers see them; `T` is what the
/// host queue holds (the pipeline's jobs).
pub struct Gate<T> {
    hosts: Option<Arc<HostQueue<T>>>,
    robots: Option<RobotsCache>,
    breaker: Option<Breaker>,
    rate: Option<Rate>,
    slowdown: Slowdown,
    cancel: Arc<AtomicBool>,
}

impl<T> Gate<T> {
    /// A gate over the run's host queue, robots.txt cache and breaker, any
    /// of which may be absent.
    pub fn new(
        hosts: Option<Arc<HostQueue<T>>>,
        robots: Option<RobotsCache>,
        breaker: Option<Breaker>,
    ) -> Gate<T> {
        Gate {
            hosts,
            robots,
            breaker,
            rate: None,
            slowdown: Slowdown::default(),
            cancel: Arc::default(),
        }
    }

    /// The gate, with `--rate`, and the run's Ctrl-C (which ends waits).
    pub fn with_rate(mut self, rate: Option<Rate>, cancel: Arc<AtomicBool>) -> Gate<T> {
        self.rate = rate;
        self.cancel = cancel;
        self
    }

    /// The gate, with `--auto-throttle` for `target` requests in flight
    /// per host.
    pub fn with_auto_throttle(mut self, target: Option<f64>) -> Gate<T> {
        if let Some(target) = target {
            self.slowdown = Slowdown::auto_throttle(target);
        }
        self
    }

    /// The hosts slowed by 429s and 503s without `Retry-After`.
    pub fn slowed(&self) -> Vec<Slowed> {
        self.slowdown.slowed()
    }

    /// Before a fetch: `Err` (the error for the record) when `url`'s host
    /// was shut by the breaker, or its robots.txt forbids `url`. The first
    /// answer of a host's robots.txt also tells its queue the Crawl-delay.
    /// Out of line: the fetch that follows waits beside its frame, not
    /// under it.
    #[inline(never)]
    pub fn admit(&self, url: &Url) -> Result<(), FetchError> {
        let refused = self.refusal(url);
        if refused.is_err() {
            // No request: the host's delay is not used up.
            if let Some(hosts) = &self.hosts {
                hosts.refund(&host_key(url));
            }
        } else {
            self.slowdown.wait(url, &self.cancel);
            if let Some(rate) = &self.rate {
                rate.wait();
            }
        }
        refused
    }

    fn refusal(&self, url: &Url) -> Result<(), FetchError> {
        if let Some(shut) = self.breaker.as_ref().and_then(|b| b.check(url)) {
            return Err(shut);
        }
        let Some(robots) = &self.robots else {
            return Ok(());
        };
        let verdict = robots.check(url);
        if let Some(hosts) = &self.hosts {
            let delay = match &verdict {
                Verdict::Allowed(delay) => *delay,
                Verdict::Disallowed(_) => None,
            };
            hosts.learned(host_key(url), delay);
        }
        match verdict {
            Verdict::Allowed(_) => Ok(()),
            Verdict::Disallowed(why) => Err(FetchError::new(ErrorKind::Robots, why)),
        }
    }

    /// Whether robots.txt (when obeyed) lets `url` be fetched: what a
    /// crawl asks before it follows a link.
    pub fn robots_allow(&self, url: &Url) -> bool {
        self.robots
            .as_ref()
            .is_none_or(|r| matches!(r.check(url), Verdict::Allowed(_)))
    }

    /// After a fetch of a job taken from the host queue: its host's slot
    /// is free.
    pub fn release(&self, url: &Url) {
        if let Some(hosts) = &self.hosts {
            hosts.done(&host_key(url));
        }
    }
}

impl<T> Watch for Gate<T> {
    /// `url`'s server answered `Retry-After: wait`: the whole host waits,
    /// for every worker.
    fn pause(&self, url: &Url, wait: Duration) {
        if let Some(hosts) = &self.hosts {
            hosts.pause(host_key(url), Instant::now() + wait);
        }
    }

    fn attempted(&self, url: &Url, unanswered: Option<&FetchError>) -> bool {
        self.breaker
            .as_ref()
            .is_none_or(|b| b.record(url, unanswered))
    }

    /// A 429 or 503 without `Retry-After` slows the host; other answers
    /// bring it back a step.
    fn answered(&self, url: &Url, answer: Answer) {
        self.slowdown.heard(url, answer);
    }
}
