//! The aggregator: the one place that writes records (SPEC.md §1).
//!
//! It receives every message of the pool, counts it into [`Stats`], draws
//! progress, and writes each record whole: a record is serialized into a
//! buffer first and written as one `write_all` of a complete line, so lines
//! from different workers never interleave and a buffer flush never leaves
//! half a record behind.
//!
//! Flushing policy: records are buffered and flushed when the result channel
//! is empty and the oldest unflushed record is [`FLUSH_EVERY`] old (or when
//! the 64 KiB buffer fills) — so a busy run makes few system calls, records
//! show up downstream within a tenth of a second, and a `kill -9` loses at
//! most the records of that last tenth.
//!
//! A closed standard output (`scrape … | head -1`) ends the run quietly.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, TryRecvError};

use crate::cli::Format;
use crate::error::Fatal;
use crate::order::{Reorder, Window};
use crate::pool::Msg;
use crate::progress::Progress;
use crate::record::Record;
use crate::signals::Signals;
use crate::summary::{Stats, Summary};

/// How long in-flight requests may still finish after Ctrl-C.
pub const GRACE: Duration = Duration::from_secs(2);

/// How often the aggregator wakes while waiting, to draw progress.
const TICK: Duration = Duration::from_millis(200);

/// The longest a written record waits in the buffer while the run idles.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

const BUFFER: usize = 64 * 1024;

/// When records come faster than one per this, the aggregator naps this
/// long between drains instead of blocking on the channel: a blocked
/// receiver costs every worker a wake-up call per record, a napping one
/// collects a batch of them for one wake-up.
pub const NAP: Duration = Duration::from_millis(1);

/// Writes records in the chosen format to one destination.
pub struct RecordWriter {
    out: Box<dyn Write>,
    format: Format,
    path: PathBuf,
    line: Vec<u8>,
    written: u64,
    /// When the oldest record not yet flushed was written.
    unflushed_since: Option<Instant>,
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
            let mut options = OpenOptions::new();
            if append {
                options.append(true).create(true);
            } else {
                options.write(true).create(true).truncate(true);
            }
            let file = options.open(p).map_err(|e| Fatal::Output {
                path: p.to_path_buf(),
                source: e,
            })?;
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
        }
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

    /// Flushes if the oldest unflushed record is [`FLUSH_EVERY`] old; returns
    /// how long the caller may wait before asking again.
    pub fn flush_if_due(&mut self) -> io::Result<Duration> {
        match self.unflushed_since.map(|t| t.elapsed()) {
            Some(age) if age >= FLUSH_EVERY => self.flush().map(|()| TICK),
            Some(age) => Ok(FLUSH_EVERY - age),
            None => Ok(TICK),
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

/// What the aggregator saw.
pub struct Aggregate {
    /// Counts and latencies.
    pub stats: Stats,
    /// The output was closed by its reader; nothing more can be written.
    pub closed: bool,
}

/// Receives until the pool is done (or the grace after Ctrl-C runs out),
/// writing every record.
pub fn aggregate(
    rx: &Receiver<Msg>,
    writer: &mut RecordWriter,
    progress: &mut Progress,
    signals: &Signals,
    window: Option<Arc<Window>>,
) -> Result<Aggregate, Fatal> {
    let mut stats = Stats::default();
    let mut reorder = window.map(Reorder::new);
    let mut grace_ends: Option<Instant> = None;
    let mut busy = false;
    loop {
        let msg = match rx.try_recv() {
            Ok(msg) => msg,
            Err(TryRecvError::Disconnected) => break,
            Err(TryRecvError::Empty) => {
                let wait = match writer.flush_if_due() {
                    Ok(wait) => wait,
                    Err(e) => return closed_or_fatal(writer, e, stats, signals),
                };
                progress.update();
                if signals.interrupted() {
                    let ends = *grace_ends.get_or_insert_with(|| {
                        progress.note(&format!(
                            "scrape: interrupted: waiting up to {} s for requests in flight \
                             (press Ctrl-C again to stop now)",
                            GRACE.as_secs()
                        ));
                        Instant::now() + GRACE
                    });
                    if Instant::now() >= ends {
                        break;
                    }
                }
                if busy {
                    std::thread::sleep(NAP.min(wait));
                    busy = !rx.is_empty();
                    continue;
                }
                let waited = Instant::now();
                match rx.recv_timeout(wait) {
                    Ok(msg) => {
                        busy = waited.elapsed() < NAP;
                        msg
                    }
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
        };
        match msg {
            Msg::Record(record) => {
                stats.add(&record);
                progress.record(record.ok, record.error.is_some());
                let seq = record.seq;
                if let Err(e) = deliver(writer, reorder.as_mut(), seq, Some(record)) {
                    return closed_or_fatal(writer, e, stats, signals);
                }
            }
            Msg::Skipped(seq) => {
                stats.skip();
                progress.skipped();
                if let Err(e) = deliver(writer, reorder.as_mut(), seq, None) {
                    return closed_or_fatal(writer, e, stats, signals);
                }
            }
            Msg::Resumed(seq) => {
                stats.resumed();
                progress.skipped();
                if let Err(e) = deliver(writer, reorder.as_mut(), seq, None) {
                    return closed_or_fatal(writer, e, stats, signals);
                }
            }
            Msg::OtherShards(n) => stats.other_shards(n),
            Msg::Fatal(fatal) => {
                signals.cancel.store(true, Ordering::Relaxed);
                let _ = writer.flush();
                return Err(fatal);
            }
        }
    }
    if let Some(reorder) = reorder.as_mut() {
        if let Err(e) = reorder.drain(|r| writer.write(r)) {
            return closed_or_fatal(writer, e, stats, signals);
        }
    }
    Ok(Aggregate {
        stats,
        closed: false,
    })
}

/// Writes a result now, or when its turn comes (`--ordered`).
fn deliver(
    writer: &mut RecordWriter,
    reorder: Option<&mut Reorder>,
    seq: u64,
    record: Option<Box<Record>>,
) -> io::Result<()> {
    match (reorder, record) {
        (Some(reorder), record) => reorder.push(seq, record, |r| writer.write(r)),
        (None, Some(record)) => writer.write(&record),
        (None, None) => Ok(()),
    }
}

fn closed_or_fatal(
    writer: &RecordWriter,
    e: io::Error,
    stats: Stats,
    signals: &Signals,
) -> Result<Aggregate, Fatal> {
    signals.cancel.store(true, Ordering::Relaxed);
    match writer.fatal(e) {
        Some(fatal) => Err(fatal),
        None => Ok(Aggregate {
            stats,
            closed: true,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        Record::invalid(line, format!("bad {line}"), "not a URL")
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
