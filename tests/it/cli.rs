//! The real binary against servers on 127.0.0.1 (issue 2's test list).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Server, by_input, hanging_server, list, one, records, refused_addr, scrape};
use serde_json::Value;

#[test]
fn every_field_for_200_404_500() {
    let server = Server::start();
    let urls: Vec<String> = ["/page/1", "/status/404", "/status/500"]
        .iter()
        .map(|p| server.url(p))
        .collect();
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--retries", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 3);
    let names = base_fields();
    for r in &recs {
        let obj = r.as_object().unwrap();
        assert_eq!(obj.len(), names.len(), "{r}");
        for n in &names {
            assert!(obj.contains_key(n), "{n} missing in {r}");
        }
        assert!(r["elapsed_ms"].is_f64() || r["elapsed_ms"].is_u64());
        assert!(r["ttfb_ms"].as_f64().unwrap() <= r["elapsed_ms"].as_f64().unwrap());
        assert_eq!(r["redirects"], 0);
        assert_eq!(r["attempts"], 1);
        assert_eq!(r["truncated"], false);
        assert!(r["error"].is_null());
        assert_eq!(r["url"], r["input"]);
        assert_eq!(r["final_url"], r["url"]);
        assert_eq!(r["content_type"], "text/html; charset=utf-8");
        assert!(r["bytes"].as_u64().unwrap() > 50);
    }
    let ok = by_input(&recs, &urls[0]);
    assert_eq!(ok["status"], 200);
    assert_eq!(ok["ok"], true);
    assert_eq!(ok["title"], "Page 1");
    assert_eq!(ok["line"], 1);
    let missing = by_input(&recs, &urls[1]);
    assert_eq!(
        (missing["status"].as_u64(), missing["ok"].as_bool()),
        (Some(404), Some(false))
    );
    assert_eq!(missing["title"], "Status 404");
    assert_eq!(missing["line"], 2);
    let broken = by_input(&recs, &urls[2]);
    assert_eq!(
        (broken["status"].as_u64(), broken["ok"].as_bool()),
        (Some(500), Some(false))
    );
    assert_eq!(broken["line"], 3);
}

#[test]
fn redirects_are_followed_and_counted() {
    let server = Server::start();
    let url = server.url("/redirect/3");
    let (r, _) = one(&url, &[]);
    assert_eq!(r["redirects"], 3);
    assert_eq!(r["status"], 200);
    assert_eq!(r["final_url"], server.url("/redirect/0"));
    assert_eq!(r["url"], url);
    assert_eq!(r["title"], "Landed");
    assert_eq!(server.hits("/redirect/1"), 1);
}

/// The fields every record has, as `scrape --man` lists them (the one
/// list, `record::FIELDS`): those not added by an option ("with --…").
fn base_fields() -> Vec<String> {
    let man = scrape().arg("--man").output().unwrap().stdout;
    let man = String::from_utf8_lossy(&man);
    let record = &man[man.find(".SH RECORD").unwrap()..];
    let record = &record[..record[1..].find(".SH ").unwrap()];
    let mut names = Vec::new();
    for entry in record.split(".TP\n").skip(1) {
        let mut lines = entry.lines();
        let name = lines
            .next()
            .unwrap_or("")
            .replace("\\fB", "")
            .replace("\\fR", "");
        let meaning = lines.next().unwrap_or("");
        if !meaning.starts_with("with \\-\\-") {
            names.push(name.replace("\\-", "-").replace("\\", ""));
        }
    }
    names
}

#[test]
fn a_redirect_to_itself_that_sets_a_cookie_is_followed_not_a_loop() {
    let server = Server::start();
    let (r, _) = one(&server.url("/consent"), &[]);
    assert_eq!(r["error"], Value::Null, "{r}");
    assert_eq!(r["status"], 200);
    assert_eq!(r["title"], "Consented");
    assert_eq!(r["redirects"], 1);
    assert_eq!(server.hits("/consent"), 2);
}

