//! The demo's site: generated pages on 127.0.0.1, served by hyper on a
//! runtime thread of its own, as a real site would answer — most pages in
//! a few tens of milliseconds, some slowly, a few not found or failing,
//! one that redirects, one that is not HTML.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use crate::error::Fatal;

/// How many pages the site has.
pub const PAGES: u64 = 240;

/// The running site; it stops with the process.
pub struct Site {
    addr: SocketAddr,
}

impl Site {
    /// Starts the site on 127.0.0.1 (a free port).
    pub fn start() -> Result<Site, Fatal> {
        let setup = |e: std::io::Error| Fatal::Setup(format!("cannot start the demo site: {e}"));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(setup)?;
        listener.set_nonblocking(true).map_err(setup)?;
        let addr = listener.local_addr().map_err(setup)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(setup)?;
        std::thread::Builder::new()
            .name("scrape-demo-site".into())
            .spawn(move || runtime.block_on(serve(listener)))
            .map_err(setup)?;
        Ok(Site { addr })
    }

    /// The site's pages, one URL a line.
    pub fn list(&self) -> String {
        (0..PAGES)
            .map(|n| format!("http://{}/page/{n}\n", self.addr))
            .collect()
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

async fn serve(listener: std::net::TcpListener) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(async move {
            let service = service_fn(|req| async move { Ok::<_, Infallible>(answer(req).await) });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The page a request asks for, after that page's latency.
async fn answer(req: Request<Incoming>) -> Response<Full<Bytes>> {
    let n = req
        .uri()
        .path()
        .strip_prefix("/page/")
        .and_then(|n| n.parse::<u64>().ok());
    let Some(n) = n.filter(|&n| n < PAGES) else {
        return page(
            StatusCode::NOT_FOUND,
            "Not found",
            "text/html",
            String::new(),
        );
    };
    tokio::time::sleep(latency(n)).await;
    match n % 60 {
        17 => page(
            StatusCode::NOT_FOUND,
            "Not found",
            "text/html",
            String::new(),
        ),
        41 => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server error",
            "text/html",
            String::new(),
        ),
        29 => redirect(n),
        53 => page(
            StatusCode::OK,
            "",
            "application/json",
            "{\"not\": \"html\"}".into(),
        ),
        _ => page(StatusCode::OK, &title(n), "text/html", body(n)),
    }
}

/// Most pages answer in 10 to 30 ms; one in forty takes 400 ms.
fn latency(n: u64) -> Duration {
    if n % 40 == 7 {
        return Duration::from_millis(400);
    }
    Duration::from_millis(10 + (n * 7919) % 21)
}

fn title(n: u64) -> String {
    const TOPICS: [&str; 8] = [
        "Threads and waiting",
        "Why the network is slow",
        "A list of URLs",
        "JSON Lines",
        "Retries with jitter",
        "Redirect chains",
        "Character sets",
        "Reading a page as it streams",
    ];
    format!("{} (page {n})", TOPICS[(n % 8) as usize])
}

fn body(n: u64) -> String {
    let links: String = (1..=3)
        .map(|k| {
            format!(
                "<li><a href=\"/page/{}\">page {0}</a></li>",
                (n * 31 + k * 17) % PAGES
            )
        })
        .collect();
    format!(
        "<p>Page {n} of a site that scrape made up to show what threads buy.</p><ul>{links}</ul>"
    )
}

fn page(
    status: StatusCode,
    title: &str,
    content_type: &str,
    body: String,
) -> Response<Full<Bytes>> {
    let html = if content_type == "text/html" {
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <meta name=\"description\" content=\"A page of the scrape demo\"></head><body>{body}</body></html>"
        )
    } else {
        body
    };
    let mut resp = Response::new(Full::new(Bytes::from(html)));
    *resp.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        resp.headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    resp
}

fn redirect(n: u64) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::MOVED_PERMANENTLY;
    if let Ok(value) = format!("/page/{}", (n + 1) % PAGES).parse() {
        resp.headers_mut().insert(hyper::header::LOCATION, value);
    }
    resp
}
