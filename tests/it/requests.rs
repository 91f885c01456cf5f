//! Requests beyond GET: `-X`, `--data`, `--json`, what redirects do to
//! them (RFC 9110 §15.4), `method` in records, bodies in WARC request
//! records, and the usage errors a careless command line gets.

use std::collections::BTreeMap;
use std::io::Read;

use crate::support::site::{Site, html};
use crate::support::{list, records, scrape};

fn site() -> Site {
    Site::start(1, |_, path| match path.strip_prefix("/r/") {
        Some(code) => (code.parse().unwrap_or(302), "text/plain", b"/land".to_vec()),
        None => html(path, &[], ""),
    })
}

fn run(args: &[&str], urls: &[String]) -> Vec<serde_json::Value> {
    let file = list(urls);
    let out = scrape()
        .arg(file.path())
        .args(args)
        .args(["-t", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    records(&out.stdout)
}

#[test]
fn json_and_data_bodies_go_with_their_method_and_type() {
    let site = site();
    let recs = run(&["--json", r#"{"q": 1}"#], &[site.url(0, "/api")]);
    assert_eq!(recs[0]["method"], "POST");
    assert_eq!(recs[0]["ok"], true);
    let asked = site.asked();
    assert_eq!(asked[0].method, "POST");
    assert_eq!(asked[0].body, br#"{"q": 1}"#);
    assert_eq!(asked[0].content_type.as_deref(), Some("application/json"));

    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.bin");
    std::fs::write(&body, b"a=1&b=2").unwrap();
    let data = format!("@{}", body.display());
    let recs = run(&["-X", "put", "--data", &data], &[site.url(0, "/thing")]);
    assert_eq!(recs[0]["method"], "PUT");
    let last = site.asked().pop().unwrap();
    assert_eq!(
        (last.method.as_str(), last.body.as_slice()),
        ("PUT", &b"a=1&b=2"[..])
    );
    assert_eq!(
        last.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );

    let recs = run(&["-X", "HEAD"], &[site.url(0, "/head")]);
    assert_eq!(recs[0]["method"], "HEAD");
    assert_eq!(site.asked().pop().unwrap().method, "HEAD");
    // A plain run has no method key.
    let recs = run(&[], &[site.url(0, "/plain")]);
    assert!(recs[0].get("method").is_none(), "{}", recs[0]);
}

#[test]
fn redirects_after_a_post_follow_rfc_9110() {
    let site = site();
    let urls: Vec<String> = [301, 302, 303, 307, 308]
        .iter()
        .map(|c| site.url(0, &format!("/r/{c}")))
        .collect();
    let recs = run(&["--data", "x=1"], &urls);
    assert!(recs.iter().all(|r| r["ok"] == true && r["redirects"] == 1));
    // Each redirect's follow-up, by the code that led to it.
    let asked = site.asked();
    let mut after: BTreeMap<u16, (String, Vec<u8>)> = BTreeMap::new();
    for pair in asked.windows(2) {
        if let Some(code) = pair[0].url.rsplit('/').next().and_then(|c| c.parse().ok()) {
            after.insert(code, (pair[1].method.clone(), pair[1].body.clone()));
        }
    }
    for code in [301, 302, 303] {
        assert_eq!(
            after[&code],
            ("GET".to_string(), Vec::new()),
            "{code}: GET, no body"
        );
    }
    for code in [307, 308] {
        assert_eq!(
            after[&code],
            ("POST".to_string(), b"x=1".to_vec()),
            "{code} keeps both"
        );
    }
}

#[test]
fn a_warc_request_record_carries_the_body() {
    let site = site();
    let dir = tempfile::tempdir().unwrap();
    let warc = dir.path().join("a.warc.gz");
    run(
        &["--json", r#"{"k":"v"}"#, "--warc", warc.to_str().unwrap()],
        &[site.url(0, "/api")],
    );
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&warc).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let request = text
        .find("POST /api HTTP/1.1")
        .expect("the request, as sent");
    let rest = &text[request..];
    assert!(rest.contains("content-length: 9\r\n"), "{rest}");
    assert!(rest.contains("\r\n\r\n{\"k\":\"v\"}"), "{rest}");
}

#[test]
fn careless_request_options_are_usage_errors() {
    for args in [
        &["--json", "{not json"][..],
        &["-X", "POST", "--since", "prev.jsonl"],
        &["-X", "GE T"],
        &["--data", "a", "--json", "{}"],
    ] {
        let out = scrape()
            .args(args)
            .arg("-")
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    let out = scrape()
        .args(["--data", "@/nonexistent/body"])
        .arg("-")
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "an unreadable @FILE: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--data @/nonexistent/body: cannot read /nonexistent/body"),
        "the error names the option: {stderr}"
    );
}

#[test]
fn a_post_is_not_retried_but_a_put_is() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let site = Site::start(1, move |_, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        (503, "text/plain", b"busy".to_vec())
    });
    let url = [site.url(0, "/busy")];
    let recs = run(&["--data", "a", "--retries", "2"], &url);
    assert_eq!(recs[0]["attempts"], 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one POST");
    let recs = run(&["-X", "PUT", "--data", "a", "--retries", "2"], &url);
    assert_eq!(recs[0]["attempts"], 3, "a PUT is idempotent: retried");
}

#[test]
fn json_list_lines_are_requests_of_their_own() {
    let site = site();
    let api = site.url(0, "/api");
    let lines = [
        format!(
            r#"{{"url": "{api}", "method": "PUT", "headers": {{"X-Key": "k1"}}, "body": {{"q": 1}}}}"#
        ),
        format!(r#"{{"url": "{api}", "body": "a=1"}}"#),
        format!(r#"{{"url": "{api}", "body": "a=2", "headers": {{"Content-Type": "text/csv"}}}}"#),
        // The same request as line 2: a duplicate; with another body: not.
        format!(r#"{{"url": "{api}", "body": "a=1"}}"#),
        format!(r#"{{"url": "{api}"}}"#),
        api.clone(),
        format!(r#"{{"url": "{api}", "header": {{"X-Key": "k"}}}}"#),
        r#"{"url": "#.to_string(),
    ];
    let recs = run(
        &["--ordered", "-H", "X-Key: from-H", "-H", "X-Other: o"],
        &lines,
    );
    assert_eq!(recs.len(), lines.len());
    let methods: Vec<&str> = recs
        .iter()
        .map(|r| r["method"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        methods,
        ["PUT", "POST", "POST", "POST", "GET", "-", "-", "-"]
    );
    assert_eq!(recs[3]["duplicate_of"], 2, "{}", recs[3]);
    let shown = recs[0]["input"].as_str().unwrap();
    assert!(
        !shown.contains("k1") && shown.contains(r#""X-Key":"***""#),
        "{shown}"
    );
    assert_eq!(
        recs[5]["duplicate_of"], 5,
        "a GET line is its URL: {}",
        recs[5]
    );
    for bad in [&recs[6], &recs[7]] {
        assert_eq!(bad["error"]["kind"], "invalid_url", "{bad}");
        assert!(
            bad["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not a JSON request line"),
            "{bad}"
        );
    }
    assert!(
        recs[6]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `header`")
    );
    let asked = site.asked();
    assert_eq!(asked.len(), 4, "{asked:?}");
    assert_eq!(asked[0].method, "PUT");
    assert_eq!(asked[0].body, br#"{"q":1}"#);
    assert_eq!(asked[0].content_type.as_deref(), Some("application/json"));
    let x = |a: &crate::support::site::Asked| {
        let mut headers = a.x_headers.clone();
        headers.sort();
        headers
    };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        x(&asked[0]),
        [pair("x-key", "k1"), pair("x-other", "o")],
        "the line's replaces -H's"
    );
    assert_eq!(
        (asked[1].method.as_str(), asked[1].body.as_slice()),
        ("POST", &b"a=1"[..])
    );
    assert_eq!(
        asked[1].content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        x(&asked[1]),
        [pair("x-key", "from-H"), pair("x-other", "o")]
    );
    assert_eq!(asked[2].content_type.as_deref(), Some("text/csv"));
    assert_eq!((asked[3].method.as_str(), asked[3].body.len()), ("GET", 0));
}

#[test]
fn resume_keys_json_lines_on_method_url_and_body() {
    let site = site();
    let api = site.url(0, "/api");
    let lines = [
        // Its record shows the header masked, and still keys the line.
        format!(r#"{{"url": "{api}", "body": "a=1", "headers": {{"Authorization": "Bearer t"}}}}"#),
        format!(r#"{{"url": "{api}", "body": "a=2"}}"#),
        format!(r#"{{"url": "{api}", "body": "a=1"}}"#),
    ];
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    // The earlier run wrote line 1's record only.
    let first = run(&[], &lines[..1]);
    std::fs::write(&out, format!("{}\n", first[0])).unwrap();
    let file = list(&lines);
    let done = scrape()
        .arg(file.path())
        .args(["-t", "1", "--resume", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(done.status.success(), "{done:?}");
    let recs = records(&std::fs::read(&out).unwrap());
    assert_eq!(recs.len(), 3, "{recs:?}");
    let by_line = |n: u64| recs.iter().find(|r| r["line"] == n).unwrap();
    assert_eq!(
        by_line(2)["duplicate_of"],
        serde_json::Value::Null,
        "another body"
    );
    assert_eq!(by_line(2)["status"], 200);
    assert_eq!(by_line(3)["duplicate_of"], 1, "the same request as line 1");
    let posts: Vec<Vec<u8>> = site.asked().into_iter().map(|a| a.body).collect();
    assert_eq!(
        posts,
        [b"a=1".to_vec(), b"a=2".to_vec()],
        "each body sent once"
    );
}
