//! Reading a response body: streamed into the page scanner as it arrives,
//! at most `--max-body` decoded bytes, under the attempt's deadline.
//!
//! Nothing holds the whole body: each chunk goes to the scanner and is
//! dropped. The read buffer is taken per body, not per worker, so a
//! thousand idle workers hold no buffers, and it starts small. How a body ended also tells the
//! connection budget whether its connection went back to the pool
//! ([`Ending`]).

use std::io::{self, Read};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use reqwest::blocking::Response;
use reqwest::header;

use super::capture::{self, Cut, Exchange, Tee};
use super::classify::classify_read;
use super::decode::{self, DECODE_ERROR};
use super::sockets::Ending;
use super::spool::{Limit, Spool, Stored};
use super::validators::BodyHash;
use super::{Fetched, Fetcher};
use crate::budget::Held;
use crate::budget::UNKNOWN_SIZE;
use crate::error::{ErrorKind, FetchError};
use crate::html::Scanner;
use crate::html::collector::Collector;
use crate::urls::redact;

/// How much body is read at once: first [`FIRST_CHUNK`], then, once a read
/// fills that, up to this. Most pages are a few kilobytes, and thousands of
/// workers may be reading at the same moment.
const READ_CHUNK: usize = 16 * 1024;
const FIRST_CHUNK: usize = 4 * 1024;

/// The first read's size for a body of `len` bytes (Content-Length): one
/// byte more, to see the end in the same read, within [`FIRST_CHUNK`].
fn first_read(len: u64) -> usize {
    usize::try_from(len.saturating_add(1)).map_or(FIRST_CHUNK, |n| n.clamp(1, FIRST_CHUNK))
}

/// The most of a redirect's body read so that its connection can be
/// reused; past that the connection is closed instead.
const DRAIN_LIMIT: u64 = 64 * 1024;

impl Fetcher {
    /// Reads the body into the page scanner, up to `--max-body` decoded
    /// bytes: its content codings, a tee of the raw bytes for `--warc`,
    /// the scanner with its share of the body budget, the read loop, then
    /// what the response leaves in `out`.
    #[inline(never)]
    pub(super) fn read_body(
        &self,
        resp: Response,
        out: &mut Fetched,
        deadline: Instant,
        exchange: Option<Exchange>,
    ) -> Ending {
        let closes = asks_to_close(&resp);
        let Some(codings) = codings_of(&resp, out) else {
            out.exchanges.extend(exchange.map(|mut e| {
                e.cut = Some(Cut::Unspecified);
                e
            }));
            return Ending::Closed;
        };
        let resp_len = resp.content_length();
        let (raw, copy) = self.tee(resp, resp_len, exchange.is_some());
        let mut body = decode::decoder(raw, &codings);
        let collector = Collector::new(Arc::clone(&self.settings.extraction));
        // On the heap: 552 bytes that would otherwise sit under the page
        // parser's frames, the deepest a worker's stack goes.
        let mut scanner = Box::new(Scanner::new(out.content_type.as_deref(), collector));
        let mut held = self.hold(&mut scanner, resp_len, deadline);
        let first = resp_len.map_or(FIRST_CHUNK, first_read);
        let (ended, hash) = self.stream(&mut body, &mut scanner, first, &mut held, out, deadline);
        drop(body);
        out.sha256 = Some(hash.hex());
        if let (Some(mut exchange), Some(copy)) = (exchange, copy) {
            exchange.payload = capture::take(copy);
            exchange.cut = cut_of(out, ended);
            out.exchanges.push(exchange);
        }
        out.page = scanner.finish(out.final_url.as_ref());
        if let (Some(body), Some(mut held)) = (&mut out.page.body, held) {
            held.resize(body.bytes.len());
            body.held = Some(held);
        }
        self.log_body(out);
        ending(ended && !closes)
    }

    /// With `--warc`: the response read through a tee that keeps the raw
    /// (still content-encoded) bytes, within the raw budget.
    fn tee(
        &self,
        resp: Response,
        resp_len: Option<u64>,
        capture: bool,
    ) -> (Box<dyn Read + Send>, Option<Arc<Mutex<Spool>>>) {
        if !capture {
            return (Box::new(resp), None);
        }
        // The raw length is Content-Length, when it is sent.
        let raw_len = resp_len.map_or(FIRST_CHUNK as u64, |n| n.min(self.settings.max_body));
        let raw_len = usize::try_from(raw_len).unwrap_or(0);
        let limit = match &self.raw_budget {
            Some(budget) => Limit::Budget(Arc::clone(budget)),
            None => Limit::Fixed(usize::MAX),
        };
        let (tee, copy) = Tee::new(resp, Spool::new(limit, raw_len));
        (Box::new(tee), Some(copy))
    }

    /// The body's share of the budget for kept bodies, when the scanner
    /// keeps it (`--text`); room reserved for a body of known length.
    fn hold(
        &self,
        scanner: &mut Scanner,
        resp_len: Option<u64>,
        deadline: Instant,
    ) -> Option<Held> {
        let size = resp_size(resp_len, self.settings.max_body);
        let held = self
            .budget
            .as_ref()
            .filter(|_| scanner.keeps_body())
            .map(|budget| budget.reserve(size, deadline));
        if resp_len.is_some() {
            scanner.reserve(size);
        }
        held
    }

