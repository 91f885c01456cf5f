//! The connection budget: open sockets bounded by the work, not by the
//! number of hosts in the list.
//!
//! The HTTP client keeps a connection open after a response so that the
//! next request to that host can reuse it. Its pool has a limit per host
//! but none in total, so on a list of distinct domains — the most common
//! list there is — every finished host would leave a socket open until the
//! idle timeout, and a long list runs out of file descriptors. The pool
//! cannot be told to close one of its idle connections, but every request
//! can be sent with `Connection: close`; so scrape decides, request by
//! request, before sending it, whether its connection may stay open:
//!
//! - only if the host (scheme, host, port) has more other jobs waiting or
//!   in flight ([`Sockets::coming`] / [`Sockets::finished`]) than
//!   connections already set aside for it (idle, or kept by requests in
//!   flight) — otherwise no one will reuse it — and fewer set aside than
//!   there are workers, who could never use more at once;
//! - and only while the connections kept open — idle, or in use by a
//!   request that will leave them open — stay within the keep cap
//!   ([`Sockets::new`]; `limits.rs` sets it: two per worker, fewer when the
//!   open-files limit is tight).
//!
//! The budget keeps a model of the pool's idle connections per host, which
//! never counts fewer than the pool really holds: a kept connection counts
//! as idle from the end of its request until a later request to that host
//! takes it, or until it is certainly gone from the pool (twice the pool's
//! idle timeout: the pool evicts on a timer of that period). A request that
//! failed, was cut short, or was answered `Connection: close` frees its
//! place at once. So the sockets open at any moment are at most the
//! requests in flight (each with at most one connection being made beside
//! it) plus the keep cap — a figure `limits.rs` checks against the
//! open-files limit before the run starts.
//!
//! `Connection: close` cannot end an HTTP/2 connection (shared by many
//! requests, it stays in the pool until it idles out), so with `--http2`
//! the budget is [`Sockets::multiplexed`]: a request to a host whose
//! pooled connection is open (idle or busy) goes on it and keeps it
//! counted; any other request the budget would close goes through a
//! client without a pool, on a connection of its own that ends with it. Measured: 4 000 HTTPS hosts
//! of one URL each under `ulimit -n 1024`, `-t 256 --http2`: 2 971 failed
//! to connect (out of file descriptors) before, none after.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use url::Url;

use crate::urls::{HostMap, host_hash};

/// Connections kept for reuse, and the demand that justifies them.
pub struct Sockets {
    keep_cap: usize,
    /// The most connections worth setting aside for one host: the workers.
    per_host: u32,
    /// How long a kept connection may still sit in the client's pool.
    linger: Duration,
    /// `--http2`: a request not kept takes no pooled connection.
    multiplexed: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Jobs queued or in flight, per host.
    demand: HostMap<u32>,
    /// Requests in flight that will leave their connection open, per host.
    keepers: HostMap<u32>,
    /// Per host, when each idle connection is certainly gone (oldest first).
    idle: HostMap<VecDeque<Instant>>,
    /// Every connection that went idle, in order, for expiry.
    expiries: VecDeque<(Instant, u64)>,
    /// Idle connections plus requests in flight whose connection will stay.
    kept: usize,
}

/// One request's place in the budget: sent with keep-alive or not.
#[must_use = "a lease is ended with Sockets::done"]
#[derive(Debug)]
pub struct Lease {
    host: u64,
    keep: bool,
    reused: bool,
}

impl Lease {
    /// Whether the request goes with `Connection: close`.
    pub fn closes(&self) -> bool {
        !self.keep
    }

    /// Whether the request is expected to go over a connection kept from an
    /// earlier request (which the server may have closed meanwhile).
    pub fn reused(&self) -> bool {
        self.reused
    }
}

/// How a request ended, for the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The response was read to its end and did not ask to close: the
    /// connection went back to the pool.
    Reusable,
    /// An error, a body not read to its end, or `Connection: close`.
    Closed,
}

