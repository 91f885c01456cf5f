//! With `--warc`: what went over the wire in each HTTP exchange, kept for
//! the archive (`crate::archive` turns it into WARC records).
//!
//! The client (reqwest over hyper) hands scrape a parsed response, not its
//! bytes, so the heads are rebuilt from what it shows:
//! - the request: `METHOD path HTTP/1.1`, `host`, the client's `user-agent`
//!   and `accept`, then the headers scrape set (connection, encodings,
//!   `-H`, cookies). Values of `authorization`, `proxy-authorization` and
//!   `cookie` read `***`: an archive is shared, a credential is not.
//! - the response: the status line with the reason phrase as sent, then
//!   the headers with their values as sent, names lower-cased (hyper does
//!   not keep their case) and a repeated header's lines together.
//! - the payload: the body bytes as they came, still content-encoded (a
//!   gzip page stays gzip), with chunked transfer coding undone by the
//!   client; a `Transfer-Encoding` header is kept as sent.
//!
//! A payload is held until its records are built. Payloads in memory share
//! a budget ([`RAW_PER_CORE`] bytes per core, `crate::budget`); a payload
//! the budget has no room for goes on in a temporary file (`spool`), so a
//! thousand workers reading ten-megabyte files do not hold ten gigabytes,
//! and no worker ever waits for another.

use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use reqwest::blocking::{Request, Response};
use reqwest::header::{self, HeaderName, HeaderValue};
use url::Url;

use super::spool::{Spool, Stored};
use crate::urls::redact;

/// Raw payload bytes held per core at most (before the bodies already
/// started overshoot it): a few hundred pages of average size per core,
/// so the budget only binds on large files.
pub const RAW_PER_CORE: usize = 32 << 20;

/// Why a payload in the archive is not the whole body (`WARC-Truncated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// `--max-body`, or a redirect body past what is drained.
    Length,
    /// The deadline (`--timeout`) came first.
    Time,
    /// The connection broke.
    Disconnect,
    /// Reading stopped for another reason (a body scrape cannot decode).
    Unspecified,
}

impl Cut {
    /// The `WARC-Truncated` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::Length => "length",
            Cut::Time => "time",
            Cut::Disconnect => "disconnect",
            Cut::Unspecified => "unspecified",
        }
    }
}

/// One request and the response it got.
#[derive(Debug, PartialEq)]
pub struct Exchange {
    /// When the request was sent.
    pub at: DateTime<Utc>,
    /// The URL asked for (a password in it reads `***`).
    pub url: String,
    /// The address that answered.
    pub ip: Option<IpAddr>,
    /// The request line and headers, ending with the blank line.
    pub request: Vec<u8>,
    /// The status line and headers, ending with the blank line.
    pub response: Vec<u8>,
    /// The body bytes as received (still content-encoded).
    pub payload: Stored,
    /// Why the payload is not the whole body, if it is not.
    pub cut: Option<Cut>,
    /// The payload has a content coding (it will hardly compress again).
    pub encoded: bool,
}

/// A request about to be sent, for its exchange.
pub struct Sent {
    at: DateTime<Utc>,
    head: Vec<u8>,
}

/// Headers whose values stay out of the archive.
const SECRET: [HeaderName; 3] = [
    header::AUTHORIZATION,
    header::PROXY_AUTHORIZATION,
    header::COOKIE,
];

impl Sent {
    /// The head of `req` as it goes out with `user_agent` (the client's).
    pub fn of(req: &Request, user_agent: &HeaderValue) -> Sent {
        let url = req.url();
        let mut head = Vec::with_capacity(256);
        let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let method = req.method();
        head.extend_from_slice(format!("{method} {target} HTTP/1.1\r\n").as_bytes());
        let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
        line(&mut head, "host", host.as_bytes());
        // What the client adds unless the request has its own.
        let defaults = [
            (header::USER_AGENT, user_agent.as_bytes()),
            (header::ACCEPT, &b"*/*"[..]),
        ];
        for (name, value) in defaults {
            if !req.headers().contains_key(&name) {
                line(&mut head, name.as_str(), value);
            }
        }
        for (name, value) in req.headers() {
            let value = if SECRET.contains(name) {
                redact::MASK.as_bytes()
            } else {
                value.as_bytes()
            };
            line(&mut head, name.as_str(), value);
        }
        // The body (--data, --json) as sent, after its length.
        let body = req.body().and_then(|b| b.as_bytes()).unwrap_or_default();
        if !body.is_empty() && !req.headers().contains_key(header::CONTENT_LENGTH) {
            line(
                &mut head,
                "content-length",
                body.len().to_string().as_bytes(),
            );
        }
        head.extend_from_slice(b"\r\n");
        head.extend_from_slice(body);
        Sent {
            at: Utc::now(),
            head,
        }
    }

