//! The bounded worker pool and its channels (SPEC.md §1).
//!
//! ```text
//! reader thread ──jobs: bounded(4×N)──▶ N rayon workers ──msgs: bounded──▶ aggregator
//!      └──────── invalid lines, skipped duplicates ─────────────────────────▲
//! ```
//!
//! - The reader streams the lists, dedupes, and blocks when the job channel
//!   is full, so memory never grows with the list.
//! - The pool is a `rayon::ThreadPool` of exactly `--threads` threads, each
//!   running one worker loop: at most N requests are in flight. It starts
//!   with the first URL to fetch, so a list without one costs no threads.
//! - A panic while handling one URL is caught and becomes an `internal`
//!   record; the worker carries on with the next URL.
//! - Cancellation (Ctrl-C, closed output) is a shared flag: the reader stops
//!   reading, workers stop taking jobs; a closed channel stops everyone.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use crate::error::{ErrorKind, Fatal, FetchError};
use crate::fetch::{Fetched, Fetcher};
use crate::hosts::HostQueue;
use crate::input::{Deduper, Item, Job, Source};
use crate::order::Window;
use crate::output::NAP;
use crate::record::Record;
use crate::resume::Done;
use crate::robots::{RobotsCache, Verdict};
use crate::select::Extraction;
use crate::shard::Shard;
use url::Url;

/// What the aggregator receives.
pub enum Msg {
    /// A finished record.
    Record(Box<Record>),
    /// A duplicate URL was skipped: the line's sequence number.
    Skipped(u64),
    /// A line the resumed output already has was skipped.
    Resumed(u64),
    /// This many lines belong to other shards (`--shard`), sent at the end.
    OtherShards(u64),
    /// Reading an input list failed: the run must end.
    Fatal(Fatal),
}

/// How to run the pool.
pub struct PoolSettings {
    /// Worker threads.
    pub threads: usize,
    /// Skip URLs seen before in this run.
    pub dedupe: bool,
    /// Lines finished by an earlier run (`--resume`).
    pub done: Option<Done>,
    /// Only this shard's lines (`--shard`).
    pub shard: Option<Shard>,
    /// The reorder window (`--ordered`).
    pub window: Option<Arc<Window>>,
    /// Per-host queues (`--per-host`, `--delay`, `--robots`).
    pub hosts: Option<Arc<HostQueue>>,
    /// robots.txt rules (`--robots`).
    pub robots: Option<Arc<RobotsCache>>,
}

/// Starts the reader, which starts the workers when the first URL needs
/// them; the returned channel yields every message and closes when all of
/// them are done.
pub fn start(
    sources: Vec<Source>,
    fetcher: Arc<Fetcher>,
    settings: PoolSettings,
    cancel: Arc<AtomicBool>,
) -> Result<Receiver<Msg>, Fatal> {
    let (msg_tx, msg_rx) = bounded::<Msg>(settings.threads * 4 + 64);
    let workers = Workers {
        threads: settings.threads,
        fetcher,
        msgs: msg_tx.clone(),
        cancel: Arc::clone(&cancel),
        hosts: settings.hosts,
        robots: settings.robots,
        jobs: None,
    };
    let filter = Filter {
        seen: settings.dedupe.then(Deduper::default),
        done: settings.done,
        shard: settings.shard,
        other_shards: 0,
        next_seq: 0,
        window: settings.window,
    };
    std::thread::Builder::new()
        .name("scrape-reader".into())
        .spawn(move || read_all(sources, workers, &msg_tx, filter, &cancel))
        .map_err(|e| Fatal::Setup(format!("cannot start the reader thread: {e}")))?;
    Ok(msg_rx)
}

/// The worker pool, started on the first job (a list without URLs starts
/// no thread). Dropping it closes the job feed, which ends the workers.
struct Workers {
    threads: usize,
    fetcher: Arc<Fetcher>,
    msgs: Sender<Msg>,
    cancel: Arc<AtomicBool>,
    /// Per-host queues, when politeness options are given.
    hosts: Option<Arc<HostQueue>>,
    robots: Option<Arc<RobotsCache>>,
    jobs: Option<Feed>,
}

/// The reader's end of the job channel. A reader blocked on a full channel
/// is woken by every job a worker takes; when the workers take jobs faster
/// than one per [`NAP`], the reader naps instead and refills the channel in
/// one go, one wake-up for many jobs.
struct Feed {
    tx: Sender<Job>,
    busy: bool,
}

impl Feed {
    /// Queues a job, waiting while the channel is full; false when the
    /// workers are gone.
    fn send(&mut self, job: Job) -> bool {
        let job = match self.tx.try_send(job) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(job)) => job,
        };
        if self.busy {
            std::thread::sleep(NAP);
        }
        let waited = Instant::now();
        let sent = self.tx.send(job).is_ok();
        self.busy = waited.elapsed() < NAP;
        sent
    }
}

