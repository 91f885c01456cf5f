//! `scrape`: a concurrent web scraper — a list of URLs in, one JSON record
//! per URL out.
//!
//! ```text
//! input.rs          pool.rs                         fetch.rs + extract.rs       output.rs
//! URL reader ──(bounded jobs)──▶ N rayon workers ──(bounded msgs)──▶ aggregator ──▶ JSON out
//! (streams lines,   (one shared reqwest            (request, redirects,         (one thread owns
//!  dedupes)          blocking Client)               retries, streamed page)      output, progress,
//!                                                                                summary.rs)
//! ```
//!
//! - [`cli`] parses the command line, [`config`] validates it and builds the
//!   shared client.
//! - [`input`] streams the lists into items; [`pool`] runs the reader and the
//!   workers; [`fetch`] turns one URL into a result, with [`extract`]
//!   decoding and parsing the body as it streams, [`page`] collecting title,
//!   description, lang, `--select` fields ([`select`]) and links;
//!   [`record`] is the output schema.
//! - [`output`] is the aggregator; [`summary`] keeps the statistics;
//!   [`progress`] draws on stderr; [`signals`] handles Ctrl-C.
//!
//! [`run`] wires the stages and returns the exit code of SPEC.md §5.

pub mod cli;
pub mod config;
pub mod error;
pub mod extract;
pub mod fetch;
pub mod hosts;
pub mod input;
pub mod order;
pub mod output;
pub mod page;
pub mod pool;
pub mod progress;
pub mod record;
pub mod resume;
pub mod robots;
pub mod seen;
pub mod select;
pub mod shard;
pub mod signals;
pub mod summary;

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::cli::Cli;
use crate::config::Config;
use crate::error::{Exit, Fatal};
use crate::fetch::Fetcher;
use crate::input::Source;
use crate::output::RecordWriter;
use crate::pool::PoolSettings;
use crate::progress::Progress;
use crate::signals::Signals;
use crate::summary::Summary;

/// Runs `scrape` as the command line asks.
pub fn run(cli: &Cli) -> Result<Exit, Fatal> {
    let config = Config::from_cli(cli)?;
    let signals = Signals::install();
    if config.compare {
        run_compare(&config, &signals)
    } else {
        run_list(&config, &signals)
    }
}

/// The normal run: every list once, records to the output.
fn run_list(config: &Config, signals: &Signals) -> Result<Exit, Fatal> {
    let sources = input::open_sources(&config.files)?;
    let done = match (&config.output, config.resume) {
        (Some(path), true) => Some(resume::prepare(path)?),
        _ => None,
    };
    let (out, path) = output::open_output(config.output.as_deref(), config.resume)?;
    let summary_file = create_summary_file(config.summary_json.as_deref())?;
    let writer = RecordWriter::new(out, config.format, path);
    let report = run_once(config, sources, writer, config.threads, signals, "", done)?;
    if report.closed {
        return Ok(Exit::Success);
    }
    finish(config, &report.summary, summary_file)?;
    Ok(exit_code(config, &report.summary))
}

/// `--compare`: the list with 1 thread, then with N; a table on stdout.
fn run_compare(config: &Config, signals: &Signals) -> Result<Exit, Fatal> {
    input::open_sources(&config.files)?;
    let (out, path) = match config.output.as_deref() {
        Some(p) => output::open_output(Some(p), false)?,
        None => (Box::new(io::sink()) as Box<dyn Write>, PathBuf::from("-")),
    };
    let summary_file = create_summary_file(config.summary_json.as_deref())?;
    let mut final_out = Some((out, path));
    let mut runs: Vec<Summary> = Vec::new();
    for threads in [1, config.threads] {
        let sources = input::open_sources(&config.files)?;
        let writer = if threads == 1 {
            RecordWriter::new(Box::new(io::sink()), config.format, "-".into())
        } else {
            let (out, path) = final_out
                .take()
                .unwrap_or_else(|| (Box::new(io::sink()) as Box<dyn Write>, PathBuf::from("-")));
            RecordWriter::new(out, config.format, path)
        };
        let label = format!("{threads} thread(s): ");
        let report = run_once(config, sources, writer, threads, signals, &label, None)?;
        runs.push(report.summary);
        if signals.interrupted() {
            break;
        }
    }
    let last = runs.last().cloned().unwrap_or_else(|| {
        summary::Stats::default().summary(std::time::Duration::ZERO, config.threads, false)
    });
    finish(config, &last, summary_file)?;
    let mut stdout = io::stdout().lock();
    summary::write_compare_table(&mut stdout, &runs)
        .and_then(|()| stdout.flush())
        .or_else(ignore_broken_pipe)?;
    Ok(exit_code(config, &last))
}

