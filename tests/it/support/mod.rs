//! Local servers for the integration tests: everything on 127.0.0.1, port 0,
//! started by the test that uses it.
//!
//! - [`Server`]: an axum app on its own tokio runtime, with canned pages, the
//!   fixtures, redirects, slow pages, and counters (hits per path, requests
//!   in flight and their maximum, headers received).
//! - [`hanging_server`]: accepts connections and never answers.
//! - [`refused_addr`]: an address where nothing listens.
//! - [`scrape`]: the real binary, as a command.

#![allow(dead_code)]

pub mod faults;
pub mod many;
pub mod site;
pub mod tls;
pub mod web;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The `scrape` binary under test.
pub fn scrape() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_scrape"));
    cmd.env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy");
    cmd
}

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    inflight: AtomicUsize,
    max_inflight: AtomicUsize,
    hits: Mutex<HashMap<String, usize>>,
    headers: Mutex<Vec<(String, HeaderMap)>>,
    starts: Mutex<Vec<std::time::Instant>>,
    /// Counters shared by a group of servers (several "hosts").
    group: Option<Arc<Seen>>,
    /// `/versioned/{n}`: each page's version (0 until bumped).
    versions: Mutex<HashMap<String, u32>>,
    /// 304 Not Modified answers given.
    not_modified: AtomicUsize,
    /// `/robots.txt` when set ([`Server::set_robots`]).
    robots: Mutex<Option<String>>,
}

impl Seen {
    /// The most requests in flight at once, over the group.
    pub fn max_inflight(&self) -> usize {
        self.max_inflight.load(Ordering::SeqCst)
    }
}

/// A local HTTP server for one test.
pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Seen>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The fixtures: file name, Content-Type served, expected title.
pub const FIXTURES: &[(&str, &str, Option<&str>)] = &[
    (
        "basic.html",
        "text/html; charset=utf-8",
        Some("Example Domain"),
    ),
    (
        "entities.html",
        "text/html",
        Some("Tom & Jerry\u{2019}s <Show> \u{2026} A\u{a9}"),
    ),
    (
        "whitespace.html",
        "text/html",
        Some("Lots of space\u{a0}kept"),
    ),
    ("two-titles.html", "text/html", Some("First")),
    ("svg-first.html", "text/html", Some("Real title")),
    (
        "latin1-header.html",
        "text/html; charset=ISO-8859-1",
        Some("Caf\u{e9} cr\u{e8}me \u{bd}"),
    ),
    (
        "windows-1252-meta.html",
        "text/html",
        Some("\u{201c}Quoted\u{201d} \u{2013} \u{20ac} 5"),
    ),
    ("shift-jis-meta.html", "text/html", Some("日本語のページ")),
    ("no-title.html", "text/html", None),
    ("empty-title.html", "text/html", Some("")),
    ("data.json", "application/json", None),
    ("big-early-title.html", "text/html", Some("Early title")),
    ("big-late-title.html", "text/html", Some("Late title")),
    ("unterminated-title.html", "text/html", Some("Never closed")),
    ("extract.html", "text/html", Some("Extraction & fixtures")),
    (
        "extract-1252.html",
        "text/html; charset=windows-1252",
        Some("Caf\u{e9}"),
    ),
    ("links-base.html", "text/html", Some("Links with a base")),
    (
        "links-relative.html",
        "text/html",
        Some("Links without a base"),
    ),
    (
        "metadata.html",
        "text/html",
        Some("Oak standing desk \u{2013} Example Shop"),
    ),
];

impl Server {
    /// Starts a server on 127.0.0.1:0.
    pub fn start() -> Server {
        Server::start_in(None)
    }