/// Where a worker takes its jobs from.
enum Jobs {
    /// The plain bounded channel: any job to any worker.
    Channel(Receiver<Job>),
    /// Per-host queues (`--per-host`, `--delay`).
    Hosts(Arc<HostQueue>),
}

impl Jobs {
    /// The next job, or `None` when there are no more or the run stops.
    fn next(&self, cancel: &AtomicBool) -> Option<Job> {
        let job = match self {
            Jobs::Channel(rx) => rx.recv().ok()?,
            Jobs::Hosts(q) => q.next(cancel)?,
        };
        (!cancel.load(Ordering::Relaxed)).then_some(job)
    }

    /// A job for `url` is finished.
    fn done(&self, url: &Url) {
        if let Jobs::Hosts(q) = self {
            q.done(url);
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        if let Some(hosts) = &self.hosts {
            hosts.close();
        }
    }
}

impl Workers {
    /// Hands a job to the workers, waiting while all are busy; false when
    /// they are gone (the run is over).
    fn send(&mut self, job: Job) -> Result<bool, Fatal> {
        if self.jobs.is_none() {
            self.jobs = Some(self.start()?);
        }
        Ok(match (&self.hosts, &mut self.jobs) {
            (Some(hosts), _) => hosts.push(job, &self.cancel),
            (None, Some(jobs)) => jobs.send(job),
            (None, None) => false,
        })
    }

    /// A `rayon::ThreadPool` of exactly `threads` threads, each running one
    /// worker loop, placed there directly (no work stealing, so no idle
    /// thread spins looking for work). Dropping the pool does not stop its
    /// workers: they end when the job channel closes.
    fn start(&self) -> Result<Feed, Fatal> {
        let threads = self.threads;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("scrape-worker-{i}"))
            .build()
            .map_err(|e| Fatal::Setup(format!("cannot start {threads} worker threads: {e}")))?;
        // Room for a few naps' worth of jobs at the fastest rates.
        let (job_tx, job_rx) = bounded::<Job>(threads * 4);
        let jobs = match &self.hosts {
            Some(hosts) => Jobs::Hosts(Arc::clone(hosts)),
            None => Jobs::Channel(job_rx),
        };
        let (msgs, fetcher, cancel) = (
            self.msgs.clone(),
            Arc::clone(&self.fetcher),
            Arc::clone(&self.cancel),
        );
        let (robots, hosts) = (self.robots.clone(), self.hosts.clone());
        pool.spawn_broadcast(move |_| {
            let fetch = |url: &Url| {
                let Some(robots) = robots.as_deref() else {
                    return fetcher.fetch(url);
                };
                let verdict = robots.check(url);
                if let Some(hosts) = &hosts {
                    let delay = match &verdict {
                        Verdict::Allowed(delay) => *delay,
                        Verdict::Disallowed(_) => None,
                    };
                    hosts.learned(url, delay);
                }
                match verdict {
                    Verdict::Disallowed(why) => {
                        Fetched::failed(0, FetchError::new(ErrorKind::Robots, why))
                    }
                    Verdict::Allowed(_) => fetcher.fetch(url),
                }
            };
            work(&jobs, &msgs, fetch, fetcher.extraction(), &cancel);
        });
        Ok(Feed {
            tx: job_tx,
            busy: false,
        })
    }
}

/// One worker: jobs in, records out, until the jobs end or the run stops.
fn work(
    jobs: &Jobs,
    msgs: &Sender<Msg>,
    fetch: impl Fn(&Url) -> Fetched,
    extraction: &Extraction,
    cancel: &AtomicBool,
) {
    while let Some(job) = jobs.next(cancel) {
        let url = matches!(jobs, Jobs::Hosts(_)).then(|| job.url.clone());
        let mut record = handle(job, &fetch);
        record.complete(extraction);
        if let Some(url) = url {
            jobs.done(&url);
        }
        if msgs.send(Msg::Record(Box::new(record))).is_err() {
            return;
        }
    }
}

