//! `timings`: where a request's time went — DNS, connect, TLS, the wait for
//! the first byte, the whole — measured by hooks in the client, not
//! estimated.
//!
//! The client makes connections on its own runtime thread, out of sight of
//! the worker that asked; three hooks see them being made:
//!
//! - a connector layer ([`Timed`]) wraps each connection being made: it
//!   starts the clock, and when the connection is ready files what it
//!   learnt under the connection's local address ([`Connections`]);
//! - the DNS resolver ([`Resolver`], `getaddrinfo` on the client's blocking
//!   threads, as reqwest's own) stamps when the lookup began and ended;
//! - the TLS session store ([`stamped_sessions`]) is asked for a ticket the
//!   moment rustls starts the handshake, which is the moment TCP connected.
//!
//! The resolver and the session store find the connection being made
//! through a task-local the layer sets around it. A worker whose response
//! came takes the figures filed under its connection's local address: the
//! first response on a connection finds them (`reused: false`); a later one
//! finds none (`reused: true`, the steps it skipped null). A connection
//! made before its request was sent (the pool made it for another request,
//! which found an idle one first) counts as reused: the request did not
//! wait for it.
//!
//! What each figure is, in milliseconds (docs/record.md, `timings`): `dns`
//! the lookup (null for an address, a `--resolve` pin or a reused
//! connection), `connect` from then to TCP connected (through a proxy: to
//! the tunnel's end), `tls` the handshake (null for http), `ttfb` from the
//! request on a ready connection to the response's headers, `total` from
//! the request's start to the end of its body. They are the final
//! request's (the last redirect hop of the last attempt).

use std::collections::HashMap;
use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::{Connection, HttpInfo};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rustls::NamedGroup;
use rustls::client::{ClientSessionMemoryCache, ClientSessionStore};
use rustls::client::{Tls12ClientSessionValue, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use serde::Serialize;

/// Connections made but not yet claimed past this many prompt a sweep of
/// the old ones (made and never answered on: a request that failed).
const SWEEP_AT: usize = 8192;

/// An unclaimed connection older than this is swept (a response that
/// comes later on it reads as `reused`: its figures are gone).
const UNCLAIMED: Duration = Duration::from_secs(60);

tokio::task_local! {
    /// The connection being made, for the resolver and the session store.
    static MAKING: Arc<Stamps>;
}

/// What the resolver and the TLS session store saw while one connection
/// was being made.
#[derive(Default)]
struct Stamps {
    /// The lookup's start and end.
    dns: Mutex<Option<(Instant, Instant)>>,
    /// When the TLS handshake began (the first, through a TLS proxy).
    tls: Mutex<Option<Instant>>,
}

impl Stamps {
    fn looked_up(&self, began: Instant, ended: Instant) {
        if let Ok(mut dns) = self.dns.lock() {
            *dns = Some((began, ended));
        }
    }

    fn handshake_began(&self) {
        if let Ok(mut tls) = self.tls.lock() {
            tls.get_or_insert_with(Instant::now);
        }
    }
}

/// How one connection was made.
#[derive(Debug, Clone, Copy)]
struct Made {
    dns: Option<Duration>,
    connect: Duration,
    tls: Option<Duration>,
    /// When it was ready to carry a request.
    ready: Instant,
}

impl Made {
    fn of(began: Instant, stamps: &Stamps, ready: Instant) -> Made {
        let dns = stamps.dns.lock().ok().and_then(|d| *d);
        let tls = stamps.tls.lock().ok().and_then(|t| *t);
        let connecting = dns.map_or(began, |(_, end)| end);
        Made {
            dns: dns.map(|(start, end)| end.saturating_duration_since(start)),
            connect: tls.unwrap_or(ready).saturating_duration_since(connecting),
            tls: tls.map(|t| ready.saturating_duration_since(t)),
            ready,
        }
    }
}

/// The connections made and not yet answered on, by local address.
#[derive(Default)]
pub struct Connections {
    made: Mutex<Unclaimed>,
}

#[derive(Default)]
struct Unclaimed {
    by_local: HashMap<SocketAddr, Made>,
    sweep_at: usize,
}

impl Connections {
    /// A new, empty register, shared by the clients of a run.
    pub fn new() -> Arc<Connections> {
        Arc::new(Connections::default())
    }

    fn file(&self, local: SocketAddr, made: Made) {
        let Ok(mut m) = self.made.lock() else {
            return;
        };
        if m.by_local.len() >= m.sweep_at.max(SWEEP_AT) {
            m.by_local.retain(|_, c| c.ready.elapsed() < UNCLAIMED);
            m.sweep_at = m.by_local.len() * 2;
        }
        m.by_local.insert(local, made);
    }

    fn claim(&self, local: SocketAddr) -> Option<Made> {
        self.made.lock().ok()?.by_local.remove(&local)
    }

    /// The timing of a request sent at `sent` whose response (`resp`)
    /// came now; its `total` is set when its body has been read
    /// ([`Timing::finished`]).
    pub fn answered(&self, resp: &reqwest::blocking::Response, sent: Instant) -> Timing {
        let headers = Instant::now();
        let local = resp
            .extensions()
            .get::<HttpInfo>()
            .map(HttpInfo::local_addr);
        let made = local.and_then(|l| self.claim(l)).filter(|m| m.ready > sent);
        let ready = made.map_or(sent, |m| m.ready);
        Timing {
            dns: made.and_then(|m| m.dns),
            connect: made.map(|m| m.connect),
            tls: made.and_then(|m| m.tls),
            ttfb: headers.saturating_duration_since(ready),
            total: headers.saturating_duration_since(sent),
            reused: made.is_none(),
            sent,
        }
    }
}

/// Where one request's time went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// The name's lookup; none when no lookup was made for this request.
    pub dns: Option<Duration>,
    /// From the lookup's end to TCP connected; none on a reused connection.
    pub connect: Option<Duration>,
    /// The TLS handshake; none for http or a reused connection.
    pub tls: Option<Duration>,
    /// From the request on a ready connection to the response's headers.
    pub ttfb: Duration,
    /// From the request's start to the end of its body.
    pub total: Duration,
    /// The request went on a connection it did not make.
    pub reused: bool,
    /// When the request started.
    sent: Instant,
}