    /// Starts a server whose requests also count in `group` (several
    /// servers on several ports are several hosts).
    pub fn start_in(group: Option<Arc<Seen>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let seen = Arc::new(Seen {
            group,
            ..Seen::default()
        });
        let app = app(Arc::clone(&seen));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        Server {
            addr,
            seen,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests seen for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.seen
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    /// All requests seen.
    pub fn total_hits(&self) -> usize {
        self.seen.hits.lock().unwrap().values().sum()
    }

    /// The most requests that were in flight at once.
    pub fn max_inflight(&self) -> usize {
        self.seen.max_inflight.load(Ordering::SeqCst)
    }

    /// When each request arrived, in order.
    pub fn starts(&self) -> Vec<std::time::Instant> {
        self.seen.starts.lock().unwrap().clone()
    }

    /// Changes `/versioned/{n}`: a new body and new validators.
    pub fn bump(&self, n: u32) {
        *self
            .seen
            .versions
            .lock()
            .unwrap()
            .entry(n.to_string())
            .or_default() += 1;
    }

    /// Serves `text` as `/robots.txt` from now on.
    pub fn set_robots(&self, text: &str) {
        *self.seen.robots.lock().unwrap() = Some(text.to_string());
    }

    /// 304 Not Modified answers given.
    pub fn not_modified(&self) -> usize {
        self.seen.not_modified.load(Ordering::SeqCst)
    }

    /// Headers of every request to `path`.
    pub fn headers_seen(&self, path: &str) -> Vec<HeaderMap> {
        self.seen
            .headers
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, h)| h.clone())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn app(seen: Arc<Seen>) -> Router {
    Router::new()
        .route("/page/{n}", get(page))
        .route("/slow/{n}", get(slow))
        .route("/status/{code}", get(status))
        .route("/redirect/{n}", get(redirect))
        .route("/loop", get(|| async { redirect_to("/loop") }))
        .route("/go", get(go))
        .route("/consent", get(consent))
        .route("/robots.txt", get(robots))
        .route(
            "/to-ftp",
            get(|| async { redirect_to("ftp://127.0.0.1/file") }),
        )
        .route("/fixtures/{name}", get(fixture))
        .route("/readable/{name}", get(readable))
        .route("/validated", get(validated))
        .route("/versioned/{n}", get(versioned))
        .layer(middleware::from_fn_with_state(Arc::clone(&seen), track))
        .with_state(seen)
}

async fn track(State(seen): State<Arc<Seen>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    *seen.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    seen.headers
        .lock()
        .unwrap()
        .push((path, req.headers().clone()));
    seen.starts.lock().unwrap().push(std::time::Instant::now());
    let counters: Vec<&Seen> = std::iter::once(&*seen)
        .chain(seen.group.as_deref())
        .collect();
    for c in &counters {
        let now = c.inflight.fetch_add(1, Ordering::SeqCst) + 1;
        c.max_inflight.fetch_max(now, Ordering::SeqCst);
    }
    let resp = next.run(req).await;
    for c in &counters {
        c.inflight.fetch_sub(1, Ordering::SeqCst);
    }
    resp
}

fn html(title: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!doctype html><html><head><title>{title}</title></head><body><p>{title}</p></body></html>"),
    )
        .into_response()
}

async fn page(Path(n): Path<String>) -> Response {
    html(&format!("Page {n}"))
}

async fn slow(Path(n): Path<String>, Query(q): Query<HashMap<String, u64>>) -> Response {
    let ms = q.get("ms").copied().unwrap_or(100);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    html(&format!("Slow {n}"))
}

async fn status(Path(code): Path<u16>) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = html(&format!("Status {}", code.as_u16()));
    *resp.status_mut() = code;
    resp
}

async fn redirect(Path(n): Path<u32>) -> Response {
    if n == 0 {
        return html("Landed");
    }
    redirect_to(&format!("/redirect/{}", n - 1))
}

async fn go(Query(q): Query<HashMap<String, String>>) -> Response {
    redirect_to(q.get("to").map(String::as_str).unwrap_or("/"))
}

async fn robots(State(seen): State<Arc<Seen>>) -> String {
    let set = seen.robots.lock().unwrap().clone();
    set.unwrap_or_else(|| "User-agent: *\nDisallow: /private/\nCrawl-delay: 0.2\n".into())
}

/// A consent check: without its cookie, sets it and redirects to itself.
async fn consent(headers: HeaderMap) -> Response {
    let consented = headers
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap_or("").contains("consent=yes"));
    if consented {
        return html("Consented");
    }
    let mut resp = redirect_to("/consent");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        header::HeaderValue::from_static("consent=yes; Path=/"),
    );
    resp
}