    /// The read loop: decoded chunks into the hash and the scanner, at most
    /// `--max-body` bytes, the first read `first` bytes long; whether the
    /// body ended (not cut, not broken), and its hash.
    fn stream(
        &self,
        body: &mut impl Read,
        scanner: &mut Scanner,
        first: usize,
        held: &mut Option<Held>,
        out: &mut Fetched,
        deadline: Instant,
    ) -> (bool, BodyHash) {
        let max = self.settings.max_body;
        let mut hash = BodyHash::default();
        // Sized to the body when its length is known: a small page takes no
        // large zeroed buffer.
        let mut buf = vec![0; first];
        loop {
            // Ask for one byte past the limit, to know whether there is more.
            let room = (max - out.bytes).saturating_add(1).min(buf.len() as u64) as usize;
            let n = match body.read(&mut buf[..room]) {
                Ok(0) => return (true, hash),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    out.error = Some(if Instant::now() >= deadline {
                        self.timeout_error()
                    } else {
                        classify_read(&e, &self.settings)
                    });
                    return (false, hash);
                }
            };
            let keep = (n as u64).min(max - out.bytes) as usize;
            hash.update(&buf[..keep]);
            if keep > 0 && scanner.wants_more() {
                scanner.feed(&buf[..keep]);
            }
            out.bytes += keep as u64;
            if let Some(held) = held {
                held.grow(out.bytes as usize);
            }
            if keep < n {
                out.truncated = true;
                return (false, hash);
            }
            if n == buf.len() && buf.len() < READ_CHUNK {
                buf.resize(READ_CHUNK, 0);
            }
        }
    }

    /// Reads and drops a redirect's body (a few bytes, usually), so that its
    /// connection can serve the next hop or another URL.
    /// With `--warc`, the bytes drained are the exchange's payload.
    pub(super) fn drain(
        &self,
        resp: Response,
        exchange: Option<Exchange>,
    ) -> (Ending, Option<Exchange>) {
        let closes = asks_to_close(&resp);
        let mut limited = resp.take(DRAIN_LIMIT + 1);
        let Some(mut exchange) = exchange else {
            let ended = io::copy(&mut limited, &mut io::sink()).is_ok_and(|n| n <= DRAIN_LIMIT);
            return (ending(ended && !closes), None);
        };
        let mut payload = Vec::new();
        let read = limited.read_to_end(&mut payload);
        let ended = read.is_ok() && payload.len() as u64 <= DRAIN_LIMIT;
        if read.is_err() {
            exchange.cut = Some(Cut::Disconnect);
        } else if !ended {
            payload.truncate(DRAIN_LIMIT as usize);
            exchange.cut = Some(Cut::Length);
        }
        exchange.payload = Stored::bytes(payload);
        (ending(ended && !closes), Some(exchange))
    }

    /// With `-v`: how the body ended.
    fn log_body(&self, out: &Fetched) {
        if !self.settings.verbose {
            return;
        }
        let url = out.final_url.as_ref().map(redact::url).unwrap_or_default();
        let end = match &out.error {
            Some(e) => format!(", then {}: {}", e.kind.as_str(), e.message),
            None if out.truncated => ", truncated at --max-body".to_string(),
            None => String::new(),
        };
        self.log(format_args!("{url}: body {} bytes{end}", out.bytes));
    }
}

/// The content codings of `resp`, or `None` (the error in `out`) for one
/// scrape cannot undo.
fn codings_of(resp: &Response, out: &mut Fetched) -> Option<Vec<decode::Coding>> {
    let encodings = resp.headers().get_all(header::CONTENT_ENCODING);
    match decode::codings(encodings.iter().map(|v| v.as_bytes())) {
        Ok(codings) => Some(codings),
        Err(unknown) => {
            out.error = Some(FetchError::new(
                ErrorKind::Http,
                format!(
                    "{DECODE_ERROR}: unknown Content-Encoding '{unknown}' (scrape decodes {})",
                    decode::ACCEPT_ENCODING
                ),
            ));
            None
        }
    }
}

/// Why the raw payload read is not the whole body, if it is not: cut at
/// `--max-body`, by the deadline, by the connection, or by a decoding
/// error (scrape stops reading what it cannot decode).
fn cut_of(out: &Fetched, ended: bool) -> Option<Cut> {
    match &out.error {
        _ if out.truncated => Some(Cut::Length),
        Some(e) if e.kind == ErrorKind::Timeout => Some(Cut::Time),
        Some(e) if e.message.starts_with(DECODE_ERROR) => Some(Cut::Unspecified),
        Some(_) => Some(Cut::Disconnect),
        None if !ended => Some(Cut::Unspecified),
        None => None,
    }
}

/// What a body about to be kept reserves: its Content-Length (encoded
/// size: a first guess) within `--max-body`, or a guess when unknown.
fn resp_size(content_length: Option<u64>, max: u64) -> usize {
    let size = content_length.map_or(UNKNOWN_SIZE as u64, |n| n.min(max));
    usize::try_from(size).unwrap_or(usize::MAX)
}

/// Whether the response says its connection closes after it.
fn asks_to_close(resp: &Response) -> bool {
    resp.headers()
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

fn ending(reusable: bool) -> Ending {
    if reusable {
        Ending::Reusable
    } else {
        Ending::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_read_fits_a_small_body_and_one_byte_more() {
        assert_eq!(first_read(0), 1);
        assert_eq!(first_read(17), 18);
        assert_eq!(first_read(FIRST_CHUNK as u64 - 1), FIRST_CHUNK);
        assert_eq!(first_read(1 << 20), FIRST_CHUNK);
        assert_eq!(first_read(u64::MAX), FIRST_CHUNK);
    }
}
