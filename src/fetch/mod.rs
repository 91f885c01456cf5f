//! One URL → [`Fetched`]: the request, its redirects, its retries, its body.
//!
//! - A few `reqwest::blocking::Client`s ([`client::Clients`]) serve the
//!   workers, each worker always through the same one. Redirects are
//!   followed here ([`redirect`]), not by reqwest, so
//!   that they can be counted, loops named, non-http(s) targets refused and
//!   credentials given with `-H` kept from other hosts.
//! - `--timeout` is one deadline per attempt for the whole exchange: every
//!   redirect hop and the body share it.
//! - The body is read as a stream ([`body`]): at most `--max-body` decoded
//!   bytes, each chunk handed to the page scanner as it arrives; content
//!   codings are undone here ([`decode`]), not by the client.
//! - Transient failures are retried `--retries` times ([`retry`]): connect
//!   errors, timeouts and resets before the response, HTTP 429/502/503/504;
//!   nothing is retried once a body has begun.
//! - Every request asks the connection budget ([`sockets`]) whether its
//!   connection may stay open afterwards, so open sockets stay bounded by
//!   the work.
//! - Failures become the record's error kinds in [`classify`].
//! - What a response says about itself (digest, validators, headers) is
//!   read in [`validators`]; with `--since` a request to the URL that gave
//!   earlier validators sends them back ([`validators::Conditional`]).
//! - With `--warc`, every exchange's heads and raw payload are kept
//!   ([`capture`]); with `--tls`, the certificate and TLS of the final
//!   HTTPS response ([`tls`]).

mod attempt;
pub mod body;
pub mod capture;
pub mod classify;
pub mod client;
pub mod cookies;
pub mod decode;
pub mod proxy;
pub mod redirect;
pub mod retry;
pub mod sockets;
pub mod spool;
pub mod timing;
pub mod tls;
mod trust;
pub mod validators;

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use client::Clients;
use reqwest::blocking::Response;
use reqwest::header::{HeaderMap, HeaderValue};
use url::Url;

use crate::budget::Budget;
use crate::error::{ErrorKind, FetchError};
use crate::html::page::Page;
use crate::input::request::{LineRequest, RequestBody};
use crate::plan::Extraction;
use crate::urls::address::Addresses;
use crate::urls::redact;
use attempt::Attempt;
use capture::Exchange;
use classify::{classify, secs};
use retry::{MAX_RETRY_AFTER, backoff};
use sockets::Sockets;
use timing::{Connections, Timing};
use tls::{Negotiations, Tls};
use validators::{Conditional, Headers, Validators};

/// What one fetch is asked: the URL, and with `--since` the validators of
/// the URL that gave them (sent on the hop to that URL only).
#[derive(Debug, Clone, Copy)]
pub struct Ask<'a> {
    /// The URL, as the list gave it.
    pub url: &'a Url,
    /// `--since`: validators for their URL.
    pub conditional: Option<&'a Conditional>,
    /// A crawl's link found on a page: what a redirect may not lead to.
    pub guard: Option<Guard<'a>>,
    /// A JSON list line's method, headers and body, over the run's.
    pub request: Option<&'a LineRequest>,
}

impl Ask<'_> {
    /// The method: the line's, else `-X` (or POST with a body, GET).
    fn method(&self, settings: &FetchSettings) -> reqwest::Method {
        let line = self.request.and_then(|r| r.method.clone());
        line.unwrap_or_else(|| settings.method.clone())
    }

    /// The body: the line's, else `--data`/`--json`'s.
    fn body<'b>(&'b self, settings: &'b FetchSettings) -> Option<&'b Arc<RequestBody>> {
        let line = self.request.and_then(|r| r.body.as_ref());
        line.or(settings.body.as_ref())
    }

    /// `-H`, with the line's headers in place of the same names (borrowed
    /// when the line has none: no copy per URL).
    fn headers<'s>(&self, settings: &'s FetchSettings) -> Cow<'s, HeaderMap> {
        let Some(line) = self.request.filter(|r| !r.headers.is_empty()) else {
            return Cow::Borrowed(&settings.headers);
        };
        let mut headers = settings.headers.clone();
        for name in line.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &line.headers {
            headers.append(name.clone(), value.clone());
        }
        Cow::Owned(headers)
    }
}

/// The internal addresses a redirect may not lead to (a crawl's link found
/// on a page, `crate::urls::address`).
#[derive(Debug, Clone, Copy)]
pub struct Guard<'a>(pub &'a Addresses);

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
    /// `--headers`: keep the final response's headers.
    pub keep_headers: bool,
    /// Which proxy requests go through (to name it in errors).
    pub proxies: proxy::Proxies,
    /// `--warc`: keep every exchange's heads and raw payload.
    pub warc: bool,
    /// The User-Agent the client sends (`-A`), to write requests as sent.
    pub user_agent: HeaderValue,
    /// `--tls`: describe the certificate and TLS of HTTPS responses.
    pub tls: bool,
    /// `-X`: the request method (GET unless asked).
    pub method: reqwest::Method,
    /// `--data`, `--json`: the body sent with each request.
    pub body: Option<Arc<RequestBody>>,
}

