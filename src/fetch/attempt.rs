//! One attempt at a URL: its requests, hop by hop, under one deadline.
//!
//! A hop sends the request (the `-H` headers this origin may have, the
//! chain's cookies, `--since` validators for their URL, `Connection:
//! close` when the connection budget says so), and a redirect leads to the
//! next hop while `--max-redirects` and the loop check allow it
//! ([`super::redirect`]); the last response's body is read ([`super::body`]).
//! A request that got an empty reply on a connection the pool had kept is
//! sent again at once on a fresh one: that is not an attempt. Whether a
//! failed attempt may be retried is decided here; `Fetcher::fetch` retries.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::tls::TlsInfo;
use url::Url;

use super::capture::{Exchange, Sent};
use super::classify::classify_send;
use super::cookies::Jar;
use super::retry::{retry_after, transient_status};
use super::sockets::{Ending, Lease};
use super::timing::Timing;
use super::tls::Tls;
use super::validators::{Headers, Validators};
use super::{Ask, Fetched, Fetcher, RequestBody, decode, redirect};
use crate::error::{ErrorKind, FetchError};
use crate::urls::redact::url as redact_url;

/// How many times a request that got an empty reply on a reused
/// connection is sent again at once.
const MAX_RESENDS: u32 = 2;

/// A request that got no response: why, and whether another attempt may
/// help (as in [`Attempt`]).
struct Failure {
    error: FetchError,
    retry: Option<Option<Duration>>,
}

/// The outcome of one attempt, and whether another may help.
pub(super) struct Attempt {
    pub fetched: Box<Fetched>,
    /// `Some` when the failure is transient: with the server's Retry-After.
    pub retry: Option<Option<Duration>>,
    /// The URL of the attempt's last request (the host that answered, or
    /// did not).
    pub asked: Url,
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
    /// What the fetch was asked (the URL, `--since` validators).
    ask: &'a Ask<'a>,
    /// This hop's method, and whether it carries the body: a 303 (and a
    /// 301 or 302 after a POST) turns it into a GET without a body; 307
    /// and 308 keep both (RFC 9110 §15.4).
    method: reqwest::Method,
    with_body: bool,
    /// The body (`--data`, `--json`, a JSON line's).
    body: Option<&'a Arc<RequestBody>>,
    /// `-H`, with a JSON line's headers (borrowed when the line has none).
    headers: Cow<'a, HeaderMap>,
}

/// What comes after a redirect response.
enum Hop {
    /// The next request of the chain.
    Next,
    /// The chain ends here (too long, a loop, a refused target).
    Stop(FetchError),
}

