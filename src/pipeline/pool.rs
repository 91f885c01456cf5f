//! The bounded pool of blocking HTTP workers (README "How it works").
//!
//! At most `--threads` workers, so at most that many requests in flight;
//! `--threads 1` is the same code with one worker. Each worker takes a job
//! (from the plain job channel, or from the per-host queues when
//! politeness asks for them), asks the [`Gate`] before and after fetching
//! it, and sends its record to the aggregator.
//!
//! Workers are plain threads with small stacks ([`WORKER_STACK`]), started
//! as jobs arrive: a new one starts when a job is queued and no worker is
//! idle to take it, until there are `--threads`. So a list of 100 URLs
//! with `--threads 4096` starts at most 100 threads, a long list soon has
//! all of them, and an empty list starts none. An idle worker sleeps in the
//! job channel: it costs no CPU.
//!
//! Why not a rayon pool, as the first version had: rayon's idle threads
//! look for work in every other thread's queue before they sleep, which
//! costs O(threads²). With `-t 4000` on 100 local URLs, `perf record`
//! put 92% of the samples in `crossbeam_epoch::Global::try_advance`,
//! `with_handle` and `Stealer::steal`: 28 s of wall time and 55 s of CPU
//! for 100 requests. Workers that block on the network for their whole
//! life need no work stealing; rayon is for CPU-bound work.
//!
//! A panic while handling one URL is caught and becomes an `internal`
//! record; the worker carries on with the next URL.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::{Msg, Pacer, Seq, Task};
use crate::error::{ErrorKind, Fatal, FetchError, panic_message};
use crate::extract::pool::Extractor;
use crate::extract::Page as ExtractPage;
use crate::html::page::Body;
use crate::fetch::{Fetched, Fetcher};
use crate::input::Job;
use crate::urls::host_key;
use crate::politeness::Gate;
use crate::politeness::hosts::HostQueue;
use crate::record::Record;
use crate::since::{self, Since};
use url::Url;

/// Each worker's stack. A thread touches only the pages it uses: a worker
/// touches 16 KiB of it (measured from `/proc/PID/smaps` at `-t 4096`), the
/// deepest point being the page parser built inside the body loop — which
/// is why the parser is built straight into a `Box`, and the charset
/// prescan kept out of line: on the stack they made it 20 KiB, 16 MiB more
/// at 4096 workers. The rest is room: the standard panic hook printing a
/// backtrace fits in a quarter of it (`a_worker_stack_holds_a_panic_backtrace`).
pub const WORKER_STACK: usize = 256 * 1024;

/// Where workers take their jobs from.
#[derive(Clone)]
pub enum Jobs {
    /// The plain bounded channel: any job to any worker.
    Channel(Receiver<Task>),
    /// Per-host queues (`--per-host`, `--delay`, `--robots`).
    Hosts(Arc<HostQueue<Task>>),
}

impl Jobs {
    /// The next job, or `None` when there are no more or the run stops.
    fn next(&self, cancel: &AtomicBool) -> Option<Task> {
        let task = match self {
            Jobs::Channel(rx) => rx.recv().ok()?,
            Jobs::Hosts(q) => q.next(cancel)?,
        };
        (!cancel.load(Ordering::Relaxed)).then_some(task)
    }
}

/// What every worker shares.
pub struct Crew {
    /// The HTTP side.
    pub fetcher: Arc<Fetcher>,
    /// Politeness.
    pub gate: Arc<Gate<Task>>,
    /// Records go here.
    pub msgs: Sender<Msg>,
    /// With `--text` / `--markdown`: where pages are extracted before
    /// their records go on.
    pub extractor: Option<Arc<Extractor>>,
    /// Set when the run stops.
    pub cancel: Arc<AtomicBool>,
    /// `--since`: the earlier run's records.
    pub since: Option<Arc<Since>>,
}

/// The pool, as the reader drives it: it queues jobs and starts workers.
/// Dropping it closes the job feed, which ends the workers once the queue
/// is empty.
pub struct Pool {
    crew: Arc<Crew>,
    max: usize,
    started: usize,
    idle: Arc<AtomicUsize>,
    jobs: Jobs,
    feed: Feed,
}

/// The reader's end of the job queue.
enum Feed {
    Channel(Sender<Task>, Pacer),
    Hosts(Arc<HostQueue<Task>>),
}

