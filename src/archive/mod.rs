//! `--warc`: every HTTP exchange kept as WARC/1.1 records (ISO 28500), each
//! record its own gzip member (`.warc.gz`, docs/archive.md).
//!
//! The work is split so that one thread writes and all threads compress:
//! - a worker turns its URL's exchanges ([`Exchange`], captured by
//!   `fetch::capture`) into a [`Blob`] — for each exchange a `request` and a
//!   `response` record linked by `WARC-Concurrent-To`, digests computed,
//!   each record gzip-compressed on its own ([`encode`]);
//! - the aggregator hands the blob to the [`file::Archive`], which appends
//!   it whole to the current file (rolling over to the next numbered one
//!   at `--warc-size`) and tells the record where its response landed
//!   ([`WarcRef`]).

pub mod deflate;
pub mod file;

use std::io::{self, Write};

use chrono::SecondsFormat;
use data_encoding::BASE32;
use serde::Serialize;
use sha1::{Digest, Sha1};
use uuid::Uuid;

use crate::fetch::capture::Exchange;
use crate::fetch::spool::{Limit, Spool, Stored};
use deflate::Member;

/// How hard records are compressed. Measured on the 1 301 saved pages of
/// `bench/extract.sh` served uncompressed (191 MiB of HTML; CPU of the
/// whole run, 0.27 s without `--warc`): level 1 55.5 MB in 1.3 s, 2 44.8 MB
/// in 1.6 s, 3 42.2 MB in 1.9 s, 4 41.0 MB in 2.1 s, 6 (zlib's default,
/// warcio's and wget's) 39.9 MB in 2.5 s. Level 3 is within 6 % of
/// level 6's size for 3/4 of its CPU.
const LEVEL: u32 = 3;

/// How hard a response whose payload is already content-encoded (gzip,
/// br, zstd) is compressed: not at all (stored deflate blocks). On the same
/// pages served gzip-compressed (0.81 s of CPU without `--warc`): level 0
/// 40.2 MB in 1.07 s, level 1 42.1 MB (deflate's fast mode makes
/// compressed bytes larger) in 1.15 s, 3 40.1 MB in 1.48 s, 6 40.1 MB in
/// 1.54 s.
const LEVEL_ENCODED: u32 = 0;

/// Where a record's response is in the archive: seek to `offset` in
/// `file`, read `length` bytes, gunzip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarcRef {
    /// The archive file, as named on the command line (numbered with
    /// `--warc-size`).
    pub file: String,
    /// The byte offset of the response record's gzip member.
    pub offset: u64,
    /// The gzip member's length in bytes.
    pub length: u64,
}

/// One URL's records, compressed and ready to append: the bytes, and where
/// in them the final response's member is.
#[derive(Debug, PartialEq)]
pub struct Blob {
    /// The gzip members, one after another (in a temporary file past
    /// [`BLOB_IN_MEMORY`]).
    pub bytes: Stored,
    /// The final response's member: offset in `bytes`, and length.
    pub response: Option<(u64, u64)>,
}

/// The most of a URL's compressed records held in memory on their way to
/// the aggregator; more goes to a temporary file.
const BLOB_IN_MEMORY: usize = 1 << 20;

/// The records of `exchanges`, in order: request, then response, for each.
/// Should a payload kept in a temporary file fail to read back, the URL
/// gets no records (its `warc` is null) rather than broken ones.
pub fn encode(exchanges: &[Exchange]) -> Blob {
    let mut spool = Spool::new(Limit::Fixed(BLOB_IN_MEMORY), 0);
    let mut response = None;
    for exchange in exchanges {
        let response_id = record_id();
        let written = request_record(exchange, &response_id, &mut spool).and_then(|()| {
            let start = spool.len();
            response_record(exchange, &response_id, &mut spool)?;
            Ok((start, spool.len() - start))
        });
        match written {
            Ok(member) => response = Some(member),
            Err(_) => {
                return Blob {
                    bytes: Stored::empty(),
                    response: None,
                };
            }
        }
    }
    Blob {
        bytes: spool.finish(),
        response,
    }
}

