//! Gzip members made with a few reused compressors, shared by all workers.
//!
//! A deflate state is some 300 KiB (window, hash chains, buffers). Made
//! fresh for each record by a thousand workers, those blocks landed in
//! glibc's per-thread arenas and stayed there: `--warc -t 1000` on pages
//! of realistic size peaked at 550 MiB against 190 MiB without `--warc`.
//! Here there are two compressors per core, made once and reset between
//! members; a worker that finds them all busy waits for one, which costs
//! nothing that matters, since compressing is work for the cores anyway.

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

/// One gzip member of `parts`, one after another, at `level`.
pub fn gzip<'a>(parts: impl Iterator<Item = &'a [u8]>, capacity: usize, level: u32) -> Vec<u8> {
    let pool = pool();
    // `pool` holds both ends, so this only waits.
    let mut c = pool
        .free
        .recv()
        .unwrap_or_else(|_| Compress::new_gzip(Compression::default(), WINDOW_BITS));
    let out = member(&mut c, parts, capacity, level);
    let _ = pool.back.try_send(c);
    out
}

/// `parts` through `c`, reset first. A compressor error (none is expected
/// of in-memory deflate) ends the member early: `warcio check` would then
/// name the record, and the run goes on.
fn member<'a>(
    c: &mut Compress,
    parts: impl Iterator<Item = &'a [u8]>,
    capacity: usize,
    level: u32,
) -> Vec<u8> {
    c.reset();
    let _ = c.set_level(Compression::new(level));
    let mut out = Vec::with_capacity(capacity.max(64));
    for mut input in parts {
        while !input.is_empty() {
            out.reserve((input.len() / 2).max(4096));
            let before = c.total_in();
            if c.compress_vec(input, &mut out, FlushCompress::None)
                .is_err()
            {
                return out;
            }
            let used = usize::try_from(c.total_in() - before).unwrap_or(input.len());
            input = &input[used.min(input.len())..];
        }
    }
    loop {
        out.reserve(4096);
        match c.compress_vec(&[], &mut out, FlushCompress::Finish) {
            Ok(Status::StreamEnd) | Err(_) => return out,
            Ok(_) => {}
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
        for level in [1, 6, 1] {
            let member = gzip([&b"head "[..], &big, b" tail"].into_iter(), 10, level);
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&member[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back.len(), big.len() + 10);
            assert!(back.starts_with(b"head ") && back.ends_with(b" tail"));
        }
    }
}
