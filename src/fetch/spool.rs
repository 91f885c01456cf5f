//! Bytes kept for a while — a raw payload for `--warc`, a URL's compressed
//! records on their way to the archive — in memory while they are small,
//! in an unnamed temporary file once they are not.
//!
//! A [`Spool`] takes writes; what may stay in memory is either a fixed
//! size or what a shared [`Budget`] grants (`Limit`). Past it, what is
//! held moves to a file made with `tempfile` (already unlinked: nothing is
//! left behind, whatever happens to the run). [`Spool::finish`] gives the
//! [`Stored`] bytes, read back in chunks. If no temporary file can be made
//! (a full or read-only `TMPDIR`), the bytes stay in memory: memory is
//! risked, the archive is not.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::budget::{Budget, Held};

/// How much a spool may hold in memory.
pub enum Limit {
    /// This many bytes.
    Fixed(usize),
    /// What the budget grants, asked for as the bytes come.
    Budget(Arc<Budget>),
}

/// Bytes being written.
pub struct Spool {
    mem: Vec<u8>,
    file: Option<BufWriter<File>>,
    len: u64,
    limit: Limit,
    held: Option<Held>,
}

/// Bytes written, in memory (with their place in the budget) or in a file.
#[derive(Debug)]
pub enum Stored {
    /// In memory.
    Memory {
        /// The bytes.
        bytes: Vec<u8>,
        /// Their place in the budget, given back when they are dropped.
        _held: Option<Held>,
    },
    /// In an unnamed temporary file, from its start.
    File(File, u64),
}

/// How much is read from a file at once.
const CHUNK: usize = 64 * 1024;

impl Spool {
    /// An empty spool, `capacity` reserved in memory (within the limit).
    pub fn new(limit: Limit, capacity: usize) -> Spool {
        let mut spool = Spool {
            mem: Vec::new(),
            file: None,
            len: 0,
            limit,
            held: None,
        };
        if spool.room_for(capacity) {
            spool.mem.reserve_exact(capacity);
        }
        spool
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether `total` bytes may be in memory.
    fn room_for(&mut self, total: usize) -> bool {
        match &self.limit {
            Limit::Fixed(max) => total <= *max,
            Limit::Budget(budget) => match &mut self.held {
                Some(held) => held.try_grow(total),
                None => match budget.try_reserve(total) {
                    Some(held) => {
                        self.held = Some(held);
                        true
                    }
                    None => false,
                },
            },
        }
    }

    /// Moves what is in memory to a temporary file; stays in memory if
    /// none can be made.
    fn spill(&mut self) {
        let Ok(file) = tempfile::tempfile() else {
            return;
        };
        let mut file = BufWriter::with_capacity(CHUNK, file);
        if file.write_all(&self.mem).is_err() {
            return;
        }
        self.mem = Vec::new();
        self.held = None;
        self.file = Some(file);
    }

    /// The bytes written.
    pub fn finish(self) -> Stored {
        match self.file {
            None => Stored::Memory {
                bytes: self.mem,
                _held: self.held,
            },
            Some(mut file) => {
                // A failed write shows when the bytes are read back.
                let _ = file.flush();
                Stored::File(file.into_parts().0, self.len)
            }
        }
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.file.is_none() && !self.room_for(self.mem.len() + buf.len()) {
            self.spill();
        }
        match &mut self.file {
            Some(file) => file.write_all(buf)?,
            None => self.mem.extend_from_slice(buf),
        }
        self.len += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.flush(),
            None => Ok(()),
        }
    }
}

impl Stored {
    /// Nothing.
    pub fn empty() -> Stored {
        Stored::bytes(Vec::new())
    }

    /// `bytes`, in memory outside any budget.
    pub fn bytes(bytes: Vec<u8>) -> Stored {
        Stored::Memory { bytes, _held: None }
    }

    /// Bytes stored.
    pub fn len(&self) -> u64 {
        match self {
            Stored::Memory { bytes, .. } => bytes.len() as u64,
            Stored::File(_, len) => *len,
        }
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hands the bytes to `f`, in order, a chunk at a time.
    pub fn chunks(&self, mut f: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        match self {
            Stored::Memory { bytes, .. } => f(bytes),
            Stored::File(file, len) => {
                let mut buf = vec![0; CHUNK];
                let mut at = 0;
                while at < *len {
                    let want = (*len - at).min(CHUNK as u64) as usize;
                    file.read_exact_at(&mut buf[..want], at)?;
                    f(&buf[..want])?;
                    at += want as u64;
                }
                Ok(())
            }
        }
    }

    /// All the bytes, in one `Vec`.
    #[cfg(test)]
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = self.chunks(|c| {
            out.extend_from_slice(c);
            Ok(())
        });
        out
    }
}

impl PartialEq for Stored {
    /// Equal bytes (files compared by length: bookkeeping, not content).
    fn eq(&self, other: &Stored) -> bool {
        match (self, other) {
            (Stored::Memory { bytes: a, .. }, Stored::Memory { bytes: b, .. }) => a == b,
            _ => self.len() == other.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_its_limit_a_spool_moves_to_a_file_and_keeps_every_byte() {
        let mut spool = Spool::new(Limit::Fixed(10), 4);
        spool.write_all(b"0123456789").unwrap();
        spool.write_all(b"abcdef").unwrap();
        let stored = spool.finish();
        assert!(matches!(stored, Stored::File(_, 16)), "{stored:?}");
        assert_eq!(stored.to_vec(), b"0123456789abcdef");
    }

    #[test]
    fn a_spool_holds_in_memory_what_its_budget_grants() {
        let budget = Budget::new(100);
        let mut a = Spool::new(Limit::Budget(Arc::clone(&budget)), 0);
        a.write_all(&[1; 80]).unwrap();
        let mut b = Spool::new(Limit::Budget(Arc::clone(&budget)), 0);
        b.write_all(&[2; 30]).unwrap();
        let (a, b) = (a.finish(), b.finish());
        assert!(matches!(a, Stored::Memory { .. }));
        assert!(matches!(b, Stored::File(..)), "the budget was spent");
        assert_eq!(b.to_vec(), [2; 30]);
        drop(a);
        assert_eq!(budget.held(), 0, "given back with the bytes");
    }
}
