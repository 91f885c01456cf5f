//! One URL → [`Fetched`]: the request, its redirects, its retries, its body.
//!
//! - One shared `reqwest::blocking::Client` ([`client`]) serves every
//!   worker. Redirects are followed here ([`redirect`]), not by reqwest, so
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
pub mod tls;
mod trust;
pub mod validators;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::tls::TlsInfo;
use url::Url;

use crate::budget::Budget;
use crate::error::{ErrorKind, FetchError};
use crate::html::page::Page;
use crate::plan::Extraction;
use crate::urls::redact::{self, url as redact_url};
use capture::{Exchange, Sent};
use classify::{classify, classify_send, secs};
use cookies::Jar;
use retry::{MAX_RETRY_AFTER, backoff, retry_after, transient_status};
use sockets::{Ending, Lease, Sockets};
use tls::{Negotiations, Tls};
use validators::{Conditional, Headers, Validators};

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
    /// `--warc`: keep every exchange's heads and raw payload; the
    /// client's User-Agent, to write the request as sent.
    pub capture: Option<HeaderValue>,
    /// `--tls`: describe the certificate and TLS of HTTPS responses.
    pub tls: bool,
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
}

/// How many times a request that got an empty reply on a reused
/// connection is sent again at once.
const MAX_RESENDS: u32 = 2;

/// The outcome of one attempt, and whether another may help.
struct Attempt {
    fetched: Fetched,
    /// `Some` when the failure is transient: with the server's Retry-After.
    retry: Option<Option<Duration>>,
    /// The URL of the attempt's last request (the host that answered, or
    /// did not).
    asked: Url,
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
}

/// A request that got no response: why, and whether another attempt may
/// help (as in `Attempt`).
struct Failure {
    error: FetchError,
    retry: Option<Option<Duration>>,
}

/// Fetches URLs with one shared client; cheap to share between workers.
pub struct Fetcher {
    client: Client,
    settings: FetchSettings,
    cancel: Arc<AtomicBool>,
    sockets: Arc<Sockets>,
    /// With `--text` / `--markdown`: the bytes of kept bodies, shared.
    budget: Option<Arc<Budget>>,
    /// With `--tls`: the handshakes that learn version and cipher.
    negotiations: Option<Negotiations>,
    /// With `--warc`: the bytes of raw payloads held, shared.
    raw_budget: Option<Arc<Budget>>,
}

/// The hops of one attempt so far.
struct Chain<'a> {
    current: Url,
    /// The cookies the chain's responses set.
    jar: Jar,
    /// Every hop of the chain with the cookies it was sent, for loop
    /// detection; filled on the first redirect only (most URLs have none).
    visited: Vec<(Url, String)>,
    redirects: u32,
    /// With `--warc`: the chain's exchanges so far.
    exchanges: Vec<Exchange>,
    /// `--since`: validators for the hop to their URL.
    conditional: Option<&'a Conditional>,
}

