//! `--warc` (issue 14, item 1): every archive written here is read back by
//! an independent implementation — `warcio check` (digests) and `warcio
//! index` (PyPI; installed by `.ci/run`) — and by seeking to each record's
//! `warc.offset`.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::faults::FaultServer;
use crate::support::web::Web;
use crate::support::{Server, list, records, scrape};
use flate2::read::GzDecoder;
use serde_json::Value;

/// Runs scrape over `urls` with `--warc ARCHIVE` and `args`; the records.
fn archived(urls: &[String], archive: &Path, args: &[&str]) -> Vec<Value> {
    let file = list(urls);
    let out = scrape()
        .arg(file.path())
        .arg("--warc")
        .arg(archive)
        .args(args)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    records(&out.stdout)
}

/// The gunzipped gzip member a record's `warc` points at.
fn member(r: &Value) -> Vec<u8> {
    let warc = &r["warc"];
    let bytes = std::fs::read(warc["file"].as_str().unwrap()).unwrap();
    let start = warc["offset"].as_u64().unwrap() as usize;
    let end = start + warc["length"].as_u64().unwrap() as usize;
    let mut out = Vec::new();
    GzDecoder::new(&bytes[start..end])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The WARC header block of a member, as text.
fn warc_head(member: &[u8]) -> String {
    let end = find(member, b"\r\n\r\n").expect("a WARC head");
    String::from_utf8_lossy(&member[..end]).into_owned()
}

/// The payload of a response member: after the HTTP head, before the
/// closing CRLFs.
fn payload(member: &[u8]) -> &[u8] {
    let block = &member[find(member, b"\r\n\r\n").unwrap() + 4..];
    let body = &block[find(block, b"\r\n\r\n").unwrap() + 4..];
    &body[..body.len() - 4]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn field<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

/// Every record's `warc` leads to that URL's final response.
fn each_points_at_its_response(recs: &[Value]) {
    for r in recs {
        let m = member(r);
        let head = warc_head(&m);
        assert_eq!(field(&head, "WARC-Type"), Some("response"), "{head}");
        assert_eq!(
            field(&head, "WARC-Target-URI"),
            r["final_url"].as_str(),
            "{head}"
        );
    }
}

/// `warcio check` passes and `warcio index` lists the records; the index
/// (one JSON object a record), or `None` when warcio is not installed.
fn warcio(paths: &[&Path]) -> Option<Vec<Value>> {
    if !crate::support::tool(&["warcio", "--version"]) {
        return None;
    }
    let check = Command::new("warcio")
        .arg("check")
        .arg("-v")
        .args(paths)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "warcio check: {said}");
    assert!(!said.contains("fail"), "{said}");
    let index = Command::new("warcio")
        .args([
            "index",
            "-f",
            "warc-type,warc-target-uri,offset,length,http:status",
        ])
        .args(paths)
        .output()
        .unwrap();
    assert!(index.status.success(), "{index:?}");
    Some(records(&index.stdout))
}

fn count(index: &[Value], kind: &str) -> usize {
    index.iter().filter(|e| e["warc-type"] == kind).count()
}

#[test]
fn pages_redirects_and_encoded_payloads_are_archived_as_received() {
    let server = Server::start();
    let web = Web::start();
    let urls = vec![
        server.url("/page/1"),
        server.url("/page/2"),
        server.url("/redirect/2"),
        web.url("/enc/GZIP"),
        web.url("/enc/br"),
        server.url("/status/404"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a.warc.gz");
    let recs = archived(&urls, &archive, &["-t", "3"]);
    assert_eq!(recs.len(), urls.len());
    each_points_at_its_response(&recs);

    let gz = recs.iter().find(|r| r["input"] == urls[3]).unwrap();
    assert_eq!(gz["title"], "Encoded GZIP", "{gz}");
    let m = member(gz);
    assert!(
        payload(&m).starts_with(&[0x1f, 0x8b]),
        "the payload stays gzip"
    );
    let head = String::from_utf8_lossy(&m);
    assert!(head.contains("content-encoding: GZIP\r\n"), "{head}");

    let br = recs.iter().find(|r| r["input"] == urls[4]).unwrap();
    let m = member(br);
    assert!(
        !String::from_utf8_lossy(payload(&m)).contains("Encoded br"),
        "the payload stays brotli"
    );

    let Some(index) = warcio(&[&archive]) else {
        return;
    };
    assert_eq!(index[0]["warc-type"], "warcinfo");
    // 5 URLs of one exchange each, and a redirect chain of three.
    assert_eq!(count(&index, "response"), 8, "{index:?}");
    assert_eq!(count(&index, "request"), 8);
    let hops: Vec<&Value> = index
        .iter()
        .filter(|e| e["warc-type"] == "response")
        .filter(|e| {
            e["warc-target-uri"]
                .as_str()
                .unwrap()
                .contains("/redirect/")
        })
        .collect();
    let statuses: Vec<&str> = hops
        .iter()
        .map(|e| e["http:status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["302", "302", "200"], "{hops:?}");
    let redirect = recs.iter().find(|r| r["input"] == urls[2]).unwrap();
    assert_eq!(
        redirect["warc"]["offset"].as_u64().map(|o| o.to_string()),
        hops[2]["offset"].as_str().map(String::from),
        "the record points at the last hop"
    );
}

#[test]
fn the_readme_s_shell_lines_find_a_record_by_its_offset() {
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let urls = vec![server.url("/page/1"), server.url("/page/2")];
    let out = dir.path().join("run.jsonl");
    let archive = dir.path().join("crawl.warc.gz");
    let file = list(&urls);
    let done = scrape()
        .arg(file.path())
        .arg("-o")
        .arg(&out)
        .arg("--warc")
        .arg(&archive)
        .output()
        .unwrap();
    assert!(done.status.success(), "{done:?}");
    if !crate::support::tool(&["jq", "--version"]) {
        return;
    }
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/archive.md")).unwrap();
    let start = readme
        .find("jq -r 'select(.url == \"https://example.com/\")")
        .unwrap();
    let script = &readme[start..];
    let script = &script[..script.find("\n  ```").unwrap()];
    let script = script
        .replace("https://example.com/", &urls[1])
        .replace("\n  ", "\n");
    let shown = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.status.success(), "{shown:?}");
    assert!(
        text.starts_with("WARC/1.1\r\nWARC-Type: response\r\n"),
        "{text}"
    );
    assert!(text.contains(&format!("WARC-Target-URI: {}\r\n", urls[1])));
    assert!(text.contains("<title>Page 2</title>"), "{text}");
}

#[test]
fn cut_bodies_are_marked_truncated_and_still_verify() {
    let server = Server::start();
    let faults = FaultServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (long, reset) = (
        dir.path().join("long.warc.gz"),
        dir.path().join("reset.warc.gz"),
    );
    let recs = archived(&[server.url("/page/7")], &long, &["--max-body", "50"]);
    assert_eq!(recs[0]["truncated"], true, "{}", recs[0]);
    let m = member(&recs[0]);
    assert_eq!(field(&warc_head(&m), "WARC-Truncated"), Some("length"));
    assert!(payload(&m).len() >= 50, "at least what was read");
    let recs = archived(
        &[faults.url("/reset-mid-body")],
        &reset,
        &["--retries", "0"],
    );
    assert_eq!(recs[0]["error"]["kind"], "body", "{}", recs[0]);
    let m = member(&recs[0]);
    assert_eq!(field(&warc_head(&m), "WARC-Truncated"), Some("disconnect"));
    assert!(payload(&m).starts_with(b"<title>Reset</title>"));
    assert!(
        payload(&m).len() >= 4000,
        "what came before the reset is kept"
    );
    warcio(&[&long, &reset]);
}

#[test]
fn failures_have_no_records_and_retries_are_each_archived() {
    let faults = FaultServer::start();
    let urls = vec![
        format!("http://{}/", crate::support::refused_addr()),
        faults.url("/503-twice"),
        "not a url".to_string(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("f.warc.gz");
    let recs = archived(&urls, &archive, &["--retries", "2", "-t", "1"]);
    let refused = recs.iter().find(|r| r["input"] == urls[0]).unwrap();
    assert!(refused["warc"].is_null(), "{refused}");
    let bad = recs.iter().find(|r| r["input"] == urls[2]).unwrap();
    assert!(bad["warc"].is_null(), "{bad}");
    let retried = recs.iter().find(|r| r["input"] == urls[1]).unwrap();
    assert_eq!(retried["attempts"], 3, "{retried}");
    let m = member(retried);
    assert!(String::from_utf8_lossy(&m).contains("HTTP/1.1 200 OK"));
    if let Some(index) = warcio(&[&archive]) {
        assert_eq!(count(&index, "response"), 3, "503, 503, 200: {index:?}");
    }
}

#[test]
fn an_archive_rolls_over_to_numbered_files_at_warc_size() {
    let server = Server::start();
    let urls: Vec<String> = (0..12).map(|i| server.url(&format!("/page/{i}"))).collect();
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("roll.warc.gz");
    let recs = archived(&urls, &base, &["--warc-size", "2k", "-t", "2"]);
    each_points_at_its_response(&recs);
    assert!(!base.exists(), "numbered files only");
    let files: Vec<_> = (0..)
        .map(|i| dir.path().join(format!("roll-{i:05}.warc.gz")))
        .take_while(|p| p.exists())
        .collect();
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let size = std::fs::metadata(f).unwrap().len();
        assert!(size <= 2 * 1024, "{f:?}: {size} bytes");
    }
    let used: std::collections::BTreeSet<&str> = recs
        .iter()
        .map(|r| r["warc"]["file"].as_str().unwrap())
        .collect();
    assert_eq!(used.len(), files.len());
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    if let Some(index) = warcio(&paths) {
        assert_eq!(count(&index, "warcinfo"), files.len());
        assert_eq!(count(&index, "response"), urls.len());
    }
}

#[test]
fn an_interrupted_archive_is_cut_to_whole_records_and_resumed() {
    let server = Server::start();
    let urls: Vec<String> = (0..40)
        .map(|i| server.url(&format!("/slow/{i}?ms=100")))
        .collect();
    let file = list(&urls);
    let dir = tempfile::tempdir().unwrap();
    let (out, archive) = (dir.path().join("out.jsonl"), dir.path().join("r.warc.gz"));
    let run = |resume: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_scrape"));
        cmd.arg(file.path())
            .args(["-t", "2", "--progress", "always", "-o"])
            .arg(&out)
            .arg("--warc")
            .arg(&archive)
            .stderr(Stdio::piped());
        if resume {
            cmd.arg("--resume");
        }
        cmd
    };
    let mut child = run(false).spawn().unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    crate::support::signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    // What a kill in the middle of a write leaves: half a record.
    let whole = std::fs::read(&archive).unwrap();
    let torn = archive_member_half(&whole);
    std::fs::write(&archive, [&whole[..], &torn[..]].concat()).unwrap();

    let second = run(true).output().unwrap();
    assert!(second.status.success(), "{second:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    let recs = records(text.as_bytes());
    assert_eq!(recs.len(), urls.len(), "every line once");
    each_points_at_its_response(&recs);
    if let Some(index) = warcio(&[&archive]) {
        assert!(count(&index, "warcinfo") >= 2, "one per run");
        // A URL archived just before the kill whose JSON line had not been
        // flushed yet is fetched again: archived twice, never lost.
        assert!(count(&index, "response") >= urls.len(), "{index:?}");
    }
}

/// The first half of a gzip member like those in `archive`.
fn archive_member_half(archive: &[u8]) -> Vec<u8> {
    let mut decoder = flate2::bufread::GzDecoder::new(archive);
    std::io::copy(&mut decoder, &mut std::io::sink()).unwrap();
    let first = archive.len() - decoder.into_inner().len();
    archive[..first / 2].to_vec()
}

#[test]
fn archive_options_that_cannot_work_are_usage_errors() {
    for args in [
        &["--warc", "-"][..],
        &["--warc", "a.warc.gz", "--warc-size", "100"],
        &["--warc-size", "1G"],
        &["--warc", "a.warc.gz", "--compare"],
    ] {
        let out = scrape()
            .args(args)
            .arg("-")
            .write_stdin("http://127.0.0.1:9/\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!Path::new("a.warc.gz").exists());
    }
}