/// Fetches one job; a panic becomes an `internal` record.
fn handle(job: Job, fetch: impl Fn(&Url) -> Fetched) -> Record {
    match catch_unwind(AssertUnwindSafe(|| fetch(&job.url))) {
        Ok(fetched) => Record::fetched(job, fetched),
        Err(panic) => {
            let message = format!("bug: the worker panicked: {}", panic_message(&*panic));
            let error = FetchError::new(ErrorKind::Internal, message);
            Record::failed(job.line, job.input, Some(&job.url), error).with_seq(job.seq)
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// What the reader leaves out: repeats, and lines an earlier run did.
struct Filter {
    seen: Option<Deduper>,
    done: Option<Done>,
    shard: Option<Shard>,
    other_shards: u64,
    next_seq: u64,
    window: Option<Arc<Window>>,
}

impl Filter {
    /// The message for a line that needs no record now, if it is one.
    fn skip(&mut self, seq: u64, url: Option<&Url>, input: &str) -> Option<Msg> {
        if self.done.as_ref().is_some_and(|d| d.contains(url, input)) {
            return Some(Msg::Resumed(seq));
        }
        let seen = self.seen.as_mut()?;
        let repeat = url.is_some_and(|u| !seen.first_time(u));
        repeat.then_some(Msg::Skipped(seq))
    }

    /// Numbers the next line, waiting for room in the reorder window;
    /// `None` when the run is ending.
    fn number(&mut self, cancel: &AtomicBool) -> Option<u64> {
        let seq = self.next_seq;
        self.next_seq += 1;
        match &self.window {
            Some(w) if !w.admit(seq, cancel) => None,
            _ => Some(seq),
        }
    }
}

/// The reader: every list in turn, every line to a job or a message.
fn read_all(
    sources: Vec<Source>,
    mut workers: Workers,
    msgs: &Sender<Msg>,
    mut filter: Filter,
    cancel: &AtomicBool,
) {
    for mut source in sources {
        let read = source.for_each_item(|item| {
            !cancel.load(Ordering::Relaxed) && dispatch(item, &mut filter, &mut workers, msgs)
        });
        if let Err(fatal) = read {
            let _ = msgs.send(Msg::Fatal(fatal));
            return;
        }
        if cancel.load(Ordering::Relaxed) {
            return;
        }
    }
    if filter.other_shards > 0 {
        let _ = msgs.send(Msg::OtherShards(filter.other_shards));
    }
}

/// Routes one item; false when the run is over (a channel closed).
fn dispatch(item: Item, filter: &mut Filter, workers: &mut Workers, msgs: &Sender<Msg>) -> bool {
    let Item {
        line,
        input,
        target,
    } = item;
    if filter
        .shard
        .is_some_and(|s| !s.owns(target.as_ref().ok(), &input))
    {
        filter.other_shards += 1;
        return true;
    }
    let Some(seq) = filter.number(&workers.cancel) else {
        return false;
    };
    if let Some(msg) = filter.skip(seq, target.as_ref().ok(), &input) {
        return msgs.send(msg).is_ok();
    }
    match target {
        Err(reason) => {
            let mut record = Record::invalid(line, input, &reason).with_seq(seq);
            record.complete(workers.fetcher.extraction());
            msgs.send(Msg::Record(Box::new(record))).is_ok()
        }
        Ok(url) => match workers.send(Job {
            seq,
            line,
            input,
            url,
        }) {
            Ok(sent) => sent,
            Err(fatal) => {
                let _ = msgs.send(Msg::Fatal(fatal));
                false
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(url: &str) -> Job {
        Job::for_test(url)
    }

    #[test]
    fn a_panicking_fetch_is_an_internal_record_and_the_worker_goes_on() {
        let (job_tx, job_rx) = bounded(8);
        let (msg_tx, msg_rx) = bounded(8);
        for url in [
            "http://a.example/",
            "http://boom.example/",
            "http://c.example/",
        ] {
            job_tx.send(job(url)).unwrap();
        }
        drop(job_tx);
        let fetch = |url: &Url| {
            if url.as_str().contains("boom") {
                panic!("injected bug");
            }
            Fetched {
                status: Some(200),
                attempts: 1,
                ..Fetched::default()
            }
        };
        work(
            &Jobs::Channel(job_rx),
            &msg_tx,
            fetch,
            &Extraction::default(),
            &AtomicBool::new(false),
        );
        drop(msg_tx);
        let records: Vec<Record> = msg_rx
            .iter()
            .filter_map(|m| match m {
                Msg::Record(r) => Some(*r),
                _ => None,
            })
            .collect();
        assert_eq!(records.len(), 3);
        let bug = &records[1];
        let error = bug.error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Internal);
        assert!(error.message.contains("injected bug"));
        assert_eq!(bug.url.as_deref(), Some("http://boom.example/"));
        assert!(records[2].ok, "the worker went on after the panic");
    }

    #[test]
    fn a_cancelled_worker_takes_no_new_job() {
        let (job_tx, job_rx) = bounded(2);
        let (msg_tx, msg_rx) = bounded(2);
        job_tx.send(job("http://a.example/")).unwrap();
        drop(job_tx);
        work(
            &Jobs::Channel(job_rx),
            &msg_tx,
            |_| unreachable!(),
            &Extraction::default(),
            &AtomicBool::new(true),
        );
        drop(msg_tx);
        assert_eq!(msg_rx.iter().count(), 0);
    }

    #[test]
    fn panic_messages_are_kept() {
        let p = catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "boom 1");
        let p = catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "unknown panic");
    }
}
