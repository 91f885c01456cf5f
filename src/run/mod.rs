//! A run of scrape: the lists once (or twice, with `--compare`; or a made-up
//! site, with `--demo`), each pass a [`Pipeline`]; then the summary and the
//! exit code (docs/record.md "Summary and exit codes").
//!
//! - `checks.rs`: what is refused before any output is opened;
//! - `finish.rs`: the summary, the note of an interrupted run, the exit
//!   code.

mod checks;
mod finish;

use std::io::{self, Write};

use crate::archive::file::Archive;
use crate::cli::Cli;
use crate::config::Config;
use crate::demo;
use crate::error::{Exit, Fatal};
use crate::input::{self, resume};
use crate::limits;
use crate::output::summary;
use crate::output::writer::{self, RecordWriter};
use crate::pipeline::pass::{self, Pipeline, Run};
use crate::signals::Signals;
use checks::{check_outputs, check_shape, open_since};
use finish::{create_summary_file, exit_code, finish, ignore_broken_pipe};

/// Runs `scrape` as the command line asks.
pub fn run(cli: &Cli) -> Result<Exit, Fatal> {
    let config = Config::from_cli(cli)?;
    let keep_cap = limits::prepare(config.threads, config.files.len())?;
    let signals = Signals::install();
    let mut run = Run {
        config: &config,
        signals: &signals,
        keep_cap,
        since: None,
    };
    if config.demo {
        return demo::run(&run);
    }
    check_outputs(&config)?;
    run.since = open_since(&config)?;
    if config.compare {
        compare(&run)
    } else {
        list(&run)
    }
}

/// The normal run: every list once, records to the output.
fn list(run: &Run) -> Result<Exit, Fatal> {
    let config = run.config;
    let sources = input::open_sources(&config.files)?;
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
    let mut pass = Pipeline::new(run, config.threads, "");
    pass.done = done;
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

/// `--compare`: the lists with 1 thread, then with N; a table on stdout.
/// The records of the second pass go to `-o`, if given.
fn compare(run: &Run) -> Result<Exit, Fatal> {
    let config = run.config;
    input::open_sources(&config.files)?;
    let second = match config.output.as_deref() {
        Some(p) => writer::open_output(Some(p), false)?,
        None => (Box::new(io::sink()) as Box<dyn Write>, "-".into()),
    };
    let summary_file = create_summary_file(config.summary_json.as_deref())?;
    let sources = || input::open_sources(&config.files);
    let passes = pass::twice(run, config.threads, sources, config.format, second)?;
    if let Some(cut) = &passes.interrupted {
        eprintln!(
            "scrape: the pass with {} was interrupted: it is not in the table",
            summary::count(cut.threads as u64, "thread", "threads")
        );
    }
    let last = passes
        .interrupted
        .clone()
        .or_else(|| passes.finished.last().cloned())
        .unwrap_or_else(|| {
            summary::Stats::default().summary(std::time::Duration::ZERO, config.threads, false)
        });
    finish(config, &last, summary_file)?;
    let mut stdout = io::stdout().lock();
    summary::write_compare_table(&mut stdout, &passes.finished)
        .and_then(|()| stdout.flush())
        .or_else(ignore_broken_pipe)?;
    Ok(exit_code(config, &last))
}