/// What came of fetching one URL.
#[derive(Debug, Default, PartialEq)]
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
    /// The final response's `Location`, resolved, when it is a redirect.
    pub location: Option<Url>,
    /// Attempts made.
    pub attempts: u32,
    /// Time from the first attempt's start to the end of the last.
    pub elapsed: Duration,
    /// Time from the first attempt's start to the final response's headers.
    pub ttfb: Option<Duration>,
    /// Why it failed, if it did.
    pub error: Option<FetchError>,
    /// The final response's validators, HTTP version and peer address.
    pub validators: Validators,
    /// SHA-256 (hex) of the decoded body bytes read; `None` without a
    /// response.
    pub sha256: Option<String>,
    /// With `--headers`: the final response's headers.
    pub headers: Option<Headers>,
    /// With `--warc`: every exchange of every attempt, in order.
    pub exchanges: Vec<Exchange>,
    /// The address that sent the final response.
    pub remote: Option<SocketAddr>,
    /// With `--tls`: the final HTTPS response's certificate and TLS.
    pub tls: Option<Tls>,
    /// Where the final request's time went; none without a response.
    pub timing: Option<Timing>,
}

/// What a fetch tells the run as it goes, and asks it (the politeness
/// gate listens).
pub trait Watch {
    /// `url`'s server answered `Retry-After: wait` (capped).
    fn pause(&self, url: &Url, wait: Duration);
    /// An attempt whose last request went to `url` ended: answered
    /// (`None`), or not, with this error. Returns whether another attempt
    /// may go to that host.
    fn attempted(&self, url: &Url, unanswered: Option<&FetchError>) -> bool;
    /// An attempt's last request to `url` was answered with `status` (none:
    /// no answer) after `latency` (to the response's headers);
    /// `retry_after` when a 429/503 said how long to wait.
    fn answered(&self, _url: &Url, _answer: Answer) {}
}

/// How an attempt was answered, as the politeness gate hears it.
#[derive(Debug, Clone, Copy)]
pub struct Answer {
    /// The status; none when no response came.
    pub status: Option<u16>,
    /// Time from the attempt's start to the response's headers.
    pub latency: Option<Duration>,
    /// A 429/503 said how long to wait (`Retry-After`).
    pub retry_after: bool,
}

/// Fetches URLs with the workers' clients; cheap to share between workers.
pub struct Fetcher {
    clients: Clients,
    settings: FetchSettings,
    cancel: Arc<AtomicBool>,
    sockets: Arc<Sockets>,
    /// With `--text` / `--markdown`: the bytes of kept bodies, shared.
    budget: Option<Arc<Budget>>,
    /// With `--tls`: the handshakes that learn version and cipher.
    negotiations: Option<Negotiations>,
    /// With `--warc`: the bytes of raw payloads held, shared.
    raw_budget: Option<Arc<Budget>>,
    /// The connections the client made, timed (`timing.rs`).
    connections: Option<Arc<Connections>>,
}

impl Fetcher {
    /// A fetcher whose requests keep to `sockets`; `cancel` cuts retry
    /// waits short when the run is stopping.
    pub fn new(
        clients: Clients,
        settings: FetchSettings,
        cancel: Arc<AtomicBool>,
        sockets: Arc<Sockets>,
    ) -> Fetcher {
        Fetcher {
            clients,
            settings,
            cancel,
            sockets,
            budget: None,
            negotiations: None,
            raw_budget: None,
            connections: None,
        }
    }

    /// Gives records the `timings` of the client's connections, which it
    /// files in `connections` (`client::build`).
    pub fn timed(mut self, connections: Arc<Connections>) -> Fetcher {
        self.connections = Some(connections);
        self
    }

    /// Keeps the raw payloads held for `--warc` within `budget`.
    pub fn with_raw_budget(mut self, budget: Arc<Budget>) -> Fetcher {
        self.raw_budget = Some(budget);
        self
    }

    /// Learns TLS versions and ciphers with `negotiations` (`--tls`).
    pub fn with_negotiations(mut self, negotiations: Negotiations) -> Fetcher {
        self.negotiations = Some(negotiations);
        self
    }

    /// Keeps the bodies kept for extraction within `budget`.
    pub fn with_budget(mut self, budget: Arc<Budget>) -> Fetcher {
        self.budget = Some(budget);
        self
    }

