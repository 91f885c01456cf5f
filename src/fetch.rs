//! One URL → [`Fetched`]: the request, its redirects, its retries, its body.
//!
//! - One shared `reqwest::blocking::Client` (connection reuse across all
//!   workers). Redirects are followed here, not by reqwest, so that they can
//!   be counted, loops named, non-http(s) targets refused and credentials
//!   given with `-H` kept from other hosts.
//! - `--timeout` is one deadline per attempt for the whole exchange: every
//!   redirect hop and the body share it.
//! - The body is read as a stream: at most `--max-body` decoded bytes are
//!   read, and the page scanner sees them as they arrive (16 KiB at a time);
//!   nothing holds the whole body.
//! - Transient failures (connect errors, timeouts and resets before the
//!   response, HTTP 429/502/503/504) are retried `--retries` times with
//!   exponential backoff and full jitter, honouring `Retry-After` up to
//!   [`MAX_RETRY_AFTER`]. Nothing is retried once a body has begun.

use std::error::Error as StdError;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::error::{ErrorKind, FetchError};
use crate::extract::Scanner;
use crate::page::{Collector, Page};
use crate::select::Extraction;

/// The longest wait a `Retry-After` header can impose.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The first backoff step; each retry doubles it, up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// How much body is read at once.
const READ_CHUNK: usize = 16 * 1024;

thread_local! {
    /// Each worker's body buffer, reused from URL to URL.
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0; READ_CHUNK]);
}

/// What the fetcher needs from the command line.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Deadline per attempt: connect, headers, body, all redirects.
    pub timeout: Duration,
    /// The connect deadline (already set on the client; kept for messages).
    pub connect_timeout: Duration,
    /// Extra attempts after a transient failure.
    pub retries: u32,
    /// Redirects to follow; 0 returns the 3xx response itself.
    pub max_redirects: u32,
    /// Decoded body bytes to read at most.
    pub max_body: u64,
    /// Headers from `-H`, sent with every request (credentials only to the
    /// original origin).
    pub headers: HeaderMap,
    /// What to extract beyond title, description and lang.
    pub extraction: Arc<Extraction>,
    /// `-v`: log every request to stderr.
    pub verbose: bool,
}

/// What came of fetching one URL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fetched {
    /// The URL of the final response.
    pub final_url: Option<Url>,
    /// The final response's status.
    pub status: Option<u16>,
    /// The final response's Content-Type.
    pub content_type: Option<String>,
    /// Decoded body bytes read.
    pub bytes: u64,
    /// The body was cut at `--max-body`.
    pub truncated: bool,
    /// What the page yielded: title, description, lang, fields, links.
    pub page: Page,
    /// Redirects followed in the last attempt.
    pub redirects: u32,
    /// Attempts made.
    pub attempts: u32,
    /// Time from the first attempt's start to the end of the last.
    pub elapsed: Duration,
    /// Time from the first attempt's start to the final response's headers.
    pub ttfb: Option<Duration>,
    /// Why it failed, if it did.
    pub error: Option<FetchError>,
}

/// The outcome of one attempt, and whether another may help.
struct Attempt {
    fetched: Fetched,
    /// `Some` when the failure is transient: with the server's Retry-After.
    retry: Option<Option<Duration>>,
}

/// Fetches URLs with one shared client; cheap to share between workers.
pub struct Fetcher {
    client: Client,
    settings: FetchSettings,
    cancel: Arc<AtomicBool>,
    on_retry_after: Option<RetryAfterHook>,
}

/// Told of every `Retry-After` a server sends: the URL that got it and the
/// wait (already capped), so the whole host can slow down.
pub type RetryAfterHook = Arc<dyn Fn(&Url, Duration) + Send + Sync>;

impl Fetcher {
    /// A fetcher; `cancel` cuts retry waits short when the run is stopping.
    pub fn new(client: Client, settings: FetchSettings, cancel: Arc<AtomicBool>) -> Fetcher {
        Fetcher {
            client,
            settings,
            cancel,
            on_retry_after: None,
        }
    }

    /// What the run extracts from pages.
    pub fn extraction(&self) -> &Extraction {
        &self.settings.extraction
    }

    /// Calls `hook` whenever a server answers with `Retry-After`.
    pub fn with_retry_after_hook(mut self, hook: RetryAfterHook) -> Fetcher {
        self.on_retry_after = Some(hook);
        self
    }