impl Pool {
    /// A pool of at most `threads` workers; jobs go through `hosts` when
    /// given, else through a channel of a few jobs per worker.
    pub fn new(threads: usize, crew: Crew, hosts: Option<Arc<HostQueue<Task>>>) -> Pool {
        let (jobs, feed) = match hosts {
            Some(q) => (Jobs::Hosts(Arc::clone(&q)), Feed::Hosts(q)),
            None => {
                // Room for a few naps' worth of jobs at the fastest rates.
                let (tx, rx) = bounded(threads * 4);
                (Jobs::Channel(rx), Feed::Channel(tx, Pacer::default()))
            }
        };
        Pool {
            crew: Arc::new(crew),
            max: threads,
            started: 0,
            idle: Arc::new(AtomicUsize::new(0)),
            jobs,
            feed,
        }
    }

    /// Queues a job, starting a worker if none is idle to take it, and
    /// waiting while the queue is full; `Ok(false)` when the run is over.
    pub fn submit(&mut self, task: Task) -> Result<bool, Fatal> {
        self.crew.fetcher.sockets().expect(&task.job.url);
        let queued = match &mut self.feed {
            Feed::Hosts(q) => q.push(host_key(&task.job.url), task, &self.crew.cancel),
            Feed::Channel(tx, pacer) => match tx.try_send(task) {
                Ok(()) => true,
                Err(TrySendError::Disconnected(_)) => false,
                Err(TrySendError::Full(task)) => {
                    pacer.wait(Duration::MAX, || tx.send(task).is_ok())
                }
            },
        };
        if queued {
            self.grow()?;
        }
        Ok(queued)
    }

    /// Starts workers while jobs wait and no idle worker is there to take
    /// them, up to the maximum.
    fn grow(&mut self) -> Result<(), Fatal> {
        let waiting = match &self.feed {
            Feed::Channel(tx, _) => tx.len(),
            Feed::Hosts(q) => q.queued(),
        };
        while self.started < self.max && waiting > self.idle.load(Ordering::Relaxed) {
            self.start_worker()?;
        }
        Ok(())
    }

    fn start_worker(&mut self) -> Result<(), Fatal> {
        let (crew, jobs, idle) = (
            Arc::clone(&self.crew),
            self.jobs.clone(),
            Arc::clone(&self.idle),
        );
        // Counted idle from the start, so the next job does not start
        // another thread while this one is starting.
        idle.fetch_add(1, Ordering::Relaxed);
        std::thread::Builder::new()
            .name(format!("scrape-worker-{}", self.started))
            .stack_size(WORKER_STACK)
            .spawn(move || work(&crew, &jobs, &idle))
            .map_err(|e| {
                Fatal::Setup(format!(
                    "cannot start worker thread {} of {}: {e}",
                    self.started + 1,
                    self.max
                ))
            })?;
        self.started += 1;
        Ok(())
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        if let Feed::Hosts(q) = &self.feed {
            q.close();
        }
    }
}

/// One worker: jobs in, records out, until the jobs end or the run stops.
fn work(crew: &Crew, jobs: &Jobs, idle: &AtomicUsize) {
    let extraction = crew.fetcher.extraction();
    run_jobs(jobs, &crew.cancel, idle, |seq, job| {
        let prev = crew.since.as_ref().map(|s| s.lookup(&job.url, extraction));
        let conditional = prev.as_ref().and_then(|p| p.as_ref()?.conditional.as_ref());
        let fetch = |url: &Url| crew.fetcher.fetch(url, &*crew.gate, conditional);
        let url = job.url.clone();
        let (mut record, body) = handle(job, &crew.gate, fetch);
        crew.fetcher.sockets().finished(&url);
        if let Some(prev) = prev {
            since::apply(prev, &mut record, extraction);
        }
        // Every key the run asks for, null where nothing filled it (the
        // extractor replaces `content`).
        record.complete(extraction);
        match (body, &crew.extractor) {
            (Some(body), Some(extractor)) => {
                extract_then_send(extractor, &crew.msgs, seq, record, body);
                true
            }
            _ => crew.msgs.send(Msg::Record(seq, Box::new(record))).is_ok(),
        }
    });
}

/// Hands the page to the extraction pool, which sends the record on with
/// what it found (waiting while the pool's queue is full).
fn extract_then_send(
    extractor: &Extractor,
    msgs: &Sender<Msg>,
    seq: Seq,
    mut record: Record,
    body: Body,
) {
    let page = ExtractPage {
        body,
        url: record.final_url.clone(),
        truncated: record.truncated,
    };
    let msgs = msgs.clone();
    extractor.submit(page, move |content| {
        record.content = Some(content);
        let _ = msgs.send(Msg::Record(seq, Box::new(record)));
    });
}

