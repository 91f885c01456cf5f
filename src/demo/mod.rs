//! `scrape --demo`: what this tool is for, on any machine, internet or not.
//!
//! It starts a made-up site on 127.0.0.1 ([`site`]: a few hundred pages,
//! most answering in tens of milliseconds, some slowly, a few broken), reads
//! it with one worker and then with `--threads N` (16 by default) through
//! the same pipeline as any list, and prints the two side by side as
//! `--compare` does, then a few of the records — the sequential-versus-
//! threaded lesson, and the output a real run gives.

pub mod site;

use std::io::{self, Cursor, Write};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{Exit, Fatal};
use crate::input::Source;
use crate::output::summary::{self, Summary};
use crate::output::writer::Format;
use crate::pipeline::pass::{self, Run};
use site::Site;

/// How many records the demo shows.
const SHOWN: usize = 4;

/// Runs the demo; the table and records go to standard output.
pub fn run(run: &Run) -> Result<Exit, Fatal> {
    let site = Site::start()?;
    let threads = run.config.threads;
    eprintln!(
        "scrape --demo: {} pages of a local site at {} (most answer in 10 to 30 ms, \
         a few take 400 ms, a few are broken), first with 1 thread, then with {threads}",
        site::PAGES,
        site.base()
    );
    let records = Captured::default();
    let sources = || {
        let list = Cursor::new(site.list().into_bytes());
        Ok(vec![Source::from_reader("demo", list)])
    };
    let second = (Box::new(records.clone()) as Box<dyn Write>, "-".into());
    let passes = pass::twice(run, threads, sources, Format::Jsonl, second)?;
    if passes.interrupted.is_some() {
        return Ok(Exit::Interrupted);
    }
    show(&passes.finished, &records).or_else(|e| match e.kind() {
        io::ErrorKind::BrokenPipe => Ok(()),
        _ => Err(Fatal::Output {
            path: "-".into(),
            source: e,
        }),
    })?;
    Ok(Exit::Success)
}

/// The table, a few records, and what to try next.
fn show(runs: &[Summary], records: &Captured) -> io::Result<()> {
    let mut out = io::stdout().lock();
    summary::write_compare_table(&mut out, runs)?;
    writeln!(out)?;
    let text = records.text();
    let mut picked: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("\"ok\":true"))
        .take(SHOWN - 1)
        .collect();
    picked.extend(text.lines().find(|l| l.contains("\"ok\":false")));
    writeln!(
        out,
        "{} of the records (one JSON object per line of the list):",
        picked.len()
    )?;
    for line in picked {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Now your own list: scrape urls.txt --compare -t 16, or scrape urls.txt | jq 'select(.ok) | .title'"
    )?;
    out.flush()
}

/// Records written to memory, to show a few.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
