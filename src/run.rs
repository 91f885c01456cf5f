//! A run of scrape: the lists once (or twice, with `--compare`), each pass
//! a [`Pipeline`] built from the configuration and then run; then the
//! summary and the exit code (README "Summary and exit codes").

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crossbeam_channel::{Sender, bounded};

use crate::archive::file::Archive;
use crate::cli::Cli;
use crate::config::Config;
use crate::demo;
use crate::error::{Exit, Fatal};
use crate::budget::Budget;
use crate::extract::pool::Extractor;
use crate::fetch::Fetcher;
use crate::fetch::capture::RAW_PER_CORE;
use crate::fetch::client::{self, POOL_IDLE_TIMEOUT, Pooling};
use crate::fetch::sockets::Sockets;
use crate::fetch::tls::Negotiations;
use crate::input::{self, Source, resume};
use crate::limits;
use crate::files::{self, Named};
use crate::output::progress::Progress;
use crate::output::summary::{self, Summary};
use crate::output::writer::{self, RecordWriter};
use crate::output::{Aggregator, Report};
use crate::pipeline::pool::{Crew, Pool};
use crate::pipeline::reader::{Filter, Reader};
use crate::pipeline::window::Window;
use crate::pipeline::{Msg, Task};
use crate::politeness::Gate;
use crate::politeness::breaker::Breaker;
use crate::politeness::hosts::HostQueue;
use crate::politeness::robots::RobotsCache;
use crate::signals::Signals;
use crate::since::Since;

/// The least room in the channel to the aggregator, in messages. The
/// aggregator drains it, then naps a millisecond when messages come fast
/// ([`crate::pipeline::Pacer`]), so this many per millisecond is the most it
/// takes in: far above any fetch rate, and what lines that need no request
/// (resumed, duplicates, not URLs) pass at. With 128, a resume over a
/// million done lines spent 8 s napping; a message is a pointer or two.
const MSG_QUEUE: usize = 4096;

/// Runs `scrape` as the command line asks.
pub fn run(cli: &Cli) -> Result<Exit, Fatal> {
    let config = Config::from_cli(cli)?;
    let keep_cap = limits::prepare(config.threads, config.files.len())?;
    let signals = Signals::install();
    let run = Run {
        config: &config,
        signals: &signals,
        keep_cap,
    };
    if config.demo {
        demo::run(&run)
    } else if config.compare {
        run.compare()
    } else {
        run.list()
    }
}

/// What every pass of a run shares.
pub struct Run<'a> {
    /// The validated options.
    pub config: &'a Config,
    signals: &'a Signals,
    /// Connections the budget may keep for reuse (`limits.rs`).
    keep_cap: usize,
}

