//! Gzip members made with a few reused compressors, shared by all workers.
//!
//! A deflate state is some 300 KiB (window, hash chains, buffers). Made
//! fresh for each record by a thousand workers, those blocks landed in
//! glibc's per-thread arenas and stayed there: `--warc -t 1000` on pages
//! of realistic size peaked at 550 MiB against 190 MiB without `--warc`.
//! Here there are two compressors per core, made once and reset between
//! members; a worker that finds them all busy waits for one, which costs
//! nothing that matters, since compressing is work for the cores anyway.

use std::io::{self, Write};
use std::sync::OnceLock;

use crossbeam_channel::{Receiver, Sender, bounded};
use flate2::{Compress, Compression, FlushCompress, Status};

/// Compressors per core.
const PER_CORE: usize = 2;

/// The window of every member: 2^15 bytes, gzip's.
const WINDOW_BITS: u8 = 15;

/// Free compressors: taken from `free`, given back to `back`.
struct Pool {
    back: Sender<Compress>,
    free: Receiver<Compress>,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let n = cores * PER_CORE;
        let (back, free) = bounded(n);
        for _ in 0..n {
            // Not full: the channel holds exactly n.
            let _ = back.send(Compress::new_gzip(Compression::default(), WINDOW_BITS));
        }
        Pool { back, free }
    })
}

/// One gzip member being written to `out`: what is written to it is
/// compressed, [`Member::finish`] ends it. Holds one of the pool's
/// compressors until dropped.
pub struct Member<'a, W: Write> {
    c: Option<Compress>,
    out: &'a mut W,
    buf: Vec<u8>,
}

/// Output produced per call, at most.
const OUT_CHUNK: usize = 64 * 1024;

impl<'a, W: Write> Member<'a, W> {
    /// A member at `level`, written to `out`; waits for a free compressor.
    pub fn new(out: &'a mut W, level: u32) -> Member<'a, W> {
        let pool = pool();
        // `pool` holds both ends, so this only waits.
        let mut c = pool
            .free
            .recv()
            .unwrap_or_else(|_| Compress::new_gzip(Compression::default(), WINDOW_BITS));
        c.reset();
        let _ = c.set_level(Compression::new(level));
        Member {
            c: Some(c),
            out,
            buf: Vec::with_capacity(OUT_CHUNK),
        }
    }

    /// Runs the compressor over `input` with `flush`, writing what comes
    /// out; true once the stream has ended.
    fn run(&mut self, mut input: &[u8], flush: FlushCompress) -> io::Result<bool> {
        let Some(c) = self.c.as_mut() else {
            return Err(io::Error::other("the member is finished"));
        };
        loop {
            self.buf.clear();
            let before = c.total_in();
            let status = c
                .compress_vec(input, &mut self.buf, flush)
                .map_err(io::Error::other)?;
            let used = usize::try_from(c.total_in() - before).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
            self.out.write_all(&self.buf)?;
            let ended = status == Status::StreamEnd;
            // Done when the input is taken and, when finishing, the stream
            // has ended; a call that made no output with input left would
            // loop forever, which deflate never does.
            if ended || (input.is_empty() && !matches!(flush, FlushCompress::Finish)) {
                return Ok(ended);
            }
        }
    }

    /// Ends the member.
    pub fn finish(mut self) -> io::Result<()> {
        self.run(&[], FlushCompress::Finish).map(|_| ())
    }
}

impl<W: Write> Write for Member<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.run(buf, FlushCompress::None)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for Member<'_, W> {
    fn drop(&mut self) {
        if let Some(c) = self.c.take() {
            let _ = pool().back.try_send(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn members_from_reused_compressors_decode_to_their_parts() {
        let big: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        for level in [0, 6, 1] {
            let mut member = Vec::new();
            let mut gz = Member::new(&mut member, level);
            for part in [&b"head "[..], &big, b" tail"] {
                gz.write_all(part).unwrap();
            }
            gz.finish().unwrap();
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&member[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back.len(), big.len() + 10);
            assert!(back.starts_with(b"head ") && back.ends_with(b" tail"));
        }
    }
}
