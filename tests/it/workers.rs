//! The pool at scale (issue 10): thousands of workers really in flight at
//! once, thousands of hosts within a small open-files limit, connections
//! kept only for hosts that have more to come.

use std::sync::atomic::Ordering;

use crate::support::many::{self, host};
use crate::support::{list, records, scrape};

/// Runs scrape under `sh -c 'ulimit -n LIMIT; exec scrape ARGS'`, the way
/// a user with that limit would.
fn scrape_with_open_files(limit: u64, args: &[&str]) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_scrape"))
        .args(args)
        .output()
        .expect("run scrape under sh")
}

#[test]
fn two_thousand_workers_are_in_flight_at_once() {
    // Each request is answered only once all 2000 have arrived: the run
    // can only finish if 2000 workers really wait at the same time.
    many::raise_open_files();
    let n = 2000;
    let server = many::barrier(n);
    let lines: Vec<String> = (0..n)
        .map(|i| format!("http://{}:{}/page/{i}", host(0), server.port))
        .collect();
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "2000", "--timeout", "60", "--retries", "0", "-q"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), n);
    assert!(recs.iter().all(|r| r["ok"] == true), "some request failed");
    assert_eq!(server.counts.max_inflight.load(Ordering::SeqCst), n);
}

/// One page on each of the server's `hosts` hosts (`scheme`), fetched by
/// 16 workers under an open-files limit of `limit`: every record ok; the
/// records, and the most connections the server saw open at once.
fn every_host_once(
    server: &many::Many,
    (scheme, hosts): (&str, usize),
    limit: u64,
    extra: &[&str],
) -> (Vec<serde_json::Value>, usize) {
    let lines: Vec<String> = (0..hosts)
        .map(|i| format!("{scheme}://{}:{}/page/{i}", host(i), server.port))
        .collect();
    let file = list(&lines);
    let path = file.path().to_str().unwrap();
    let mut args = vec![path, "-t", "16", "-q", "--retries", "0"];
    args.extend(extra);
    let out = scrape_with_open_files(limit, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), hosts);
    let failed: Vec<_> = recs.iter().filter(|r| r["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {}",
        failed.len(),
        failed[0]
    );
    (recs, server.counts.max_open.load(Ordering::SeqCst))
}

#[test]
fn with_http2_hundreds_of_https_hosts_fit_in_128_open_files() {
    // An HTTP/2 connection cannot be closed by `Connection: close`: without
    // a client of its own for the requests the budget closes, each host's
    // connection stayed open until it idled out, past the limit.
    many::raise_open_files();
    let server = many::tls_hosts(500);
    let extra = ["--http2", "--insecure"];
    let (recs, max_open) = every_host_once(&server, ("https", 500), 128, &extra);
    assert!(recs.iter().all(|r| r["http_version"] == "HTTP/2"));
    assert!(max_open <= 2 * 16, "{max_open} connections open at once");
}

#[test]
fn a_thousand_hosts_fit_in_256_open_files_with_sockets_bounded_by_the_work() {
    many::raise_open_files();
    let server = many::hosts(1000);
    let (_, max_open) = every_host_once(&server, ("http", 1000), 256, &[]);
    // No host comes twice, so no connection is kept: at most one per
    // worker (and one being made beside it) was ever open.
    assert!(max_open <= 2 * 16, "{max_open} connections open at once");
}

#[test]
fn a_host_with_more_to_come_keeps_its_connections_and_the_last_closes() {
    many::raise_open_files();
    let server = many::hosts(1);
    let lines: Vec<String> = (0..200)
        .map(|i| format!("http://{}:{}/page/{i}", host(0), server.port))
        .collect();
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "4", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(records(&out.stdout).len(), 200);
    let connections = server.counts.connections.load(Ordering::SeqCst);
    assert!(
        connections <= 8,
        "{connections} connections for 200 requests over 4 workers"
    );
    // Each connection ended with the request that knew it was the last
    // of its host (Connection: close), so none was left idle; the others
    // kept theirs.
    let closing = server.counts.closing.load(Ordering::SeqCst);
    assert!(
        closing >= 1 && closing <= connections,
        "{closing} closing requests"
    );
    let stayed = server.counts.requests.load(Ordering::SeqCst) - closing;
    assert!(stayed >= 200 - 8, "{stayed} kept-alive requests");
}

#[test]
fn too_many_threads_for_the_open_files_limit_is_a_clear_error() {
    let out = scrape_with_open_files(256, &["-", "-t", "4096"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("scrape: error: --threads 4096 needs up to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("scrape: hint:") && stderr.contains("ulimit -n"),
        "{stderr}"
    );
    assert!(stderr.contains("--threads 95"), "{stderr}");
}

#[test]
fn a_short_list_starts_a_worker_per_url_not_per_thread_allowed() {
    // Three requests held by a server that answers once four have come:
    // while they wait, the workers scrape started are the three holding
    // them, with `-t 500` allowed.
    use std::io::Write;
    let server = many::barrier(4);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_scrape"))
        .args(["-", "-t", "500", "-q", "--timeout", "60", "--retries", "0"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..3 {
        writeln!(stdin, "http://{}:{}/page/{i}", host(0), server.port).unwrap();
    }
    drop(stdin);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while server.counts.max_inflight.load(Ordering::SeqCst) < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the requests never came"
        );
        std::thread::yield_now();
    }
    let workers = std::fs::read_dir(format!("/proc/{}/task", child.id()))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("scrape-worker"))
        .count();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(workers, 3);
}

#[test]
fn with_a_small_per_host_a_host_keeps_one_pool_whatever_the_clients() {
    // Four clients (as `-t 1024` gets on two cores) and `--per-host 1`:
    // the host's requests go through one client, so its one connection
    // serves them all instead of one waiting in each client's pool.
    let server = many::hosts(1);
    let lines: Vec<String> = (0..40)
        .map(|i| format!("http://{}:{}/page/{i}", host(0), server.port))
        .collect();
    let file = list(&lines);
    let out = scrape()
        .env("SCRAPE_CLIENTS", "4")
        .arg(file.path())
        .args(["-t", "8", "--per-host", "1", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 40);
    assert!(recs.iter().all(|r| r["ok"] == true));
    assert_eq!(server.counts.connections.load(Ordering::SeqCst), 1);
}