impl Run<'_> {
    /// The normal run: every list once, records to the output.
    fn list(&self) -> Result<Exit, Fatal> {
        let config = self.config;
        let sources = input::open_sources(&config.files)?;
        check_outputs(config)?;
        let since = open_since(config)?;
        let (out, path) = writer::open_output(config.output.as_deref(), config.resume)?;
        let done = match (&config.output, config.resume) {
            (Some(path), true) => Some(resume::prepare(path, config.retry_errors)?),
            _ => None,
        };
        if let (Some(done), Some(path)) = (&done, &config.output) {
            check_shape(done, path, config)?;
        }
        let summary_file = create_summary_file(config.summary_json.as_deref())?;
        let writer = RecordWriter::new(out, config.format, path);
        let mut pass = Pipeline::new(self, config.threads, "");
        pass.done = done;
        pass.since = since;
        pass.archive = config
            .warc
            .as_ref()
            .map(|(path, roll)| Archive::open(path, *roll, config.resume))
            .transpose()?;
        let report = pass.run(sources, writer)?;
        if let (Some(path), true) = (&config.output, config.retry_errors) {
            resume::compact(path)?;
        }
        if report.closed {
            return Ok(Exit::Success);
        }
        finish(config, &report.summary, summary_file)?;
        Ok(exit_code(config, &report.summary))
    }

    /// `--compare`: the lists with 1 thread, then with N; a table on
    /// stdout. The records of the second pass go to `-o`, if given.
    fn compare(&self) -> Result<Exit, Fatal> {
        let config = self.config;
        input::open_sources(&config.files)?;
        check_outputs(config)?;
        let since = open_since(config)?;
        let mut output = match config.output.as_deref() {
            Some(p) => Some(writer::open_output(Some(p), false)?),
            None => None,
        };
        let summary_file = create_summary_file(config.summary_json.as_deref())?;
        // Rows of the table: passes that ran to the end. A pass cut short
        // by Ctrl-C measured nothing comparable, and says so.
        let mut runs: Vec<Summary> = Vec::new();
        let mut last = None;
        for (pass, threads) in [1, config.threads].into_iter().enumerate() {
            let sources = input::open_sources(&config.files)?;
            let records = if pass == 1 { output.take() } else { None };
            let (out, path) = records.unwrap_or_else(|| (Box::new(io::sink()), PathBuf::from("-")));
            let writer = RecordWriter::new(out, config.format, path);
            let label = format!("{threads} thread(s): ");
            let mut pipeline = Pipeline::new(self, threads, &label);
            pipeline.since = since.clone();
            let report = pipeline.run(sources, writer)?;
            if report.summary.interrupted {
                eprintln!(
                    "scrape: the pass with {} was interrupted: it is not in the table",
                    summary::count(threads as u64, "thread", "threads")
                );
                last = Some(report.summary);
                break;
            }
            runs.push(report.summary.clone());
            last = Some(report.summary);
        }
        let last = last.unwrap_or_else(|| {
            summary::Stats::default().summary(std::time::Duration::ZERO, config.threads, false)
        });
        finish(config, &last, summary_file)?;
        let mut stdout = io::stdout().lock();
        summary::write_compare_table(&mut stdout, &runs)
            .and_then(|()| stdout.flush())
            .or_else(ignore_broken_pipe)?;
        Ok(exit_code(config, &last))
    }
}

/// The per-host queues, when politeness asks for them.
type Hosts = Arc<HostQueue<Task>>;