    /// The exchange of this request and `resp`, its payload still to come.
    pub fn answered(self, url: &Url, resp: &Response) -> Exchange {
        Exchange {
            at: self.at,
            url: redact::url(url).into_owned(),
            ip: resp.remote_addr().map(|a| a.ip()),
            request: self.head,
            response: response_head(resp),
            payload: Stored::empty(),
            cut: None,
            encoded: resp.headers().contains_key(header::CONTENT_ENCODING),
        }
    }
}

/// The status line and headers of `resp`.
fn response_head(resp: &Response) -> Vec<u8> {
    let status = resp.status();
    let reason = resp
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| r.as_bytes())
        .or_else(|| status.canonical_reason().map(str::as_bytes))
        .unwrap_or_default();
    let mut head = Vec::with_capacity(512);
    let version = match resp.version() {
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        _ => "HTTP/1.1",
    };
    head.extend_from_slice(format!("{version} {} ", status.as_u16()).as_bytes());
    head.extend_from_slice(reason);
    head.extend_from_slice(b"\r\n");
    for (name, value) in resp.headers() {
        line(&mut head, name.as_str(), value.as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

fn line(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// Copies what is read through it into a spool the reader's owner keeps,
/// so the raw bytes can be taken back after a decoder has consumed them.
pub struct Tee<R> {
    inner: R,
    copy: Arc<Mutex<Spool>>,
}

impl<R: Read> Tee<R> {
    /// A tee of `inner` into `spool`, and the handle to take it back.
    pub fn new(inner: R, spool: Spool) -> (Tee<R>, Arc<Mutex<Spool>>) {
        let copy = Arc::new(Mutex::new(spool));
        (
            Tee {
                inner,
                copy: Arc::clone(&copy),
            },
            copy,
        )
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(&buf[..n])?;
        Ok(n)
    }
}

/// What a tee copied (the tee dropped first: it shares the spool).
pub fn take(copy: Arc<Mutex<Spool>>) -> Stored {
    match Arc::try_unwrap(copy) {
        Ok(spool) => spool
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .finish(),
        Err(_) => Stored::empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::spool::Limit;

    #[test]
    fn a_tee_keeps_what_passes_through() {
        let (mut tee, copy) = Tee::new(&b"hello world"[..], Spool::new(Limit::Fixed(4), 4));
        let mut first = [0; 5];
        tee.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"hello");
        let mut rest = Vec::new();
        tee.read_to_end(&mut rest).unwrap();
        drop(tee);
        assert_eq!(take(copy).to_vec(), b"hello world");
    }

    #[test]
    fn the_request_head_hides_credentials() {
        let client = reqwest::blocking::Client::new();
        let req = client
            .get("http://example.test:8080/a/b?q=1#frag")
            .header("authorization", "Bearer secret")
            .header("x-trace", "7")
            .build()
            .unwrap();
        let sent = Sent::of(&req, &HeaderValue::from_static("scrape/1"));
        let head = String::from_utf8(sent.head).unwrap();
        assert!(head.starts_with("GET /a/b?q=1 HTTP/1.1\r\nhost: example.test:8080\r\n"));
        assert!(head.contains("user-agent: scrape/1\r\n"));
        assert!(head.contains("authorization: ***\r\n"));
        assert!(!head.contains("secret"));
        assert!(head.contains("x-trace: 7\r\n"));
        assert!(head.ends_with("\r\n\r\n"));
    }
}
