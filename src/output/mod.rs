//! The aggregator: the one thread that writes records (docs/architecture.md).
//!
//! It receives every [`Msg`] of the pipeline, counts it into [`Stats`],
//! draws progress, and writes each record whole through the
//! [`RecordWriter`] — in completion order, or in input order through the
//! [`Reorder`] buffer with `--ordered`. While results pause it flushes what
//! is buffered and redraws progress. After Ctrl-C it waits up to [`GRACE`]
//! for the requests in flight, then ends with what it has.
//!
//! A closed standard output (`scrape … | head -1`) ends the run quietly.
//!
//! [`writer`] writes, [`summary`] keeps the statistics, [`progress`] draws
//! on stderr, [`reorder`] restores input order.

pub mod progress;
pub mod reorder;
pub mod summary;
mod timings;
pub mod writer;

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::archive::Blob;
use crate::archive::file::Archive;
use crate::error::Fatal;
use crate::flow::window::Window;
use crate::flow::{Msg, Pacer, Seq};
use crate::politeness::slowdown::Slowed;
use crate::record::Record;
use crate::signals::Signals;
use progress::Progress;
use reorder::Reorder;
use summary::{Stats, Summary};
use writer::RecordWriter;

/// How long in-flight requests may still finish after Ctrl-C.
pub const GRACE: Duration = Duration::from_secs(2);

/// What one run of the aggregator produced.
pub struct Report {
    /// The run's figures.
    pub summary: Summary,
    /// The output was closed by its reader; nothing more can be written.
    pub closed: bool,
}

/// Why receiving stopped early.
enum Stop {
    /// Writing failed (or the reader of standard output went away).
    Output(io::Error),
    /// Another stage failed: the run must end.
    Fatal(Fatal),
}

/// The receiving end of the pipeline.
pub struct Aggregator<'a> {
    writer: RecordWriter,
    /// `--warc`: where each record's WARC records go, first.
    archive: Option<Archive>,
    /// Which hosts were slowed (asked at the end).
    slowed: Option<Box<dyn Fn() -> Vec<Slowed> + 'a>>,
    progress: Progress,
    stats: Stats,
    reorder: Option<Reorder>,
    signals: &'a Signals,
    grace_ends: Option<Instant>,
    pacer: Pacer,
}

