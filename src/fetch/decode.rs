//! Content codings, decoded by scrape itself (not by the HTTP client), so
//! that what came over the wire and what the page is are both known.
//!
//! `Content-Encoding` lists the codings in the order they were applied;
//! they are undone in reverse (RFC 9110 §8.4). Names are case-insensitive
//! and `x-gzip` is gzip (§8.4.1). Decoded: gzip, deflate (zlib-wrapped as
//! the RFC says, or raw as some servers send it), br and zstd (every frame
//! of a stream); `identity` is nothing. Any other coding is reported, and
//! the body is not parsed as a page. `Accept-Encoding` offers exactly
//! [`ACCEPT_ENCODING`]. All decoders are pure Rust and stream: memory is a
//! window per decoder, never the body.

use std::io::{self, BufRead, BufReader, Read};

use ruzstd::decoding::{FrameDecoder, StreamingDecoder};

/// How a decoding error's message starts.
pub const DECODE_ERROR: &str = "cannot decode the body";

/// What requests offer: exactly what can be decoded.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br, zstd";

/// A content coding scrape decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// gzip, x-gzip.
    Gzip,
    /// deflate: zlib, or raw deflate.
    Deflate,
    /// Brotli.
    Br,
    /// Zstandard.
    Zstd,
}

impl Coding {
    /// The coding's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }
}

/// The codings of a `Content-Encoding` header's values, in the order they
/// were applied; `Err` names the first one scrape cannot decode.
pub fn codings<'a>(values: impl Iterator<Item = &'a [u8]>) -> Result<Vec<Coding>, String> {
    let mut out = Vec::new();
    for value in values {
        for token in value.split(|&b| b == b',') {
            let token = String::from_utf8_lossy(token).trim().to_ascii_lowercase();
            out.push(match token.as_str() {
                "" | "identity" => continue,
                "gzip" | "x-gzip" => Coding::Gzip,
                "deflate" => Coding::Deflate,
                "br" => Coding::Br,
                "zstd" => Coding::Zstd,
                other => return Err(other.to_string()),
            });
        }
    }
    Ok(out)
}

/// `raw` with `codings` undone, last applied first.
pub fn decoder(raw: Box<dyn Read + Send>, codings: &[Coding]) -> Box<dyn Read + Send> {
    codings.iter().rev().fold(raw, |inner, &coding| {
        let inner = BufReader::with_capacity(8 * 1024, inner);
        Box::new(NonEmpty::new(inner, coding))
    })
}

/// A decoder that only starts once there are bytes to decode: a response
/// with a coding but an empty body (a 204, a redirect) is an empty page,
/// not a broken stream.
struct NonEmpty<R: BufRead> {
    state: State<R>,
}

enum State<R: BufRead> {
    Waiting(R, Coding),
    Decoding(Box<dyn Read + Send>, Coding),
    Empty,
}

impl<R: BufRead + Send + 'static> NonEmpty<R> {
    fn new(inner: R, coding: Coding) -> Self {
        NonEmpty {
            state: State::Waiting(inner, coding),
        }
    }
}

impl<R: BufRead + Send + 'static> Read for NonEmpty<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let State::Waiting(inner, _) = &mut self.state {
            if inner.fill_buf()?.is_empty() {
                self.state = State::Empty;
            } else if let State::Waiting(inner, coding) =
                std::mem::replace(&mut self.state, State::Empty)
            {
                self.state = State::Decoding(start(inner, coding), coding);
            }
        }
        match &mut self.state {
            State::Decoding(d, coding) => d.read(buf).map_err(|e| {
                // The connection's own errors pass through as they are.
                let from_network = e.get_ref().is_some_and(|i| i.is::<reqwest::Error>());
                match e.kind() {
                    io::ErrorKind::InvalidData
                    | io::ErrorKind::InvalidInput
                    | io::ErrorKind::Other
                    | io::ErrorKind::UnexpectedEof
                        if !from_network =>
                    {
                        let message = format!("{DECODE_ERROR} ({}): {e}", coding.name());
                        io::Error::new(io::ErrorKind::InvalidData, message)
                    }
                    _ => e,
                }
            }),
            State::Empty | State::Waiting(..) => Ok(0),
        }
    }
}