    /// Fetches `url`, with retries.
    pub fn fetch(&self, url: &Url) -> Fetched {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let Attempt { mut fetched, retry } = self.attempt(url, started);
            if let (Some(Some(after)), Some(hook)) = (retry, &self.on_retry_after) {
                hook(
                    fetched.final_url.as_ref().unwrap_or(url),
                    after.min(MAX_RETRY_AFTER),
                );
            }
            let wait = match retry {
                Some(after) if attempts <= self.settings.retries => Some(backoff(attempts, after)),
                _ => None,
            };
            if let Some(wait) = wait {
                self.log(format_args!(
                    "{url}: retry {} of {} in {:.2} s",
                    attempts,
                    self.settings.retries,
                    wait.as_secs_f64()
                ));
                if self.pause(wait) {
                    continue;
                }
            }
            fetched.attempts = attempts;
            fetched.elapsed = started.elapsed();
            return fetched;
        }
    }

    /// With `-v`: one line on stderr (whole: `eprintln!` locks stderr).
    fn log(&self, line: std::fmt::Arguments) {
        if self.settings.verbose {
            eprintln!("scrape: {line}");
        }
    }

    /// With `-v`: the request and what came of it.
    fn log_response(&self, url: &Url, sent: &reqwest::Result<Response>, at: Instant) {
        if !self.settings.verbose {
            return;
        }
        let ms = at.elapsed().as_secs_f64() * 1000.0;
        match sent {
            Ok(resp) => self.log(format_args!(
                "GET {url} -> {} {:?} in {ms:.1} ms",
                resp.status().as_u16(),
                resp.version()
            )),
            Err(e) => {
                let error = classify(e, &self.settings);
                self.log(format_args!(
                    "GET {url} -> {}: {} after {ms:.1} ms",
                    error.kind.as_str(),
                    error.message
                ));
            }
        }
    }

    /// Sleeps `d` unless the run is cancelled first; true if it slept.
    fn pause(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return false;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
    }

    /// One attempt: the request, its redirects and the body, under one
    /// deadline.
    fn attempt(&self, url: &Url, started: Instant) -> Attempt {
        let deadline = Instant::now() + self.settings.timeout;
        let mut current = url.clone();
        // The chain so far, for loop detection; filled on the first redirect
        // only (most URLs have none).
        let mut visited: Vec<Url> = Vec::new();
        let mut redirects = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                let error = self.timeout_error();
                return transient(Fetched::failed(redirects, error), None);
            }
            let sent_at = Instant::now();
            let sent = self
                .client
                .get(current.clone())
                .headers(self.headers_for(url, &current))
                .timeout(remaining)
                .send();
            self.log_response(&current, &sent, sent_at);
            let resp = match sent {
                Ok(resp) => resp,
                Err(e) => {
                    let error = classify(&e, &self.settings);
                    let retry = matches!(
                        error.kind,
                        ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Body
                    );
                    let fetched = Fetched::failed(redirects, error);
                    return if retry {
                        transient(fetched, None)
                    } else {
                        final_attempt(fetched)
                    };
                }
            };
            let mut fetched = Fetched::responded(&resp, &current, redirects, started.elapsed());
            if let Some(next) = self.redirect_target(&resp, &current) {
                if visited.is_empty() {
                    visited.push(url.clone());
                }
                match check_hop(next, &visited, redirects, self.settings.max_redirects) {
                    Ok(next) => {
                        redirects += 1;
                        visited.push(next.clone());
                        current = next;
                        continue;
                    }
                    Err(error) => {
                        fetched.error = Some(error);
                        return final_attempt(fetched);
                    }
                }
            }
            let retry_after = transient_status(resp.status()).then(|| retry_after(&resp));
            self.read_body(resp, &mut fetched, deadline);
            return match retry_after {
                Some(after) if fetched.error.is_none() => transient(fetched, after),
                _ => final_attempt(fetched),
            };
        }
    }

    /// Where a redirect response points, if it is one to follow.
    fn redirect_target(&self, resp: &Response, current: &Url) -> Option<Result<Url, FetchError>> {
        if self.settings.max_redirects == 0 || !is_redirect(resp.status()) {
            return None;
        }
        let location = resp.headers().get(header::LOCATION)?;
        let target = location
            .to_str()
            .ok()
            .and_then(|l| current.join(l.trim()).ok())
            .ok_or_else(|| {
                FetchError::new(
                    ErrorKind::Redirect,
                    format!(
                        "invalid Location header: {:?}",
                        String::from_utf8_lossy(location.as_bytes())
                    ),
                )
            });
        Some(target)
    }

    /// The `-H` headers for a request to `current`, minus credentials when it
    /// is not the origin the user asked for.
    fn headers_for(&self, original: &Url, current: &Url) -> HeaderMap {
        let mut headers = self.settings.headers.clone();
        if original.origin() != current.origin() {
            for name in [
                header::AUTHORIZATION,
                header::COOKIE,
                header::PROXY_AUTHORIZATION,
            ] {
                headers.remove(name);
            }
        }
        headers
    }

    /// Reads the body into the page scanner, up to `--max-body` bytes.
    fn read_body(&self, mut resp: Response, out: &mut Fetched, deadline: Instant) {
        let collector = Collector::new(Arc::clone(&self.settings.extraction));
        let mut scanner = Scanner::new(out.content_type.as_deref(), collector);
        let max = self.settings.max_body;
        READ_BUFFER.with_borrow_mut(|buf| {
            loop {
                // Ask for one byte past the limit, to know whether there is more.
                let room = (max - out.bytes).saturating_add(1).min(READ_CHUNK as u64) as usize;
                match resp.read(&mut buf[..room]) {
                    Ok(0) => break,
                    Ok(n) => {
                        let keep = (n as u64).min(max - out.bytes) as usize;
                        if keep > 0 && scanner.wants_more() {
                            scanner.feed(&buf[..keep]);
                        }
                        out.bytes += keep as u64;
                        if keep < n {
                            out.truncated = true;
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        out.error = Some(if Instant::now() >= deadline {
                            self.timeout_error()
                        } else {
                            classify_read(&e, &self.settings)
                        });
                        break;
                    }
                }
            }
        });
        out.page = scanner.finish(out.final_url.as_ref());
        if self.settings.verbose {
            let url = out.final_url.as_ref().map_or("", Url::as_str);
            let end = match &out.error {
                Some(e) => format!(", then {}: {}", e.kind.as_str(), e.message),
                None if out.truncated => ", truncated at --max-body".to_string(),
                None => String::new(),
            };
            self.log(format_args!("{url}: body {} bytes{end}", out.bytes));
        }
    }

    fn timeout_error(&self) -> FetchError {
        FetchError::new(
            ErrorKind::Timeout,
            format!(
                "no complete response within {} (--timeout)",
                secs(self.settings.timeout)
            ),
        )
    }
}