/// What one pass over the lists produced.
struct Report {
    summary: Summary,
    closed: bool,
}

/// One pass: reader, pool and aggregator, with `threads` workers.
fn run_once(
    config: &Config,
    sources: Vec<Source>,
    mut writer: RecordWriter,
    threads: usize,
    signals: &Signals,
    label: &str,
    done: Option<resume::Done>,
) -> Result<Report, Fatal> {
    let mut progress = Progress::new(config.progress, label);
    if progress.is_visible() {
        count_in_background(config.files.clone(), config.shard, &progress);
    }
    let started = Instant::now();
    let hosts = config.politeness.map(|rules| {
        let capacity = (threads * 256).max(4096);
        Arc::new(hosts::HostQueue::new(rules, capacity, config.robots))
    });
    let mut fetcher = Fetcher::new(
        config.build_client()?,
        config.fetch.clone(),
        Arc::clone(&signals.cancel),
    );
    if let Some(queue) = &hosts {
        let queue = Arc::clone(queue);
        fetcher = fetcher.with_retry_after_hook(Arc::new(move |url, wait| {
            queue.pause(url, Instant::now() + wait);
        }));
    }
    let fetcher = Arc::new(fetcher);
    let robots_cache = if config.robots {
        let client = config.build_client()?;
        let cache = robots::RobotsCache::new(client, config.user_agent(), config.fetch.timeout);
        Some(Arc::new(cache))
    } else {
        None
    };
    let window = config.order_window.map(order::Window::new);
    let settings = PoolSettings {
        threads,
        dedupe: config.dedupe,
        done,
        shard: config.shard,
        window: window.clone(),
        hosts,
        robots: robots_cache,
    };
    let rx = pool::start(sources, fetcher, settings, Arc::clone(&signals.cancel))?;
    let begun = writer.begin();
    let aggregate = match begun {
        Ok(()) => output::aggregate(&rx, &mut writer, &mut progress, signals, window),
        Err(e) => match writer.fatal(e) {
            Some(fatal) => Err(fatal),
            None => Ok(output::Aggregate {
                stats: summary::Stats::default(),
                closed: true,
            }),
        },
    };
    progress.finish();
    let aggregate = aggregate?;
    let summary = aggregate
        .stats
        .summary(started.elapsed(), threads, signals.interrupted());
    let mut closed = aggregate.closed;
    if !closed {
        if let Err(e) = writer.end(&summary) {
            signals.cancel.store(true, Ordering::Relaxed);
            match writer.fatal(e) {
                Some(fatal) => return Err(fatal),
                None => closed = true,
            }
        }
    }
    Ok(Report { summary, closed })
}

/// Counts the files' entries on a side thread, for the progress total.
fn count_in_background(files: Vec<PathBuf>, shard: Option<shard::Shard>, progress: &Progress) {
    let total = progress.total_handle();
    let _ = std::thread::Builder::new()
        .name("scrape-count".into())
        .spawn(move || {
            if let Some(n) = input::count_entries(&files, shard) {
                total.store(n.max(1), Ordering::Relaxed);
            }
        });
}

fn create_summary_file(path: Option<&Path>) -> Result<Option<(File, PathBuf)>, Fatal> {
    path.map(|p| {
        File::create(p)
            .map(|f| (f, p.to_path_buf()))
            .map_err(|e| Fatal::Output {
                path: p.to_path_buf(),
                source: e,
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
        let _ = summary.write_human(&mut io::stderr().lock());
    }
    if let Some((mut file, path)) = summary_file {
        serde_json::to_writer_pretty(&mut file, summary)
            .map_err(io::Error::other)
            .and_then(|()| file.write_all(b"\n"))
            .map_err(|e| Fatal::Output { path, source: e })?;
    }
    Ok(())
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
