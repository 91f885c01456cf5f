//! Per-host queues in front of the pool: `--per-host N`, `--delay MS` and
//! host-wide pauses after `Retry-After`.
//!
//! With any of those, the reader hands jobs to a [`HostQueue`] instead of
//! the pool's plain job channel. The queue keeps a small FIFO per host
//! (scheme, host and port) and gives a worker the next job whose host has a
//! free slot and whose delay has passed — so a worker never sits blocked on
//! a busy host while other hosts' URLs wait. Which hosts are ready is kept
//! in a round-robin list, and hosts waiting for their delay in a timer
//! heap, so handing out a job costs O(log hosts), not a scan.
//!
//! Memory is bounded: at most `capacity` jobs are queued in all; past that
//! the reader waits. A host's entry is dropped once it has nothing queued,
//! nothing in flight and no delay pending.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicBool, Ordering};

use super::Politeness;
use crate::urls::HostKey;

struct Host<T> {
    queue: VecDeque<T>,
    inflight: usize,
    /// No request to this host may start before this.
    not_before: Option<Instant>,
    /// In `ready` or `timers` already.
    listed: bool,
    /// When its entry in `timers` fires, if it is there; an entry that
    /// does not match is stale (the host was listed again since).
    timer: Option<Instant>,
    /// This host's own delay (robots.txt Crawl-delay), if longer.
    delay: Duration,
    /// Its robots.txt was read (with `--robots`; until then, one request
    /// at a time, so a Crawl-delay holds from the first page on).
    known: bool,
    /// `not_before` as it was before the last job taken set it, to give
    /// the slot back if that job started no request ([`HostQueue::refund`]).
    before_last: Option<Option<Instant>>,
}

impl<T> Default for Host<T> {
    fn default() -> Self {
        Host {
            queue: VecDeque::new(),
            inflight: 0,
            not_before: None,
            listed: false,
            timer: None,
            delay: Duration::ZERO,
            known: false,
            before_last: None,
        }
    }
}

struct State<T> {
    hosts: HashMap<HostKey, Host<T>>,
    /// Hosts with a queued job, a free slot and no delay pending.
    ready: VecDeque<HostKey>,
    /// Hosts with a queued job and a free slot, waiting for their delay.
    timers: BinaryHeap<Reverse<(Instant, HostKey)>>,
    queued: usize,
    /// The reader is done: no more jobs will come.
    closed: bool,
}

impl<T> Default for State<T> {
    fn default() -> Self {
        State {
            hosts: HashMap::new(),
            ready: VecDeque::new(),
            timers: BinaryHeap::new(),
            queued: 0,
            closed: false,
        }
    }
}

/// Per-host queues of `T` (the pipeline's jobs) in front of the workers.
pub struct HostQueue<T> {
    rules: Politeness,
    /// Hosts start at one request in flight until [`HostQueue::learned`].
    robots_gate: bool,
    capacity: usize,
    state: Mutex<State<T>>,
    /// Workers wait here for a job.
    work: Condvar,
    /// The reader waits here for room.
    room: Condvar,
}