#[test]
fn too_many_redirects_and_loops_are_redirect_errors() {
    let server = Server::start();
    let urls = vec![
        server.url("/redirect/5"),
        server.url("/loop"),
        server.url("/to-ftp"),
    ];
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--max-redirects", "2"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    let long = by_input(&recs, &urls[0]);
    assert_eq!(long["error"]["kind"], "redirect");
    assert!(
        long["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 2")
    );
    assert_eq!(long["ok"], false);
    assert_eq!(long["redirects"], 2);
    let lp = by_input(&recs, &urls[1]);
    assert_eq!(lp["error"]["kind"], "redirect");
    assert!(
        lp["error"]["message"].as_str().unwrap().contains("loop"),
        "{lp}"
    );
    let ftp = by_input(&recs, &urls[2]);
    assert_eq!(ftp["error"]["kind"], "redirect");
    assert!(
        ftp["error"]["message"]
            .as_str()
            .unwrap()
            .contains("non-http")
    );
    // Only the first request of the chain of five plus two hops were made.
    assert_eq!(server.hits("/redirect/2"), 0);
}

#[test]
fn max_redirects_zero_returns_the_redirect_itself() {
    let server = Server::start();
    let (r, _) = one(&server.url("/redirect/1"), &["--max-redirects", "0"]);
    assert_eq!(r["status"], 302);
    assert_eq!(r["redirects"], 0);
    assert!(r["error"].is_null());
    assert_eq!(r["location"], server.url("/redirect/0"), "absolute: {r}");
    assert_eq!(server.hits("/redirect/0"), 0);
}

#[test]
fn connection_refused_is_a_connect_error_said_in_words() {
    let addr = refused_addr();
    let (r, _) = one(&format!("http://{addr}/"), &["--retries", "0"]);
    assert_eq!(r["error"]["kind"], "connect");
    assert_eq!(
        r["error"]["message"],
        format!("connection refused by {addr}"),
        "not the client's error chain"
    );
    assert!(r["status"].is_null());
    assert!(r["ttfb_ms"].is_null());
    assert_eq!(r["ok"], false);
    assert_eq!(r["attempts"], 1);
}

#[test]
fn a_server_that_never_answers_times_out_on_time() {
    let addr = hanging_server();
    let (r, took) = one(
        &format!("http://{addr}/"),
        &["--retries", "0", "--timeout", "1"],
    );
    assert_eq!(r["error"]["kind"], "timeout", "{r}");
    let elapsed = r["elapsed_ms"].as_f64().unwrap();
    assert!(elapsed >= 1000.0, "{elapsed}");
    // Generous bound: the deadline was enforced, not waited out elsewhere.
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[test]
fn retries_count_attempts() {
    let server = Server::start();
    let (r, _) = one(&server.url("/status/503"), &["--retries", "2"]);
    assert_eq!(r["attempts"], 3);
    assert_eq!(r["status"], 503);
    assert_eq!(server.hits("/status/503"), 3);
    // 404 is not transient: never retried.
    let (r, _) = one(&server.url("/status/404"), &["--retries", "2"]);
    assert_eq!(r["attempts"], 1);
}

#[test]
fn invalid_lines_get_invalid_url_records_with_their_line() {
    let server = Server::start();
    let data = format!(
        "\u{feff}# a comment\n\n{}\r\njavascript:alert(1)\nhttp://\n   \nftp://example.com/x\n{}\n",
        server.url("/page/a"),
        server.url("/page/b")
    );
    let out = scrape().arg("-").write_stdin(data).output().unwrap();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 5);
    for (input, line) in [
        ("javascript:alert(1)", 4),
        ("http://", 5),
        ("ftp://example.com/x", 7),
    ] {
        let r = by_input(&recs, input);
        assert_eq!(r["line"], line, "{r}");
        assert_eq!(r["error"]["kind"], "invalid_url");
        assert!(r["url"].is_null());
        assert_eq!(r["attempts"], 0);
    }
    assert_eq!(by_input(&recs, &server.url("/page/a"))["line"], 3);
    assert_eq!(by_input(&recs, &server.url("/page/b"))["line"], 8);
}

#[test]
fn bare_hosts_get_https() {
    let bare = refused_addr().to_string();
    let (r, _) = one(&bare, &["--retries", "0", "--connect-timeout", "2"]);
    assert!(
        r["url"].as_str().unwrap().starts_with("https://127.0.0.1:"),
        "{r}"
    );
}