/// One pass over the lists: the reader, the pool and the aggregator.
pub struct Pipeline<'a> {
    run: &'a Run<'a>,
    threads: usize,
    /// What the progress display calls this pass.
    label: String,
    /// Lines an earlier run did (`--resume`).
    done: Option<resume::Done>,
    /// `--warc`: the archive.
    archive: Option<Archive>,
    /// `--since`: the earlier run's records.
    since: Option<Arc<Since>>,
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
            since: None,
        }
    }

    /// Starts the reader (which starts the workers as jobs come) and runs
    /// the aggregator on this thread until every record is written.
    pub fn run(mut self, sources: Vec<Source>, writer: RecordWriter) -> Result<Report, Fatal> {
        let started = Instant::now();
        let (config, signals, threads) = (self.run.config, self.run.signals, self.threads);
        let progress = Progress::new(config.progress, &self.label);
        if progress.is_visible() {
            count_in_background(config, &progress);
        }
        let window = config.order_window.map(Window::new);
        let (msg_tx, msg_rx) = bounded::<Msg>(MSG_QUEUE.max(threads * 4 + 64));
        let archive = self.archive.take();
        let prev = self.since.as_ref().map(|s| {
            let counts = s.counts();
            summary::PrevCounts {
                records: counts.records,
                unreadable: counts.unreadable,
            }
        });
        self.reader(sources, msg_tx, window.clone())?.spawn()?;
        Aggregator::new(writer, progress, signals, window, config.shard)
            .with_archive(archive)
            .with_since(prev)
            .with_robots_agent(config.robots.then(|| config.robots_agent.clone()))
            .run(&msg_rx, started, threads)
    }

    /// The reader, with the pool it feeds.
    fn reader(
        self,
        sources: Vec<Source>,
        msgs: Sender<Msg>,
        window: Option<Arc<Window>>,
    ) -> Result<Reader, Fatal> {
        let config = self.run.config;
        let (crew, hosts) = self.crew(msgs.clone())?;
        Ok(Reader {
            sources,
            filter: Filter {
                seen: config.dedupe.then(Default::default),
                done: self.done,
                shard: config.shard,
                window,
            },
            pool: Pool::new(self.threads, crew, hosts),
            msgs,
            cancel: Arc::clone(&self.run.signals.cancel),
            extraction: Arc::clone(&config.fetch.extraction),
        })
    }

    /// What the workers share: the fetcher with its client and connection
    /// budget, and the politeness gate with its host queue (returned too:
    /// the pool takes jobs from it).
    fn crew(&self, msgs: Sender<Msg>) -> Result<(Crew, Option<Hosts>), Fatal> {
        let (config, cancel) = (self.run.config, &self.run.signals.cancel);
        let sockets = Arc::new(Sockets::new(
            self.run.keep_cap,
            self.threads,
            POOL_IDLE_TIMEOUT,
        ));
        let client = client::build(&config.client, Pooling::Reuse)?;
        let fetch = config.fetch.clone();
        let mut fetcher = Fetcher::new(client, fetch, Arc::clone(cancel), sockets);
        if config.fetch.extraction.content.any() {
            fetcher = fetcher.with_budget(Budget::per_core());
        }
        if config.fetch.capture.is_some() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            fetcher = fetcher.with_raw_budget(Budget::new(RAW_PER_CORE * cores));
        }
        if config.fetch.tls {
            let negotiations = Negotiations::new(config.fetch.connect_timeout)
                .map_err(|e| Fatal::Setup(format!("--tls: {e}")))?;
            fetcher = fetcher.with_negotiations(negotiations);
        }
        let hosts = config.politeness.map(|rules| {
            let capacity = (self.threads * 256).max(4096);
            Arc::new(HostQueue::new(rules, capacity, config.robots))
        });
        let robots = match config.robots {
            true => Some(RobotsCache::new(
                client::build(&config.client, Pooling::None)?,
                &config.robots_agent,
                config.fetch.timeout,
                config.fetch.verbose,
            )),
            false => None,
        };
        let breaker = (config.max_host_errors > 0).then(|| Breaker::new(config.max_host_errors));
        let wanted = config.fetch.extraction.content;
        let extractor = match wanted.any() {
            true => Some(Arc::new(Extractor::per_core(wanted).map_err(Fatal::Setup)?)),
            false => None,
        };
        let crew = Crew {
            since: self.since.clone(),
            fetcher: Arc::new(fetcher),
            gate: Arc::new(Gate::new(hosts.clone(), robots, breaker)),
            msgs,
            extractor,
            cancel: Arc::clone(cancel),
        };
        Ok((crew, hosts))
    }
}