impl<T> HostQueue<T> {
    /// A queue holding at most `capacity` jobs; with `robots_gate`, a host
    /// gets one request at a time until its robots.txt is known.
    pub fn new(rules: Politeness, capacity: usize, robots_gate: bool) -> HostQueue<T> {
        HostQueue {
            rules: Politeness {
                per_host: rules.per_host.max(1),
                delay: rules.delay,
            },
            robots_gate,
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            room: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a job for host `key`, waiting while the queue is full; false
    /// if `stop` is set first.
    pub fn push(&self, key: HostKey, job: T, stop: &AtomicBool) -> bool {
        let mut s = self.lock();
        while s.queued >= self.capacity {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            s = self
                .room
                .wait_timeout(s, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        s.queued += 1;
        if s.hosts.len() >= 2 * self.capacity {
            // Hosts kept only for a delay that has passed by now.
            let now = Instant::now();
            s.hosts.retain(|_, h| !is_idle(h, now));
        }
        s.hosts.entry(key.clone()).or_default().queue.push_back(job);
        self.list(&mut s, &key, Instant::now());
        drop(s);
        self.work.notify_one();
        true
    }

    /// No more jobs will come: workers end once the queue is empty.
    pub fn close(&self) {
        self.lock().closed = true;
        self.work.notify_all();
    }

    /// The next job a worker may start now, waiting as long as needed;
    /// `None` once the queue is closed and empty, or `stop` is set.
    pub fn next(&self, stop: &AtomicBool) -> Option<T> {
        let mut s = self.lock();
        loop {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let now = Instant::now();
            self.wake_timers(&mut s, now);
            if let Some(job) = self.take(&mut s, now) {
                drop(s);
                self.room.notify_one();
                return Some(job);
            }
            if s.closed && s.queued == 0 {
                return None;
            }
            let wait = s
                .timers
                .peek()
                .map(|Reverse((at, _))| at.saturating_duration_since(now))
                .unwrap_or(Duration::from_millis(100))
                .clamp(Duration::from_millis(1), Duration::from_millis(100));
            s = self
                .work
                .wait_timeout(s, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// A worker finished a job for host `key`.
    pub fn done(&self, key: &str) {
        let mut s = self.lock();
        if let Some(host) = s.hosts.get_mut(key) {
            host.inflight = host.inflight.saturating_sub(1);
        }
        self.list(&mut s, key, Instant::now());
        self.forget_if_idle(&mut s, key);
        drop(s);
        self.work.notify_one();
    }

    /// The job last taken for host `key` started no request (robots.txt
    /// forbade it): the host's next job need not wait for its delay.
    pub fn refund(&self, key: &str) {
        let mut s = self.lock();
        let Some(host) = s.hosts.get_mut(key) else {
            return;
        };
        if let Some(before) = host.before_last.take() {
            host.not_before = before;
        }
        if host.timer.is_some() {
            // Waiting on a delay no request used: ready at once, if it may.
            host.listed = false;
            host.timer = None;
            self.list(&mut s, key, Instant::now());
        }
        drop(s);
        self.work.notify_all();
    }

    /// Holds every request to host `key` until `until` (a Retry-After).
    pub fn pause(&self, key: HostKey, until: Instant) {
        let mut s = self.lock();
        let host = s.hosts.entry(key).or_default();
        host.not_before = Some(host.not_before.map_or(until, |t| t.max(until)));
    }

    /// Host `key` has told its robots.txt, with this Crawl-delay: the
    /// request about to start counts as the first of the spacing, and the
    /// host may now have its full `--per-host` in flight.
    pub fn learned(&self, key: HostKey, crawl_delay: Option<Duration>) {
        let now = Instant::now();
        let mut s = self.lock();
        let host = s.hosts.entry(key.clone()).or_default();
        if host.known {
            return;
        }
        host.known = true;
        if let Some(delay) = crawl_delay {
            host.delay = host.delay.max(delay);
            let next = now + host.delay;
            host.not_before = Some(host.not_before.map_or(next, |t| t.max(next)));
        }
        self.list(&mut s, &key, now);
        drop(s);
        self.work.notify_all();
    }

    /// Jobs queued and not yet started.
    pub fn queued(&self) -> usize {
        self.lock().queued
    }

    /// Requests in flight one host may have now.
    fn limit(&self, host: &Host<T>) -> usize {
        if self.robots_gate && !host.known {
            1
        } else {
            self.rules.per_host
        }
    }

    /// Puts a host in `ready` or `timers` if it has a job it could start.
    fn list(&self, s: &mut State<T>, key: &str, now: Instant) {
        let Some(host) = s.hosts.get_mut(key) else {
            return;
        };
        if host.listed || host.queue.is_empty() || host.inflight >= self.limit(host) {
            return;
        }
        host.listed = true;
        host.timer = host.not_before.filter(|&t| t > now);
        match host.timer {
            Some(at) => s.timers.push(Reverse((at, key.to_string()))),
            None => s.ready.push_back(key.to_string()),
        }
    }

    /// Moves hosts whose delay has passed from `timers` to `ready`.
    fn wake_timers(&self, s: &mut State<T>, now: Instant) {
        while let Some(Reverse((at, _))) = s.timers.peek() {
            if *at > now {
                return;
            }
            let Some(Reverse((at, key))) = s.timers.pop() else {
                return;
            };
            let Some(host) = s.hosts.get_mut(&key) else {
                continue;
            };
            if host.timer != Some(at) {
                continue; // stale: the host was listed again since
            }
            // A pause may have moved the host's time on since it was listed.
            host.timer = host.not_before.filter(|&t| t > now);
            match host.timer {
                Some(later) => s.timers.push(Reverse((later, key))),
                None => s.ready.push_back(key),
            }
        }
    }

    /// Starts the next job of the first ready host.
    fn take(&self, s: &mut State<T>, now: Instant) -> Option<T> {
        while let Some(key) = s.ready.pop_front() {
            let Some(host) = s.hosts.get_mut(&key) else {
                continue;
            };
            host.listed = false;
            if host.not_before.is_some_and(|t| t > now) {
                self.list(s, &key, now);
                continue;
            }
            let Some(job) = host.queue.pop_front() else {
                continue;
            };
            host.inflight += 1;
            let delay = host.delay.max(self.rules.delay);
            host.before_last = Some(host.not_before);
            if !delay.is_zero() {
                host.not_before = Some(now + delay);
            }
            s.queued -= 1;
            self.list(s, &key, now);
            return Some(job);
        }
        None
    }

    fn forget_if_idle(&self, s: &mut State<T>, key: &str) {
        let now = Instant::now();
        if s.hosts.get(key).is_some_and(|h| is_idle(h, now)) {
            s.hosts.remove(key);
        }
    }
}

/// Nothing queued, nothing in flight, no delay pending: the entry can go.
fn is_idle<T>(h: &Host<T>, now: Instant) -> bool {
    h.queue.is_empty() && h.inflight == 0 && !h.listed && h.not_before.is_none_or(|t| t <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urls::host_key;
    use url::Url;

    type Queue = HostQueue<Url>;

    fn push(q: &Queue, url: &str, stop: &AtomicBool) -> bool {
        let url = Url::parse(url).unwrap();
        q.push(host_key(&url), url, stop)
    }

    fn key(url: &str) -> HostKey {
        host_key(&Url::parse(url).unwrap())
    }

    fn rules(per_host: usize, delay_ms: u64) -> Politeness {
        Politeness {
            per_host,
            delay: Duration::from_millis(delay_ms),
        }
    }

    #[test]
    fn a_busy_host_does_not_block_other_hosts() {
        let q = Queue::new(rules(1, 0), 100, false);
        let stop = AtomicBool::new(false);
        for u in ["http://a/1", "http://a/2", "http://a/3", "http://b/1"] {
            assert!(push(&q, u, &stop));
        }
        q.close();
        let first = q.next(&stop).unwrap();
        assert_eq!(first.as_str(), "http://a/1");
        // a is at its limit: the next job is b's, though a's come first.
        let second = q.next(&stop).unwrap();
        assert_eq!(second.as_str(), "http://b/1");
        q.done(&host_key(&first));
        assert_eq!(q.next(&stop).unwrap().as_str(), "http://a/2");
    }

    #[test]
    fn per_host_limit_holds() {
        let q = Queue::new(rules(2, 0), 100, false);
        let stop = AtomicBool::new(false);
        for i in 0..5 {
            push(&q, &format!("http://a/{i}"), &stop);
        }
        let a = q.next(&stop).unwrap();
        let _b = q.next(&stop).unwrap();
        stop.store(true, Ordering::Relaxed);
        assert!(q.next(&stop).is_none(), "a third job for a must wait");
        stop.store(false, Ordering::Relaxed);
        q.done(&host_key(&a));
        assert!(q.next(&stop).is_some());
        assert_eq!(q.lock().queued, 2);
    }

    #[test]
    fn delay_spaces_request_starts() {
        let q = Queue::new(rules(8, 60), 100, false);
        let stop = AtomicBool::new(false);
        for i in 0..3 {
            push(&q, &format!("http://a/{i}"), &stop);
        }
        q.close();
        let mut starts = vec![];
        while let Some(j) = q.next(&stop) {
            starts.push(Instant::now());
            q.done(&host_key(&j));
        }
        assert_eq!(starts.len(), 3);
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(60),
                "{:?}",
                pair[1] - pair[0]
            );
        }
    }

    #[test]
    fn a_refunded_job_leaves_the_delay_to_the_next() {
        let q = Queue::new(rules(1, 10_000), 100, false);
        let stop = AtomicBool::new(false);
        push(&q, "http://a/1", &stop);
        push(&q, "http://a/2", &stop);
        q.close();
        let first = q.next(&stop).unwrap();
        q.refund(&host_key(&first));
        q.done(&host_key(&first));
        let started = Instant::now();
        let second = q.next(&stop).unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "waited for a delay no request used"
        );
        assert_eq!(second.as_str(), "http://a/2");
    }

    #[test]
    fn a_pause_holds_the_whole_host() {
        let q = Queue::new(rules(8, 0), 100, false);
        let stop = AtomicBool::new(false);
        push(&q, "http://a/1", &stop);
        push(&q, "http://b/1", &stop);
        let until = Instant::now() + Duration::from_millis(80);
        q.pause(key("http://a/"), until);
        q.close();
        let first = q.next(&stop).unwrap();
        assert_eq!(first.as_str(), "http://b/1");
        let second = q.next(&stop).unwrap();
        assert!(Instant::now() >= until, "a started before its pause ended");
        assert_eq!(second.as_str(), "http://a/1");
    }

    #[test]
    fn an_unknown_host_gets_one_request_until_its_robots_are_known() {
        let q = Queue::new(rules(4, 0), 100, true);
        let stop = AtomicBool::new(false);
        for i in 0..3 {
            push(&q, &format!("http://a/{i}"), &stop);
        }
        let first = q.next(&stop).unwrap();
        stop.store(true, Ordering::Relaxed);
        assert!(
            q.next(&stop).is_none(),
            "robots.txt not known yet: one at a time"
        );
        stop.store(false, Ordering::Relaxed);
        q.learned(host_key(&first), Some(Duration::from_millis(50)));
        let before = Instant::now();
        let second = q.next(&stop).unwrap();
        assert!(
            Instant::now() - before >= Duration::from_millis(40),
            "Crawl-delay from the first request"
        );
        assert_eq!(second.as_str(), "http://a/1");
    }

    #[test]
    fn the_reader_waits_when_full_and_idle_hosts_are_forgotten() {
        let q = Queue::new(rules(1, 0), 2, false);
        let stop = AtomicBool::new(false);
        assert!(push(&q, "http://a/1", &stop));
        assert!(push(&q, "http://b/1", &stop));
        stop.store(true, Ordering::Relaxed);
        assert!(!push(&q, "http://c/1", &stop), "full: must wait");
        stop.store(false, Ordering::Relaxed);
        q.close();
        while let Some(j) = q.next(&stop) {
            q.done(&host_key(&j));
        }
        assert!(q.lock().hosts.is_empty());
    }
}