impl Fetched {
    /// An attempt that got no response.
    pub fn failed(redirects: u32, error: FetchError) -> Fetched {
        Fetched {
            redirects,
            error: Some(error),
            ..Fetched::default()
        }
    }

    /// The headers part of a response.
    fn responded(resp: &Response, url: &Url, redirects: u32, ttfb: Duration) -> Fetched {
        Fetched {
            final_url: Some(url.clone()),
            status: Some(resp.status().as_u16()),
            content_type: resp
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            redirects,
            ttfb: Some(ttfb),
            ..Fetched::default()
        }
    }
}

fn transient(fetched: Fetched, after: Option<Duration>) -> Attempt {
    Attempt {
        fetched,
        retry: Some(after),
    }
}

fn final_attempt(fetched: Fetched) -> Attempt {
    Attempt {
        fetched,
        retry: None,
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// Validates the next redirect hop: an http(s) target, not seen before in
/// this chain, within `--max-redirects`.
fn check_hop(
    next: Result<Url, FetchError>,
    visited: &[Url],
    redirects: u32,
    max: u32,
) -> Result<Url, FetchError> {
    let next = next?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(FetchError::new(
            ErrorKind::Redirect,
            format!("refused redirect to a non-http(s) URL: {next}"),
        ));
    }
    if visited.contains(&next) {
        return Err(FetchError::new(
            ErrorKind::Redirect,
            format!(
                "redirect loop: {next} again after a chain of {} redirect(s)",
                redirects + 1
            ),
        ));
    }
    if redirects >= max {
        return Err(FetchError::new(
            ErrorKind::Redirect,
            format!("too many redirects: the chain is longer than {max} (--max-redirects)"),
        ));
    }
    Ok(next)
}

/// The wait before retry number `attempt`: the server's Retry-After (capped)
/// if it gave one, else exponential backoff with full jitter.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(after) = retry_after {
        return after.min(MAX_RETRY_AFTER);
    }
    let exp = BASE_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    let cap = exp.min(MAX_BACKOFF);
    Duration::from_millis(fastrand::u64(0..=cap.as_millis() as u64))
}

fn retry_after(resp: &Response) -> Option<Duration> {
    parse_retry_after(resp.headers().get(header::RETRY_AFTER)?, SystemTime::now())
}