/// Refuses outputs that would overwrite an input or each other.
fn check_outputs(config: &Config) -> Result<(), Fatal> {
    let inputs: Vec<Named> = config
        .files
        .iter()
        .map(|path| Named {
            role: "the input list",
            path,
        })
        .collect();
    let warc = config.warc.as_ref().map(|(path, _)| path.clone());
    let outputs = [
        ("-o", &config.output),
        ("--summary-json", &config.summary_json),
        ("--warc", &warc),
    ];
    let since = config.since.iter().map(|path| Named {
        role: "the --since records",
        path,
    });
    let inputs: Vec<Named> = inputs.into_iter().chain(since).collect();
    let outputs: Vec<Named> = outputs
        .iter()
        .filter_map(|(role, path)| path.as_deref().map(|path| Named { role, path }))
        .collect();
    files::check_distinct(&inputs, &outputs)
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

/// Refuses a `--resume` whose options would give its records another
/// shape than the earlier ones (`--text` over a run without it…): options
/// that change no key (`--threads`, timeouts, progress) may differ.
fn check_shape(done: &resume::Done, path: &Path, config: &Config) -> Result<(), Fatal> {
    let Some(before) = &done.shape else {
        return Ok(());
    };
    let extraction = &config.fetch.extraction;
    let names = extraction.selects.iter().map(|s| s.name.clone());
    let now = resume::Shape {
        fields: Some(names.collect()),
        links: extraction.links,
        metadata: extraction.metadata,
        headers: config.fetch.keep_headers,
        text: extraction.content.text,
        markdown: extraction.content.markdown,
        tls: extraction.tls,
        warc: config.warc.is_some(),
        unchanged: extraction.since,
    };
    let differences = before.differences(&now, done.responded);
    if differences.is_empty() {
        return Ok(());
    }
    Err(Fatal::Usage(format!(
        "--resume {}: the records would not all have one shape: {}; resume with the \
         options of the earlier run, or write to a new file",
        path.display(),
        differences.join("; ")
    )))
}

/// `--since PREV`, indexed before any output is opened (a PREV that is
/// refused truncates nothing); what it could not read said on stderr.
fn open_since(config: &Config) -> Result<Option<Arc<Since>>, Fatal> {
    let Some(path) = config.since.as_deref() else {
        return Ok(None);
    };
    let since = Since::open(path)?;
    let counts = since.counts();
    if counts.unreadable > 0 && !config.quiet {
        eprintln!(
            "scrape: --since {}: {} not a record (torn or not JSON), skipped: \
             their URLs are fetched as new; {} read",
            path.display(),
            summary::count(counts.unreadable, "line is", "lines are"),
            summary::count(counts.records, "record", "records"),
        );
    }
    Ok(Some(Arc::new(since)))
}

fn create_summary_file(path: Option<&Path>) -> Result<Option<(File, PathBuf)>, Fatal> {
    path.map(|p| {
        File::create(p)
            .map(|f| (f, p.to_path_buf()))
            .map_err(|e| Fatal::Output {
                path: p.to_path_buf(),
                source: files::explain(p, e),
            })
    })
    .transpose()
}

/// The human summary on stderr (unless `--quiet`) and `--summary-json`.
fn finish(
    config: &Config,
    summary: &Summary,
    summary_file: Option<(File, PathBuf)>,
) -> Result<(), Fatal> {
    if !config.quiet {
        let mut err = io::stderr().lock();
        let _ = summary.write_human(&mut err);
        if summary.interrupted {
            let _ = writeln!(err, "{}", interrupted_note(config, summary));
        }
    }
    if let Some((mut file, path)) = summary_file {
        serde_json::to_writer_pretty(&mut file, summary)
            .map_err(io::Error::other)
            .and_then(|()| file.write_all(b"\n"))
            .map_err(|e| Fatal::Output { path, source: e })?;
    }
    Ok(())
}

/// What an interrupted run left undone, and how to finish it.
fn interrupted_note(config: &Config, summary: &Summary) -> String {
    let left = input::count_entries(&config.files, config.shard)
        .map(|total| {
            let left = total.saturating_sub(summary.urls);
            format!(
                "{} of {total} not done",
                summary::count(left, "line", "lines")
            )
        })
        .unwrap_or_else(|| "the rest of the list is not done".to_string());
    let how = match (&config.output, config.resume) {
        (Some(out), false) => format!(
            "run the same command again with --resume: it keeps the records in {} and fetches the rest",
            out.display()
        ),
        (Some(_), true) => "run the same command again: it fetches the rest".to_string(),
        (None, _) => "the records went to standard output; write them with -o FILE to be able to \
                      finish an interrupted run with --resume"
            .to_string(),
    };
    format!("scrape: interrupted: {left}\nscrape: hint: {how}")
}

fn exit_code(config: &Config, summary: &Summary) -> Exit {
    if summary.interrupted {
        Exit::Interrupted
    } else if config.fail_on_error && summary.failed > 0 {
        Exit::RecordErrors
    } else {
        Exit::Success
    }
}

fn ignore_broken_pipe(e: io::Error) -> Result<(), Fatal> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Fatal::Output {
            path: "-".into(),
            source: e,
        })
    }
}
