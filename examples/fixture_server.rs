//! A local fixture server for demos and benchmarks (loopback only).
//!
//! ```text
//! cargo run --release --example fixture_server -- [--port P] [--workers N]
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT` once it accepts connections,
//! and stops on Ctrl-C or SIGTERM. Keep-alive; delays do not block the
//! event loop (they sleep on tokio's blocking pool, for precision):
//!
//! - `GET /page/<n>?delay_ms=D&size=S` — an HTML page of about S bytes
//!   (default 2048) titled `Page <n>`, sent after D ms (default 0);
//! - `GET /status/<code>` — that status, with a small page;
//! - `GET /redirect/<k>` — a chain of k redirects ending at `/page/landed`;
//! - `GET /stats` — `{"requests": N, "max_inflight": M}` since the start
//!   (the stats request itself not counted), for measuring politeness.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

fn main() {
    let mut port = 0u16;
    let mut workers = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<usize>().ok());
        match (arg.as_str(), value) {
            ("--port", Some(v)) => port = u16::try_from(v).unwrap_or(0),
            ("--workers", Some(v)) => workers = v.max(1),
            _ => {
                eprintln!("usage: fixture_server [--port P] [--workers N]");
                std::process::exit(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fixture_server: cannot start tokio: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(serve(port)) {
        eprintln!("fixture_server: {e}");
        std::process::exit(1);
    }
}

async fn serve(port: u16) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let counters = Arc::new(Counters::default());
    let app = Router::new()
        .route("/page/{n}", get(page))
        .route("/status/{code}", get(status))
        .route("/redirect/{k}", get(redirect))
        .layer(middleware::from_fn_with_state(Arc::clone(&counters), count))
        .route("/stats", get(stats))
        .with_state(counters);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await
}

#[derive(Default)]
struct Counters {
    requests: AtomicUsize,
    inflight: AtomicUsize,
    max_inflight: AtomicUsize,
}

async fn count(State(c): State<Arc<Counters>>, req: Request, next: Next) -> Response {
    c.requests.fetch_add(1, Ordering::Relaxed);
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
            "{{\"requests\": {}, \"max_inflight\": {}}}\n",
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

/// An HTML page of about `size` bytes titled `title`.
fn html(title: &str, size: usize) -> String {
    let mut body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\n"
    );
    const FILLER: &str = "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>\n";
    while body.len() + FILLER.len() + 15 <= size {
        body.push_str(FILLER);
    }
    body.push_str("</body></html>\n");
    body
}

async fn page(Path(n): Path<String>, Query(q): Query<HashMap<String, usize>>) -> Response {
    let delay = q.get("delay_ms").copied().unwrap_or(0);
    let size = q.get("size").copied().unwrap_or(2048).min(64 << 20);
    if delay > 0 {
        // tokio's timer rounds up to the next millisecond tick (about +1.8 ms
        // on a 50 ms sleep, measured with wrk); a sleeping blocking-pool
        // thread is within ~0.1 ms, so the nominal latency is the real one.
        let d = Duration::from_millis(delay as u64);
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(d)).await;
    }
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html(&format!("Page {n}"), size),
    )
        .into_response()
}

async fn status(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let body = html(&format!("Status {}", code.as_u16()), 256);
    (
        code,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn redirect(Path(k): Path<u32>) -> Response {
    let to = if k == 0 {
        "/page/landed".to_string()
    } else {
        format!("/redirect/{}", k - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}