/// The `warcinfo` record that opens every file, compressed.
pub fn warcinfo(filename: &str, software: &str) -> Vec<u8> {
    let body = format!(
        "software: {software}\r\n\
         format: WARC File Format 1.1\r\n\
         conformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n"
    );
    let headers = [
        ("WARC-Type", "warcinfo".to_string()),
        ("WARC-Record-ID", record_id()),
        ("WARC-Date", now()),
        ("WARC-Filename", filename.to_string()),
        ("Content-Type", "application/warc-fields".to_string()),
    ];
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = record(&headers, &[Part::Bytes(body.as_bytes())], LEVEL, &mut out);
    out
}

fn request_record(exchange: &Exchange, response_id: &str, out: &mut Spool) -> io::Result<()> {
    let block = [Part::Bytes(&exchange.request)];
    let mut headers = common("request", record_id(), exchange);
    headers.push(("WARC-Concurrent-To", response_id.to_string()));
    headers.push(("WARC-Block-Digest", sha1(&block)?));
    headers.push((
        "Content-Type",
        "application/http;msgtype=request".to_string(),
    ));
    record(&headers, &block, LEVEL, out)
}

fn response_record(exchange: &Exchange, id: &str, out: &mut Spool) -> io::Result<()> {
    let mut headers = common("response", id.to_string(), exchange);
    let (head, payload) = (
        Part::Bytes(&exchange.response),
        Part::Stored(&exchange.payload),
    );
    headers.push(("WARC-Block-Digest", sha1(&[head, payload])?));
    headers.push(("WARC-Payload-Digest", sha1(&[payload])?));
    if let Some(cut) = exchange.cut {
        headers.push(("WARC-Truncated", cut.as_str().to_string()));
    }
    headers.push((
        "Content-Type",
        "application/http;msgtype=response".to_string(),
    ));
    let level = if exchange.encoded {
        LEVEL_ENCODED
    } else {
        LEVEL
    };
    record(&headers, &[head, payload], level, out)
}

/// The named fields every record of an exchange has: type, ID, date,
/// target, address.
fn common(kind: &'static str, id: String, exchange: &Exchange) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("WARC-Type", kind.to_string()),
        ("WARC-Record-ID", id),
        (
            "WARC-Date",
            exchange.at.to_rfc3339_opts(SecondsFormat::Micros, true),
        ),
        ("WARC-Target-URI", exchange.url.clone()),
    ];
    if let Some(ip) = exchange.ip {
        headers.push(("WARC-IP-Address", ip.to_string()));
    }
    headers
}

/// Part of a record's block: bytes at hand, or a payload that may be in a
/// temporary file.
#[derive(Clone, Copy)]
enum Part<'a> {
    Bytes(&'a [u8]),
    Stored(&'a Stored),
}

impl Part<'_> {
    fn len(self) -> u64 {
        match self {
            Part::Bytes(b) => b.len() as u64,
            Part::Stored(s) => s.len(),
        }
    }

    /// Hands the bytes to `f`, a chunk at a time.
    fn chunks(self, mut f: impl FnMut(&[u8]) -> io::Result<()>) -> io::Result<()> {
        match self {
            Part::Bytes(b) => f(b),
            Part::Stored(s) => s.chunks(f),
        }
    }
}

/// A whole record, compressed at `level` as one gzip member into `out`:
/// version line, named fields, Content-Length, the block, and the two
/// CRLFs that end it.
fn record<W: Write>(
    headers: &[(&str, String)],
    block: &[Part],
    level: u32,
    out: &mut W,
) -> io::Result<()> {
    let length: u64 = block.iter().map(|part| part.len()).sum();
    let mut head = Vec::with_capacity(512);
    head.extend_from_slice(b"WARC/1.1\r\n");
    for (name, value) in headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        // A field value is one line: a URL or header cannot break it.
        head.extend(value.bytes().filter(|&b| b != b'\r' && b != b'\n'));
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(format!("Content-Length: {length}\r\n\r\n").as_bytes());
    let mut gz = Member::new(out, level);
    gz.write_all(&head)?;
    for part in block {
        part.chunks(|chunk| gz.write_all(chunk))?;
    }
    gz.write_all(b"\r\n\r\n")?;
    gz.finish()
}

