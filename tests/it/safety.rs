//! "Nothing lost, nothing leaked, nothing surprising" (issue 11): what new
//! users and hostile servers found, one test per finding. Every server is
//! on 127.0.0.1, started here.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::faults::FaultServer;
use crate::support::web::Web;
use crate::support::{Server, by_input, list, one, records, scrape};
use serde_json::Value;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

// ---------------------------------------------------------------- 1, 2, 3

#[test]
fn an_output_that_is_an_input_or_another_output_is_refused() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let list_path = dir.path().join("list.txt");
    let text = format!("{}\n", server.url("/page/1"));
    std::fs::write(&list_path, &text).unwrap();
    let link = dir.path().join("link.txt");
    std::os::unix::fs::symlink(&list_path, &link).unwrap();
    let same = dir.path().join("same.json");
    let (l, k, s) = (list_path.as_os_str(), link.as_os_str(), same.as_os_str());
    let runs: [Vec<&std::ffi::OsStr>; 4] = [
        vec![l, "-o".as_ref(), l],
        vec![l, "-o".as_ref(), k],
        vec![l, "--summary-json".as_ref(), l],
        vec![l, "-o".as_ref(), s, "--summary-json".as_ref(), s],
    ];
    for args in runs {
        let out = scrape().args(args).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("scrape: error:") && err.contains("is the same file as"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(
        std::fs::read_to_string(&list_path).unwrap(),
        text,
        "the list is intact"
    );
    assert!(!same.exists());
    assert_eq!(server.total_hits(), 0, "refused before any request");
}

#[test]
fn a_second_run_on_the_same_output_is_refused_and_writes_nothing() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let slow: Vec<String> = (0..4)
        .map(|i| server.url(&format!("/slow/{i}?ms=3000")))
        .collect();
    let file = list(&slow);
    let mut first = Command::new(env!("CARGO_BIN_EXE_scrape"))
        .arg(file.path())
        .args(["-q", "-t", "4", "-o"])
        .arg(&out_path)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first run locks its output before it sends a request, so once
    // the server has one in flight the lock is held. (Probing the lock
    // from here would take it for a moment, and could refuse the first
    // run instead.)
    let held = Instant::now();
    while server.max_inflight() == 0 {
        assert!(
            held.elapsed() < Duration::from_secs(30),
            "the first run never sent a request"
        );
        std::thread::yield_now();
    }
    assert!(is_locked(&out_path), "the first run holds the lock");
    let second = scrape()
        .arg(file.path())
        .args(["-q", "-o"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another scrape run"),
        "{}",
        stderr(&second)
    );
    assert!(first.wait().unwrap().success());
    let recs = records(&std::fs::read(&out_path).unwrap());
    assert_eq!(recs.len(), 4, "only the first run's records");
}

fn is_locked(path: &std::path::Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

#[test]
fn retry_errors_fetches_transient_failures_again_and_keeps_one_record_per_line() {
    let web = Web::start();
    let lines = vec![
        web.url("/reset-first"),
        web.url("/page"),
        "not a url".to_string(),
    ];
    let file = list(&lines);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let run = |extra: &[&str]| {
        scrape()
            .arg(file.path())
            .args(["-q", "--retries", "0", "-o"])
            .arg(&out_path)
            .args(extra)
            .assert()
            .success();
        records(&std::fs::read(&out_path).unwrap())
    };
    let first = run(&[]);
    assert_eq!(
        by_input(&first, &lines[0])["error"]["kind"],
        "http",
        "the reset"
    );
    let resumed = run(&["--resume"]);
    assert_eq!(resumed.len(), 3, "a plain --resume keeps the failure");
    let retried = run(&["--resume", "--retry-errors"]);
    assert_eq!(retried.len(), 3, "one record per line: {retried:?}");
    assert_eq!(by_input(&retried, &lines[0])["ok"], true);
    assert_eq!(web.hits("/reset-first"), 2);
    assert_eq!(web.hits("/page"), 1, "done lines are not fetched again");
}

// ---------------------------------------------------------------- 4, 5

#[test]
fn control_characters_and_invalid_utf8_make_a_line_invalid() {
    let server = Server::start();
    let base = server.url("");
    let mut input = Vec::new();
    for bad in ["/a\0b", "/\0", "/a\tb", "/\x01", "/\x7f"] {
        input.extend_from_slice(format!("{base}{bad}\n").as_bytes());
    }
    input.extend_from_slice(format!("{base}/caf").as_bytes());
    input.extend_from_slice(b"\xe9\n");
    input.extend_from_slice(format!("{base}/page/a b?q=c d\n").as_bytes());
    let out = scrape().arg("-").write_stdin(input).output().unwrap();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 7);
    for r in &recs[..6] {
        assert_eq!(r["error"]["kind"], "invalid_url", "{r}");
        assert_eq!(r["attempts"], 0);
    }
    assert_eq!(
        recs[6]["url"],
        format!("{base}/page/a%20b?q=c%20d"),
        "spaces percent-encoded"
    );
    assert_eq!(recs[6]["ok"], true);
    assert_eq!(server.total_hits(), 1);
}

#[test]
fn every_record_says_which_file_its_line_is_in() {
    let server = Server::start();
    let a = list(&[server.url("/page/a")]);
    let b = list(&[server.url("/page/b"), "bad line".into()]);
    let out = scrape()
        .arg(a.path())
        .arg(b.path())
        .arg("-q")
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert_eq!(
        by_input(&recs, &server.url("/page/a"))["file"],
        a.path().to_str().unwrap()
    );
    assert_eq!(
        by_input(&recs, "bad line")["file"],
        b.path().to_str().unwrap()
    );
    assert_eq!(by_input(&recs, "bad line")["line"], 2);
    let (r, _) = one(&server.url("/page/s"), &[]);
    assert_eq!(r["file"], "-");
}

// ---------------------------------------------------------------- 6, 7

#[test]
fn a_kept_alive_connection_the_server_closed_is_not_a_failure() {
    let web = Web::start();
    let lines: Vec<String> = (0..30)
        .map(|i| web.url(&format!("/keepalive-close/{i}")))
        .collect();
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-q", "-t", "1", "--retries", "0"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 30);
    let failed: Vec<&Value> = recs.iter().filter(|r| r["ok"] != true).collect();
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        recs.iter().all(|r| r["attempts"] == 1),
        "a resend is not an attempt"
    );
}

