//! `--since PREV.jsonl` (issue 14, item 3): a re-run asks with the earlier
//! run's validators, a 304 carries the earlier page data, and only what
//! changed is downloaded again.

use std::path::Path;

use crate::support::{Server, list, records, scrape};
use serde_json::Value;

/// Runs scrape over `urls` with `args`, records to `out`; the records and
/// the summary.
fn run(urls: &[String], out: &Path, args: &[&str]) -> (Vec<Value>, Value) {
    let file = list(urls);
    let summary = out.with_extension("summary.json");
    let done = scrape()
        .arg(file.path())
        .arg("-o")
        .arg(out)
        .arg("--summary-json")
        .arg(&summary)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(done.status.success(), "{done:?}");
    let text = std::fs::read(out).unwrap();
    let summary = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    (records(&text), summary)
}

fn of<'a>(recs: &'a [Value], url: &str) -> &'a Value {
    recs.iter().find(|r| r["input"] == url).unwrap()
}

#[test]
fn a_rerun_downloads_only_what_changed_and_carries_the_rest() {
    let server = Server::start();
    let mut urls: Vec<String> = (0..6)
        .map(|n| server.url(&format!("/versioned/{n}")))
        .collect();
    urls.extend((6..10).map(|n| server.url(&format!("/versioned/{n}?validators=date"))));
    urls.push(server.url("/page/1"));
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
    let opts = ["--links", "--select", "h=h1", "--text", "-t", "4"];
    let (before, _) = run(&urls, &first, &opts);
    assert!(before.iter().all(|r| r["ok"] == true));
    assert!(
        before.iter().all(|r| r.get("unchanged").is_none()),
        "only with --since"
    );
    server.bump(2);
    server.bump(7);
    let fresh = server.url("/versioned/99");
    let mut again = urls.clone();
    again.push(fresh.clone());
    let since = ["--since", first.to_str().unwrap()];
    let (after, summary) = run(&again, &second, &[&opts[..], &since[..]].concat());

    assert_eq!(
        server.not_modified(),
        8,
        "10 pages with validators, 2 changed"
    );
    for (n, url) in urls.iter().enumerate().take(10) {
        let (old, new) = (of(&before, url), of(&after, url));
        if n == 2 || n == 7 {
            assert_eq!(new["unchanged"], false, "{new}");
            assert_eq!(new["status"], 200);
            assert_eq!(new["title"], format!("Versioned {n} v1"));
            assert_ne!(new["sha256"], old["sha256"]);
            continue;
        }
        assert_eq!(new["unchanged"], true, "{new}");
        assert_eq!(new["status"], 304);
        assert_eq!(new["ok"], true);
        for carried in [
            "title",
            "fields",
            "links",
            "text",
            "sha256",
            "bytes",
            "content_type",
        ] {
            assert_eq!(new[carried], old[carried], "{carried} of {url}");
        }
        assert!(
            new["elapsed_ms"].as_f64().unwrap() > 0.0,
            "this run's timing"
        );
    }
    let plain = of(&after, &urls[10]);
    assert_eq!(plain["unchanged"], true, "same status and sha256: {plain}");
    assert_eq!(plain["status"], 200, "no validators: downloaded");
    assert!(of(&after, &fresh)["unchanged"].is_null(), "not in PREV");
    assert_eq!(summary["unchanged"]["unchanged"], 9);
    assert_eq!(summary["unchanged"]["not_modified"], 8);
}

#[test]
fn an_earlier_run_without_what_this_one_extracts_is_not_asked_conditionally() {
    let server = Server::start();
    let url = server.url("/versioned/1");
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
    run(std::slice::from_ref(&url), &first, &[]);
    let since = ["--since", first.to_str().unwrap(), "--links"];
    let (after, _) = run(std::slice::from_ref(&url), &second, &since);
    assert_eq!(server.not_modified(), 0);
    let sent = server.headers_seen("/versioned/1");
    assert!(sent.iter().all(|h| !h.contains_key("if-none-match")));
    assert_eq!(after[0]["unchanged"], true, "{}", after[0]);
    assert_eq!(after[0]["status"], 200);
    assert_eq!(after[0]["links"][0], server.url("/versioned/1/next"));
}