/// `sha1:` and the base32 digest of the parts, as the community writes it.
fn sha1(parts: &[Part]) -> io::Result<String> {
    let mut hash = Sha1::new();
    for part in parts {
        part.chunks(|chunk| {
            hash.update(chunk);
            Ok(())
        })?;
    }
    Ok(format!("sha1:{}", BASE32.encode(&hash.finalize())))
}

fn record_id() -> String {
    format!("<urn:uuid:{}>", Uuid::new_v4())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;
    use crate::fetch::capture::Cut;

    fn exchange(payload: &[u8], cut: Option<Cut>) -> Exchange {
        Exchange {
            at: chrono::Utc::now(),
            url: "http://example.test/a".into(),
            ip: Some("127.0.0.1".parse().unwrap()),
            request: b"GET /a HTTP/1.1\r\nhost: example.test\r\n\r\n".to_vec(),
            response: b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n".to_vec(),
            payload: Stored::bytes(payload.to_vec()),
            cut,
            encoded: false,
        }
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        GzDecoder::new(bytes).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn the_response_member_is_where_the_blob_says() {
        let blob = encode(&[
            exchange(b"hello", None),
            exchange(b"world", Some(Cut::Length)),
        ]);
        let (offset, length) = blob.response.unwrap();
        assert_eq!(offset + length, blob.bytes.len());
        let text = gunzip(&blob.bytes.to_vec()[offset as usize..]);
        assert!(
            text.starts_with("WARC/1.1\r\nWARC-Type: response\r\n"),
            "{text}"
        );
        assert!(text.contains("WARC-Truncated: length\r\n"));
        assert!(text.contains("\r\n\r\nworld\r\n\r\n"));
        let length = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nworld".len();
        assert!(text.contains(&format!("Content-Length: {length}\r\n")));
    }

    #[test]
    fn the_request_points_at_its_response() {
        let blob = encode(&[exchange(b"hello", None)]);
        let (offset, _) = blob.response.unwrap();
        let bytes = blob.bytes.to_vec();
        let request = gunzip(&bytes[..offset as usize]);
        let response = gunzip(&bytes[offset as usize..]);
        let id = |text: &str, field: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(field).map(str::to_string))
                .unwrap()
        };
        assert_eq!(
            id(&request, "WARC-Concurrent-To: "),
            id(&response, "WARC-Record-ID: ")
        );
    }

    #[test]
    fn records_are_compressed_within_a_worker_s_stack() {
        // miniz_oxide's compressor state passed through the stack and
        // overflowed a worker's 256 KiB; zlib-rs allocates it.
        let stack = crate::pipeline::pool::WORKER_STACK / 2;
        let worker = std::thread::Builder::new().stack_size(stack);
        let page = vec![b'x'; 100_000];
        let done = worker.spawn(move || encode(&[exchange(&page, None)]).bytes.len());
        assert!(done.unwrap().join().unwrap() > 0);
    }

    #[test]
    fn digests_are_sha1_in_base32() {
        // sha1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d.
        assert_eq!(
            sha1(&[Part::Bytes(b"a"), Part::Bytes(b"bc")]).unwrap(),
            "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5"
        );
    }

    #[test]
    fn a_payload_in_a_temporary_file_makes_the_same_records() {
        let page: Vec<u8> = (0..200_000u32).map(|i| (i % 97) as u8).collect();
        let mut spool = Spool::new(Limit::Fixed(0), 0);
        spool.write_all(&page).unwrap();
        let spilled = spool.finish();
        assert!(matches!(spilled, Stored::File(..)));
        let digests = |blob: &Blob| {
            let (offset, _) = blob.response.unwrap();
            let text = gunzip(&blob.bytes.to_vec()[offset as usize..]);
            let field = |name: &str| {
                text.lines()
                    .find(|l| l.starts_with(name))
                    .map(str::to_string)
            };
            (
                field("WARC-Block-Digest"),
                field("WARC-Payload-Digest"),
                text.len(),
            )
        };
        let mut on_disk = exchange(b"", None);
        on_disk.payload = spilled;
        let from_file = encode(&[on_disk]);
        let from_memory = encode(&[exchange(&page, None)]);
        assert_eq!(digests(&from_file), digests(&from_memory));
        assert!(digests(&from_file).0.is_some());
    }
}