#[test]
fn a_connection_closed_before_any_response_is_an_empty_reply() {
    let web = Web::start();
    let (r, _) = one(&web.url("/empty"), &["--retries", "1"]);
    assert_eq!(r["error"]["kind"], "http", "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("empty reply from server"), "{message}");
    assert_eq!(r["attempts"], 2, "still worth another attempt");
    let faults = FaultServer::start();
    let (r, _) = one(&faults.url("/reset-mid-body"), &["--retries", "0"]);
    assert_eq!(
        r["error"]["kind"], "body",
        "a break after the response began"
    );
}

// ---------------------------------------------------------------- 8, 9

#[test]
fn content_codings_are_decoded_in_any_spelling_and_stack() {
    let web = Web::start();
    for coding in [
        "x-gzip",
        "GZIP",
        "deflate-raw",
        "br",
        "zstd",
        "gzip-then-br",
    ] {
        let (r, _) = one(&web.url(&format!("/enc/{coding}")), &[]);
        assert_eq!(r["title"], format!("Encoded {coding}"), "{r}");
        assert!(r["error"].is_null(), "{r}");
    }
    let (r, _) = one(&web.url("/enc/compress"), &[]);
    assert_eq!(r["error"]["kind"], "http", "{r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("compress"),
        "{r}"
    );
    assert!(r["title"].is_null(), "an unknown coding is not parsed");
    let (r, _) = one(&web.url("/echo-accept-encoding"), &[]);
    assert_eq!(
        r["title"], "gzip, deflate, br, zstd",
        "offered: what is decoded"
    );
}

#[test]
fn a_location_with_raw_non_ascii_bytes_is_followed() {
    let web = Web::start();
    let (r, _) = one(&web.url("/raw-location"), &[]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["title"], "Landed");
    assert!(
        r["final_url"]
            .as_str()
            .unwrap()
            .ends_with("/landing-%C3%A9/%E2%9C%93")
    );
}

// ---------------------------------------------------------------- 10, 11

#[test]
fn private_cas_are_trusted_with_cacert_or_ssl_cert_file() {
    let (addr, dir) = crate::support::tls::ca_signed_server();
    let url = format!("https://{addr}/");
    let (r, _) = one(&url, &["--retries", "0"]);
    assert_eq!(r["error"]["kind"], "tls");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("--cacert") && message.contains("--insecure"),
        "{message}"
    );
    assert!(!message.contains("UnknownIssuer"), "in words: {message}");
    let ca = dir.path().join("ca.pem");
    let (r, _) = one(&url, &["--cacert", ca.to_str().unwrap()]);
    assert_eq!(r["title"], "Trusted", "{r}");
    let out = scrape()
        .env("SSL_CERT_FILE", &ca)
        .arg("-")
        .write_stdin(url.clone())
        .output()
        .unwrap();
    assert_eq!(
        records(&out.stdout)[0]["title"],
        "Trusted",
        "SSL_CERT_FILE is honoured"
    );
}

