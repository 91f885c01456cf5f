//! The promises of SPEC.md §5–§6 under faults (issue 3), one test each,
//! against the fault-injection server of `support/faults.rs`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::faults::FaultServer;
use crate::support::{Server, by_input, list, one, records, scrape};
use serde_json::Value;

fn kind(r: &Value) -> &str {
    r["error"]["kind"].as_str().unwrap_or("none")
}

#[test]
fn headers_then_stall_times_out_on_time() {
    let s = FaultServer::start();
    let (r, took) = one(&s.url("/stall"), &["--timeout", "1", "--retries", "0"]);
    assert_eq!(kind(&r), "timeout", "{r}");
    assert_eq!(r["status"], 200, "the headers did come");
    assert_eq!(r["ok"], false);
    assert_eq!(r["title"], "Stalled", "what arrived is still read");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_trickling_body_cannot_hold_a_worker_past_the_deadline() {
    let s = FaultServer::start();
    let (r, took) = one(&s.url("/trickle"), &["--timeout", "1", "--retries", "0"]);
    assert_eq!(kind(&r), "timeout", "{r}");
    let bytes = r["bytes"].as_u64().unwrap();
    assert!(
        (1..=10).contains(&bytes),
        "{bytes} bytes in ~1 s at 5 bytes/s"
    );
    let elapsed = r["elapsed_ms"].as_f64().unwrap();
    assert!(elapsed >= 1000.0, "{elapsed}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_reset_mid_body_is_a_body_error_with_the_bytes_read_and_no_retry() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/reset-mid-body"), &["--retries", "2"]);
    assert_eq!(kind(&r), "body", "{r}");
    assert_eq!(r["status"], 200);
    assert_eq!(r["bytes"], 5000);
    assert_eq!(r["title"], "Reset");
    assert_eq!(r["attempts"], 1, "never retried after the body began");
    assert_eq!(s.hits("/reset-mid-body"), 1);
}

#[test]
fn a_reset_before_the_response_is_retried() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/reset-before"), &["--retries", "2"]);
    assert_eq!(r["attempts"], 3, "{r}");
    assert_eq!(s.hits("/reset-before"), 3);
    assert!(r["status"].is_null());
    assert_eq!(kind(&r), "http", "{r}");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("empty reply from server"),
        "{r}"
    );
}

#[test]
fn a_body_shorter_than_its_content_length_is_a_body_error() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/short"), &["--retries", "0"]);
    assert_eq!(kind(&r), "body", "{r}");
    assert!(r["bytes"].as_u64().unwrap() > 0);
}

#[test]
fn an_endless_body_is_cut_at_max_body() {
    let s = FaultServer::start();
    let (r, took) = one(&s.url("/endless"), &["--max-body", "1M"]);
    assert_eq!(r["truncated"], true, "{r}");
    assert_eq!(r["bytes"], 1 << 20);
    assert!(r["error"].is_null());
    assert_eq!(r["ok"], true);
    assert!(took < Duration::from_secs(20));
}

#[test]
fn a_gzip_bomb_is_cut_at_max_body_decoded_bytes() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/gzip-bomb"), &["--max-body", "2M"]);
    assert_eq!(r["truncated"], true, "{r}");
    assert_eq!(r["bytes"], 2 << 20, "max-body counts decoded bytes");
    assert!(r["error"].is_null());
    assert!(r["title"].is_null(), "zeros are not a title");
}

#[test]
fn retry_after_is_honoured() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/429-once"), &["--retries", "2"]);
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["attempts"], 2);
    assert_eq!(r["ok"], true);
    let elapsed = r["elapsed_ms"].as_f64().unwrap();
    assert!(elapsed >= 1000.0, "waited {elapsed} ms for Retry-After: 1");
    assert!(
        r["ttfb_ms"].as_f64().unwrap() >= 1000.0,
        "ttfb is to the final response"
    );
}