fn redirect_to(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

async fn fixture(Path(name): Path<String>) -> Response {
    let Some((_, content_type, _)) = FIXTURES.iter().find(|(f, _, _)| *f == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(&name);
    match std::fs::read(path) {
        Ok(body) => ([(header::CONTENT_TYPE, *content_type)], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A page with validators and a repeated header (`tests/it/fingerprints.rs`).
async fn validated() -> Response {
    let mut resp = html("Validated");
    let h = resp.headers_mut();
    h.insert(header::ETAG, header::HeaderValue::from_static("\"v1\""));
    h.insert(
        header::LAST_MODIFIED,
        header::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    h.append(header::SET_COOKIE, header::HeaderValue::from_static("a=1"));
    h.append(header::SET_COOKIE, header::HeaderValue::from_static("b=2"));
    resp
}

/// A page that honours validators: `ETag` (unless `?validators=date`) and
/// `Last-Modified` (unless `?validators=etag`) change with its version
/// (`Server::bump`); `If-None-Match` / `If-Modified-Since` that match get
/// a 304.
async fn versioned(
    State(seen): State<Arc<Seen>>,
    Path(n): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let version = seen.versions.lock().unwrap().get(&n).copied().unwrap_or(0);
    let which = q.get("validators").map(String::as_str).unwrap_or("both");
    let etag = format!("\"{n}-{version}\"");
    let date = format!("Wed, 21 Oct 2015 07:{:02}:00 GMT", version % 60);
    let asked = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let fresh = match which {
        "date" => asked(header::IF_MODIFIED_SINCE) == Some(date.as_str()),
        _ => asked(header::IF_NONE_MATCH) == Some(etag.as_str()),
    };
    let mut resp = if fresh {
        seen.not_modified.fetch_add(1, Ordering::SeqCst);
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = format!(
            "<!doctype html><html><head><title>Versioned {n} v{version}</title></head>\
             <body><article><h1>Page {n}</h1><p>This is version {version} of page {n}, \
             a paragraph long enough to be read as the article of the page.</p>\
             <a href=\"/versioned/{n}/next\">next</a></article></body></html>"
        );
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    };
    let h = resp.headers_mut();
    if which != "date" {
        h.insert(header::ETAG, etag.parse().unwrap());
    }
    if which != "etag" {
        h.insert(header::LAST_MODIFIED, date.parse().unwrap());
    }
    resp
}

/// `fixtures/readable/NAME`, as `text/html` without a charset (the
/// pages of `tests/it/readable.rs`).
async fn readable(Path(name): Path<String>) -> Response {
    if name.contains('/') || name.contains("..") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/readable")
        .join(&name);
    match std::fs::read(path) {
        Ok(body) => ([(header::CONTENT_TYPE, "text/html")], body).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A server that accepts connections and never says a word.
pub fn hanging_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        let mut held: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    addr
}

/// An address on which nothing listens (connection refused).
pub fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    addr
}

/// Parses JSON Lines output, asserting each line is one whole record.
pub fn records(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line: {l:?}: {e}")))
        .collect()
}

/// Runs scrape on one URL and returns its record and the run's wall time.
pub fn one(url: &str, args: &[&str]) -> (serde_json::Value, std::time::Duration) {
    let started = std::time::Instant::now();
    let out = scrape()
        .args(args)
        .arg("-")
        .write_stdin(url.to_string())
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 1, "{recs:?}");
    (recs[0].clone(), took)
}

/// The record whose `input` is `input`.
pub fn by_input<'a>(records: &'a [serde_json::Value], input: &str) -> &'a serde_json::Value {
    records
        .iter()
        .find(|r| r["input"] == input)
        .unwrap_or_else(|| panic!("no record for {input}"))
}

/// Writes `lines` to a temporary list file.
pub fn list(lines: &[String]) -> tempfile::NamedTempFile {
    use std::io::Write;
    let mut f = tempfile::NamedTempFile::new().expect("temp file");
    for l in lines {
        writeln!(f, "{l}").expect("write list");
    }
    f.flush().expect("flush list");
    f
}

/// A finished child and its peak memory.
pub struct Measured {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Peak resident set size of the child, in KiB (from `wait4`).
    pub max_rss_kib: i64,
}

/// Runs the binary and reaps it with `wait4`, which reports that one
/// child's peak RSS.
// The child is reaped by `wait4`, not `Child::wait`, to get its rusage.
#[allow(clippy::zombie_processes)]
pub fn run_measured(args: &[&str], stdin: &str) -> Measured {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrape"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn scrape");
    let mut input = child.stdin.take().expect("stdin");
    let text = stdin.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(text.as_bytes());
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut v);
        v
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 fills it for
    // our own child, which std has not reaped (we never call `wait`).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let _ = feeder.join();
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    Measured {
        code,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        max_rss_kib: usage.ru_maxrss,
    }
}

/// Sends `signal` to a child process.
pub fn signal(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: kill has no memory effects; the pid is our live child.
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill failed");
}

/// Whether an external tool runs (`argv`, e.g. `["jq", "--version"]`).
/// When it does not, a test that needs it says so and passes — unless
/// SCRAPE_REQUIRE_TOOLS is set (as `.ci/run` does, after installing them),
/// where a missing tool fails the test instead of skipping it.
pub fn tool(argv: &[&str]) -> bool {
    let runs = std::process::Command::new(argv[0])
        .args(&argv[1..])
        .output()
        .is_ok_and(|o| o.status.success());
    let name = argv.join(" ");
    if !runs {
        assert!(
            std::env::var_os("SCRAPE_REQUIRE_TOOLS").is_none(),
            "SCRAPE_REQUIRE_TOOLS is set but `{name}` does not run"
        );
        eprintln!("`{name}` does not run: this test is skipped (see README \"Tests\")");
    }
    runs
}
