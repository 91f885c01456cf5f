//! Building the HTTP clients: one shared by all workers of a run, and one
//! without a connection pool for robots.txt.
//!
//! - Redirects are off: `fetch` follows them itself.
//! - HTTP/1.1 unless `--http2`. Scrape sends one request per URL, mostly to
//!   hosts it meets once, and decides per request whether the connection
//!   stays open (`sockets.rs`), which `Connection: close` can only do on
//!   HTTP/1.1; parallelism to one host is `--threads` and `--per-host`, not
//!   a server's stream limit. With `--http2` a host that takes HTTP/2 gets
//!   one multiplexed connection, which closes when idle (the budget's
//!   `Connection: close` does not reach it).
//! - Idle connections leave the pool after [`POOL_IDLE_TIMEOUT`]: on lists
//!   where hosts rarely repeat, a kept connection that is not reused within
//!   seconds will not be.
//! - Roots: the bundled ones, the system's (with `SSL_CERT_FILE` and
//!   `SSL_CERT_DIR`), and the certificates of `--cacert`, which are also
//!   trusted as a server's own certificate (`trust.rs`).
//! - Proxies: as `proxy.rs` says.

use std::time::Duration;

use reqwest::Proxy;
use reqwest::blocking::Client;
use reqwest::header::HeaderValue;
use reqwest::redirect::Policy;
use rustls::pki_types::CertificateDer;

use super::proxy::Proxies;
use crate::error::Fatal;
use crate::urls::redact;

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

/// A new client with its own connection pool (so `--compare` runs start
/// equally cold).
pub fn build(c: &ClientSettings, pooling: Pooling) -> Result<Client, Fatal> {
    let mut builder = Client::builder()
        .user_agent(c.user_agent.clone())
        .connect_timeout(c.connect_timeout)
        .timeout(c.timeout)
        .redirect(Policy::none())
        .danger_accept_invalid_certs(c.insecure)
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
    if !c.extra_roots.is_empty() && !c.insecure {
        let mut config = super::trust::client_config(&c.extra_roots).map_err(Fatal::Setup)?;
        // A configuration of our own: reqwest offers what it holds.
        config.alpn_protocols = match c.http2 {
            true => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
            false => vec![b"http/1.1".to_vec()],
        };
        builder = builder.use_preconfigured_tls(config);
    }
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