impl<'a> Aggregator<'a> {
    /// An aggregator writing to `writer`, counting into `stats`; with a
    /// `window`, in input order.
    pub fn new(
        writer: RecordWriter,
        progress: Progress,
        signals: &'a Signals,
        window: Option<Arc<Window>>,
        stats: Stats,
    ) -> Aggregator<'a> {
        Aggregator {
            writer,
            archive: None,
            slowed: None,
            progress,
            stats,
            reorder: window.map(Reorder::new),
            signals,
            grace_ends: None,
            pacer: Pacer::default(),
        }
    }

    /// Writes each record's WARC records to `archive` before the record.
    pub fn with_archive(mut self, archive: Option<Archive>) -> Aggregator<'a> {
        self.archive = archive;
        self
    }

    /// At the end, asks `slowed` which hosts the politeness gate slowed
    /// (every worker is done by then), for the summary.
    pub fn with_slowed(mut self, slowed: Box<dyn Fn() -> Vec<Slowed> + 'a>) -> Aggregator<'a> {
        self.slowed = Some(slowed);
        self
    }

    /// Receives until every sender is done (or the grace after Ctrl-C runs
    /// out), writes every record, and ends the output with the summary of
    /// a run that began at `started` with `threads` workers.
    pub fn run(
        mut self,
        rx: &Receiver<Msg>,
        started: Instant,
        threads: usize,
    ) -> Result<Report, Fatal> {
        let received = self
            .writer
            .begin()
            .map_err(Stop::Output)
            .and_then(|()| self.receive(rx));
        self.progress.finish();
        if let Some(slowed) = &self.slowed {
            self.stats.slowed = slowed();
        }
        let summary = self
            .stats
            .summary(started.elapsed(), threads, self.signals.interrupted());
        let ended = received.and_then(|()| self.writer.end(&summary).map_err(Stop::Output));
        let Err(stop) = ended else {
            return Ok(Report {
                summary,
                closed: false,
            });
        };
        self.signals.cancel.store(true, Ordering::Relaxed);
        match stop {
            Stop::Fatal(fatal) => {
                let _ = self.writer.flush();
                Err(fatal)
            }
            Stop::Output(e) => match self.writer.fatal(e) {
                Some(fatal) => Err(fatal),
                None => Ok(Report {
                    summary,
                    closed: true,
                }),
            },
        }
    }

    fn receive(&mut self, rx: &Receiver<Msg>) -> Result<(), Stop> {
        while let Some(msg) = self.next(rx)? {
            self.take(msg)?;
        }
        match &mut self.reorder {
            Some(reorder) => reorder
                .drain(|r| self.writer.write(r))
                .map_err(Stop::Output),
            None => Ok(()),
        }
    }

    /// The next message; `None` when every sender is gone, or the grace
    /// after Ctrl-C is over. While none comes, flushes and draws progress.
    fn next(&mut self, rx: &Receiver<Msg>) -> Result<Option<Msg>, Stop> {
        loop {
            match rx.try_recv() {
                Ok(msg) => return Ok(Some(msg)),
                Err(TryRecvError::Disconnected) => return Ok(None),
                Err(TryRecvError::Empty) => {}
            }
            let wait = self.writer.flush_if_due().map_err(Stop::Output)?;
            self.progress.update();
            if self.grace_is_over() {
                return Ok(None);
            }
            match self.pacer.wait(wait, || rx.recv_timeout(wait)) {
                Ok(msg) => return Ok(Some(msg)),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
            }
        }
    }

    /// After Ctrl-C: whether the requests in flight have had their time.
    fn grace_is_over(&mut self) -> bool {
        if !self.signals.interrupted() {
            return false;
        }
        let ends = match self.grace_ends {
            Some(ends) => ends,
            None => {
                self.progress.interrupt(&format!(
                    "scrape: interrupted: waiting up to {} s for requests in flight \
                     (press Ctrl-C again to stop now)",
                    GRACE.as_secs()
                ));
                *self.grace_ends.insert(Instant::now() + GRACE)
            }
        };
        Instant::now() >= ends
    }

    /// Counts a message and writes what it carries.
    fn take(&mut self, msg: Msg) -> Result<(), Stop> {
        match msg {
            Msg::Record(seq, mut record, warc) => {
                self.archive(&mut record, warc)?;
                self.stats.add(&record);
                if record.is_duplicate() {
                    self.progress.skipped();
                } else {
                    self.progress.record(record.ok, record.error.is_some());
                }
                self.deliver(seq, Some(record))
            }
            Msg::Resumed(seq) => {
                self.stats.resumed();
                self.progress.skipped();
                self.deliver(seq, None)
            }
            Msg::OtherShards(n) => {
                self.stats.other_shards(n);
                Ok(())
            }
            Msg::Dropped(dropped) => {
                self.stats.dropped = Some(dropped);
                Ok(())
            }
            Msg::Fatal(fatal) => Err(Stop::Fatal(fatal)),
        }
    }

    /// With `--warc`: appends the record's WARC records to the archive and
    /// notes in the record where its response went.
    fn archive(&mut self, record: &mut Record, blob: Option<Box<Blob>>) -> Result<(), Stop> {
        let Some(archive) = &mut self.archive else {
            return Ok(());
        };
        let warc = match blob {
            Some(blob) => archive.append(&blob).map_err(Stop::Fatal)?,
            None => None,
        };
        record.warc = Some(warc);
        Ok(())
    }

    /// Writes a result now, or when its turn comes (`--ordered`).
    fn deliver(&mut self, seq: Seq, record: Option<Box<Record>>) -> Result<(), Stop> {
        let written = match (&mut self.reorder, record) {
            (Some(reorder), record) => reorder.push(seq, record, |r| self.writer.write(r)),
            (None, Some(record)) => self.writer.write(&record),
            (None, None) => Ok(()),
        };
        written.map_err(Stop::Output)
    }
}