    /// What the run extracts from pages.
    pub fn extraction(&self) -> &Extraction {
        &self.settings.extraction
    }

    /// The connection budget, which the reader and the workers tell which
    /// hosts have jobs waiting.
    pub fn sockets(&self) -> &Sockets {
        &self.sockets
    }

    /// Fetches what `ask` asks, with retries, telling `watch` how each
    /// attempt went. Out of line: workers wait under its frame, so it is
    /// kept apart from the callers' (see `pipeline::worker::fetch`).
    #[inline(never)]
    pub fn fetch(&self, ask: &Ask, watch: &dyn Watch) -> Box<Fetched> {
        let url = ask.url;
        let started = Instant::now();
        let mut attempts = 0;
        let mut earlier = Vec::new();
        loop {
            attempts += 1;
            let attempt_started = Instant::now();
            let Attempt {
                mut fetched,
                retry,
                asked,
            } = self.attempt(ask, started);
            if !earlier.is_empty() {
                earlier.append(&mut fetched.exchanges);
                fetched.exchanges = std::mem::take(&mut earlier);
            }
            let unanswered = fetched.status.is_none().then_some(fetched.error.as_ref());
            let may_go_on = watch.attempted(&asked, unanswered.flatten());
            let answer = Answer {
                status: fetched.status,
                latency: fetched
                    .ttfb
                    .map(|t| t.saturating_sub(attempt_started - started)),
                retry_after: matches!(retry, Some(Some(_))),
            };
            watch.answered(&asked, answer);
            if let Some(Some(after)) = retry {
                watch.pause(&asked, after.min(MAX_RETRY_AFTER));
            }
            // A POST or PATCH may have been acted on: never sent twice.
            let idempotent = ask.method(&self.settings).is_idempotent();
            let again =
                retry.filter(|_| attempts <= self.settings.retries && may_go_on && idempotent);
            if let Some(after) = again {
                let wait = backoff(attempts, after);
                self.log(format_args!(
                    "{}: retry {attempts} of {} in {:.2} s",
                    redact::url(url),
                    self.settings.retries,
                    wait.as_secs_f64()
                ));
                if self.pause(wait) {
                    earlier = std::mem::take(&mut fetched.exchanges);
                    continue;
                }
            }
            fetched.attempts = attempts;
            fetched.elapsed = started.elapsed();
            self.negotiated(&mut fetched);
            return fetched;
        }
    }

