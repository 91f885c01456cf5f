//! Building the HTTP clients: the few the workers share ([`Clients`]),
//! and one without a connection pool for robots.txt.
//!
//! - Redirects are off: `fetch` follows them itself.
//! - HTTP/1.1 unless `--http2`. Scrape sends one request per URL, mostly to
//!   hosts it meets once, and decides per request whether the connection
//!   stays open (`sockets.rs`), which `Connection: close` can only do on
//!   HTTP/1.1; parallelism to one host is `--threads` and `--per-host`, not
//!   a server's stream limit. With `--http2` a host that takes HTTP/2 gets
//!   one multiplexed connection (its HTTPS requests go through the client
//!   of its host, [`Clients::slot`]); the budget's `Connection:
//!   close` cannot end it, so requests the budget closes go through a
//!   client without a pool ([`Clients::client`]).
//! - Idle connections leave the pool after [`POOL_IDLE_TIMEOUT`]: on lists
//!   where hosts rarely repeat, a kept connection that is not reused within
//!   seconds will not be.
//! - TLS is configured by scrape (`trust.rs`), not reqwest. Roots: the
//!   bundled ones, the system's (with `SSL_CERT_FILE` and `SSL_CERT_DIR`),
//!   and the certificates of `--cacert`, which are also trusted as a
//!   server's own certificate.
//! - The workers' clients time their connections (`timing.rs`): a DNS
//!   resolver, a connector layer and the TLS session store are scrape's.
//! - Proxies: as `proxy.rs` says.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Proxy;
use reqwest::blocking::Client;
use reqwest::header::HeaderValue;
use reqwest::redirect::Policy;
use rustls::client::Resumption;
use rustls::pki_types::CertificateDer;
use url::Url;

use super::proxy::Proxies;
use super::timing::{self, Connections};
use crate::error::Fatal;
use crate::urls::{host_hash, redact};

/// How long an idle connection stays in a client's pool.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(5);

/// The options the HTTP clients are built from.
#[derive(Clone)]
pub struct ClientSettings {
    /// `-A`.
    pub user_agent: HeaderValue,
    /// `--connect-timeout`.
    pub connect_timeout: Duration,
    /// `--timeout` (the fetcher sets a tighter one per request).
    pub timeout: Duration,
    /// `--insecure`.
    pub insecure: bool,
    /// `--cacert`: certificates trusted beside the bundled roots
    /// (`trust.rs`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// `--proxy`, `--no-proxy`, or the environment.
    pub proxies: Proxies,
    /// `--tls`: responses carry the server's certificate.
    pub tls_info: bool,
    /// `--http2`: offer HTTP/2 by ALPN on HTTPS (else HTTP/1.1 only).
    pub http2: bool,
    /// `--resolve`: hosts sent to an address of the user's, not DNS's.
    pub resolve: Vec<(String, std::net::SocketAddr)>,
}

/// Whether a client keeps connections for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Keep idle connections (within the budget of `sockets.rs`).
    Reuse,
    /// Close every connection after its request.
    None,
}

/// The workers' clients. A blocking client drives all its connections from
/// one runtime thread; at thousands of requests in flight that one thread
/// is the bottleneck (issue 23: 4 096 workers on one host), so the workers
/// share several, each worker thread always the same one
/// ([`Clients::slot`]): its connections stay in one pool, where its next
/// request finds them. The connection budget (`sockets.rs`) models each
/// client's pool apart, so its count of idle connections stays exact.
/// Spreading by host instead would leave a list of one host — the case
/// that needs it — on one client. (With `--http2`, HTTPS requests are
/// spread by host: an HTTP/2 host's requests share one connection anyway,
/// which one runtime thread drives.)
///
/// With `--http2`, each slot has a second client without a pool, for the
/// requests whose connection the budget would close: `Connection: close`
/// cannot end an HTTP/2 connection, which would otherwise sit in the pool
/// until it idles out — one per host, past the open-files limit on a list
/// of thousands of HTTPS hosts (`sockets.rs`).
pub struct Clients {
    pooled: Vec<Client>,
    /// `--http2`: a client without a pool per slot.
    closing: Vec<Client>,
    /// Every request goes through the client of its host
    /// ([`Clients::by_host`]).
    by_host: bool,
}

/// The next worker thread's client, and each thread's own.
static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static OWN: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Workers per client (up to two clients a core). Measured on two cores
/// (`bench/fixture_h.py`, 4 × T URLs at 500 ms on one host): at T = 4 096,
/// 1 client 4.33 s, 2: 3.22 s, 4: 2.86 s, 8: 3.00 s; at T = 1 024, 1
/// client 2.48 s, 4: 2.31 s (CHANGELOG.md).
const THREADS_PER_CLIENT: usize = 256;

impl Clients {
    /// One client for everything.
    #[cfg(test)]
    pub fn one(client: Client) -> Clients {
        Clients {
            pooled: vec![client],
            closing: Vec::new(),
            by_host: false,
        }
    }

    /// How many clients `threads` workers share: one per
    /// [`THREADS_PER_CLIENT`] workers, at most two a core;
    /// `SCRAPE_CLIENTS=N` sets it (for benchmarks, docs/performance.md).
    pub fn how_many(threads: usize) -> usize {
        if let Some(n) = std::env::var("SCRAPE_CLIENTS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            return usize::max(n, 1);
        }
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        threads.div_ceil(THREADS_PER_CLIENT).clamp(1, 2 * cores)
    }