#[test]
fn transient_503s_are_retried_until_success() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/503-twice"), &["--retries", "2"]);
    assert_eq!(
        (r["status"].as_u64(), r["attempts"].as_u64()),
        (Some(200), Some(3)),
        "{r}"
    );
    assert_eq!(r["title"], "Fine");
    let s2 = FaultServer::start();
    let (r, _) = one(&s2.url("/503-twice"), &["--retries", "1"]);
    assert_eq!(
        (r["status"].as_u64(), r["attempts"].as_u64()),
        (Some(503), Some(2)),
        "{r}"
    );
    assert!(r["error"].is_null(), "a 503 is a status, not an error");
}

#[test]
fn protocol_violations_are_errors_not_crashes() {
    let s = FaultServer::start();
    let (r, _) = one(&s.url("/bad-chunked"), &["--retries", "0"]);
    assert!(matches!(kind(&r), "http" | "body"), "{r}");
    let (r, _) = one(&s.url("/garbage"), &["--retries", "0"]);
    assert_eq!(kind(&r), "http", "{r}");
    assert!(r["status"].is_null());
}

#[test]
fn redirect_chains_name_their_length() {
    let server = Server::start();
    let (r, _) = one(&server.url("/redirect/30"), &[]);
    assert_eq!(kind(&r), "redirect");
    let message = r["error"]["message"].as_str().unwrap();
    assert!(message.contains("10"), "{message}");
}

#[test]
fn bad_input_lines_each_get_a_record_and_the_run_goes_on() {
    let server = Server::start();
    let good = server.url("/page/ok");
    let mut data: Vec<u8> = Vec::new();
    let mut add = |bytes: &[u8]| {
        data.extend_from_slice(bytes);
        data.push(b'\n');
    };
    add(b"\x00\x01\x02\xff\xfe binary garbage");
    add(b"http://exa\x00mple.com/");
    add(b"http://\xc3\x28invalid-utf8.example/");
    add(&vec![b'a'; 1 << 20]);
    add(b"http://exa mple.com/");
    add(b"http://example.com/\x07bell");
    add(b"javascript:alert(1)");
    add(b"ftp://example.com/");
    add(b"file:///etc/passwd");
    add(good.as_bytes());
    add(format!("http://[::1]:{}/page/v6", server.addr.port()).as_bytes());
    add(b"http://b\xc3\xbccher.invalid/");
    let out = scrape()
        .args(["--retries", "0", "--timeout", "2", "-"])
        .write_stdin(data)
        .output()
        .unwrap();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 12, "one record per line");
    let mut lines: Vec<u64> = recs.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    lines.sort();
    assert_eq!(lines, (1..=12).collect::<Vec<u64>>());
    let by_line = |n: u64| recs.iter().find(|r| r["line"] == n).unwrap();
    for n in [1, 2, 3, 4, 5, 7, 8, 9] {
        assert_eq!(kind(by_line(n)), "invalid_url", "line {n}: {}", by_line(n));
    }
    assert!(
        by_line(4)["input"].as_str().unwrap().len() < 1024,
        "a 1 MB line is not echoed whole"
    );
    assert_eq!(by_input(&recs, &good)["ok"], true);
    let idn = by_line(12);
    assert_eq!(idn["url"], "http://xn--bcher-kva.invalid/", "{idn}");
    let v6 = by_line(11);
    assert!(
        v6["url"].as_str().unwrap().starts_with("http://[::1]:"),
        "{v6}"
    );
}

/// Starts scrape on a slow list with stdout piped; returns the child and
/// its stdout after the first record arrived.
fn start_slow_run(
    list: &std::path::Path,
    extra: &[&str],
) -> (
    std::process::Child,
    BufReader<std::process::ChildStdout>,
    String,
) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrape"))
        .arg(list)
        .args(["-t", "4"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.ends_with('\n'), "no first record: {first:?}");
    (child, stdout, first)
}

fn finish(
    mut child: std::process::Child,
    mut stdout: BufReader<std::process::ChildStdout>,
    first: String,
) -> (Option<i32>, String, String) {
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), first + &rest, stderr)
}