impl Fetcher {
    /// A fetcher whose requests keep to `sockets`; `cancel` cuts retry
    /// waits short when the run is stopping.
    pub fn new(
        client: Client,
        settings: FetchSettings,
        cancel: Arc<AtomicBool>,
        sockets: Arc<Sockets>,
    ) -> Fetcher {
        Fetcher {
            client,
            settings,
            cancel,
            sockets,
            budget: None,
            negotiations: None,
            raw_budget: None,
        }
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

    /// Fetches `url`, with retries, telling `watch` how each attempt went;
    /// a request to `conditional`'s URL carries its validators.
    pub fn fetch(
        &self,
        url: &Url,
        watch: &dyn Watch,
        conditional: Option<&Conditional>,
    ) -> Fetched {
        let started = Instant::now();
        let mut attempts = 0;
        let mut earlier = Vec::new();
        loop {
            attempts += 1;
            let Attempt {
                mut fetched,
                retry,
                asked,
            } = self.attempt(url, started, conditional);
            if !earlier.is_empty() {
                earlier.append(&mut fetched.exchanges);
                fetched.exchanges = std::mem::take(&mut earlier);
            }
            let unanswered = fetched.status.is_none().then_some(fetched.error.as_ref());
            let may_go_on = watch.attempted(&asked, unanswered.flatten());
            if let Some(Some(after)) = retry {
                watch.pause(&asked, after.min(MAX_RETRY_AFTER));
            }
            let again = retry.filter(|_| attempts <= self.settings.retries && may_go_on);
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

    /// One attempt: the request, its redirects and the body, under one
    /// deadline.
    fn attempt(&self, url: &Url, started: Instant, conditional: Option<&Conditional>) -> Attempt {
        let deadline = Instant::now() + self.settings.timeout;
        let mut chain = Chain {
            current: url.clone(),
            jar: Jar::default(),
            visited: Vec::new(),
            redirects: 0,
            exchanges: Vec::new(),
            conditional,
        };
        loop {
            let (resp, lease, sent) = match self.send(url, &chain, deadline) {
                Ok(sent) => sent,
                Err(Failure { error, retry }) => {
                    let mut fetched = Fetched::failed(chain.redirects, error);
                    fetched.exchanges = chain.exchanges;
                    return Attempt {
                        fetched,
                        retry,
                        asked: chain.current,
                    };
                }
            };
            chain.jar.remember(&resp, &chain.current);
            let exchange = sent.map(|sent| sent.answered(&chain.current, &resp));
            let elapsed = started.elapsed();
            let mut fetched = Fetched::responded(&resp, &chain.current, chain.redirects, elapsed);
            if self.settings.keep_headers {
                fetched.headers = Some(Headers::of(resp.headers()));
            }
            if self.settings.tls && chain.current.scheme() == "https" {
                let der = resp.extensions().get::<TlsInfo>();
                let der = der.and_then(TlsInfo::peer_certificate).unwrap_or_default();
                fetched.tls = Some(Tls::of_certificate(der, chrono::Utc::now()));
            }
            let max = self.settings.max_redirects;
            if let Some(next) = redirect::target(&resp, &chain.current, max) {
                let (ending, drained) = self.drain(resp, exchange);
                chain.exchanges.extend(drained);
                let hop = chain.follow(url, next, max);
                self.sockets.done(lease, ending);
                match hop {
                    Ok(()) => continue,
                    Err(error) => {
                        fetched.error = Some(error);
                        fetched.exchanges = chain.exchanges;
                        return final_attempt(fetched, chain.current);
                    }
                }
            }
            let retry_after = transient_status(resp.status()).then(|| retry_after(&resp));
            fetched.exchanges = chain.exchanges;
            let ending = self.read_body(resp, &mut fetched, deadline, exchange);
            self.sockets.done(lease, ending);
            return match retry_after {
                Some(after) if fetched.error.is_none() => Attempt {
                    fetched,
                    retry: Some(after),
                    asked: chain.current,
                },
                _ => final_attempt(fetched, chain.current),
            };
        }
    }

    /// Sends one request (one hop) within what is left of the deadline:
    /// the response and its place in the connection budget, or the error
    /// and whether it is worth another attempt. A request that gets an
    /// empty reply on a connection expected to be a reused one (the server
    /// closed it while it was idle) is sent again at once, up to
    /// [`MAX_RESENDS`] times, on another connection: that is not an attempt.
    // Out of line, like `read_body`: their frames are never needed at once,
    // and 4096 workers each pay for the deepest stack they touch.
    #[inline(never)]
    fn send(
        &self,
        original: &Url,
        chain: &Chain,
        deadline: Instant,
    ) -> Result<(Response, Lease, Option<Sent>), Failure> {
        let current = &chain.current;
        let mut resends = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Failure {
                    error: self.timeout_error(),
                    retry: Some(None),
                });
            }
            let lease = self.sockets.open(current, original);
            let reused = lease.reused();
            let sent_at = Instant::now();
            let request = self.request(original, chain, remaining, &lease);
            let (sent, head) = self.execute(request);
            self.log_response(current, &sent, sent_at);
            let e = match sent {
                Ok(resp) => return Ok((resp, lease, head)),
                Err(e) => e,
            };
            self.sockets.done(lease, Ending::Closed);
            let mut failure = classify_send(&e, &self.settings);
            failure.error.message = self
                .settings
                .proxies
                .name_in(current, failure.error.message);
            if failure.empty_reply && reused && resends < MAX_RESENDS {
                resends += 1;
                self.log(format_args!(
                    "{}: sent again on another connection",
                    redact_url(current)
                ));
                continue;
            }
            return Err(Failure {
                error: failure.error,
                retry: failure.transient.then_some(None),
            });
        }
    }

    /// The request for one hop: the `-H` headers this origin may have, the
    /// chain's cookies, `Connection: close` when the budget says so,
    /// `Accept-Encoding` for what scrape decodes.
    fn request(
        &self,
        original: &Url,
        chain: &Chain,
        remaining: Duration,
        lease: &Lease,
    ) -> RequestBuilder {
        let current = &chain.current;
        let mut headers = redirect::headers_for(&self.settings.headers, original, current);
        chain.jar.add_to(&mut headers, current);
        if let Some(conditional) = chain.conditional.filter(|c| c.url == *current) {
            headers.extend(conditional.headers.clone());
        }
        let mut request = self
            .client
            .get(current.clone())
            .headers(headers)
            .timeout(remaining);
        if lease.closes() {
            request = request.header(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if !self.settings.headers.contains_key(header::ACCEPT_ENCODING) {
            let offer = HeaderValue::from_static(decode::ACCEPT_ENCODING);
            request = request.header(header::ACCEPT_ENCODING, offer);
        }
        request
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

    /// Sends `request`; with `--warc`, keeps its head first.
    fn execute(&self, request: RequestBuilder) -> (reqwest::Result<Response>, Option<Sent>) {
        let Some(user_agent) = &self.settings.capture else {
            return (request.send(), None);
        };
        match request.build() {
            Ok(request) => {
                let head = Sent::of(&request, user_agent);
                (self.client.execute(request), Some(head))
            }
            Err(e) => (Err(e), None),
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

impl Chain<'_> {
    /// Moves to the next hop, if it is allowed.
    fn follow(
        &mut self,
        first: &Url,
        next: Result<Url, FetchError>,
        max: u32,
    ) -> Result<(), FetchError> {
        if self.visited.is_empty() {
            // The first request went out before any response set a cookie.
            self.visited.push((first.clone(), String::new()));
        }
        let next = next?;
        let cookies = self.jar.sent_to(&next);
        let next = redirect::check_hop(Ok(next), &cookies, &self.visited, self.redirects, max)?;
        self.redirects += 1;
        self.visited.push((next.clone(), cookies));
        self.current = next;
        Ok(())
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
            location: redirect::location(resp, url),
            ttfb: Some(ttfb),
            validators: Validators::of(resp),
            remote: resp.remote_addr(),
            ..Fetched::default()
        }
    }
}

fn final_attempt(fetched: Fetched, asked: Url) -> Attempt {
    Attempt {
        fetched,
        retry: None,
        asked,
    }
}