impl Sockets {
    /// A budget of `keep_cap` kept connections for `workers` workers;
    /// `pool_idle_timeout` is the client pool's own.
    pub fn new(keep_cap: usize, workers: usize, pool_idle_timeout: Duration) -> Sockets {
        Sockets {
            keep_cap,
            per_host: u32::try_from(workers).unwrap_or(u32::MAX),
            linger: pool_idle_timeout * 2 + Duration::from_secs(1),
            multiplexed: false,
            state: Mutex::new(State::default()),
        }
    }

    /// For clients whose connections `Connection: close` may not end
    /// (`--http2`): requests not kept go on connections of their own
    /// (`client.rs`), so they never take a pooled one.
    pub fn multiplexed(mut self, multiplexed: bool) -> Sockets {
        self.multiplexed = multiplexed;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A job for `url` has been queued.
    pub fn coming(&self, url: &Url) {
        *self.lock().demand.entry(host_hash(url)).or_default() += 1;
    }

    /// The job for `url` is done (fetched, refused or failed).
    pub fn finished(&self, url: &Url) {
        let host = host_hash(url);
        let mut s = self.lock();
        if let Some(n) = s.demand.get_mut(&host) {
            *n -= 1;
            if *n == 0 {
                s.demand.remove(&host);
            }
        }
    }

    /// A request to `url`, for the job of `job` (the URL in the list), is
    /// about to be sent through the client of index `client`: may its
    /// connection stay open afterwards? Each client's pool is modelled
    /// apart (a request finds idle connections in its own client's pool
    /// only); the demand is the host's.
    pub fn open(&self, url: &Url, job: &Url, client: usize) -> Lease {
        let host = host_hash(url);
        let own = u32::from(host == host_hash(job));
        let others = |s: &State| s.demand.get(&host).map_or(0, |&j| j.saturating_sub(own));
        let host = pool_key(host, client);
        let now = Instant::now();
        let mut s = self.lock();
        s.expire(now);
        let idle = s.idle.get(&host).map_or(0, VecDeque::len) as u32;
        let can_reuse = idle > 0;
        let set_aside = idle.saturating_sub(1) + s.keepers.get(&host).copied().unwrap_or(0);
        let others = others(&s);
        let wanted = set_aside < self.per_host && others > set_aside;
        let mut keep = wanted && (can_reuse || s.kept < self.keep_cap);
        if self.multiplexed && !keep {
            // The host's pooled connection (idle, or carrying requests) is
            // open whatever this request does: it goes there, and stays
            // counted.
            let busy = s.keepers.get(&host).is_some_and(|&n| n > 0);
            keep = can_reuse || (busy && s.kept < self.keep_cap);
        }
        let reuses = can_reuse && (keep || !self.multiplexed);
        if reuses {
            s.idle.get_mut(&host).and_then(VecDeque::pop_back);
        }
        match (reuses, keep) {
            (false, true) => s.kept += 1,
            (true, false) => s.kept = s.kept.saturating_sub(1),
            _ => {}
        }
        if keep {
            *s.keepers.entry(host).or_default() += 1;
        }
        Lease {
            host,
            keep,
            reused: reuses,
        }
    }

    /// The request of `lease` has ended.
    pub fn done(&self, lease: Lease, ending: Ending) {
        if !lease.keep {
            return;
        }
        let mut s = self.lock();
        if let Some(n) = s.keepers.get_mut(&lease.host) {
            *n -= 1;
            if *n == 0 {
                s.keepers.remove(&lease.host);
            }
        }
        match ending {
            Ending::Reusable => {
                let gone = Instant::now() + self.linger;
                s.idle.entry(lease.host).or_default().push_back(gone);
                s.expiries.push_back((gone, lease.host));
                if s.expiries.len() > 4 * self.keep_cap + 1024 {
                    s.compact();
                }
            }
            Ending::Closed => s.kept = s.kept.saturating_sub(1),
        }
    }
}

/// A host's connections in one client's pool (client 0: the host's own
/// key, as with one client).
fn pool_key(host: u64, client: usize) -> u64 {
    host ^ (client as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl State {
    /// Forgets idle connections the pool has certainly closed by `now`.
    fn expire(&mut self, now: Instant) {
        while let Some(&(at, host)) = self.expiries.front() {
            if at > now {
                return;
            }
            self.expiries.pop_front();
            let Some(list) = self.idle.get_mut(&host) else {
                continue;
            };
            // Reuse takes the newest, so the oldest is this one, unless a
            // reuse already took it.
            if list.front().is_some_and(|&t| t <= now) {
                list.pop_front();
                self.kept = self.kept.saturating_sub(1);
            }
            if list.is_empty() {
                self.idle.remove(&host);
            }
        }
    }

    /// Drops expiry entries whose connection was reused long ago.
    fn compact(&mut self) {
        let mut live: Vec<(Instant, u64)> = self
            .idle
            .iter()
            .flat_map(|(&host, list)| list.iter().map(move |&t| (t, host)))
            .collect();
        live.sort_unstable();
        self.expiries = live.into();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// A request for a job of its own host.
    fn open(s: &Sockets, u: &Url) -> Lease {
        s.open(u, u, 0)
    }

    #[test]
    fn a_host_with_no_other_job_gets_connection_close() {
        let s = Sockets::new(8, 8, TIMEOUT);
        let a = url("http://a.example/1");
        s.coming(&a);
        let lease = open(&s, &a);
        assert!(lease.closes(), "no one would reuse it");
        s.done(lease, Ending::Reusable);
        assert_eq!(s.lock().kept, 0);
    }

    #[test]
    fn a_host_with_another_job_keeps_its_connection_for_it() {
        let s = Sockets::new(8, 8, TIMEOUT);
        let (a1, a2) = (url("http://a.example/1"), url("http://a.example/2"));
        s.coming(&a1);
        s.coming(&a2);
        let first = open(&s, &a1);
        assert!(!first.closes(), "a2 is to come");
        s.done(first, Ending::Reusable);
        s.finished(&a1);
        assert_eq!(s.lock().kept, 1, "one idle connection");
        let second = open(&s, &a2);
        assert!(second.closes(), "the last job of the host closes it");
        assert_eq!(s.lock().kept, 0, "the idle one is taken and will close");
        s.done(second, Ending::Reusable);
        assert_eq!(s.lock().kept, 0);
    }

    #[test]
    fn jobs_in_flight_count_as_demand() {
        // Two workers start the first two jobs of a host before anything
        // else is queued: each keeps its connection for the other's host.
        let s = Sockets::new(8, 8, TIMEOUT);
        let (a1, a2, a3) = (
            url("http://a.example/1"),
            url("http://a.example/2"),
            url("http://a.example/3"),
        );
        for u in [&a1, &a2, &a3] {
            s.coming(u);
        }
        let l1 = open(&s, &a1);
        let l2 = open(&s, &a2);
        assert!(!l1.closes() && !l2.closes());
        let l3 = open(&s, &a3);
        assert!(l3.closes(), "two set aside for two other jobs is enough");
    }

    #[test]
    fn kept_connections_never_exceed_the_cap() {
        let cap = 3;
        let s = Sockets::new(cap, 16, TIMEOUT);
        let mut leases = vec![];
        for i in 0..10 {
            // Ten hosts, each with a second job to come.
            let u = url(&format!("http://h{i}.example/"));
            s.coming(&u);
            s.coming(&u);
            leases.push(open(&s, &u));
        }
        let kept = leases.iter().filter(|l| !l.closes()).count();
        assert_eq!(kept, cap);
        for lease in leases {
            s.done(lease, Ending::Reusable);
        }
        assert_eq!(s.lock().kept, cap);
    }

    #[test]
    fn one_host_never_gets_more_kept_connections_than_there_are_workers() {
        let s = Sockets::new(100, 3, TIMEOUT);
        let a = url("http://a.example/");
        for _ in 0..50 {
            s.coming(&a);
        }
        let leases: Vec<Lease> = (0..5).map(|_| open(&s, &a)).collect();
        assert_eq!(leases.iter().filter(|l| !l.closes()).count(), 3);
        for lease in leases {
            s.done(lease, Ending::Reusable);
        }
        assert_eq!(s.lock().kept, 3);
    }

    #[test]
    fn a_closed_ending_frees_the_place_at_once() {
        let s = Sockets::new(1, 8, TIMEOUT);
        let (a, b) = (url("http://a.example/"), url("http://b.example/"));
        for u in [&a, &a, &b, &b] {
            s.coming(u);
        }
        let lease = open(&s, &a);
        assert!(!lease.closes());
        s.done(lease, Ending::Closed);
        assert!(!open(&s, &b).closes(), "a's place was freed");
    }

    #[test]
    fn idle_connections_are_forgotten_once_the_pool_has_dropped_them() {
        let s = Sockets::new(1, 8, Duration::ZERO);
        let (a, b) = (url("http://a.example/"), url("http://b.example/"));
        for u in [&a, &a, &b, &b] {
            s.coming(u);
        }
        let lease = open(&s, &a);
        s.done(lease, Ending::Reusable);
        assert!(
            open(&s, &b).closes(),
            "the cap is taken by a's idle connection"
        );
        // The linger is 1 s here (twice a zero timeout, plus a second).
        s.lock().expire(Instant::now() + Duration::from_secs(2));
        assert_eq!(s.lock().kept, 0);
        assert!(s.lock().idle.is_empty());
    }

    #[test]
    fn expiry_skips_connections_already_reused() {
        let s = Sockets::new(4, 8, TIMEOUT);
        let a = url("http://a.example/");
        for _ in 0..3 {
            s.coming(&a);
        }
        let l = open(&s, &a);
        s.done(l, Ending::Reusable);
        s.finished(&a);
        let l = open(&s, &a);
        assert!(!l.closes(), "a third job still waits");
        s.done(l, Ending::Reusable);
        assert_eq!(s.lock().expiries.len(), 2, "one of them is stale");
        s.lock().expire(Instant::now() + Duration::from_secs(60));
        assert_eq!(s.lock().kept, 0);
        assert!(s.lock().expiries.is_empty());
    }

    #[test]
    fn demand_is_counted_per_host_with_its_port_and_scheme() {
        let s = Sockets::new(4, 8, TIMEOUT);
        let job = url("http://z.example/");
        s.coming(&url("http://a.example:8080/"));
        assert!(
            s.open(&url("http://a.example/"), &job, 0).closes(),
            "another port is another host"
        );
        assert!(s.open(&url("https://a.example:8080/"), &job, 0).closes());
        assert!(
            !s.open(&url("http://a.example:8080/x"), &job, 0).closes(),
            "a redirect to a host with a job to come"
        );
    }

    #[test]
    fn each_clients_pool_is_modelled_apart() {
        let s = Sockets::new(8, 8, TIMEOUT);
        let urls: Vec<Url> = (1..=4)
            .map(|i| url(&format!("http://a.example/{i}")))
            .collect();
        for u in &urls {
            s.coming(u);
        }
        let first = s.open(&urls[0], &urls[0], 0);
        assert!(!first.closes());
        s.done(first, Ending::Reusable);
        s.finished(&urls[0]);
        let other = s.open(&urls[1], &urls[1], 1);
        assert!(
            !other.reused(),
            "client 1 cannot take client 0's idle connection"
        );
        s.done(other, Ending::Reusable);
        s.finished(&urls[1]);
        assert_eq!(s.lock().kept, 2, "one idle in each pool");
        let same = s.open(&urls[2], &urls[2], 0);
        assert!(same.reused(), "client 0's own");
        assert_eq!(s.lock().kept, 2);
    }

    #[test]
    fn multiplexed_a_host_with_a_pooled_connection_uses_it_and_others_close_their_own() {
        let s = Sockets::new(8, 8, TIMEOUT).multiplexed(true);
        let (a1, a2) = (url("http://a.example/1"), url("http://a.example/2"));
        s.coming(&a1);
        s.coming(&a2);
        let first = open(&s, &a1);
        assert!(!first.closes());
        s.done(first, Ending::Reusable);
        s.finished(&a1);
        let last = open(&s, &a2);
        assert!(
            !last.closes() && last.reused(),
            "the pooled one is open anyway"
        );
        s.done(last, Ending::Reusable);
        s.finished(&a2);
        assert_eq!(s.lock().kept, 1, "still counted until it is gone");
        let b = url("http://b.example/1");
        s.coming(&b);
        let lone = open(&s, &b);
        assert!(lone.closes() && !lone.reused(), "a connection of its own");
        s.done(lone, Ending::Closed);
        assert_eq!(s.lock().kept, 1);
    }
}
