//! Fingerprints and validators in every record (issue 14, item 2):
//! `sha256` of the decoded body read, `etag`, `last_modified`,
//! `http_version`, `ip`; `--headers` adds the response's headers.

use crate::support::{Server, one};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_record_has_the_body_hash_validators_version_and_address() {
    let server = Server::start();
    let (r, _) = one(&server.url("/validated"), &[]);
    let body = "<!doctype html><html><head><title>Validated</title></head><body><p>Validated</p></body></html>";
    assert_eq!(r["sha256"], hex(body.as_bytes()), "{r}");
    assert_eq!(r["etag"], "\"v1\"");
    assert_eq!(r["last_modified"], "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_eq!(r["http_version"], "HTTP/1.1");
    assert_eq!(r["ip"], "127.0.0.1");
    assert!(r.get("headers").is_none(), "headers only with --headers");
    let (plain, _) = one(&server.url("/page/1"), &[]);
    assert!(plain["etag"].is_null() && plain["last_modified"].is_null());
    assert_eq!(plain["sha256"].as_str().map(str::len), Some(64));
    let (none, _) = one(&format!("http://{}/", crate::support::refused_addr()), &[]);
    for key in ["sha256", "etag", "last_modified", "http_version", "ip"] {
        assert!(none[key].is_null(), "{key} in {none}");
    }
}

#[test]
fn the_hash_covers_the_bytes_read_under_max_body() {
    let server = Server::start();
    let (r, _) = one(&server.url("/validated"), &["--max-body", "10"]);
    assert_eq!(r["truncated"], true);
    assert_eq!(r["sha256"], hex(b"<!doctype "));
}

#[test]
fn headers_come_lower_cased_every_value_an_array_of_strings() {
    let server = Server::start();
    let (r, _) = one(&server.url("/validated"), &["--headers"]);
    let h = &r["headers"];
    assert_eq!(h["etag"], serde_json::json!(["\"v1\""]), "{r}");
    assert_eq!(h["set-cookie"], serde_json::json!(["a=1", "b=2"]));
    assert_eq!(
        h["content-type"],
        serde_json::json!(["text/html; charset=utf-8"])
    );
    // One type for every reader (DuckDB, pandas): a header sent once is an
    // array too.
    assert!(h.as_object().unwrap().values().all(|v| {
        v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|s| s.is_string()))
    }));
    assert!(
        h.as_object()
            .unwrap()
            .keys()
            .all(|k| *k == k.to_lowercase())
    );
}

#[test]
fn duckdb_reads_every_header_as_one_type() {
    if !crate::support::tool(&["python3", "-c", "import duckdb"]) {
        return;
    }
    let server = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("h.jsonl");
    // Pages whose headers differ: set-cookie twice on one, once or never
    // on the others.
    let urls = [
        server.url("/validated"),
        server.url("/page/1"),
        server.url("/status/404"),
    ];
    let file = crate::support::list(&urls);
    let run = crate::support::scrape()
        .arg(file.path())
        .args(["--headers", "-q", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let script = format!(
        "import duckdb\n\
         rows = duckdb.sql(\"DESCRIBE SELECT headers FROM read_json_auto('{}')\").fetchall()\n\
         print(rows[0][1])",
        out.display()
    );
    let described = std::process::Command::new("python3")
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(described.status.success(), "{described:?}");
    let shape = String::from_utf8_lossy(&described.stdout);
    assert!(shape.starts_with("STRUCT("), "{shape}");
    // Every field of the struct is a list of strings.
    let fields = shape
        .trim()
        .trim_start_matches("STRUCT(")
        .trim_end_matches(')');
    for field in fields.split(", ") {
        assert!(field.ends_with(" VARCHAR[]"), "{field} in {shape}");
    }
    assert!(shape.contains("\"set-cookie\" VARCHAR[]"), "{shape}");
}
