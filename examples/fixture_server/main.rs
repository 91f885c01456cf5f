//! A local fixture server for demos and benchmarks (loopback only).
//!
//! ```text
//! cargo run --release --example fixture_server -- [--port P] [--workers N]
//!     [--hosts N] [--hang K] [--tls DIR] [--log FILE] [--dir DIR]
//!     [--generation G] [--gzip 1]
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT` (or `https://`) once it
//! accepts connections, and stops on Ctrl-C or SIGTERM. Keep-alive; a
//! delayed answer holds no thread (tokio's timer, then the last 2 ms on
//! the blocking pool for precision), so thousands of requests can wait at
//! once.
//!
//! - `--hosts N`: listen on N loopback addresses, all on the same port:
//!   host i (from 0) is 127.0.X.Y with X = i / 254 and Y = 1 + i % 254
//!   (127.0.0.1 … 127.0.0.254, 127.0.1.1 …). N distinct hosts for a client.
//! - `--hang K`: the last K of those hosts accept connections and never
//!   answer.
//! - `--tls DIR`: HTTPS, with a CA of its own written to `DIR/ca.pem` and a
//!   certificate for every host (ALPN h2 and HTTP/1.1).
//! - `--dir DIR`: serve DIR's files under `/files/<path>`, as they are on
//!   disk, with `Content-Type: text/html` and no charset (the client
//!   sniffs it, as browsers do): a corpus of saved pages.
//! - `--log FILE`: append a line per request to FILE, `HOST PATH` (the
//!   Host header and the path with its query), written as each request
//!   arrives: which URLs were fetched, and how often.
//! - The server raises its own open-files limit to the hard limit.
//!
//! Routes:
//! - `GET /page/<n>?delay_ms=D&size=S` — an HTML page of about S bytes
//!   (default 2048) titled `Page <n>`, sent after D ms (default 0);
//! - `GET /real/<n>` — a page of realistic size (20–300 KB: long head,
//!   scripts, styles, navigation, article) after a realistic latency
//!   (log-normal, median 100 ms, p99 ≈ 2 s), both fixed by n;
//! - `GET /status/<code>` — that status, with a small page;
//! - `GET /redirect/<k>` — a chain of k redirects ending at `/page/landed`;
//! - `GET /versioned/<n>` — a page of realistic size, no latency, with an
//!   `ETag` and a `Last-Modified` that honour `If-None-Match` /
//!   `If-Modified-Since` (304). Its version is `--generation G` (default 0)
//!   when n is a multiple of 10, else 0: restarting the server with the
//!   next generation changes 10 % of the pages (`bench/archive.sh`);
//! - `--gzip 1`: `/real`, `/versioned` and `/files` bodies are gzip-compressed for
//!   clients that accept it, as most servers do;
//! - `GET /stats` — `{"connections": C, "requests": N, "max_inflight": M}`
//!   since the start (the stats request itself not counted), for measuring
//!   politeness and connection reuse.

mod pages;
mod tls;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

struct Options {
    port: u16,
    workers: usize,
    hosts: usize,
    hang: usize,
    tls: Option<PathBuf>,
    log: Option<PathBuf>,
    dir: Option<PathBuf>,
    generation: u64,
    gzip: bool,
}

