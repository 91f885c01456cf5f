//! Servers for tests at scale: one that answers only once N requests are
//! in flight at once, and one that is N distinct hosts (127.0.X.Y, one
//! port) counting the connections open at once.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;

/// Raises this test process's open-files limit to its hard limit (the
/// servers here hold thousands of connections); returns the new limit.
pub fn raise_open_files() -> u64 {
    let (_, hard) = rlimit::Resource::NOFILE.get().expect("getrlimit");
    rlimit::increase_nofile_limit(hard).expect("setrlimit")
}

/// Host `i` of a [`Hosts`] server: 127.0.X.Y, X = i / 254, Y = 1 + i % 254.
pub fn host(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, (i / 254) as u8, (1 + i % 254) as u8))
}

/// Counters a server keeps.
#[derive(Default)]
pub struct Counts {
    open: AtomicUsize,
    /// The most connections open at once.
    pub max_open: AtomicUsize,
    inflight: AtomicUsize,
    /// The most requests in flight at once.
    pub max_inflight: AtomicUsize,
    /// Connections accepted.
    pub connections: AtomicUsize,
    /// Requests answered.
    pub requests: AtomicUsize,
    /// Requests that asked to close their connection afterwards.
    pub closing: AtomicUsize,
}

impl Counts {
    fn enter(now: &AtomicUsize, max: &AtomicUsize) {
        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(n, Ordering::SeqCst);
    }
}

/// A running server; stops with the test process.
pub struct Many {
    /// The port every host listens on.
    pub port: u16,
    /// What it saw.
    pub counts: Arc<Counts>,
}

/// N hosts on one port, answering `/page/{n}` at once.
pub fn hosts(n: usize) -> Many {
    start(n, None, None)
}

/// N hosts on one port over TLS (self-signed, for their addresses),
/// offering HTTP/2 and HTTP/1.1 by ALPN.
pub fn tls_hosts(n: usize) -> Many {
    start(n, None, Some(tls_acceptor(n)))
}

/// One host whose `/page/{n}` answers only when `n` requests are in
/// flight at once (a barrier).
pub fn barrier(n: usize) -> Many {
    start(1, Some(n), None)
}

fn tls_acceptor(n: usize) -> tokio_rustls::TlsAcceptor {
    let names = (0..n).map(|i| host(i).to_string()).collect();
    let config = super::tls::self_signed_config(names, &[b"h2", b"http/1.1"]);
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

fn start(hosts: usize, barrier: Option<usize>, tls: Option<tokio_rustls::TlsAcceptor>) -> Many {
    let counts = Arc::new(Counts::default());
    let (tx, rx) = std::sync::mpsc::channel();
    let shared = Arc::clone(&counts);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        rt.block_on(serve(hosts, barrier, shared, tx, tls));
    });
    let port = rx.recv().expect("the server starts");
    Many { port, counts }
}

async fn serve(
    hosts: usize,
    barrier: Option<usize>,
    counts: Arc<Counts>,
    started: std::sync::mpsc::Sender<u16>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let listeners = bind_all(hosts).await;
    let port = listeners[0].local_addr().expect("addr").port();
    let gate = barrier.map(|n| Arc::new(tokio::sync::Barrier::new(n)));
    let app = Router::new()
        .route("/page/{n}", get(page))
        .with_state((Arc::clone(&counts), gate));
    for listener in listeners {
        tokio::spawn(accept(
            listener,
            app.clone(),
            Arc::clone(&counts),
            tls.clone(),
        ));
    }
    let _ = started.send(port);
    std::future::pending::<()>().await;
}

/// Listeners on hosts 0..n, all on the port the first one got.
async fn bind_all(n: usize) -> Vec<tokio::net::TcpListener> {
    'port: loop {
        let first = tokio::net::TcpListener::bind(SocketAddr::new(host(0), 0))
            .await
            .expect("bind");
        let port = first.local_addr().expect("addr").port();
        let mut all = vec![first];
        for i in 1..n {
            match tokio::net::TcpListener::bind(SocketAddr::new(host(i), port)).await {
                Ok(l) => all.push(l),
                Err(_) => continue 'port, // taken on that address: another port
            }
        }
        return all;
    }
}

async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    counts: Arc<Counts>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    while let Ok((tcp, _)) = listener.accept().await {
        let (app, counts, tls) = (app.clone(), Arc::clone(&counts), tls.clone());
        tokio::spawn(async move {
            counts.connections.fetch_add(1, Ordering::SeqCst);
            Counts::enter(&counts.open, &counts.max_open);
            let service = TowerToHyperService::new(app);
            let builder = auto::Builder::new(TokioExecutor::new());
            match tls {
                None => {
                    let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                }
                Some(tls) => {
                    if let Ok(stream) = tls.accept(tcp).await {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            }
            counts.open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

type AppState = (Arc<Counts>, Option<Arc<tokio::sync::Barrier>>);

async fn page(
    State((counts, gate)): State<AppState>,
    Path(n): Path<u64>,
    headers: axum::http::HeaderMap,
) -> Response {
    let closing = headers
        .get(axum::http::header::CONNECTION)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"));
    if closing {
        counts.closing.fetch_add(1, Ordering::SeqCst);
    }
    Counts::enter(&counts.inflight, &counts.max_inflight);
    if let Some(gate) = gate {
        gate.wait().await;
    }
    counts.inflight.fetch_sub(1, Ordering::SeqCst);
    counts.requests.fetch_add(1, Ordering::SeqCst);
    Html(format!("<title>Page {n}</title>")).into_response()
}