#[test]
fn https_to_a_plain_http_server_says_so() {
    let server = Server::start();
    let (r, _) = one(
        &format!("https://{}/page/1", server.addr),
        &["--retries", "0"],
    );
    assert_eq!(r["error"]["kind"], "tls", "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("plain HTTP") && message.contains("http://"),
        "{message}"
    );
}

#[test]
fn proxies_from_the_flag_and_the_environment_and_errors_name_them() {
    let server = Server::start();
    // Any plain server is a proxy here: it answers the absolute-form
    // request itself, so the title says who answered.
    let proxy = Web::start();
    let target = "http://upstream.invalid/page/x";
    let (r, _) = one(target, &["-x", &proxy.url("")]);
    assert_eq!(r["title"], "Page", "answered by the proxy: {r}");
    assert_eq!(proxy.hits("http://upstream.invalid/page/x"), 1);
    let dead = crate::support::refused_addr();
    let out = scrape()
        .env("HTTP_PROXY", format!("http://{dead}"))
        .args(["--retries", "0", "-"])
        .write_stdin(server.url("/page/1"))
        .output()
        .unwrap();
    let r = &records(&out.stdout)[0];
    assert_eq!(r["error"]["kind"], "connect", "{r}");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("via proxy") && message.contains(&dead.to_string()),
        "{message}"
    );
    let out = scrape()
        .env("HTTP_PROXY", format!("http://{dead}"))
        .args(["--no-proxy", "-"])
        .write_stdin(server.url("/page/2"))
        .output()
        .unwrap();
    assert_eq!(
        records(&out.stdout)[0]["ok"],
        true,
        "--no-proxy goes direct"
    );
}

// ---------------------------------------------------------------- 12, 13