    /// `n` clients, with fresh pools, timed into `connections`.
    pub fn build(
        c: &ClientSettings,
        n: usize,
        connections: &Arc<Connections>,
    ) -> Result<Clients, Fatal> {
        let tls = tls_config(c)?;
        let many = |pooling, n| {
            (0..n)
                .map(|_| build_with(c, pooling, Some(connections), tls.clone()))
                .collect::<Result<Vec<_>, _>>()
        };
        let n = n.max(1);
        Ok(Clients {
            pooled: many(Pooling::Reuse, n)?,
            closing: many(Pooling::None, if c.http2 { n } else { 0 })?,
            by_host: false,
        })
    }

    /// With `per_host` (`--per-host`) at most [`THREADS_PER_CLIENT`], every
    /// request goes through the client of its host: one runtime thread
    /// drives that many requests easily, and a host's connections then sit
    /// in one pool, where its next request finds them, rather than in
    /// every client's (10 connections for 10 000 URLs of one host at `-t
    /// 1024 --per-host 2` before, 2 after).
    pub fn by_host(mut self, per_host: Option<usize>) -> Clients {
        self.by_host = per_host.is_some_and(|n| n <= THREADS_PER_CLIENT);
        self
    }

    /// Whether requests the budget would close go through clients
    /// without a pool (`--http2`).
    pub fn multiplexed(&self) -> bool {
        !self.closing.is_empty()
    }

    /// The slot a request to `url` goes through: this thread's own (the
    /// threads take them in turn, each keeping its own) — except its
    /// host's with a small `--per-host` ([`Clients::by_host`]) and, with
    /// `--http2`, for an HTTPS request: an HTTP/2 host is served by one
    /// multiplexed connection in one pool, not one in every client's (4
    /// connections to one host at `-t 1024 --http2` before).
    pub fn slot(&self, url: &Url) -> usize {
        if self.by_host || (self.multiplexed() && url.scheme() == "https") {
            return (host_hash(url) % self.pooled.len() as u64) as usize;
        }
        let own = OWN.with(|own| match own.get() {
            Some(i) => i,
            None => {
                let i = NEXT.fetch_add(1, Ordering::Relaxed);
                own.set(Some(i));
                i
            }
        });
        own % self.pooled.len()
    }

    /// The client of `slot`: its pooled one, or (`closes`, with `--http2`)
    /// the one whose connections close after their request.
    pub fn client(&self, slot: usize, closes: bool) -> &Client {
        match self.closing.get(slot).filter(|_| closes) {
            Some(closing) => closing,
            None => &self.pooled[slot],
        }
    }
}

/// A new client with its own connection pool (so `--compare` runs start
/// equally cold); with `timed`, its connections are timed into it
/// (`timing.rs`).
pub fn build(
    c: &ClientSettings,
    pooling: Pooling,
    timed: Option<&Arc<Connections>>,
) -> Result<Client, Fatal> {
    build_with(c, pooling, timed, tls_config(c)?)
}

/// The TLS configuration clients are built with (`trust.rs`).
fn tls_config(c: &ClientSettings) -> Result<rustls::ClientConfig, Fatal> {
    let mut tls = super::trust::client_config(&c.extra_roots, c.insecure).map_err(Fatal::Setup)?;
    // A configuration of our own: reqwest offers what it holds.
    tls.alpn_protocols = match c.http2 {
        true => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        false => vec![b"http/1.1".to_vec()],
    };
    Ok(tls)
}

fn build_with(
    c: &ClientSettings,
    pooling: Pooling,
    timed: Option<&Arc<Connections>>,
    mut tls: rustls::ClientConfig,
) -> Result<Client, Fatal> {
    let mut builder = Client::builder()
        .user_agent(c.user_agent.clone())
        .connect_timeout(c.connect_timeout)
        .timeout(c.timeout)
        .redirect(Policy::none())
        .tcp_nodelay(true)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_info(c.tls_info);
    if !c.http2 {
        builder = builder.http1_only();
    }
    for (host, addr) in &c.resolve {
        builder = builder.resolve(host, *addr);
    }
    if pooling == Pooling::None {
        builder = builder.pool_max_idle_per_host(0);
    }
    if let Some(connections) = timed {
        tls.resumption = Resumption::store(timing::stamped_sessions());
        builder = builder
            .dns_resolver(Arc::new(timing::Resolver::system()))
            .connector_layer(timing::Timed::new(Arc::clone(connections)));
    }
    builder = builder.use_preconfigured_tls(tls);
    builder = match &c.proxies {
        Proxies::Direct => builder.no_proxy(),
        Proxies::All(url) => builder.proxy(
            Proxy::all(url.as_str())
                .map_err(|e| Fatal::Usage(format!("--proxy {}: {e}", redact::url(url))))?,
        ),
        // The client reads the environment itself, as `proxy.rs` says.
        Proxies::Env { .. } => builder,
    };
    builder
        .build()
        .map_err(|e| Fatal::Setup(format!("cannot set up the HTTP client: {e}")))
}
