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
//!   once.
//!
//! Without `--per-host`, `--delay` and `--robots`, the gate is open: every
//! call returns at once.

pub mod hosts;
pub mod robots;

use std::sync::Arc;
use std::time::{Duration, Instant};

use url::Url;

use crate::error::{ErrorKind, FetchError};
use crate::input::host_key;
use hosts::HostQueue;
use robots::{RobotsCache, Verdict};

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
}

impl<T> Gate<T> {
    /// A gate over the run's host queue and robots.txt cache, either of
    /// which may be absent.
    pub fn new(hosts: Option<Arc<HostQueue<T>>>, robots: Option<RobotsCache>) -> Gate<T> {
        Gate { hosts, robots }
    }

    /// Before a fetch: `Err` (a `robots` error for the record) when the
    /// host's robots.txt forbids `url`. The first answer of a host also
    /// tells its queue the Crawl-delay.
    pub fn admit(&self, url: &Url) -> Result<(), FetchError> {
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

    /// During a fetch: `url`'s server answered `Retry-After: wait`, so the
    /// whole host waits, for every worker.
    pub fn pause(&self, url: &Url, wait: Duration) {
        if let Some(hosts) = &self.hosts {
            hosts.pause(host_key(url), Instant::now() + wait);
        }
    }

    /// After a fetch of a job taken from the host queue: its host's slot
    /// is free.
    pub fn release(&self, url: &Url) {
        if let Some(hosts) = &self.hosts {
            hosts.done(&host_key(url));
        }
    }
}