fn main() {
    let options = parse_args();
    if let Ok((_, hard)) = rlimit::Resource::NOFILE.get() {
        let _ = rlimit::increase_nofile_limit(hard);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fixture_server: cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(serve(options)) {
        eprintln!("fixture_server: {e}");
        std::process::exit(1);
    }
}

fn parse_args() -> Options {
    let mut o = Options {
        port: 0,
        workers: 1,
        hosts: 1,
        hang: 0,
        tls: None,
        log: None,
        dir: None,
        generation: 0,
        gzip: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let number = value.as_deref().and_then(|v| v.parse::<usize>().ok());
        match (arg.as_str(), number) {
            ("--port", Some(v)) => o.port = u16::try_from(v).unwrap_or(0),
            ("--workers", Some(v)) => o.workers = v.max(1),
            ("--hosts", Some(v)) => o.hosts = v.clamp(1, 254 * 256),
            ("--hang", Some(v)) => o.hang = v,
            ("--tls", _) if value.is_some() => o.tls = value.map(PathBuf::from),
            ("--log", _) if value.is_some() => o.log = value.map(PathBuf::from),
            ("--dir", _) if value.is_some() => o.dir = value.map(PathBuf::from),
            ("--generation", Some(v)) => o.generation = v as u64,
            ("--gzip", Some(v)) => o.gzip = v != 0,
            _ => {
                eprintln!(
                    "usage: fixture_server [--port P] [--workers N] [--hosts N] [--hang K] \
                     [--tls DIR] [--log FILE] [--dir DIR] [--generation G] [--gzip 1]"
                );
                std::process::exit(2);
            }
        }
    }
    o
}

/// Host `i`'s address: 127.0.X.Y, X = i / 254, Y = 1 + i % 254.
fn host(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, (i / 254) as u8, (1 + i % 254) as u8))
}

async fn serve(o: Options) -> std::io::Result<()> {
    let first = TcpListener::bind(SocketAddr::new(host(0), o.port)).await?;
    let port = first.local_addr()?.port();
    let mut listeners = vec![first];
    for i in 1..o.hosts {
        listeners.push(TcpListener::bind(SocketAddr::new(host(i), port)).await?);
    }
    let addrs: Vec<IpAddr> = (0..o.hosts).map(host).collect();
    let tls = match &o.tls {
        Some(dir) => Some(tokio_rustls::TlsAcceptor::from(
            tls::server_config(dir, &addrs).map_err(std::io::Error::other)?,
        )),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!(
        "listening on {scheme}://127.0.0.1:{port} ({} host(s))",
        o.hosts
    );
    let log = match &o.log {
        Some(path) => Some(std::sync::Mutex::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?,
        )),
        None => None,
    };
    let counters = Arc::new(Counters {
        log,
        dir: o.dir.clone(),
        generation: o.generation,
        gzip: o.gzip,
        ..Counters::default()
    });
    let app = app(Arc::clone(&counters));
    let answering = o.hosts - o.hang.min(o.hosts - 1);
    for (i, listener) in listeners.into_iter().enumerate() {
        if i >= answering {
            tokio::spawn(hang(listener));
        } else {
            let counters = Arc::clone(&counters);
            tokio::spawn(accept(listener, app.clone(), tls.clone(), counters));
        }
    }
    stop_signal().await;
    Ok(())
}

/// Accepts connections and serves each on a task of its own.
async fn accept(
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    counters: Arc<Counters>,
) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        counters.connections.fetch_add(1, Ordering::Relaxed);
        let _ = tcp.set_nodelay(true);
        let (app, tls) = (app.clone(), tls.clone());
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(tcp).await {
                        connection(stream, app).await;
                    }
                }
                None => connection(tcp, app).await,
            }
        });
    }
}

async fn connection<I>(io: I, app: Router)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// Accepts connections and never says a word.
async fn hang(listener: TcpListener) {
    let mut held = Vec::new();
    while let Ok((tcp, _)) = listener.accept().await {
        held.push(tcp);
    }
}

fn app(counters: Arc<Counters>) -> Router {
    Router::new()
        .route("/page/{n}", get(page))
        .route("/real/{n}", get(real))
        .route("/versioned/{n}", get(versioned))
        .route("/status/{code}", get(status))
        .route("/redirect/{k}", get(redirect))
        .route("/files/{*path}", get(file))
        .layer(middleware::from_fn_with_state(Arc::clone(&counters), count))
        .route("/stats", get(stats))
        .with_state(counters)
}

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    requests: AtomicUsize,
    inflight: AtomicUsize,
    max_inflight: AtomicUsize,
    /// `--log`: a line per request.
    log: Option<std::sync::Mutex<std::fs::File>>,
    /// `--dir`: the files served under `/files/`.
    dir: Option<PathBuf>,
    /// `--generation`: the version of `/versioned/<n>` for n % 10 == 0.
    generation: u64,
    /// `--gzip`: compress `/real` and `/versioned` bodies.
    gzip: bool,
}