#[test]
fn a_cookie_set_by_a_redirect_goes_to_the_next_hop_and_no_further() {
    let web = Web::start();
    let lines = vec![web.url("/set-cookie"), web.url("/need-cookie")];
    let out = scrape()
        .arg(list(&lines).path())
        .args(["-q", "-t", "1"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert_eq!(by_input(&recs, &lines[0])["title"], "Welcome back");
    assert_eq!(
        by_input(&recs, &lines[1])["status"],
        403,
        "never shared between lines"
    );
}

#[test]
fn passwords_in_urls_are_sent_and_never_shown() {
    let web = Web::start();
    let secret = "s3cr3t-pw";
    let url = format!("http://ann:{secret}@{}/auth", web.addr);
    let dead = crate::support::refused_addr();
    let failing = format!("http://ann:{secret}@{dead}/x");
    let file = list(&[url.clone(), failing.clone()]);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let out = scrape()
        .arg(file.path())
        .args(["-v", "--retries", "0", "-o"])
        .arg(&out_path)
        .output()
        .unwrap();
    let written = std::fs::read_to_string(&out_path).unwrap();
    for text in [written.as_str(), &stderr(&out)] {
        assert!(!text.contains(secret), "a password was shown: {text}");
    }
    let recs = records(written.as_bytes());
    let shown = format!("http://ann:***@{}/auth", web.addr);
    let ok = recs
        .iter()
        .find(|r| r["url"] == shown)
        .expect("the masked URL");
    assert_eq!(ok["title"], "Authorized", "the password was sent");
    assert_eq!(ok["input"], shown);
    assert_eq!(ok["final_url"], shown);
    scrape()
        .arg(file.path())
        .args(["-q", "--resume", "-o"])
        .arg(&out_path)
        .assert()
        .success();
    assert_eq!(
        records(&std::fs::read(&out_path).unwrap()).len(),
        2,
        "--resume knew both lines"
    );
    assert_eq!(web.hits("/auth"), 1);
}

// ---------------------------------------------------------------- 14, 15, 16

#[test]
fn urls_robots_forbids_do_not_take_a_crawl_delay_slot() {
    let web = Web::start();
    let mut lines = vec![web.url("/page/1")];
    lines.extend((0..4).map(|i| web.url(&format!("/private/{i}"))));
    lines.push(web.url("/page/2"));
    let started = Instant::now();
    let out = scrape()
        .arg(list(&lines).path())
        .args(["-q", "-t", "2", "--robots"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(records(&out.stdout).len(), 6);
    // Crawl-delay: 1 between the two pages; before, each forbidden URL
    // waited its second too (5 s).
    assert!(took < Duration::from_millis(3500), "{took:?}");
    assert_eq!(web.hits("/private/0"), 0);
}

#[test]
fn compare_with_one_thread_still_writes_its_records() {
    let server = Server::start();
    let file = list(&[server.url("/page/1"), server.url("/page/2")]);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    scrape()
        .arg(file.path())
        .args(["-q", "--compare", "-t", "1", "-o"])
        .arg(&out_path)
        .assert()
        .success();
    assert_eq!(records(&std::fs::read(&out_path).unwrap()).len(), 2);
}

#[test]
fn an_interrupted_run_says_what_is_left_and_how_to_finish() {
    let server = Server::start();
    let lines: Vec<String> = (0..40)
        .map(|i| server.url(&format!("/slow/{i}?ms=300")))
        .collect();
    let file = list(&lines);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrape"))
        .arg(file.path())
        .args(["-t", "2", "--progress", "always", "-o"])
        .arg(&out_path)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    // The first status line says the run is going: then Ctrl-C.
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    crate::support::signal(&child, libc::SIGINT);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(130));
    assert!(rest.contains("of 40 not done"), "{rest}");
    assert!(rest.contains("--resume"), "{rest}");
    let counted = rest
        .lines()
        .rfind(|l| l.contains(" ok · "))
        .unwrap_or(&line)
        .to_string();
    assert!(
        counted.contains("HTTP error") && counted.contains("skipped"),
        "{counted}"
    );
}

// ---------------------------------------------------------------- 17, 18, 19

#[test]
fn messages_count_in_words() {
    let server = Server::start();
    let out = scrape()
        .arg("-")
        .write_stdin(server.url("/page/1"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("1 URL in") && err.contains("16 threads"),
        "{err}"
    );
    // " 1 URLs", not "1 URLs": a rate such as "39.1 URLs/s" is fine.
    assert!(!err.contains(" 1 URLs"), "{err}");
}

#[test]
fn the_man_page_stands_alone() {
    let out = scrape().arg("--man").output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "RECORD",
        "ERROR KINDS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "HTTPS_PROXY",
        // roff escapes dashes: this is `--threads N` on the page.
        r"\-\-threads N",
    ] {
        assert!(page.contains(needle), "no {needle}");
    }
    let help = scrape().arg("--help").output().unwrap();
    assert!(!String::from_utf8_lossy(&help.stdout).contains("README"));
}

#[test]
fn the_demo_shows_threads_against_one_thread_on_any_machine() {
    let out = scrape()
        .args(["--demo", "-t", "16"])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert!(lines.next().unwrap().contains("speedup"), "{text}");
    let one: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let many: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!((one[0], many[0]), ("1", "16"), "{text}");
    assert!(many[3].ends_with('x'), "a speedup column: {text}");
    let shown: Vec<Value> = text
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        shown.len() >= 2 && shown.iter().any(|r| r["ok"] == true),
        "{text}"
    );
}