/// The decoder of one coding over a stream that has bytes.
fn start<R: BufRead + Send + 'static>(mut inner: R, coding: Coding) -> Box<dyn Read + Send> {
    match coding {
        Coding::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(inner)),
        Coding::Deflate => {
            let zlib = inner.fill_buf().is_ok_and(is_zlib_header);
            if zlib {
                Box::new(flate2::bufread::ZlibDecoder::new(inner))
            } else {
                Box::new(flate2::bufread::DeflateDecoder::new(inner))
            }
        }
        Coding::Br => Box::new(brotli_decompressor::Decompressor::new(inner, 4096)),
        Coding::Zstd => Box::new(Zstd::Between(inner)),
    }
}

/// Whether a deflate body starts with a zlib header (RFC 1950: method 8,
/// the first two bytes a multiple of 31), as the RFC says it should.
fn is_zlib_header(head: &[u8]) -> bool {
    match head {
        [cmf, flg, ..] => cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

/// Zstandard, frame after frame (ruzstd's decoder reads one frame).
enum Zstd<R: BufRead> {
    Between(R),
    Frame(Box<StreamingDecoder<R, FrameDecoder>>),
    Done,
}

impl<R: BufRead> Read for Zstd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(self, Zstd::Done) {
                Zstd::Done => return Ok(0),
                Zstd::Between(mut inner) => {
                    if inner.fill_buf()?.is_empty() {
                        return Ok(0);
                    }
                    let frame = StreamingDecoder::new(inner)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    *self = Zstd::Frame(Box::new(frame));
                }
                Zstd::Frame(mut frame) => {
                    let n = frame.read(buf)?;
                    if n > 0 || buf.is_empty() {
                        *self = Zstd::Frame(frame);
                        return Ok(n);
                    }
                    *self = Zstd::Between(frame.into_inner());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(body: Vec<u8>, header: &str) -> io::Result<Vec<u8>> {
        let codings = codings(std::iter::once(header.as_bytes())).unwrap();
        let mut out = Vec::new();
        decoder(Box::new(io::Cursor::new(body)), &codings).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn names_are_case_insensitive_and_x_gzip_is_gzip() {
        let parsed = codings([&b"GZIP"[..], b"x-gzip , Br", b"identity"].into_iter()).unwrap();
        assert_eq!(parsed, [Coding::Gzip, Coding::Gzip, Coding::Br]);
        assert_eq!(
            codings(std::iter::once(&b"gzip, compress"[..])).unwrap_err(),
            "compress"
        );
    }

    #[test]
    fn stacked_codings_are_undone_in_reverse() {
        let page = b"<title>Twice</title>".repeat(50);
        let twice = gzip(&gzip(&page));
        assert_eq!(decode(twice, "gzip, x-gzip").unwrap(), page);
    }

    #[test]
    fn deflate_comes_zlib_wrapped_or_raw() {
        let page = b"<title>Deflated</title>".repeat(20);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        zlib.write_all(&page).unwrap();
        assert_eq!(decode(zlib.finish().unwrap(), "deflate").unwrap(), page);
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        raw.write_all(&page).unwrap();
        assert_eq!(decode(raw.finish().unwrap(), "Deflate").unwrap(), page);
    }

    #[test]
    fn brotli_and_multi_frame_zstd() {
        let page = b"<title>Squeezed</title>".repeat(30);
        let mut br = Vec::new();
        brotli_compress(&page, &mut br);
        assert_eq!(decode(br, "br").unwrap(), page);
        let one = ruzstd::encoding::compress_to_vec(
            &page[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let two = [one.clone(), one].concat();
        assert_eq!(
            decode(two, "zstd").unwrap(),
            [&page[..], &page[..]].concat()
        );
    }

    fn brotli_compress(data: &[u8], out: &mut Vec<u8>) {
        let mut w = brotli::CompressorWriter::new(out, 4096, 5, 20);
        w.write_all(data).unwrap();
    }

    #[test]
    fn an_empty_body_is_empty_whatever_its_coding() {
        for coding in ["gzip", "deflate", "br", "zstd"] {
            assert_eq!(decode(Vec::new(), coding).unwrap(), b"", "{coding}");
        }
    }

    #[test]
    fn garbage_is_an_invalid_data_error_naming_the_failure() {
        let e = decode(b"this is not gzip".to_vec(), "gzip").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("cannot decode the body"), "{e}");
    }
}
