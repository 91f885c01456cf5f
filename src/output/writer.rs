//! Writing records: JSON Lines or one JSON document, to standard output or
//! a file, each record whole.
//!
//! A record is serialized into a buffer first and written as one
//! `write_all` of a complete line, so lines never interleave and a buffer
//! flush never leaves half a record behind. Records are buffered (64 KiB)
//! and flushed when the aggregator asks ([`RecordWriter::flush_if_due`]):
//! once the oldest unflushed record is [`FLUSH_EVERY`] old — so a busy run
//! makes few system calls, records show up downstream within a tenth of a
//! second, and a `kill -9` loses at most the records of that last tenth.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::Fatal;
use crate::files;
use crate::output::summary::Summary;
use crate::record::Record;

/// How records are written (`--format`).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON record a line.
    Jsonl,
    /// One JSON document: {"results": [...], "summary": {...}}.
    Json,
}

/// The longest a written record waits in the buffer while the run idles.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// How long the caller may wait when nothing is due.
const IDLE_WAIT: Duration = Duration::from_millis(200);

const BUFFER: usize = 64 * 1024;

/// Writes records in the chosen format to one destination.
pub struct RecordWriter {
    out: Box<dyn Write>,
    format: Format,
    path: PathBuf,
    line: Vec<u8>,
    written: u64,
    /// When the oldest record not yet flushed was written.
    unflushed_since: Option<Instant>,
    /// How long a record may wait in the buffer ([`FLUSH_EVERY`]).
    flush_every: Duration,
}

/// Opens the destination of records: a file created (or truncated, or with
/// `append` added to) now, so an unwritable path fails before any request;
/// or standard output.
pub fn open_output(path: Option<&Path>, append: bool) -> Result<(Box<dyn Write>, PathBuf), Fatal> {
    match path {
        None => Ok((
            Box::new(BufWriter::with_capacity(BUFFER, io::stdout().lock())),
            PathBuf::from("-"),
        )),
        Some(p) => {
            let file = files::open_locked(p, append)?;
            Ok((
                Box::new(BufWriter::with_capacity(BUFFER, file)),
                p.to_path_buf(),
            ))
        }
    }
}

impl RecordWriter {
    /// A writer to `out`; `path` names it in error messages.
    pub fn new(out: Box<dyn Write>, format: Format, path: PathBuf) -> RecordWriter {
        RecordWriter {
            out,
            format,
            path,
            line: Vec::with_capacity(1024),
            written: 0,
            unflushed_since: None,
            flush_every: FLUSH_EVERY,
        }
    }

    /// Records wait at most `every` in the buffer: a crawl flushes what it
    /// has each time the aggregator has taken in what came (`every` zero),
    /// so that a `kill -9` leaves few fetched pages without their record,
    /// to be fetched again by `--resume`.
    pub fn flushing_every(mut self, every: Duration) -> RecordWriter {
        self.flush_every = every;
        self
    }

    /// Starts the output (the opening of the `json` document).
    pub fn begin(&mut self) -> io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(b"{\"results\":[")?;
        }
        Ok(())
    }

    /// Writes one record as one whole line.
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        self.line.clear();
        if self.format == Format::Json {
            self.line
                .extend_from_slice(if self.written == 0 { b"\n" } else { b",\n" });
        }
        serde_json::to_writer(&mut self.line, record).map_err(io::Error::other)?;
        if self.format == Format::Jsonl {
            self.line.push(b'\n');
        }
        self.out.write_all(&self.line)?;
        self.written += 1;
        self.unflushed_since.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// Flushes what is buffered.
    pub fn flush(&mut self) -> io::Result<()> {
        self.unflushed_since = None;
        self.out.flush()
    }

    /// Flushes if the oldest unflushed record is `flush_every` old; returns
    /// how long the caller may wait before asking again.
    pub fn flush_if_due(&mut self) -> io::Result<Duration> {
        match self.unflushed_since.map(|t| t.elapsed()) {
            Some(age) if age >= self.flush_every => self.flush().map(|()| IDLE_WAIT),
            Some(age) => Ok(self.flush_every - age),
            None => Ok(IDLE_WAIT),
        }
    }

    /// Ends the output (the `json` document gets its summary) and flushes.
    pub fn end(&mut self, summary: &Summary) -> io::Result<()> {
        if self.format == Format::Json {
            self.out.write_all(b"\n],\"summary\":")?;
            serde_json::to_writer(&mut self.out, summary).map_err(io::Error::other)?;
            self.out.write_all(b"}\n")?;
        }
        self.out.flush()
    }

    /// An output error as the run's fatal error, or `None` for a closed pipe
    /// (the reader went away: a quiet end).
    pub fn fatal(&self, e: io::Error) -> Option<Fatal> {
        (e.kind() != io::ErrorKind::BrokenPipe).then(|| Fatal::Output {
            path: self.path.clone(),
            source: e,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::summary::Stats;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn record(line: u64) -> Record {
        Record::invalid("-".into(), line, format!("bad {line}"), "not a URL")
    }

    fn written(format: Format, n: u64) -> String {
        let buf = Shared::default();
        let mut w = RecordWriter::new(Box::new(buf.clone()), format, "-".into());
        w.begin().unwrap();
        for i in 1..=n {
            w.write(&record(i)).unwrap();
        }
        let summary = Stats::default().summary(Duration::ZERO, 1, false);
        w.end(&summary).unwrap();
        let bytes = buf.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn jsonl_is_one_record_a_line() {
        let text = written(Format::Jsonl, 3);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for (i, line) in lines.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["line"], i as u64 + 1);
        }
    }

    #[test]
    fn json_is_one_document_even_when_empty() {
        for n in [0, 1, 3] {
            let v: serde_json::Value = serde_json::from_str(&written(Format::Json, n)).unwrap();
            assert_eq!(v["results"].as_array().unwrap().len(), n as usize);
            assert!(v["summary"].is_object());
        }
    }

    #[test]
    fn broken_pipe_is_not_fatal_other_errors_are() {
        let w = RecordWriter::new(Box::new(io::sink()), Format::Jsonl, "out".into());
        assert!(
            w.fatal(io::Error::from(io::ErrorKind::BrokenPipe))
                .is_none()
        );
        let fatal = w.fatal(io::Error::other("disk full")).unwrap();
        assert_eq!(fatal.to_string(), "cannot write out: disk full");
    }
}