impl Timing {
    /// The request's body has been read (or given up on) now.
    pub fn finished(&mut self) {
        self.total = self.sent.elapsed();
    }

    /// As the record writes it.
    pub fn record(&self) -> Timings {
        let ms = |d: Duration| d.as_micros() as f64 / 1000.0;
        Timings {
            dns_ms: self.dns.map(ms),
            connect_ms: self.connect.map(ms),
            tls_ms: self.tls.map(ms),
            ttfb_ms: ms(self.ttfb),
            total_ms: ms(self.total),
            reused: self.reused,
        }
    }
}

/// The record's `timings` (docs/record.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Timings {
    /// The name's lookup; null for an address, a `--resolve` pin, or a
    /// reused connection.
    pub dns_ms: Option<f64>,
    /// From the lookup's end to TCP connected; null on a reused
    /// connection.
    pub connect_ms: Option<f64>,
    /// The TLS handshake; null for http or on a reused connection.
    pub tls_ms: Option<f64>,
    /// From the request on a ready connection to the response's headers.
    pub ttfb_ms: f64,
    /// From the request's start to the end of its body.
    pub total_ms: f64,
    /// The request went on a connection it did not make.
    pub reused: bool,
}

/// The connector layer that times each connection being made and files it
/// in `connections`.
#[derive(Clone)]
pub struct Timed {
    connections: Arc<Connections>,
}

impl Timed {
    /// A layer filing into `connections`.
    pub fn new(connections: Arc<Connections>) -> Timed {
        Timed { connections }
    }
}

impl<S> tower_layer::Layer<S> for Timed {
    type Service = TimedService<S>;

    fn layer(&self, inner: S) -> TimedService<S> {
        TimedService {
            inner,
            connections: Arc::clone(&self.connections),
        }
    }
}

/// [`Timed`] around the client's connector.
#[derive(Clone)]
pub struct TimedService<S> {
    inner: S,
    connections: Arc<Connections>,
}

type Making<C, E> = Pin<Box<dyn Future<Output = Result<C, E>> + Send>>;

impl<S, R> tower_service::Service<R> for TimedService<S>
where
    S: tower_service::Service<R>,
    S::Response: Connection + Send + 'static,
    S::Error: Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Making<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let began = Instant::now();
        let stamps = Arc::new(Stamps::default());
        let inner = &mut self.inner;
        let making = MAKING.sync_scope(Arc::clone(&stamps), || inner.call(req));
        let making = MAKING.scope(Arc::clone(&stamps), making);
        let connections = Arc::clone(&self.connections);
        Box::pin(async move {
            let conn = making.await?;
            let made = Made::of(began, &stamps, Instant::now());
            let mut extras = http::Extensions::new();
            conn.connected().get_extras(&mut extras);
            if let Some(info) = extras.get::<HttpInfo>() {
                connections.file(info.local_addr(), made);
            }
            Ok(conn)
        })
    }
}