#[test]
fn stdin_without_a_file_argument() {
    let server = Server::start();
    let out = scrape()
        .write_stdin(server.url("/page/s"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(records(&out.stdout)[0]["title"], "Page s");
}

#[test]
fn json_format_is_one_valid_document() {
    let server = Server::start();
    let urls: Vec<String> = (0..5).map(|i| server.url(&format!("/page/{i}"))).collect();
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["results"].as_array().unwrap().len(), 5);
    assert_eq!(doc["summary"]["ok"], 5);
    assert_eq!(doc["summary"]["records"], 5);
}

#[test]
fn output_file_and_summary_json() {
    let server = Server::start();
    let urls = vec![
        server.url("/page/1"),
        server.url("/status/404"),
        "nope nope".into(),
    ];
    let file = list(&urls);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let summary_path = dir.path().join("summary.json");
    let out = scrape()
        .arg(file.path())
        .arg("-o")
        .arg(&out_path)
        .arg("--summary-json")
        .arg(&summary_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("3 URLs"), "{stderr}");
    let recs = records(&std::fs::read(&out_path).unwrap());
    assert_eq!(recs.len(), 3);
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary_path).unwrap()).unwrap();
    assert_eq!(summary["urls"], 3);
    assert_eq!(summary["ok"], 1);
    assert_eq!(summary["http_errors"], 1);
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["failed_by_kind"]["invalid_url"], 1);
    assert!(summary["wall_s"].is_f64());
    assert!(summary["latency_ms"]["p50"].is_f64());
    assert_eq!(summary["interrupted"], false);
}

#[test]
fn quiet_prints_no_summary() {
    let server = Server::start();
    let out = scrape()
        .arg("-q")
        .write_stdin(server.url("/page/1"))
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A list mixing every kind of outcome: still exactly one record per line.
fn mixed_list(server: &Server) -> Vec<String> {
    let refused = refused_addr();
    let mut lines = vec![];
    for i in 0..20 {
        lines.push(server.url(&format!("/page/{i}")));
    }
    lines.push(server.url("/status/404"));
    lines.push(server.url("/status/500"));
    lines.push(server.url("/redirect/2"));
    lines.push(server.url("/loop"));
    lines.push(format!("http://{refused}/"));
    lines.push("mailto:someone@example.com".into());
    lines.push("http://exa mple.com/".into());
    lines.push(server.url("/fixtures/data.json"));
    lines
}

#[test]
fn one_record_per_input_line() {
    let server = Server::start();
    let lines = mixed_list(&server);
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["--retries", "0", "-t", "4"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), lines.len());
    let mut seen_lines: Vec<u64> = recs.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    seen_lines.sort();
    let expected: Vec<u64> = (1..=lines.len() as u64).collect();
    assert_eq!(seen_lines, expected);
}

#[test]
fn one_thread_and_eight_threads_give_the_same_records() {
    let server = Server::start();
    let lines = mixed_list(&server);
    let file = list(&lines);
    let run = |threads: &str| {
        let out = scrape()
            .arg(file.path())
            .args(["--retries", "0", "-t", threads])
            .output()
            .unwrap();
        let mut keys: Vec<String> = records(&out.stdout)
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {} {} {} {}",
                    r["line"],
                    r["url"],
                    r["status"],
                    r["title"],
                    r["redirects"],
                    r["bytes"],
                    r["error"]["kind"]
                )
            })
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(run("1"), run("8"));
}

#[test]
fn never_more_requests_in_flight_than_threads() {
    let server = Server::start();
    let urls: Vec<String> = (0..40)
        .map(|i| server.url(&format!("/slow/{i}?ms=50")))
        .collect();
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "4"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(records(&out.stdout).len(), 40);
    let max = server.max_inflight();
    assert!(max <= 4, "{max} requests in flight with 4 threads");
    assert!(max >= 2, "no concurrency at all: {max}");
}