impl Fetcher {
    /// One attempt: the request, its redirects and the body, under one
    /// deadline.
    pub(super) fn attempt(&self, ask: &Ask, started: Instant) -> Attempt {
        let deadline = Instant::now() + self.settings.timeout;
        let body = ask.body(&self.settings);
        // On the heap, as `Fetched` is: workers' stacks hold every frame
        // under this one, the page parser's included.
        let mut chain = Box::new(Chain {
            current: ask.url.clone(),
            jar: Jar::default(),
            visited: Vec::new(),
            redirects: 0,
            exchanges: Vec::new(),
            ask,
            method: ask.method(&self.settings),
            with_body: body.is_some(),
            body,
            headers: ask.headers(&self.settings),
        });
        loop {
            let (resp, lease, sent, timing) = match self.send(&chain, deadline) {
                Ok(sent) => sent,
                Err(Failure { error, retry }) => {
                    let mut fetched = Box::new(Fetched::failed(chain.redirects, error));
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
            let mut fetched = self.answered(&resp, &chain, started);
            fetched.timing = timing;
            let max = self.settings.max_redirects;
            if let Some(next) = redirect::target(&resp, &chain.current, max) {
                chain.redirected(resp.status().as_u16());
                let (ending, drained) = self.drain(resp, exchange);
                chain.exchanges.extend(drained);
                let hop = chain.follow(next, max);
                self.sockets.done(lease, ending);
                match hop {
                    Hop::Next => continue,
                    Hop::Stop(error) => {
                        fetched.timing.as_mut().map(Timing::finished);
                        fetched.error = Some(error);
                        fetched.exchanges = chain.exchanges;
                        return final_attempt(fetched, chain.current);
                    }
                }
            }
            return self.last(resp, fetched, chain, (lease, exchange), deadline);
        }
    }

    /// What a response's head gives the record: status, validators, timing,
    /// `--headers`, `--tls`'s certificate. On the heap, as the attempt
    /// carries it: each worker's stack is as deep as its deepest frames.
    #[inline(never)]
    fn answered(&self, resp: &Response, chain: &Chain, started: Instant) -> Box<Fetched> {
        let elapsed = started.elapsed();
        let responded = Fetched::responded(resp, &chain.current, chain.redirects, elapsed);
        let mut fetched = Box::new(responded);
        if self.settings.keep_headers {
            fetched.headers = Some(Headers::of(resp.headers()));
        }
        if self.settings.tls && chain.current.scheme() == "https" {
            let der = resp.extensions().get::<TlsInfo>();
            let der = der.and_then(TlsInfo::peer_certificate).unwrap_or_default();
            fetched.tls = Some(Tls::of_certificate(der, chrono::Utc::now()));
        }
        fetched
    }

    /// The chain's last response: its body read, its connection given back;
    /// a transient status (429, 503…) is worth another attempt.
    #[inline(never)]
    fn last(
        &self,
        resp: Response,
        mut fetched: Box<Fetched>,
        chain: Box<Chain>,
        (lease, exchange): (Lease, Option<Exchange>),
        deadline: Instant,
    ) -> Attempt {
        let retry_after = transient_status(resp.status()).then(|| retry_after(&resp));
        fetched.exchanges = chain.exchanges;
        let ending = self.read_body(resp, &mut fetched, deadline, exchange);
        fetched.timing.as_mut().map(Timing::finished);
        self.sockets.done(lease, ending);
        match retry_after {
            Some(after) if fetched.error.is_none() => Attempt {
                fetched,
                retry: Some(after),
                asked: chain.current,
            },
            _ => final_attempt(fetched, chain.current),
        }
    }

    /// Sends one request (one hop) within what is left of the deadline:
    /// the response, its place in the connection budget and its timing so
    /// far, or the error
    /// and whether it is worth another attempt. A request that gets an
    /// empty reply on a connection expected to be a reused one (the server
    /// closed it while it was idle) is sent again at once, up to
    /// [`MAX_RESENDS`] times, on another connection: that is not an attempt.
    // Out of line, like `read_body`: their frames are never needed at once,
    // and 4096 workers each pay for the deepest stack they touch.
    #[inline(never)]
    fn send(
        &self,
        chain: &Chain,
        deadline: Instant,
    ) -> Result<(Response, Lease, Option<Sent>, Option<Timing>), Failure> {
        let (original, current) = (chain.ask.url, &chain.current);
        let mut resends = 0;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(Failure {
                    error: self.timeout_error(),
                    retry: Some(None),
                });
            }
            let slot = self.clients.slot(current);
            let lease = self.sockets.open(current, original, slot);
            let client = self.clients.client(slot, lease.closes());
            let reused = lease.reused();
            let sent_at = Instant::now();
            let request = self.request(client, chain, remaining, &lease);
            let (sent, head) = self.execute(client, request);
            self.log_response(current, &sent, sent_at);
            let e = match sent {
                Ok(resp) => {
                    let timing = self
                        .connections
                        .as_ref()
                        .map(|c| c.answered(&resp, sent_at));
                    return Ok((resp, lease, head, timing));
                }
                Err(e) => e,
            };
            self.sockets.done(lease, Ending::Closed);
            let mut failure = classify_send(&e, &self.settings);
            failure.error.message = self
                .settings
                .proxies
                .name_in(current, failure.error.message);
            let idempotent = chain.method.is_idempotent();
            if failure.empty_reply && reused && resends < MAX_RESENDS && idempotent {
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
    #[inline(never)]
    fn request(
        &self,
        client: &Client,
        chain: &Chain,
        remaining: Duration,
        lease: &Lease,
    ) -> RequestBuilder {
        let current = &chain.current;
        let mut headers = redirect::headers_for(&chain.headers, chain.ask.url, current);
        chain.jar.add_to(&mut headers, current);
        if let Some(conditional) = chain.ask.conditional.filter(|c| c.url == *current) {
            headers.extend(conditional.headers.clone());
        }
        let mut request = client
            .request(chain.method.clone(), current.clone())
            .headers(headers)
            .timeout(remaining);
        if let Some(body) = chain.body.filter(|_| chain.with_body) {
            if !chain.headers.contains_key(header::CONTENT_TYPE) {
                request = request.header(header::CONTENT_TYPE, body.content_type.clone());
            }
            request = request.body(body.bytes.clone());
        }
        if lease.closes() {
            request = request.header(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if !chain.headers.contains_key(header::ACCEPT_ENCODING) {
            let offer = HeaderValue::from_static(decode::ACCEPT_ENCODING);
            request = request.header(header::ACCEPT_ENCODING, offer);
        }
        request
    }

    /// Sends `request`; with `--warc`, keeps its head first.
    fn execute(
        &self,
        client: &Client,
        request: RequestBuilder,
    ) -> (reqwest::Result<Response>, Option<Sent>) {
        if !self.settings.warc {
            return (request.send(), None);
        }
        match request.build() {
            Ok(request) => {
                let head = Sent::of(&request, &self.settings.user_agent);
                (client.execute(request), Some(head))
            }
            Err(e) => (Err(e), None),
        }
    }
}

impl Chain<'_> {
    /// A redirect with `status` came: the next hop's method and body, as
    /// RFC 9110 §15.4 says and browsers and curl do: 303 → GET (a HEAD
    /// stays HEAD), 301 and 302 after a POST → GET, without the body; 307,
    /// 308 (and the rest) keep both.
    fn redirected(&mut self, status: u16) {
        let to_get = match status {
            303 => self.method != reqwest::Method::HEAD,
            301 | 302 => self.method == reqwest::Method::POST,
            _ => false,
        };
        if to_get {
            self.method = reqwest::Method::GET;
            self.with_body = false;
        }
    }

    /// Moves to the next hop, if it is allowed.
    fn follow(&mut self, next: Result<Url, FetchError>, max: u32) -> Hop {
        if self.visited.is_empty() {
            // The first request went out before any response set a cookie.
            self.visited.push((self.ask.url.clone(), String::new()));
        }
        let checked = next.and_then(|next| {
            let cookies = self.jar.sent_to(&next);
            let next = redirect::check_hop(Ok(next), &cookies, &self.visited, self.redirects, max)?;
            Ok((next, cookies))
        });
        let refused = match (&checked, self.ask.guard) {
            (Ok((next, _)), Some(guard)) => guard.0.internal(next),
            _ => None,
        };
        if let Some(why) = refused {
            return Hop::Stop(FetchError::new(
                ErrorKind::Redirect,
                format!(
                    "refused redirect to {why}: the crawl found this link on a page \
                     (--allow-private follows it)"
                ),
            ));
        }
        match checked {
            Ok((next, cookies)) => {
                self.redirects += 1;
                self.visited.push((next.clone(), cookies));
                self.current = next;
                Hop::Next
            }
            Err(error) => Hop::Stop(error),
        }
    }
}

impl Fetched {
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

fn final_attempt(fetched: Box<Fetched>, asked: Url) -> Attempt {
    Attempt {
        fetched,
        retry: None,
        asked,
    }
}