/// A name's addresses, as `getaddrinfo` gives them.
type Lookup = fn(&str) -> std::io::Result<Vec<SocketAddr>>;

/// Name lookups on the client's blocking threads, timed.
pub struct Resolver {
    lookup: Lookup,
}

impl Resolver {
    /// The system's resolver (`getaddrinfo`), as reqwest's own.
    pub fn system() -> Resolver {
        Resolver {
            lookup: |host| (host, 0).to_socket_addrs().map(Iterator::collect),
        }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let stamps = MAKING.try_with(Arc::clone).ok();
        let host = name.as_str().to_owned();
        let lookup = self.lookup;
        Box::pin(async move {
            let began = Instant::now();
            let found = tokio::task::spawn_blocking(move || lookup(&host)).await;
            if let Some(stamps) = stamps {
                stamps.looked_up(began, Instant::now());
            }
            let addrs = found??;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A TLS session store that stamps when a handshake begins: rustls asks it
/// for a resumption ticket and a key-exchange hint first thing.
pub fn stamped_sessions() -> Arc<dyn ClientSessionStore> {
    Arc::new(StampedSessions(ClientSessionMemoryCache::new(256)))
}

#[derive(Debug)]
struct StampedSessions(ClientSessionMemoryCache);

fn handshake_began() {
    let _ = MAKING.try_with(|s| s.handshake_began());
}

impl ClientSessionStore for StampedSessions {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.0.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        handshake_began();
        self.0.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.0.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        handshake_began();
        self.0.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.0.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        self.0.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        handshake_began();
        self.0.take_tls13_ticket(server_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A server on 127.0.0.1 that answers each request on a connection
    /// after `wait`, keeping the connection open.
    fn server(wait: Duration) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {
                        std::thread::sleep(wait);
                        let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        port
    }

    /// A resolver that takes 150 ms to say every name is 127.0.0.1.
    fn slow(_: &str) -> std::io::Result<Vec<SocketAddr>> {
        std::thread::sleep(Duration::from_millis(150));
        Ok(vec![SocketAddr::from(([127, 0, 0, 1], 0))])
    }

    #[test]
    fn the_hooks_time_a_slow_lookup_and_the_wait_then_see_the_connection_reused() {
        let port = server(Duration::from_millis(100));
        let connections = Connections::new();
        let client = reqwest::blocking::Client::builder()
            .dns_resolver(Arc::new(Resolver { lookup: slow }))
            .connector_layer(Timed::new(Arc::clone(&connections)))
            .no_proxy()
            .build()
            .unwrap();
        let url = format!("http://slow.test:{port}/");
        let mut timings = Vec::new();
        for _ in 0..2 {
            let sent = Instant::now();
            let resp = client.get(&url).send().unwrap();
            let mut timing = connections.answered(&resp, sent);
            assert_eq!(resp.text().unwrap(), "ok");
            timing.finished();
            timings.push(timing);
        }
        let first = timings[0];
        assert!(!first.reused);
        let dns = first.dns.unwrap();
        assert!(dns >= Duration::from_millis(150), "{first:?}");
        assert!(first.connect.unwrap() < dns, "{first:?}");
        assert_eq!(first.tls, None);
        assert!(first.ttfb >= Duration::from_millis(100), "{first:?}");
        assert!(first.total >= dns + first.ttfb, "{first:?}");
        let second = timings[1];
        assert!(second.reused, "{second:?}");
        assert_eq!((second.dns, second.connect, second.tls), (None, None, None));
        assert!(second.ttfb >= Duration::from_millis(100), "{second:?}");
        assert!(second.ttfb < dns + first.ttfb, "{second:?}");
    }

    #[test]
    fn unclaimed_connections_are_swept_past_the_mark() {
        let c = Connections::default();
        let old = Made {
            dns: None,
            connect: Duration::ZERO,
            tls: None,
            ready: Instant::now() - UNCLAIMED - Duration::from_secs(1),
        };
        for port in 0..SWEEP_AT as u16 {
            c.file(SocketAddr::from(([127, 0, 0, 1], port)), old);
        }
        let fresh = Made {
            ready: Instant::now(),
            ..old
        };
        let last = SocketAddr::from(([127, 0, 0, 2], 1));
        c.file(last, fresh);
        assert_eq!(c.made.lock().unwrap().by_local.len(), 1);
        assert!(c.claim(last).is_some());
        assert!(c.claim(last).is_none());
    }
}