    /// With `--tls`: the version and cipher the server that answered
    /// negotiates, from scrape's own handshake (not through a proxy).
    fn negotiated(&self, fetched: &mut Fetched) {
        let (Some(negotiations), Some(tls), Some(addr), Some(url)) = (
            &self.negotiations,
            &mut fetched.tls,
            fetched.remote,
            &fetched.final_url,
        ) else {
            return;
        };
        if self.settings.proxies.for_url(url).is_some() {
            return;
        }
        let Some(host) = url.host_str() else {
            return;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Some((version, cipher)) = negotiations.with(addr, host) {
            tls.version = Some(version);
            tls.cipher = Some(cipher);
        }
    }

    /// With `-v`: one line on stderr, with its time.
    fn log(&self, line: std::fmt::Arguments) {
        if self.settings.verbose {
            crate::log::verbose(line);
        }
    }

    /// With `-v`: the request and what came of it.
    fn log_response(&self, url: &Url, sent: &reqwest::Result<Response>, at: Instant) {
        if !self.settings.verbose {
            return;
        }
        let ms = at.elapsed().as_secs_f64() * 1000.0;
        let url = redact::url(url);
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
}

#[cfg(test)]
mod tests {
    //! The retry and redirect loops, end to end over loopback, through the
    //! `Watch` seam the politeness gate uses.

    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::Mutex;

    use super::*;
    use crate::fetch::client::{ClientSettings, POOL_IDLE_TIMEOUT, Pooling};

    /// A server that answers its `n`th request (from 0, over all
    /// connections) with `answer(n, path, cookie header)`, closing each
    /// connection after one response.
    fn server(answer: fn(usize, &str, &str) -> String) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().flatten().enumerate() {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut cookie = String::new();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                    if let Some(v) = header.to_ascii_lowercase().strip_prefix("cookie:") {
                        cookie = v.trim().to_string();
                    }
                }
                let mut stream = stream;
                let _ = stream.write_all(answer(n, &path, &cookie).as_bytes());
            }
        });
        addr
    }

    fn response(head: &str) -> String {
        format!("HTTP/1.1 {head}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    fn fetcher(retries: u32) -> Fetcher {
        let client = client::build(
            &ClientSettings {
                user_agent: HeaderValue::from_static("test"),
                connect_timeout: Duration::from_secs(2),
                timeout: Duration::from_secs(5),
                insecure: false,
                extra_roots: Vec::new(),
                proxies: proxy::Proxies::Direct,
                tls_info: false,
                http2: false,
                resolve: Vec::new(),
            },
            Pooling::None,
            None,
        )
        .unwrap();
        let settings = FetchSettings {
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(2),
            retries,
            max_redirects: 5,
            max_body: 1 << 20,
            headers: HeaderMap::new(),
            extraction: Arc::new(Extraction::default()),
            verbose: false,
            keep_headers: false,
            proxies: proxy::Proxies::Direct,
            warc: false,
            user_agent: HeaderValue::from_static("test"),
            tls: false,
            method: reqwest::Method::GET,
            body: None,
        };
        let sockets = Arc::new(Sockets::new(16, 1, POOL_IDLE_TIMEOUT));
        let clients = Clients::one(client);
        Fetcher::new(clients, settings, Arc::new(AtomicBool::new(false)), sockets)
    }

    /// What a fetch told the gate.
    #[derive(Default)]
    struct Heard {
        attempts: Mutex<Vec<Option<ErrorKind>>>,
        pauses: Mutex<Vec<Duration>>,
        /// Whether the host may be asked again after an unanswered attempt.
        go_on: bool,
    }

    impl Watch for Heard {
        fn pause(&self, _: &Url, wait: Duration) {
            self.pauses.lock().unwrap().push(wait);
        }
        fn attempted(&self, _: &Url, unanswered: Option<&FetchError>) -> bool {
            self.attempts
                .lock()
                .unwrap()
                .push(unanswered.map(|e| e.kind));
            unanswered.is_none() || self.go_on
        }
    }

    fn fetch(f: &Fetcher, url: &str, heard: &Heard) -> Fetched {
        let url = Url::parse(url).unwrap();
        *f.fetch(
            &Ask {
                guard: None,
                url: &url,
                conditional: None,
                request: None,
            },
            heard,
        )
    }

    #[test]
    fn transient_statuses_are_retried_and_the_gate_hears_each_attempt() {
        let addr = server(|n, _, _| match n {
            0 | 1 => response("503 Service Unavailable\r\nRetry-After: 0"),
            _ => response("200 OK"),
        });
        let heard = Heard::default();
        let got = fetch(&fetcher(2), &format!("http://{addr}/"), &heard);
        assert_eq!((got.status, got.attempts), (Some(200), 3));
        assert_eq!(*heard.attempts.lock().unwrap(), [None, None, None]);
        assert_eq!(
            heard.pauses.lock().unwrap().len(),
            2,
            "Retry-After heard twice"
        );
        // Out of retries: the last 503 is the record.
        let addr = server(|_, _, _| response("503 Service Unavailable\r\nRetry-After: 0"));
        let got = fetch(&fetcher(1), &format!("http://{addr}/"), &Heard::default());
        assert_eq!((got.status, got.attempts), (Some(503), 2));
    }

    #[test]
    fn a_host_the_gate_gives_up_on_is_not_retried() {
        let refused = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let heard = Heard::default();
        let got = fetch(&fetcher(2), &format!("http://{refused}/"), &heard);
        assert_eq!(got.attempts, 1);
        assert_eq!(got.error.map(|e| e.kind), Some(ErrorKind::Connect));
        assert_eq!(*heard.attempts.lock().unwrap(), [Some(ErrorKind::Connect)]);
        let willing = Heard {
            go_on: true,
            ..Heard::default()
        };
        let got = fetch(&fetcher(2), &format!("http://{refused}/"), &willing);
        assert_eq!(got.attempts, 3, "retried while the gate allows");
    }

    #[test]
    fn redirects_are_followed_loops_named_and_cookies_make_a_new_request() {
        let addr = server(|_, path, cookie| match path {
            "/a" => response("302 Found\r\nLocation: /b"),
            "/b" => response("302 Found\r\nLocation: /a"),
            "/consent" if cookie.contains("ok=1") => response("200 OK"),
            "/consent" => response("302 Found\r\nSet-Cookie: ok=1\r\nLocation: /consent"),
            _ => response("404 Not Found"),
        });
        let got = fetch(&fetcher(0), &format!("http://{addr}/a"), &Heard::default());
        let error = got.error.unwrap();
        assert_eq!(error.kind, ErrorKind::Redirect);
        assert!(error.message.contains("loop"), "{}", error.message);
        assert_eq!(
            got.location.map(|u| u.path().to_string()).as_deref(),
            Some("/a")
        );
        let got = fetch(
            &fetcher(0),
            &format!("http://{addr}/consent"),
            &Heard::default(),
        );
        assert_eq!((got.status, got.redirects), (Some(200), 1));
        assert!(got.error.is_none());
    }
}