#[test]
fn ctrl_c_then_resume_fetches_every_url_exactly_once() {
    let server = Server::start();
    let urls: Vec<String> = (0..60)
        .map(|i| server.url(&format!("/slow/{i}?ms=150")))
        .collect();
    let file = list(&urls);
    let (child, stdout, first) = start_slow_run(file.path(), &[]);
    crate::support::signal(&child, libc::SIGINT);
    let (code, output, stderr) = finish(child, stdout, first);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let done = records(output.as_bytes());
    assert!(
        !done.is_empty() && done.len() < 60,
        "{} records",
        done.len()
    );

    // The output file of the interrupted run, plus a torn line as a kill -9
    // could leave.
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    std::fs::write(&out_path, format!("{output}{{\"url\":\"http://tor")).unwrap();
    let resumed = scrape()
        .arg(file.path())
        .args(["-t", "4", "--resume", "-o"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(resumed.status.success(), "{resumed:?}");
    let all = records(&std::fs::read(&out_path).unwrap());
    assert_eq!(all.len(), 60, "every line has exactly one record");
    let mut inputs: Vec<&str> = all.iter().map(|r| r["input"].as_str().unwrap()).collect();
    inputs.sort();
    inputs.dedup();
    assert_eq!(inputs.len(), 60);
    for i in 0..60 {
        assert_eq!(
            server.hits(&format!("/slow/{i}")),
            1,
            "/slow/{i} fetched once overall"
        );
    }
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(
        stderr.contains(&format!("{} lines already had their records", done.len())),
        "{stderr}"
    );
}

#[test]
fn sigterm_is_an_interruption_too() {
    let server = Server::start();
    let urls: Vec<String> = (0..40)
        .map(|i| server.url(&format!("/slow/{i}?ms=150")))
        .collect();
    let file = list(&urls);
    let (child, stdout, first) = start_slow_run(file.path(), &["--format", "json"]);
    crate::support::signal(&child, libc::SIGTERM);
    let (code, output, stderr) = finish(child, stdout, first);
    assert_eq!(code, Some(130), "{stderr}");
    let doc: Value = serde_json::from_str(&output).expect("still one valid JSON document");
    assert_eq!(doc["summary"]["interrupted"], true);
    assert!(doc["results"].as_array().unwrap().len() < 40);
}

#[test]
fn a_second_ctrl_c_exits_at_once_with_whole_lines() {
    let server = Server::start();
    let urls: Vec<String> = (0..40)
        .map(|i| server.url(&format!("/slow/{i}?ms=3000")))
        .collect();
    let file = list(&urls);
    let first_fast = server.url("/page/first");
    let mut lines = vec![first_fast];
    lines.extend(urls);
    let file2 = list(&lines);
    drop(file);
    let (mut child, stdout, first) = start_slow_run(file2.path(), &[]);
    crate::support::signal(&child, libc::SIGINT);
    // Wait until scrape says it took the first one (two signals sent at once
    // would merge into one).
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut note = String::new();
    while !note.contains("interrupted") {
        note.clear();
        assert!(
            stderr.read_line(&mut note).unwrap() > 0,
            "no interruption note"
        );
    }
    let started = Instant::now();
    crate::support::signal(&child, libc::SIGINT);
    let mut rest = String::new();
    let mut stdout = stdout;
    stdout.read_to_string(&mut rest).unwrap();
    let code = child.wait().unwrap().code();
    let output = first + &rest;
    assert_eq!(code, Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not exit at once"
    );
    for line in output.lines() {
        serde_json::from_str::<Value>(line).expect("a whole record");
    }
}

#[test]
fn certificates_are_verified_unless_insecure() {
    let addr = crate::support::tls::self_signed_server();
    let url = format!("https://{addr}/");
    let (r, _) = one(&url, &["--retries", "0"]);
    assert_eq!(kind(&r), "tls", "{r}");
    assert!(r["status"].is_null());
    let (r, _) = one(&url, &["--retries", "0", "--insecure"]);
    assert_eq!(r["status"], 200, "{r}");
    assert_eq!(r["title"], "Secret");
}

#[test]
fn kill_9_leaves_only_whole_lines_but_the_last() {
    let server = Server::start();
    let mut lines = vec![server.url("/page/first")];
    lines.extend((0..40).map(|i| server.url(&format!("/slow/{i}?ms=100"))));
    let file = list(&lines);
    let (child, stdout, first) = start_slow_run(file.path(), &[]);
    crate::support::signal(&child, libc::SIGKILL);
    let (code, output, _) = finish(child, stdout, first);
    assert_eq!(code, None, "killed by a signal");
    let mut pieces: Vec<&str> = output.split_inclusive('\n').collect();
    if pieces.last().is_some_and(|l| !l.ends_with('\n')) {
        pieces.pop(); // a torn last line is the only damage allowed
    }
    assert!(!pieces.is_empty());
    for line in pieces {
        serde_json::from_str::<Value>(line).expect("a whole record");
    }
}

#[test]
fn resume_works_with_standard_input() {
    let server = Server::start();
    let list_text: String = (0..10)
        .map(|i| server.url(&format!("/page/{i}")) + "\n")
        .collect();
    let first_half: String = list_text
        .lines()
        .take(4)
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    scrape()
        .arg("-o")
        .arg(&out)
        .write_stdin(first_half)
        .assert()
        .success();
    scrape()
        .args(["--resume", "-o"])
        .arg(&out)
        .write_stdin(list_text)
        .assert()
        .success();
    assert_eq!(records(&std::fs::read(&out).unwrap()).len(), 10);
    for i in 0..10 {
        assert_eq!(server.hits(&format!("/page/{i}")), 1);
    }
}

#[test]
fn a_host_that_stops_answering_is_not_asked_again() {
    // Six URLs on a port where nothing listens, two on a working server,
    // one worker so that the order is the list's.
    let server = Server::start();
    let dead = crate::support::refused_addr();
    let mut lines: Vec<String> = (0..6).map(|i| format!("http://{dead}/{i}")).collect();
    lines.insert(3, server.url("/page/a"));
    lines.push(server.url("/page/b"));
    let file = list(&lines);
    let run = |extra: &[&str]| {
        let out = scrape()
            .arg(file.path())
            .args(["-t", "1", "-q"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        records(&out.stdout)
    };
    let recs = run(&["--retries", "0", "--max-host-errors", "2"]);
    assert_eq!(recs.len(), 8);
    let dead_recs: Vec<_> = recs
        .iter()
        .filter(|r| r["input"].as_str().unwrap().contains(&dead.to_string()))
        .collect();
    let attempts: Vec<u64> = dead_recs
        .iter()
        .map(|r| r["attempts"].as_u64().unwrap())
        .collect();
    assert_eq!(attempts, [1, 1, 0, 0, 0, 0], "two tries, then no more");
    for r in &dead_recs {
        assert_eq!(r["error"]["kind"], "connect", "{r}");
    }
    let skipped = dead_recs[2]["error"]["message"].as_str().unwrap();
    assert!(
        skipped.contains("not fetched") && skipped.contains("--max-host-errors"),
        "{skipped}"
    );
    assert!(
        recs.iter().filter(|r| r["ok"] == true).count() == 2,
        "other hosts go on"
    );

    // Retries stop too once the host is shut; 0 turns the breaker off.
    let recs = run(&["--retries", "5", "--max-host-errors", "2"]);
    assert_eq!(by_input(&recs, &lines[0])["attempts"], 2);
    let recs = run(&["--retries", "0", "--max-host-errors", "0"]);
    assert!(recs.iter().all(|r| r["attempts"] == 1));
}

#[test]
fn urls_of_a_hanging_host_do_not_each_wait_for_the_deadline() {
    let hang = crate::support::hanging_server();
    let lines: Vec<String> = (0..6).map(|i| format!("http://{hang}/{i}")).collect();
    let file = list(&lines);
    let started = std::time::Instant::now();
    let out = scrape()
        .arg(file.path())
        .args([
            "-t",
            "1",
            "-q",
            "--timeout",
            "1",
            "--retries",
            "0",
            "--max-host-errors",
            "1",
        ])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    let took = started.elapsed();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 6);
    assert_eq!(recs[0]["attempts"], 1);
    assert!(
        recs[1..]
            .iter()
            .all(|r| r["attempts"] == 0 && r["error"]["kind"] == "timeout")
    );
    // One deadline, not six.
    assert!(took < std::time::Duration::from_secs(4), "{took:?}");
}