/// `Retry-After` as delay-seconds or an HTTP date, relative to `now`.
pub fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Maps a request error to a record error kind and a readable message.
pub fn classify(e: &reqwest::Error, settings: &FetchSettings) -> FetchError {
    let message = describe(e);
    let kind = kind_of(e);
    let message = match kind {
        ErrorKind::Timeout if e.is_connect() => format!(
            "could not connect within {} (--connect-timeout)",
            secs(settings.connect_timeout)
        ),
        ErrorKind::Timeout => format!(
            "no complete response within {} (--timeout)",
            secs(settings.timeout)
        ),
        _ => message,
    };
    FetchError::new(kind, message)
}

fn kind_of(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    let mut io_kind = None;
    for cause in causes(e) {
        if is_tls(cause) {
            return ErrorKind::Tls;
        }
        if let Some(h) = cause.downcast_ref::<hyper::Error>() {
            if h.is_timeout() {
                return ErrorKind::Timeout;
            }
            if h.is_parse() || h.is_parse_status() {
                return ErrorKind::Http;
            }
            if h.is_incomplete_message() {
                return ErrorKind::Body;
            }
        }
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            io_kind = io_kind.or(Some(io.kind()));
        }
    }
    if e.is_connect() {
        return if describe(e).contains("dns error") {
            ErrorKind::Dns
        } else {
            ErrorKind::Connect
        };
    }
    match io_kind {
        Some(io::ErrorKind::TimedOut) => ErrorKind::Timeout,
        Some(
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof,
        ) => ErrorKind::Body,
        _ if e.is_body() => ErrorKind::Body,
        _ => ErrorKind::Http,
    }
}

/// Maps an error while reading the body.
fn classify_read(e: &io::Error, settings: &FetchSettings) -> FetchError {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<reqwest::Error>()) {
        let mut error = classify(inner, settings);
        if error.kind == ErrorKind::Http && inner.is_decode() {
            error.message = format!("cannot decode the body: {}", error.message);
        } else if !matches!(error.kind, ErrorKind::Timeout | ErrorKind::Http) {
            error.kind = ErrorKind::Body;
        }
        return error;
    }
    let kind = match e.kind() {
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::InvalidData => ErrorKind::Http,
        _ => ErrorKind::Body,
    };
    FetchError::new(kind, format!("while reading the body: {e}"))
}

/// Whether `cause` is, or wraps, a rustls error. The TLS connector nests it
/// in io::Errors (`Other` around `InvalidData`), whose `source()` skips the
/// wrapped error itself, so the wrapping is unwound by hand.
fn is_tls(cause: &(dyn StdError + 'static)) -> bool {
    let mut current: &(dyn StdError + 'static) = cause;
    loop {
        if current.is::<rustls::Error>() {
            return true;
        }
        match current
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => current = inner,
            None => return false,
        }
    }
}

fn causes<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&c| c.source())
}

/// The error chain as one line, without reqwest's leading "error sending
/// request for url (...)" (the record already has the URL).
fn describe(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in causes(e).skip(1) {
        let text = cause.to_string();
        if parts.last().is_none_or(|p| !p.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        let mut top = e.to_string();
        if let Some(i) = top.find(" for url (") {
            top.truncate(i);
        }
        parts.push(top);
    }
    parts.join(": ")
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..=40 {
            let d = backoff(attempt, None);
            let cap = BASE_BACKOFF
                .saturating_mul(1 << (attempt - 1).min(16))
                .min(MAX_BACKOFF);
            assert!(d <= cap, "attempt {attempt}: {d:?} > {cap:?}");
        }
        assert_eq!(
            backoff(1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(backoff(1, Some(Duration::from_secs(3600))), MAX_RETRY_AFTER);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let v = |s: &str| HeaderValue::from_str(s).unwrap();
        assert_eq!(
            parse_retry_after(&v("5"), now),
            Some(Duration::from_secs(5))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&v(&later), now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&v(&earlier), now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after(&v("soon"), now), None);
    }

    #[test]
    fn hops_are_checked() {
        let a = Url::parse("http://a.example/").unwrap();
        let b = Url::parse("http://b.example/").unwrap();
        assert_eq!(
            check_hop(Ok(b.clone()), std::slice::from_ref(&a), 0, 10),
            Ok(b.clone())
        );
        let lp = check_hop(Ok(a.clone()), &[a.clone(), b.clone()], 1, 10).unwrap_err();
        assert_eq!(lp.kind, ErrorKind::Redirect);
        assert!(lp.message.contains("loop") && lp.message.contains("chain of 2"));
        let many = check_hop(Ok(b.clone()), std::slice::from_ref(&a), 3, 3).unwrap_err();
        assert!(many.message.contains("longer than 3"));
        let ftp = Url::parse("ftp://a.example/").unwrap();
        let refused = check_hop(Ok(ftp), &[a], 0, 10).unwrap_err();
        assert!(refused.message.contains("non-http"));
    }
}