#[test]
fn validators_go_only_to_the_url_that_gave_them() {
    let server = Server::start();
    let url = server.url("/go?to=/versioned/3");
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
    run(std::slice::from_ref(&url), &first, &[]);
    let (after, _) = run(
        std::slice::from_ref(&url),
        &second,
        &["--since", first.to_str().unwrap()],
    );
    assert_eq!(after[0]["status"], 304, "{}", after[0]);
    assert_eq!(after[0]["title"], "Versioned 3 v0");
    let to_redirect = server.headers_seen("/go");
    assert!(to_redirect.iter().all(|h| !h.contains_key("if-none-match")));
    let to_page = server.headers_seen("/versioned/3");
    assert_eq!(to_page[1]["if-none-match"], "\"3-0\"");
}

#[test]
fn a_since_file_that_holds_no_records_is_refused_before_any_request() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("doc.json");
    std::fs::write(&doc, "{\"results\":[\n]}\n").unwrap();
    let out = scrape()
        .args(["--since", doc.to_str().unwrap(), "-"])
        .write_stdin(server.url("/page/1"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JSON Lines"), "{err}");
    assert_eq!(server.total_hits(), 0);
    let missing = dir.path().join("missing.jsonl");
    let out = scrape()
        .args(["--since", missing.to_str().unwrap(), "-"])
        .write_stdin(server.url("/page/1"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl"));
    let out = scrape()
        .args([
            "--since",
            doc.to_str().unwrap(),
            "-o",
            doc.to_str().unwrap(),
            "-",
        ])
        .write_stdin(server.url("/page/1"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "PREV is not overwritten: {out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("would overwrite"));
    assert_eq!(std::fs::read(&doc).unwrap(), b"{\"results\":[\n]}\n");
}

#[test]
fn a_hand_written_earlier_record_with_an_etag_is_enough_to_ask() {
    let server = Server::start();
    let url = server.url("/versioned/5");
    let dir = tempfile::tempdir().unwrap();
    let prev = dir.path().join("prev.jsonl");
    let line = serde_json::json!({"url": url, "etag": "\"5-0\"", "title": "Kept"});
    std::fs::write(&prev, format!("{line}\n")).unwrap();
    let (after, _) = run(
        std::slice::from_ref(&url),
        &dir.path().join("out.jsonl"),
        &["--since", prev.to_str().unwrap()],
    );
    assert_eq!(server.not_modified(), 1);
    assert_eq!(after[0]["status"], 304, "{}", after[0]);
    assert_eq!(after[0]["unchanged"], true);
    assert_eq!(after[0]["title"], "Kept");
}

#[test]
fn a_format_json_output_is_read_as_prev_and_unreadable_lines_are_counted() {
    let server = Server::start();
    let urls: Vec<String> = (0..5)
        .map(|n| server.url(&format!("/versioned/{n}")))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let doc = dir.path().join("all.json");
    let file = list(&urls);
    let first = scrape()
        .arg(file.path())
        .args(["--format", "json", "-o"])
        .arg(&doc)
        .output()
        .unwrap();
    assert!(first.status.success(), "{first:?}");
    let since = ["--since", doc.to_str().unwrap()];
    let (after, summary) = run(&urls, &dir.path().join("2.jsonl"), &since);
    assert!(after.iter().all(|r| r["unchanged"] == true), "{after:?}");
    assert_eq!(server.not_modified(), 5);
    assert_eq!(summary["since"]["records"], 5, "{summary}");
    assert_eq!(summary["since"]["unreadable"], 0);

    // JSON Lines with garbage and a torn line among the records: the
    // records are used, the rest counted on stderr and in the summary.
    let (jsonl, _) = run(&urls, &dir.path().join("3.jsonl"), &[]);
    let mut text = String::new();
    for (i, r) in jsonl.iter().enumerate() {
        text.push_str(&format!("{r}\n"));
        if i < 3 {
            text.push_str("garbage, not JSON\n");
        }
    }
    text.push_str("{\"url\":\"http://torn");
    let prev = dir.path().join("messy.jsonl");
    std::fs::write(&prev, text).unwrap();
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--since", prev.to_str().unwrap(), "--summary-json"])
        .arg(dir.path().join("s.json"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(records(&out.stdout).iter().all(|r| r["unchanged"] == true));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("4 lines are not a record"), "{err}");
    let s: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(
        (
            s["since"]["records"].clone(),
            s["since"]["unreadable"].clone()
        ),
        (5.into(), 4.into())
    );

    // Nothing usable: refused, and the message names real options.
    std::fs::write(&prev, "garbage\n{\"torn\n").unwrap();
    let out = scrape()
        .args(["--since", prev.to_str().unwrap(), "-"])
        .write_stdin(urls[0].clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 lines unreadable") && err.contains("--format json"),
        "{err}"
    );
    assert!(!err.contains("-f "), "{err}");
}
