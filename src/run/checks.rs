//! What a run checks before it opens any output: outputs that would
//! overwrite an input or each other, a `--resume` whose records would
//! change shape, a `--since` PREV it cannot use.

use std::path::Path;
use std::sync::Arc;

use crate::config::Config;
use crate::error::Fatal;
use crate::files::{self, Named};
use crate::input::resume;
use crate::output::summary;
use crate::since::Since;

/// Refuses outputs that would overwrite an input or each other.
pub fn check_outputs(config: &Config) -> Result<(), Fatal> {
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

/// Refuses a `--resume` whose options would give its records another
/// shape than the earlier ones (`--text` over a run without it…): options
/// that change no key (`--threads`, timeouts, progress) may differ.
pub fn check_shape(done: &resume::Done, path: &Path, config: &Config) -> Result<(), Fatal> {
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
pub fn open_since(config: &Config) -> Result<Option<Arc<Since>>, Fatal> {
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