#[test]
fn threads_one_is_sequential() {
    let server = Server::start();
    let urls: Vec<String> = (0..6)
        .map(|i| server.url(&format!("/slow/{i}?ms=20")))
        .collect();
    let file = list(&urls);
    scrape()
        .arg(file.path())
        .args(["-t", "1"])
        .assert()
        .success();
    assert_eq!(server.max_inflight(), 1);
}

#[test]
fn closed_stdout_ends_quietly_with_zero() {
    let server = Server::start();
    let urls: Vec<String> = (0..300)
        .map(|i| server.url(&format!("/slow/{i}?ms=20")))
        .collect();
    let file = list(&urls);
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrape"))
        .arg(file.path())
        .args(["-t", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(serde_json::from_str::<Value>(&first).is_ok());
    drop(stdout); // as `head -1` does
    let started = Instant::now();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        server.total_hits() < 300,
        "kept fetching after the pipe closed"
    );
}

#[test]
fn fail_on_error_exits_3_only_for_record_errors() {
    let server = Server::start();
    let ok_only = list(&[server.url("/page/1"), server.url("/status/404")]);
    scrape()
        .arg(ok_only.path())
        .arg("--fail-on-error")
        .assert()
        .code(0);
    let with_error = list(&[server.url("/page/1"), "notaurl://".into()]);
    scrape()
        .arg(with_error.path())
        .arg("--fail-on-error")
        .assert()
        .code(3);
    scrape().arg(with_error.path()).assert().code(0);
}

#[test]
fn titles_of_every_fixture() {
    let server = Server::start();
    let urls: Vec<String> = crate::support::FIXTURES
        .iter()
        .map(|(name, _, _)| server.url(&format!("/fixtures/{name}")))
        .collect();
    let file = list(&urls);
    let out = scrape().arg(file.path()).output().unwrap();
    let recs = records(&out.stdout);
    for ((name, _, title), url) in crate::support::FIXTURES.iter().zip(&urls) {
        let r = by_input(&recs, url);
        assert_eq!(r["status"], 200, "{name}");
        assert_eq!(r["title"].as_str(), *title, "{name}: {r}");
    }
}

#[test]
fn max_body_truncates_but_keeps_an_early_title() {
    let server = Server::start();
    let early = server.url("/fixtures/big-early-title.html");
    let late = server.url("/fixtures/big-late-title.html");
    let small = server.url("/fixtures/basic.html");
    let file = list(&[early.clone(), late.clone(), small.clone()]);
    let out = scrape()
        .arg(file.path())
        .args(["--max-body", "16K"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    let e = by_input(&recs, &early);
    assert_eq!(
        (e["truncated"].as_bool(), e["bytes"].as_u64()),
        (Some(true), Some(16384))
    );
    assert_eq!(e["title"], "Early title");
    assert_eq!(e["ok"], true);
    let l = by_input(&recs, &late);
    assert_eq!(l["truncated"], true);
    assert!(l["title"].is_null(), "{l}");
    let s = by_input(&recs, &small);
    assert_eq!(s["truncated"], false);
}

#[test]
fn a_duplicate_gets_a_record_pointing_at_the_first_unless_no_dedupe() {
    let server = Server::start();
    let url = server.url("/page/d");
    let file = list(&[url.clone(), url.clone(), format!("{url}#frag"), url.clone()]);
    let out = scrape().arg(file.path()).output().unwrap();
    let recs = records(&out.stdout);
    // One record per line, so a join on `line` has no gaps.
    let mut lines: Vec<u64> = recs.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    lines.sort_unstable();
    assert_eq!(lines, [1, 2, 3, 4]);
    for r in &recs {
        if r["line"] == 1 {
            assert_eq!(r["duplicate_of"], Value::Null);
            assert_eq!(r["ok"], true);
        } else {
            assert_eq!(r["duplicate_of"], 1, "{r}");
            assert_eq!(
                (r["ok"].clone(), r["attempts"].clone()),
                (false.into(), 0.into())
            );
            assert_eq!(r["error"], Value::Null);
            assert_eq!(r["status"], Value::Null);
        }
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("3 duplicates"));
    assert_eq!(server.hits("/page/d"), 1);
    let out = scrape()
        .arg(file.path())
        .arg("--no-dedupe")
        .output()
        .unwrap();
    assert_eq!(records(&out.stdout).len(), 4);
    assert_eq!(server.hits("/page/d"), 5);
}

#[test]
fn headers_and_user_agent_are_sent() {
    let server = Server::start();
    scrape()
        .args(["-H", "X-Token: abc", "-A", "tester/1.0", "-"])
        .write_stdin(server.url("/page/h"))
        .assert()
        .success();
    let seen = server.headers_seen("/page/h");
    assert_eq!(seen[0]["x-token"], "abc");
    assert_eq!(seen[0]["user-agent"], "tester/1.0");
    scrape()
        .write_stdin(server.url("/page/ua"))
        .assert()
        .success();
    let ua = server.headers_seen("/page/ua")[0]["user-agent"].clone();
    assert!(ua.to_str().unwrap().starts_with("scrape/"));
}

#[test]
fn credentials_stay_with_the_original_host() {
    let hop = Server::start();
    let second = Server::start();
    let target = second.url("/page/landing");
    scrape()
        .args([
            "-H",
            "Authorization: Bearer secret",
            "-H",
            "Cookie: a=b",
            "-H",
            "X-Plain: 1",
            "-",
        ])
        .write_stdin(hop.url(&format!("/go?to={target}")))
        .assert()
        .success();
    let at_hop = hop.headers_seen("/go");
    assert_eq!(at_hop[0]["authorization"], "Bearer secret");
    let landed = second.headers_seen("/page/landing");
    assert_eq!(landed.len(), 1);
    assert!(landed[0].get("authorization").is_none());
    assert!(landed[0].get("cookie").is_none());
    assert_eq!(landed[0]["x-plain"], "1");
}

#[test]
fn unreadable_input_is_fatal_before_any_request() {
    let server = Server::start();
    let good = list(&[server.url("/page/1")]);
    let out = scrape()
        .arg(good.path())
        .arg("/nonexistent/urls.txt")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/urls.txt"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(server.total_hits(), 0);
}

#[test]
fn unwritable_output_is_fatal_before_any_request() {
    let server = Server::start();
    let good = list(&[server.url("/page/1")]);
    let out = scrape()
        .arg(good.path())
        .args(["-o", "/nonexistent/dir/out.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write"));
    assert_eq!(server.total_hits(), 0);
}

#[test]
fn usage_errors_exit_2() {
    scrape().args(["-t", "0", "x"]).assert().code(2);
    scrape().args(["--max-body", "lots", "x"]).assert().code(2);
    scrape().args(["-H", "nocolon", "x"]).assert().code(2);
    scrape()
        .args(["--compare", "-"])
        .write_stdin("")
        .assert()
        .code(2);
    scrape().args(["--bogus"]).assert().code(2);
}

#[test]
fn every_error_message_starts_the_same_way() {
    for args in [
        vec!["-t", "0", "x"],
        vec!["--bogus"],
        vec!["--select", "x=a >> b", "x"],
        vec!["--format", "xml", "x"],
    ] {
        let out = scrape().args(&args).env("NO_COLOR", "1").output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("scrape: error: "), "{args:?}: {err}");
        assert!(!err.contains('\x1b'), "no escape codes: {err:?}");
    }
    let out = scrape().args(["--thread", "4", "x"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scrape: hint: a similar argument exists: '--threads'"),
        "{err}"
    );
    let out = scrape().arg("/no/such/list.txt").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("scrape: error: "));
}

#[test]
fn version_completions_and_man_page() {
    let out = scrape().arg("--version").output().unwrap();
    assert!(out.status.success());
    let version = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        version.trim(),
        format!("scrape {}", env!("CARGO_PKG_VERSION"))
    );
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef scrape"),
        ("fish", "complete -c scrape"),
    ] {
        let out = scrape().args(["--completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}: {out:?}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell} script lacks {marker:?}");
        assert!(script.contains("select"), "{shell} script lacks --select");
    }
    let out = scrape().arg("--man").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(
        man.starts_with(".ie") || man.contains(".TH scrape"),
        "{man}"
    );
    assert!(man.contains("\\-\\-select"), "man page lists --select");
    assert!(man.contains(".SH EXAMPLES"), "man page has the examples");
    scrape().args(["--man", "urls.txt"]).assert().code(2);
}

#[test]
fn verbose_logs_every_request_and_retry() {
    let server = Server::start();
    let ok = server.url("/redirect/1");
    let busy = server.url("/status/503");
    let file = list(&[ok.clone(), busy.clone()]);
    let out = scrape()
        .arg(file.path())
        .args(["-v", "-q", "--retries", "1", "-t", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(records(&out.stdout).len(), 2, "records still go to stdout");
    let log = String::from_utf8_lossy(&out.stderr);
    let landed = server.url("/redirect/0");
    for line in [
        format!("scrape: GET {ok} -> 30"),
        format!("scrape: GET {landed} -> 200"),
        format!("scrape: GET {busy} -> 503"),
        format!("scrape: {busy}: retry 1 of 1 in"),
    ] {
        assert!(log.contains(&line), "{line:?} missing from:\n{log}");
    }
    assert_eq!(log.matches(&format!("GET {busy} ")).count(), 2, "{log}");
    assert!(log.contains(": body "), "{log}");
}

#[test]
fn compare_prints_a_table_of_both_runs() {
    let server = Server::start();
    let urls: Vec<String> = (0..8)
        .map(|i| server.url(&format!("/slow/{i}?ms=10")))
        .collect();
    let file = list(&urls);
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let out = scrape()
        .arg(file.path())
        .args(["--compare", "-t", "4", "-o"])
        .arg(&out_path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let table = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[0].contains("speedup") && rows[0].contains("efficiency"));
    assert!(rows[1].trim_start().starts_with("1 "));
    assert!(rows[2].trim_start().starts_with("4 "));
    assert_eq!(records(&std::fs::read(&out_path).unwrap()).len(), 8);
    // Each run fetched every URL once.
    assert_eq!(server.hits("/slow/0"), 2);
}

#[test]
fn empty_input_is_a_clean_run() {
    let out = scrape()
        .arg("-")
        .write_stdin("# nothing\n\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 URLs"), "{stderr}");
}

#[test]
fn help_explains_the_options() {
    let out = scrape().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--threads",
        "--max-body",
        "--compare",
        "--fail-on-error",
        "--select",
        "--links",
        "--completions",
        "--man",
        "--verbose",
        "Examples:",
    ] {
        assert!(help.contains(option), "{option} missing from --help");
    }
}

#[test]
fn devices_pipes_and_fifos_are_written_as_streams() {
    let server = Server::start();
    let file = list(&[server.url("/page/1"), server.url("/page/2")]);
    for args in [
        vec!["-o", "/dev/null"],
        vec!["--warc", "/dev/null"],
        vec!["-o", "/dev/null", "--warc", "/dev/null"],
    ] {
        let out = scrape().arg(file.path()).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    // /dev/stdout is the pipe the test reads.
    let out = scrape()
        .arg(file.path())
        .args(["-o", "/dev/stdout"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(records(&out.stdout).len(), 2);
    // A named pipe with a reader on the other end.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("records");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = scrape()
        .arg(file.path())
        .arg("-o")
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(records(&reader.join().unwrap()).len(), 2);
    // --resume reads its output back: a stream cannot be.
    let out = scrape()
        .arg(file.path())
        .args(["--resume", "-o", "/dev/null"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stream") && err.contains("--resume"), "{err}");
}

#[test]
fn a_resume_that_would_change_the_records_shape_is_refused_naming_the_option() {
    let server = Server::start();
    let urls: Vec<String> = (0..4).map(|n| server.url(&format!("/page/{n}"))).collect();
    let file = list(&urls);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    // An earlier run that did the first two lines, with --select.
    let first = scrape()
        .arg(file.path())
        .args(["--select", "h=title", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(first.status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let kept: String = text.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&out, &kept).unwrap();
    let resume = |extra: &[&str]| {
        scrape()
            .arg(file.path())
            .args(["--resume", "-o"])
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    for (extra, says) in [
        (vec!["--select", "h=title", "--text"], "--text"),
        (vec![], "--select names differ"),
        (vec!["--select", "x=title"], "--select names differ"),
        (vec!["--select", "h=title", "--links"], "--links"),
    ] {
        let refused = resume(&extra);
        assert_eq!(refused.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains(says), "{extra:?}: {err}");
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            kept,
            "nothing written"
        );
    }
    // Options that change no key may differ.
    let ok = resume(&["--select", "h=h1", "-t", "3", "--timeout", "7", "-q"]);
    assert!(ok.status.success(), "{ok:?}");
    let recs = records(&std::fs::read(&out).unwrap());
    assert_eq!(recs.len(), 4);
    assert!(recs.iter().all(|r| r["fields"]["h"].is_array()));
}

#[test]
fn robots_rules_for_the_bot_apply_to_the_usual_crawler_user_agent() {
    let server = Server::start();
    server.set_robots("User-agent: mybot\nDisallow: /\n\nUser-agent: *\nAllow: /\n");
    let url = server.url("/page/1");
    let run = |args: &[&str]| {
        let out = scrape()
            .args([
                "--robots",
                "-v",
                "--summary-json",
                "/dev/stdout",
                "-o",
                "/dev/null",
                "-",
            ])
            .args(args)
            .write_stdin(url.clone())
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
        (summary, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (s, err) = run(&[
        "-A",
        "Mozilla/5.0 (compatible; mybot/1.0; +http://bot.example/)",
    ]);
    assert_eq!(s["failed_by_kind"]["robots"], 1, "{s}");
    assert_eq!(s["robots_agent"], "mybot");
    assert!(err.contains("User-agent: mybot"), "{err}");
    assert!(err.contains("obeyed as \"mybot\""), "{err}");
    // -v lines start with their time.
    let line = err.lines().find(|l| l.contains("robots.txt:")).unwrap();
    assert!(
        line.as_bytes()[..4].iter().all(u8::is_ascii_digit) && line.contains("Z scrape: "),
        "{line}"
    );
    // --robots-agent says it outright; another name falls under *.
    let (s, _) = run(&["--robots-agent", "mybot"]);
    assert_eq!(s["failed_by_kind"]["robots"], 1);
    let (s, err) = run(&["--robots-agent", "otherbot"]);
    assert_eq!(s["ok"], 1, "{s}");
    assert!(err.contains("User-agent: *"), "{err}");
    let bad = scrape()
        .args(["--robots", "--robots-agent", "my bot/1.0", "-"])
        .write_stdin(url.clone())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn a_binary_list_is_refused_before_any_request_and_bad_hosts_are_invalid_urls() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    // An executable, with a real URL inside it: nothing is fetched.
    let mut exe = std::fs::read(env!("CARGO_BIN_EXE_scrape")).unwrap();
    exe.truncate(1 << 20);
    exe.extend_from_slice(format!("\n{}\n", server.url("/page/1")).as_bytes());
    let bin = dir.path().join("scrape.bin");
    std::fs::write(&bin, &exe).unwrap();
    let out = scrape().arg(&bin).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("looks like a binary file"), "{err}");
    assert!(out.stdout.is_empty());
    // The same on standard input, and for a gzip file.
    let out = scrape().arg("-").write_stdin(exe).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let gz = dir.path().join("list.gz");
    std::fs::write(&gz, b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03").unwrap();
    let out = scrape().arg(&gz).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("zcat"),
        "{out:?}"
    );
    assert_eq!(server.total_hits(), 0);
    // A text list with a few bad lines: a record each, the good ones fetched.
    let bad = ["}", ")", "-x-", "foo..bar", "exa mple.com"];
    let mut lines: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
    lines.push(server.url("/page/2"));
    let file = list(&lines);
    let out = scrape().arg(file.path()).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 6);
    for b in bad {
        let r = by_input(&recs, b);
        assert_eq!(r["error"]["kind"], "invalid_url", "{r}");
        assert_eq!(r["attempts"], 0);
    }
    let space = by_input(&recs, "exa mple.com");
    assert!(
        space["error"]["message"]
            .as_str()
            .unwrap()
            .contains("space"),
        "{space}"
    );
    assert_eq!(by_input(&recs, &server.url("/page/2"))["ok"], true);
}

#[test]
fn an_output_in_a_missing_directory_names_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("no-such-dir/sub/out.jsonl");
    let run = scrape()
        .arg("-o")
        .arg(&out)
        .arg("-")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let err = String::from_utf8_lossy(&run.stderr);
    let missing = dir.path().join("no-such-dir");
    assert!(
        err.contains(&format!(
            "the directory {} does not exist",
            missing.display()
        )),
        "{err}"
    );
}

/// Runs scrape with stderr on a pseudo-terminal (so the bar is drawn) and
/// returns everything drawn there.
fn on_a_pty(args: &[&str]) -> String {
    use std::os::fd::{FromRawFd, OwnedFd};
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the two ints.
    let opened = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(opened, 0, "openpty");
    // SAFETY: both descriptors are new and owned here alone.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let reader = std::thread::spawn(move || {
        let mut file = std::fs::File::from(master);
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        // EIO once the last writer is gone: the end of the terminal.
        while let Ok(n) = file.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_scrape"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave))
        .env("NO_PROXY", "*")
        .spawn()
        .unwrap();
    assert!(child.wait().unwrap().success());
    String::from_utf8_lossy(&reader.join().unwrap()).into_owned()
}

#[test]
fn every_frame_of_the_bar_adds_up() {
    let server = Server::start();
    let refused = refused_addr();
    let mut urls = Vec::new();
    for i in 0..120 {
        urls.push(match i % 6 {
            0 => server.url(&format!("/status/404?{i}")),
            1 => format!("http://{refused}/{i}"),
            2 => server.url("/slow/dup?ms=5"),
            _ => server.url(&format!("/slow/{i}?ms=15")),
        });
    }
    let file = list(&urls);
    let path = file.path().to_str().unwrap().to_string();
    let drawn = on_a_pty(&[&path, "-t", "3", "--retries", "0", "-o", "/dev/null"]);
    let mut frames = 0;
    for piece in drawn.split(['\r', '\n', '\u{1b}']) {
        let Some(at) = piece.find(" done · ") else {
            continue;
        };
        let number = |s: &str| {
            let n = s.trim().split('/').next().unwrap_or("");
            n.parse::<u64>()
                .unwrap_or_else(|_| panic!("{n:?} in {piece:?}"))
        };
        let done = number(piece[..at].rsplit(' ').next().unwrap());
        let counts: Vec<u64> = piece[at + " done · ".len()..]
            .split(" · ")
            .take(4)
            .map(|part| number(part.split(' ').next().unwrap()))
            .collect();
        assert_eq!(counts.len(), 4, "{piece}");
        assert_eq!(
            done,
            counts.iter().sum::<u64>(),
            "a frame that does not add up: {piece:?}"
        );
        frames += 1;
    }
    assert!(frames >= 2, "the bar was drawn: {drawn:?}");
}

#[test]
fn after_a_resume_the_summary_says_what_was_resumed_and_what_was_fetched_now() {
    let server = Server::start();
    let urls: Vec<String> = (0..10).map(|n| server.url(&format!("/page/{n}"))).collect();
    let file = list(&urls);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let summary = dir.path().join("s.json");
    let run = || {
        scrape()
            .arg(file.path())
            .arg("-o")
            .arg(&out)
            .arg("--summary-json")
            .arg(&summary)
            .arg("--resume")
            .output()
            .unwrap()
    };
    assert!(run().status.success());
    let text = std::fs::read_to_string(&out).unwrap();
    let kept: String = text.lines().take(7).map(|l| format!("{l}\n")).collect();
    std::fs::write(&out, kept).unwrap();
    let again = run();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("done: 3 URLs in"), "{err}");
    assert!(
        err.contains(
            "resumed: 7 lines already had their records (--resume), 3 records written now"
        ),
        "{err}"
    );
    let s: Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(
        (
            s["urls"].clone(),
            s["records"].clone(),
            s["resumed"].clone()
        ),
        (10.into(), 3.into(), 7.into())
    );
    let rate = s["urls_per_s"].as_f64().unwrap();
    let wall = s["wall_s"].as_f64().unwrap();
    // The rate is over the 3 records written now (not the 10 lines).
    assert!((rate * wall - 3.0).abs() < 1.0, "{s}");
}
