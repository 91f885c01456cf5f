//! The bounded pool of blocking HTTP workers (docs/architecture.md).
//!
//! At most `--threads` workers, so at most that many requests in flight;
//! `--threads 1` is the same code with one worker. Each worker takes a job
//! (from the plain job channel, or from the per-host queues when
//! politeness asks for them), asks the [`Gate`] before and after fetching
//! it, and sends its record to the aggregator.
//!
//! Workers are plain threads with small stacks ([`WORKER_STACK`]), started
//! as jobs arrive: when no idle worker is there to take a job, a new one
//! starts with that job in hand, until there are `--threads`; only then do
//! jobs wait in the queue. So a list of 100 URLs
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
//! What a worker does with each URL is `worker.rs`; this file keeps only
//! the threads, their idle count and the job queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};

use super::worker::{self, Crew};
use crate::error::Fatal;
use crate::flow::{Pacer, Task};
use crate::politeness::hosts::HostQueue;
use crate::urls::host_key;

/// Each worker's stack. A thread touches only the pages it uses: a worker
/// touches five 4 KiB pages of it, thread-locals included (19 976 bytes
/// from the top, by gdb, issue 23), the deepest point being lol_html
/// building the page parser inside the body loop — which is why the
/// parser is built straight into a `Box`, the charset prescan kept out of
/// line, and the scanner, the redirect chain, the result and a new
/// worker's first job kept on the heap: each page more is 16 MiB at 4096
/// workers (the scanner and the chain on the stack made it six: 287.6
/// against 275.3 MiB peak on the fixture server). The rest is room: the
/// standard panic hook printing a backtrace fits in a quarter of it
/// (`a_worker_stack_holds_a_panic_backtrace`).
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
    #[inline(never)]
    fn next(&self, cancel: &AtomicBool) -> Option<Task> {
        let task = match self {
            Jobs::Channel(rx) => rx.recv().ok()?,
            Jobs::Hosts(q) => q.next(cancel)?,
        };
        (!cancel.load(Ordering::Relaxed)).then_some(task)
    }
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

    /// What the workers share.
    pub fn crew(&self) -> &Crew {
        &self.crew
    }

    /// Queues a job, starting a worker if none is idle to take it, and
    /// waiting while the queue is full; `Ok(false)` when the run is over.
    pub fn submit(&mut self, task: Task) -> Result<bool, Fatal> {
        self.crew.fetcher.sockets().coming(&task.job.url);
        let hand_over = match &self.feed {
            Feed::Channel(tx, _) => self.started < self.max && tx.len() >= self.idle(),
            Feed::Hosts(_) => false,
        };
        if hand_over {
            // Every idle worker has a queued job to take already: a new one
            // starts with this job in hand. Through the channel, while
            // thousands start, most would find it emptied by a sibling,
            // spin, yield and park first (16 000 `sched_yield` at
            // `-t 4096`, `perf stat`).
            self.start_worker(Some(Box::new(task)))?;
            return Ok(true);
        }
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
        // Through the channel too: an idle worker counted above may have
        // taken another job since, leaving this one none to take it.
        if queued {
            self.grow()?;
        }
        Ok(queued)
    }

    fn idle(&self) -> usize {
        self.idle.load(Ordering::Relaxed)
    }

    /// Starts workers while jobs wait and no idle worker is there to take
    /// them, up to the maximum.
    fn grow(&mut self) -> Result<(), Fatal> {
        let waiting = match &self.feed {
            Feed::Channel(tx, _) => tx.len(),
            Feed::Hosts(q) => q.queued(),
        };
        while self.started < self.max && waiting > self.idle() {
            self.start_worker(None)?;
        }
        Ok(())
    }

    /// Starts a worker, with its first job in hand or else idle, to take
    /// one from the queue.
    /// The first job is boxed: the thread's closure, which carries it, is
    /// copied onto the bottom of the worker's stack, under every frame.
    fn start_worker(&mut self, first: Option<Box<Task>>) -> Result<(), Fatal> {
        let (crew, jobs, idle) = (
            Arc::clone(&self.crew),
            self.jobs.clone(),
            Arc::clone(&self.idle),
        );
        if first.is_none() {
            // Counted idle from the start, so the next job does not start
            // another thread while this one is starting.
            idle.fetch_add(1, Ordering::Relaxed);
        }
        std::thread::Builder::new()
            .name(format!("scrape-worker-{}", self.started))
            .stack_size(WORKER_STACK)
            .spawn(move || {
                run_jobs(&jobs, &crew.cancel, &idle, first, |task| {
                    worker::handle(&crew, task)
                })
            })
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

/// The worker loop: `first`, then jobs taken until there are none or the
/// run stops, each handed on with `one` (false: the run is over); `idle`
/// counts this worker whenever it waits for a job, and from before the
/// call when it has no `first`. A job taken from the queue is dropped once
/// the run is stopping (`Jobs::next`); so is one in hand.
fn run_jobs(
    jobs: &Jobs,
    cancel: &AtomicBool,
    idle: &AtomicUsize,
    mut first: Option<Box<Task>>,
    mut one: impl FnMut(Task) -> bool,
) {
    loop {
        let task = match first.take() {
            Some(task) => (!cancel.load(Ordering::Relaxed)).then_some(*task),
            None => {
                let task = jobs.next(cancel);
                idle.fetch_sub(1, Ordering::Relaxed);
                task
            }
        };
        let Some(task) = task else {
            return;
        };
        if !one(task) {
            return;
        }
        idle.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Seq;
    use crate::input::Job;

    fn task(seq: u64, url: &str) -> Task {
        Task {
            seq: Seq(seq),
            job: Job::for_test(url),
            lineage: None,
        }
    }

    #[test]
    fn a_worker_takes_every_job_and_is_not_idle_when_done() {
        let (job_tx, job_rx) = bounded(8);
        for i in 0..3 {
            job_tx.send(task(i, "http://a.example/")).unwrap();
        }
        drop(job_tx);
        let idle = AtomicUsize::new(1);
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        run_jobs(&Jobs::Channel(job_rx), &cancel, &idle, None, |task| {
            seen.push(task.seq.0);
            true
        });
        assert_eq!(seen, [0, 1, 2]);
        assert_eq!(
            idle.load(Ordering::Relaxed),
            0,
            "a finished worker is not idle"
        );
    }

    #[test]
    fn a_job_in_hand_comes_first_then_the_queue_and_idle_stays_exact() {
        let (job_tx, job_rx) = bounded(8);
        for i in 0..2 {
            job_tx.send(task(i, "http://a.example/")).unwrap();
        }
        drop(job_tx);
        // Started with a job in hand, the worker was never counted idle.
        let idle = AtomicUsize::new(0);
        let cancel = AtomicBool::new(false);
        let mut seen = Vec::new();
        let first = Some(Box::new(task(9, "http://b.example/")));
        run_jobs(&Jobs::Channel(job_rx), &cancel, &idle, first, |task| {
            seen.push(task.seq.0);
            true
        });
        assert_eq!(seen, [9, 0, 1]);
        assert_eq!(idle.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_job_in_hand_is_dropped_once_the_run_stops() {
        let (_job_tx, job_rx) = bounded(1);
        let cancel = AtomicBool::new(true);
        let idle = AtomicUsize::new(0);
        let first = Some(Box::new(task(0, "http://a.example/")));
        run_jobs(
            &Jobs::Channel(job_rx),
            &cancel,
            &idle,
            first,
            |_| unreachable!(),
        );
        assert_eq!(idle.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_cancelled_worker_takes_no_new_job() {
        let (job_tx, job_rx) = bounded(2);
        job_tx.send(task(0, "http://a.example/")).unwrap();
        drop(job_tx);
        let cancel = AtomicBool::new(true);
        let idle = AtomicUsize::new(1);
        run_jobs(
            &Jobs::Channel(job_rx),
            &cancel,
            &idle,
            None,
            |_| unreachable!(),
        );
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