/// The worker loop: takes jobs until there are none or the run stops,
/// handing each on with `one` (false: the run is over); `idle` counts
/// this worker from before the call, and whenever it waits for a job.
fn run_jobs(
    jobs: &Jobs,
    cancel: &AtomicBool,
    idle: &AtomicUsize,
    mut one: impl FnMut(Seq, Job) -> bool,
) {
    loop {
        let task = jobs.next(cancel);
        idle.fetch_sub(1, Ordering::Relaxed);
        let Some(Task { seq, job }) = task else {
            return;
        };
        if !one(seq, job) {
            return;
        }
        idle.fetch_add(1, Ordering::Relaxed);
    }
}

/// One job through the gate: admitted, fetched, its host's slot released;
/// the record, and the body when it was kept for extraction. A panic
/// becomes an `internal` record.
fn handle<T>(
    job: Job,
    gate: &Gate<T>,
    fetch: impl FnOnce(&Url) -> Fetched,
) -> (Record, Option<Body>) {
    let url = &job.url;
    let fetched = catch_unwind(AssertUnwindSafe(|| match gate.admit(url) {
        Err(refused) => Fetched::failed(0, refused),
        Ok(()) => fetch(url),
    }));
    gate.release(url);
    match fetched {
        Ok(mut fetched) => {
            let body = fetched.page.body.take();
            (Record::fetched(job, fetched), body)
        }
        Err(panic) => {
            let message = format!("bug: the worker panicked: {}", panic_message(&*panic));
            let error = FetchError::new(ErrorKind::Internal, message);
            let record = Record::failed(job.file, job.line, job.input, Some(&job.url), error);
            (record, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(seq: u64, url: &str) -> Task {
        Task {
            seq: Seq(seq),
            job: Job::for_test(url),
        }
    }

    fn records(rx: &Receiver<Msg>) -> Vec<Record> {
        rx.try_iter()
            .filter_map(|m| match m {
                Msg::Record(_, r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_panicking_fetch_is_an_internal_record_and_the_worker_goes_on() {
        let (job_tx, job_rx) = bounded(8);
        let (msg_tx, msg_rx) = bounded(8);
        for (i, url) in [
            "http://a.example/",
            "http://boom.example/",
            "http://c.example/",
        ]
        .iter()
        .enumerate()
        {
            job_tx.send(task(i as u64, url)).unwrap();
        }
        drop(job_tx);
        let gate: Gate<Task> = Gate::new(None, None, None);
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
        let idle = AtomicUsize::new(1);
        let jobs = Jobs::Channel(job_rx);
        let cancel = AtomicBool::new(false);
        run_jobs(&jobs, &cancel, &idle, |seq, job| {
            let (record, _) = handle(job, &gate, fetch);
            msg_tx.send(Msg::Record(seq, Box::new(record))).is_ok()
        });
        let records = records(&msg_rx);
        assert_eq!(records.len(), 3);
        let error = records[1].error.as_ref().unwrap();
        assert_eq!(error.kind, ErrorKind::Internal);
        assert!(error.message.contains("injected bug"));
        assert_eq!(records[1].url.as_deref(), Some("http://boom.example/"));
        assert!(records[2].ok, "the worker went on after the panic");
        assert_eq!(
            idle.load(Ordering::Relaxed),
            0,
            "a finished worker is not idle"
        );
    }

    #[test]
    fn a_cancelled_worker_takes_no_new_job() {
        let (job_tx, job_rx) = bounded(2);
        let (msg_tx, msg_rx) = bounded(2);
        job_tx.send(task(0, "http://a.example/")).unwrap();
        drop(job_tx);
        let cancel = AtomicBool::new(true);
        let idle = AtomicUsize::new(1);
        run_jobs(
            &Jobs::Channel(job_rx),
            &cancel,
            &idle,
            |_, _| unreachable!(),
        );
        drop(msg_tx);
        assert!(records(&msg_rx).is_empty());
    }

    #[test]
    fn a_worker_stack_holds_a_panic_backtrace() {
        // The deepest thing a worker does that is not HTML parsing: the
        // default panic hook printing a full backtrace, here on a quarter
        // of the stack workers get.
        std::thread::Builder::new()
            .stack_size(WORKER_STACK / 4)
            .spawn(|| {
                let _ = std::panic::catch_unwind(|| {
                    let bt = std::backtrace::Backtrace::force_capture();
                    let text = bt.to_string();
                    assert!(!text.is_empty());
                    panic!("deep enough");
                });
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
