//! One level's jobs, first in first out, in bounded memory: past its share
//! of `--frontier-memory` the newest jobs are appended to a spill file and
//! read back, in order, when the ones before them are gone.
//!
//! In order of age: `head` (in memory, being taken), the spill file (the
//! part not yet read back), `tail` (in memory, the newest). A push goes to
//! `tail`; when memory is over budget `tail` is written to the file. A pop
//! takes from `head`; an empty `head` is refilled from the file, a chunk at
//! a time, or else becomes `tail`.
//!
//! Why an append-only file and not an embedded store: a level is only ever
//! appended to and read in order, once; a plain file does that with
//! sequential writes and no index, and needs no dependency. Lookups (has
//! this URL been seen?) are the seen-set's, which stays in memory.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;

use super::super::Seed;
use super::entry::Entry;

/// A level's queue.
pub struct Queue {
    head: VecDeque<Entry>,
    tail: Vec<Entry>,
    /// Bytes `head` and `tail` hold ([`Entry::cost`]).
    bytes: usize,
    /// Bytes `tail` holds.
    tail_bytes: usize,
    spill: Option<Spill>,
    /// Entries in the file not yet read back.
    spilled: u64,
    path: PathBuf,
}

struct Spill {
    writer: BufWriter<File>,
    reader: BufReader<File>,
}

impl Queue {
    /// An empty queue that spills to `path` when it must.
    pub fn new(path: PathBuf) -> Queue {
        Queue {
            head: VecDeque::new(),
            tail: Vec::new(),
            bytes: 0,
            tail_bytes: 0,
            spill: None,
            spilled: 0,
            path,
        }
    }

    /// Jobs waiting.
    pub fn len(&self) -> u64 {
        (self.head.len() + self.tail.len()) as u64 + self.spilled
    }

    /// Whether no job waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a job; past `budget` bytes, the newest go to the file (a
    /// quarter of the budget at least, so that writes are few). A file
    /// that cannot be written keeps them in memory: nothing is lost.
    pub fn push(&mut self, entry: Entry, budget: usize) -> io::Result<()> {
        let cost = entry.cost();
        self.bytes += cost;
        self.tail_bytes += cost;
        self.tail.push(entry);
        if self.bytes <= budget || self.tail_bytes < budget / 4 {
            return Ok(());
        }
        self.spill_tail()
    }

    fn spill_tail(&mut self) -> io::Result<()> {
        if self.spill.is_none() {
            // Two opens, not a clone: a clone shares the file position.
            let file = OpenOptions::new()
                .create(true)
                .truncate(true)
                .write(true)
                .open(&self.path)?;
            let reader = BufReader::with_capacity(64 * 1024, File::open(&self.path)?);
            self.spill = Some(Spill {
                writer: BufWriter::with_capacity(64 * 1024, file),
                reader,
            });
        }
        let Some(spill) = self.spill.as_mut() else {
            return Ok(());
        };
        for entry in &self.tail {
            spill.writer.write_all(entry.line().as_bytes())?;
        }
        spill.writer.flush()?;
        self.spilled += self.tail.len() as u64;
        self.bytes -= self.tail_bytes;
        self.tail_bytes = 0;
        self.tail.clear();
        Ok(())
    }

    /// The oldest job; `budget` bounds how much is read back at once.
    pub fn pop(&mut self, seeds: &[Option<Arc<Seed>>], budget: usize) -> io::Result<Option<Entry>> {
        if self.head.is_empty() {
            if self.spilled > 0 {
                self.refill(seeds, budget / 4)?;
            } else {
                self.head = std::mem::take(&mut self.tail).into();
                self.tail_bytes = 0;
            }
        }
        let entry = self.head.pop_front();
        if let Some(e) = &entry {
            self.bytes = self.bytes.saturating_sub(e.cost());
        }
        Ok(entry)
    }

    /// Reads spilled jobs back into `head`, about `bytes` of them.
    fn refill(&mut self, seeds: &[Option<Arc<Seed>>], bytes: usize) -> io::Result<()> {
        let Some(spill) = self.spill.as_mut() else {
            self.spilled = 0;
            return Ok(());
        };
        let mut line = String::new();
        let mut parent = None;
        let mut read = 0;
        while self.spilled > 0 && (read < bytes || self.head.is_empty()) {
            line.clear();
            if spill.reader.read_line(&mut line)? == 0 {
                // Cannot happen: every spilled entry was flushed whole.
                self.spilled = 0;
                break;
            }
            self.spilled -= 1;
            if let Some(entry) = Entry::parse(&line, seeds, &mut parent) {
                read += entry.cost();
                self.bytes += entry.cost();
                self.head.push_back(entry);
            }
        }
        Ok(())
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        if self.spill.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{Kind, Lineage};
    use super::*;
    use url::Url;

    #[test]
    fn jobs_come_out_in_order_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let seeds = vec![Some(Arc::new(Seed::new(
            Url::parse("http://s.test/").unwrap(),
            0,
        )))];
        let entry = |i: usize| Entry {
            url: Url::parse(&format!("http://s.test/{i}")).unwrap(),
            lineage: Lineage {
                kind: Kind::Page,
                depth: 1,
                parent: None,
                seed: seeds[0].clone().unwrap(),
                lastmod: None,
            },
        };
        let mut q = Queue::new(dir.path().join("level-1"));
        let budget = 2_000;
        let mut out = Vec::new();
        for i in 0..1000 {
            q.push(entry(i), budget).unwrap();
            if i % 3 == 0 {
                out.push(q.pop(&seeds, budget).unwrap().unwrap());
            }
            assert!(
                q.bytes <= budget * 5 / 4 + 200,
                "memory stays near the budget"
            );
        }
        assert!(dir.path().join("level-1").exists(), "it spilled");
        while let Some(e) = q.pop(&seeds, budget).unwrap() {
            out.push(e);
        }
        let got: Vec<_> = out.iter().map(|e| e.url.path().to_string()).collect();
        let want: Vec<_> = (0..1000).map(|i| format!("/{i}")).collect();
        assert_eq!(got, want);
        assert!(q.is_empty());
        drop(q);
        assert!(
            !dir.path().join("level-1").exists(),
            "the file goes with it"
        );
    }
}
