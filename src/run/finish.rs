//! How a run ends: the summary on stderr and in `--summary-json`, what an
//! interrupted run left undone and how to finish it, the exit code.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::{Exit, Fatal};
use crate::files;
use crate::input;
use crate::output::summary::{self, Summary};

/// Creates `--summary-json` now, so an unwritable path fails before any
/// request.
pub fn create_summary_file(path: Option<&Path>) -> Result<Option<(File, PathBuf)>, Fatal> {
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
pub fn finish(
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
    // A crawl's lines are only its seeds: what is left is its frontier.
    let left = config.crawl.as_ref().map(|_| {
        format!(
            "the crawl is not finished ({} written)",
            summary::count(summary.records, "record", "records")
        )
    });
    let left = left.or_else(|| count_left(config, summary));
    let left = left.unwrap_or_else(|| "the rest of the list is not done".to_string());
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

/// "N of M lines not done", when the lists can be counted.
fn count_left(config: &Config, summary: &Summary) -> Option<String> {
    input::count_entries(&config.files, config.shard).map(|total| {
        let left = total.saturating_sub(summary.urls);
        format!(
            "{} of {total} not done",
            summary::count(left, "line", "lines")
        )
    })
}

/// The exit code of a run that ended with `summary`.
pub fn exit_code(config: &Config, summary: &Summary) -> Exit {
    if summary.interrupted {
        Exit::Interrupted
    } else if config.fail_on_error && summary.failed > 0 {
        Exit::RecordErrors
    } else {
        Exit::Success
    }
}

/// A closed standard output is a quiet end, not an error.
pub fn ignore_broken_pipe(e: io::Error) -> Result<(), Fatal> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Fatal::Output {
            path: "-".into(),
            source: e,
        })
    }
}