async fn count(State(c): State<Arc<Counters>>, req: Request, next: Next) -> Response {
    c.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(log) = &c.log {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("-");
        let line = format!("{host} {}\n", req.uri());
        if let Ok(mut file) = log.lock() {
            let _ = std::io::Write::write_all(&mut *file, line.as_bytes());
        }
    }
    let now = c.inflight.fetch_add(1, Ordering::SeqCst) + 1;
    c.max_inflight.fetch_max(now, Ordering::SeqCst);
    let resp = next.run(req).await;
    c.inflight.fetch_sub(1, Ordering::SeqCst);
    resp
}

async fn stats(State(c): State<Arc<Counters>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        format!(
            "{{\"connections\": {}, \"requests\": {}, \"max_inflight\": {}}}\n",
            c.connections.load(Ordering::Relaxed),
            c.requests.load(Ordering::Relaxed),
            c.max_inflight.load(Ordering::SeqCst)
        ),
    )
        .into_response()
}

async fn stop_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

async fn page(Path(n): Path<String>, Query(q): Query<HashMap<String, usize>>) -> Response {
    let delay = q.get("delay_ms").copied().unwrap_or(0);
    let size = q.get("size").copied().unwrap_or(2048).min(64 << 20);
    if delay > 0 {
        pages::precise_sleep(Duration::from_millis(delay as u64)).await;
    }
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        pages::filler(&format!("Page {n}"), size),
    )
        .into_response()
}

async fn real(
    State(c): State<Arc<Counters>>,
    Path(n): Path<u64>,
    headers: axum::http::HeaderMap,
) -> Response {
    pages::precise_sleep(pages::latency(n)).await;
    let body = pages::realistic(n, pages::size(n));
    html_body(body, c.gzip && accepts_gzip(&headers)).into_response()
}

async fn versioned(
    State(c): State<Arc<Counters>>,
    Path(n): Path<u64>,
    headers: axum::http::HeaderMap,
) -> Response {
    let version = if n % 10 == 0 { c.generation } else { 0 };
    let etag = format!("\"{n}-{version}\"");
    let modified = format!("Mon, 02 Nov 2026 {:02}:00:00 GMT", version % 24);
    let asked = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let validators = [
        (header::ETAG, etag.clone()),
        (header::LAST_MODIFIED, modified.clone()),
    ];
    if asked(header::IF_NONE_MATCH) == Some(etag.as_str())
        || asked(header::IF_MODIFIED_SINCE) == Some(modified.as_str())
    {
        return (StatusCode::NOT_MODIFIED, validators).into_response();
    }
    let body = pages::realistic(n + version * 1_000_003, pages::size(n));
    (
        validators,
        html_body(body, c.gzip && accepts_gzip(&headers)),
    )
        .into_response()
}

fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|c| c.trim().starts_with("gzip")))
}

/// An HTML body, gzip-compressed (level 6, as servers default to) when
/// `gzip`.
fn html_body(body: Vec<u8>, gzip: bool) -> Response {
    let html = (header::CONTENT_TYPE, "text/html; charset=utf-8");
    if !gzip {
        return ([html], body).into_response();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    let compressed = std::io::Write::write_all(&mut gz, &body).and_then(|()| gz.finish());
    match compressed {
        Ok(bytes) => ([html, (header::CONTENT_ENCODING, "gzip")], bytes).into_response(),
        Err(_) => ([html], body).into_response(),
    }
}

async fn status(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let body = pages::filler(&format!("Status {}", code.as_u16()), 256);
    (
        code,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn file(
    State(c): State<Arc<Counters>>,
    Path(path): Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let Some(dir) = &c.dir else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if path.split('/').any(|part| part == ".." || part.is_empty()) {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let path = dir.join(&path);
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) if c.gzip && accepts_gzip(&headers) => {
            let mut resp = html_body(bytes, true);
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html"),
            );
            resp
        }
        Ok(Ok(bytes)) => ([(header::CONTENT_TYPE, "text/html")], bytes).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn redirect(Path(k): Path<u32>) -> Response {
    let to = if k == 0 {
        "/page/landed".to_string()
    } else {
        format!("/redirect/{}", k - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}
