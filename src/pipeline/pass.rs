//! A pass over the lists: the reader on its thread (which starts the
//! workers as jobs come), the aggregator on this one, until every record
//! is written; and two passes — 1 thread, then N — for `--compare` and
//! `--demo`.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{Sender, bounded};

use super::crew;
use super::pool::Pool;
use super::reader::{Filter, Reader};
use crate::archive::file::Archive;
use crate::config::Config;
use crate::crawl::frontier::Frontier;
use crate::error::Fatal;
use crate::files;
use crate::flow::Msg;
use crate::flow::window::Window;
use crate::input::{self, Source, resume};
use crate::output::progress::Progress;
use crate::output::summary::{self, Stats, Summary};
use crate::output::writer::{Format, RecordWriter};
use crate::output::{Aggregator, Report};
use crate::signals::Signals;
use crate::since::Since;

/// The least room in the channel to the aggregator, in messages. The
/// aggregator drains it, then naps a millisecond when messages come fast
/// ([`crate::flow::Pacer`]), so this many per millisecond is the most it
/// takes in: far above any fetch rate, and what lines that need no request
/// (resumed, duplicates, not URLs) pass at. With 128, a resume over a
/// million done lines spent 8 s napping; a message is a pointer or two.
const MSG_QUEUE: usize = 4096;

/// What every pass of a run shares.
pub struct Run<'a> {
    /// The validated options.
    pub config: &'a Config,
    /// Ctrl-C and SIGTERM.
    pub signals: &'a Signals,
    /// Connections the budget may keep for reuse (`limits.rs`).
    pub keep_cap: usize,
    /// `--since`: the earlier run's records, indexed once for every pass.
    pub since: Option<Arc<Since>>,
}

/// One pass over the lists: the reader, the pool and the aggregator.
pub struct Pipeline<'a> {
    run: &'a Run<'a>,
    threads: usize,
    /// What the progress display calls this pass.
    label: String,
    /// Lines an earlier run did (`--resume`).
    pub done: Option<resume::Done>,
    /// `--warc`: the archive.
    pub archive: Option<Archive>,
}

impl<'a> Pipeline<'a> {
    /// A pass of `run` with `threads` workers; `label` names it in the
    /// progress display.
    pub fn new(run: &'a Run<'a>, threads: usize, label: &str) -> Pipeline<'a> {
        Pipeline {
            run,
            threads,
            label: label.to_string(),
            done: None,
            archive: None,
        }
    }

    /// Starts the reader (which starts the workers as jobs come) and runs
    /// the aggregator on this thread until every record is written.
    pub fn run(mut self, sources: Vec<Source>, writer: RecordWriter) -> Result<Report, Fatal> {
        let started = Instant::now();
        let (config, signals, threads) = (self.run.config, self.run.signals, self.threads);
        let progress = Progress::new(config.progress, &self.label);
        // A crawl's total is not known ahead: the lines are only its seeds.
        if progress.is_visible() && config.crawl.is_none() {
            count_in_background(config, &progress);
        }
        let window = config.order_window.map(Window::new);
        let (msg_tx, msg_rx) = bounded::<Msg>(MSG_QUEUE.max(threads * 4 + 64));
        let archive = self.archive.take();
        let mut stats = Stats::new(config.shard);
        stats.since = self.run.since.as_ref().map(|s| {
            let counts = s.counts();
            summary::PrevCounts {
                records: counts.records,
                unreadable: counts.unreadable,
            }
        });
        stats.robots_agent = config.robots.then(|| config.robots_agent.clone());
        let frontier = self.frontier()?;
        let writer = match frontier {
            Some(_) => writer.flushing_every(std::time::Duration::ZERO),
            None => writer,
        };
        let reader = self.reader(sources, msg_tx, window.clone(), frontier.clone())?;
        let gate = Arc::clone(&reader.pool.crew().gate);
        reader.spawn()?;
        let report = Aggregator::new(writer, progress, signals, window, stats)
            .with_archive(archive)
            .with_slowed(Box::new(move || gate.slowed()))
            .run(&msg_rx, started, threads)?;
        if let Some(frontier) = frontier
            && !report.summary.interrupted
        {
            frontier.completed();
        }
        Ok(report)
    }

    /// A crawl's frontier (`--follow`, `--sitemap`): beside `-o` when it is
    /// a file, and then read back with `--resume`.
    fn frontier(&mut self) -> Result<Option<Arc<Frontier>>, Fatal> {
        let config = self.run.config;
        let Some(rules) = &config.crawl else {
            return Ok(None);
        };
        let beside = config.output.as_deref().filter(|p| !files::is_stream(p));
        let crawled = self.done.as_mut().map(|d| d.take_crawled());
        Ok(Some(Arc::new(Frontier::open(rules, beside, crawled)?)))
    }

    /// The reader, with the pool it feeds.
    fn reader(
        self,
        sources: Vec<Source>,
        msgs: Sender<Msg>,
        window: Option<Arc<Window>>,
        frontier: Option<Arc<Frontier>>,
    ) -> Result<Reader, Fatal> {
        let (config, cancel) = (self.run.config, &self.run.signals.cancel);
        let (crew, hosts) = crew::assemble(
            config,
            (self.threads, self.run.keep_cap),
            cancel,
            self.run.since.clone(),
            msgs.clone(),
            frontier.clone(),
        )?;
        Ok(Reader {
            sources,
            filter: Filter {
                seen: config.dedupe.then(Default::default),
                done: self.done,
                shard: config.shard,
                window,
            },
            crawl: frontier.zip(config.crawl.clone()),
            pool: Pool::new(self.threads, crew, hosts),
            msgs,
            cancel: Arc::clone(cancel),
            extraction: Arc::clone(&config.fetch.extraction),
        })
    }
}

/// Counts the files' entries on a side thread, for the progress total.
fn count_in_background(config: &Config, progress: &Progress) {
    let (files, shard) = (config.files.clone(), config.shard);
    let total = progress.total_handle();
    let _ = std::thread::Builder::new()
        .name("scrape-count".into())
        .spawn(move || {
            if let Some(n) = input::count_entries(&files, shard) {
                total.store(n.max(1), Ordering::Relaxed);
            }
        });
}

/// What two passes measured.
pub struct Passes {
    /// The summaries of the passes that ran to the end, in order.
    pub finished: Vec<Summary>,
    /// The summary of a pass cut short by Ctrl-C (then the last).
    pub interrupted: Option<Summary>,
}

/// The lists (`sources` makes them anew for each pass) with 1 thread, then
/// with `threads`: the first pass's records are dropped, the second's go to
/// `second` in `format`. A pass cut short by Ctrl-C measured nothing
/// comparable: it ends the two.
pub fn twice(
    run: &Run,
    threads: usize,
    mut sources: impl FnMut() -> Result<Vec<Source>, Fatal>,
    format: Format,
    second: (Box<dyn Write>, PathBuf),
) -> Result<Passes, Fatal> {
    let mut second = Some(second);
    let mut passes = Passes {
        finished: Vec::new(),
        interrupted: None,
    };
    for (pass, threads) in [1, threads].into_iter().enumerate() {
        let out = match pass {
            1 => second.take(),
            _ => None,
        };
        let (out, path) = out.unwrap_or_else(|| (Box::new(io::sink()), PathBuf::from("-")));
        let writer = RecordWriter::new(out, format, path);
        let label = format!("{threads} thread(s): ");
        let report = Pipeline::new(run, threads, &label).run(sources()?, writer)?;
        if report.summary.interrupted {
            passes.interrupted = Some(report.summary);
            break;
        }
        passes.finished.push(report.summary);
    }
    Ok(passes)
}
