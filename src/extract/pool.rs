//! Where extraction runs: a rayon pool with one thread per core, fed
//! through a bounded queue.
//!
//! A worker that has a page to extract calls [`Extractor::submit`], which
//! takes a slot of the queue — waiting while all [`Extractor::capacity`]
//! slots are taken — and hands the page to the pool. At most `cores` pages
//! are being extracted at any moment (rayon runs one task per thread) and
//! at most `capacity` bodies wait or run, whatever `--threads` is: memory
//! for DOMs is bounded by the cores. The slot is given back when the task
//! has delivered its result.
//!
//! The pool's threads get a large stack: DOM work recurses on deeply nested
//! pages, and these few threads can afford it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_channel::{Receiver, Sender, bounded};
use rayon::{ThreadPool, ThreadPoolBuilder};

use super::{Content, Page, extract};
use crate::plan::Wanted;

/// Stack of each extraction thread (reserved, touched as used).
const STACK: usize = 64 << 20;

/// Pages queued or being extracted, per extraction thread.
const QUEUE_PER_THREAD: usize = 1;

/// The extraction pool and its queue.
pub struct Extractor {
    pool: ThreadPool,
    wanted: Wanted,
    /// Holds one item per queued or running page; full means wait.
    slots: Sender<()>,
    freed: Receiver<()>,
    /// How many pages are being extracted now, and the most at once.
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Extractor {
    /// A pool of `threads` threads (the cores, normally) extracting what
    /// `wanted` asks.
    pub fn new(wanted: Wanted, threads: usize) -> Result<Extractor, String> {
        let threads = threads.max(1);
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .stack_size(STACK)
            .thread_name(|i| format!("scrape-extract-{i}"))
            .build()
            .map_err(|e| format!("cannot start the extraction threads: {e}"))?;
        let (slots, freed) = bounded(threads * QUEUE_PER_THREAD);
        Ok(Extractor {
            pool,
            wanted,
            slots,
            freed,
            running: Arc::default(),
            peak: Arc::default(),
        })
    }

    /// A pool with one thread per core.
    pub fn per_core(wanted: Wanted) -> Result<Extractor, String> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        return_large_blocks();
        Extractor::new(wanted, cores)
    }

    /// How many pages may wait or run at once.
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.slots.capacity().unwrap_or(1)
    }

    /// The most pages extracted at the same moment so far.
    #[cfg(test)]
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Extracts `page` on the pool and gives the result to `done` there,
    /// waiting first while the queue is full.
    pub fn submit(&self, page: Page, done: impl FnOnce(Content) + Send + 'static) {
        // The receiver lives in `self`, so the channel is never
        // disconnected here: this only waits.
        let _ = self.slots.send(());
        let (freed, running, peak) = (
            self.freed.clone(),
            Arc::clone(&self.running),
            Arc::clone(&self.peak),
        );
        let wanted = self.wanted;
        self.pool.spawn(move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            let content = extract(&page, wanted);
            drop(page);
            running.fetch_sub(1, Ordering::SeqCst);
            done(content);
            let _ = freed.try_recv();
        });
    }
}

/// Large blocks above this are mapped for themselves and given back when
/// freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 512 * 1024;

/// Has glibc's allocator give large blocks back to the system when they
/// are freed, instead of keeping them in the freeing thread's arena.
///
/// Extraction makes a few large blocks per page (the body, the decoded
/// text, the DOM's node arrays) on one thread and frees some on another;
/// glibc's default threshold rises to 32 MiB as it sees large frees, after
/// which every such block stays in the arena of the thread that made it,
/// and each extraction thread's arena keeps the size of the largest page
/// it ever saw. Measured on the 1 301 pages of `bench/extract.sh` (two
/// runs each): `--text --threads 2` peak RSS 34.3–35.6 MiB by default,
/// 30.3–32.0 with 512 KiB, 27.9–30.8 with 128 KiB; one core's time
/// 3.8 s by default, 4.1 s with 512 KiB, 4.6 s with 128 KiB. A no-op on
/// other C libraries.
fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator tunable; it is safe to call
    // at any time from any thread.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::page::Body;
    use encoding_rs::UTF_8;
    use std::sync::Mutex;

    fn page(i: usize) -> Page {
        let html = format!(
            "<html><body><nav><a href=/>Home</a></nav><article><h1>Story {i}</h1>{}</article></body></html>",
            "<p>A sentence long enough to count as the text of an article, with commas, and more words.</p>"
                .repeat(20)
        );
        Page {
            body: Body {
                bytes: html.into_bytes(),
                encoding: UTF_8,
                declared: crate::html::page::Declared::Header,
                held: None,
            },
            url: Some(format!("http://127.0.0.1/{i}")),
            truncated: false,
        }
    }

    #[test]
    fn two_hundred_submitters_never_run_more_than_the_pool_at_once() {
        let wanted = Wanted {
            text: true,
            markdown: false,
        };
        let extractor = Arc::new(Extractor::new(wanted, 2).unwrap());
        let results = Arc::new(Mutex::new(Vec::new()));
        let queued_peak = Arc::new(AtomicUsize::new(0));
        let submitters: Vec<_> = (0..200)
            .map(|i| {
                let (extractor, results, queued_peak) = (
                    Arc::clone(&extractor),
                    Arc::clone(&results),
                    Arc::clone(&queued_peak),
                );
                std::thread::spawn(move || {
                    let (tx, rx) = bounded(1);
                    extractor.submit(page(i), move |c| {
                        let _ = tx.send(c);
                    });
                    queued_peak.fetch_max(extractor.slots.len(), Ordering::SeqCst);
                    let content = rx.recv().unwrap();
                    results.lock().unwrap().push((i, content));
                })
            })
            .collect();
        for s in submitters {
            s.join().unwrap();
        }
        let results = results.lock().unwrap();
        assert_eq!(results.len(), 200);
        for (i, content) in results.iter() {
            let text = content.text.as_deref().unwrap_or_default();
            assert!(text.contains("A sentence long enough"), "{i}: {content:?}");
            assert!(!text.contains("Home"), "{i}: navigation kept");
        }
        assert!(extractor.peak() >= 1);
        assert!(
            extractor.peak() <= 2,
            "{} extractions at once on a pool of 2",
            extractor.peak()
        );
        assert!(queued_peak.load(Ordering::SeqCst) <= extractor.capacity());
    }
}
