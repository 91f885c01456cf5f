//! `--tls` (issue 14, item 4): the certificate an HTTPS server presented
//! and the TLS it speaks, in the record.

use crate::support::tls::ca_signed_server_with;
use crate::support::{Server, list, records, scrape};
use chrono::{Datelike, Utc};

static TLS12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
static TLS13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

#[test]
fn an_https_record_names_the_certificate_and_the_tls_spoken() {
    let expires = Utc::now() + chrono::Duration::days(20);
    let date = (expires.year(), expires.month() as u8, expires.day() as u8);
    let (tls12, dir12) = ca_signed_server_with(Some(date), &TLS12);
    let (tls13, dir13) = ca_signed_server_with(None, &TLS13);
    let plain = Server::start();
    let both = dir12.path().join("both.pem");
    let pems = [dir12.path().join("ca.pem"), dir13.path().join("ca.pem")];
    let pem: Vec<u8> = pems
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    std::fs::write(&both, pem).unwrap();
    let urls = vec![
        format!("https://{tls12}/a"),
        format!("https://{tls13}/b"),
        plain.url("/page/1"),
        format!("http://{}/", crate::support::refused_addr()),
        "no url".to_string(),
    ];
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--tls", "--cacert"])
        .arg(&both)
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    let of = |url: &str| recs.iter().find(|r| r["input"] == url).unwrap();

    let r = of(&urls[0]);
    assert_eq!(r["ok"], true, "{r}");
    let tls = &r["tls"];
    assert_eq!(tls["version"], "TLSv1.2", "{tls}");
    assert!(
        tls["cipher"].as_str().unwrap().starts_with("TLS_ECDHE_"),
        "{tls}"
    );
    assert_eq!(tls["subject"], "CN=scrape test");
    assert_eq!(tls["issuer"], "CN=scrape test CA");
    let days = tls["days_left"].as_i64().unwrap();
    assert!((18..=20).contains(&days), "{days}");
    assert!(
        tls["not_after"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{:04}-{:02}-{:02}T", date.0, date.1, date.2))
    );
    assert_eq!(tls["sans"], serde_json::json!(["127.0.0.1", "localhost"]));

    let tls = &of(&urls[1])["tls"];
    assert_eq!(tls["version"], "TLSv1.3", "{tls}");
    assert!(tls["cipher"].as_str().unwrap().starts_with("TLS_"), "{tls}");

    for url in &urls[2..] {
        let r = of(url);
        assert!(r.get("tls").is_some_and(|t| t.is_null()), "{r}");
    }
    // The jq recipe of docs/tls.md: expiring within 30 days.
    if crate::support::tool(&["jq", "--version"]) {
        let jq = std::process::Command::new("jq")
            .args([
                "-r",
                "select(.tls.days_left != null and .tls.days_left < 30) | .url",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        jq.stdin.as_ref().unwrap().write_all(&out.stdout).unwrap();
        let listed = jq.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), urls[0]);
    }
}

#[test]
fn insecure_still_reports_a_certificate_no_one_trusts() {
    let addr = crate::support::tls::self_signed_server();
    let url = format!("https://{addr}/");
    let (r, _) = crate::support::one(&url, &["--tls", "--retries", "0"]);
    assert_eq!(r["error"]["kind"], "tls", "{r}");
    assert!(r["tls"].is_null(), "no response: {r}");
    let (r, _) = crate::support::one(&url, &["--tls", "--insecure"]);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["tls"]["sans"], serde_json::json!(["127.0.0.1"]), "{r}");
    assert!(r["tls"]["days_left"].as_i64().unwrap() > 0);
    assert!(r["tls"]["version"].is_string());
}

#[test]
fn without_tls_records_have_no_tls_key() {
    let server = Server::start();
    let (r, _) = crate::support::one(&server.url("/page/1"), &[]);
    assert!(r.get("tls").is_none(), "{r}");
}

#[test]
fn cacert_accepts_the_everyday_self_signed_certificate_it_lists() {
    let (addr, dir) = crate::support::tls::self_signed_ca_server();
    let cert = dir.path().join("cert.pem");
    let url = format!("https://localhost:{}/", addr.port());
    let (r, _) = crate::support::one(
        &url,
        &["--retries", "0", "--cacert", cert.to_str().unwrap()],
    );
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["title"], "Secret");
    // Another self-signed certificate in --cacert does not vouch for it.
    let (_, other) = crate::support::tls::self_signed_ca_server();
    let other = other.path().join("cert.pem");
    let (r, _) = crate::support::one(
        &url,
        &["--retries", "0", "--cacert", other.to_str().unwrap()],
    );
    assert_eq!(r["error"]["kind"], "tls", "{r}");
    // Nor does it when the name asked for is not the certificate's.
    let wrong_name = format!("https://{addr}/");
    let (r, _) = crate::support::one(
        &wrong_name,
        &["--retries", "0", "--cacert", cert.to_str().unwrap()],
    );
    assert_eq!(r["error"]["kind"], "tls", "{r}");
}

#[test]
fn http2_is_spoken_where_the_server_offers_it_and_only_with_http2() {
    let (h2, connections) = crate::support::tls::alpn_server(&[b"h2", b"http/1.1"]);
    let (h1, _) = crate::support::tls::alpn_server(&[b"http/1.1"]);
    let urls = |addr: std::net::SocketAddr| -> String {
        (0..20)
            .map(|i| format!("https://{addr}/page/{i}\n"))
            .collect()
    };
    let run = |args: &[&str], list: String| {
        let out = scrape()
            .args(["--insecure", "-t", "8"])
            .args(args)
            .write_stdin(list)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        records(&out.stdout)
    };
    let recs = run(&["--http2"], urls(h2));
    assert_eq!(recs.len(), 20);
    for r in &recs {
        assert_eq!(r["http_version"], "HTTP/2", "{r}");
        assert_eq!(r["title"], "HTTP/2.0", "{r}");
    }
    let opened = connections.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        opened <= 8,
        "{opened} connections for 20 requests over HTTP/2"
    );
    for r in run(&[], urls(h2)) {
        assert_eq!(r["http_version"], "HTTP/1.1", "without --http2: {r}");
    }
    for r in run(&["--http2"], urls(h1)) {
        assert_eq!(r["http_version"], "HTTP/1.1", "a server without h2: {r}");
    }
}

#[test]
fn with_http2_a_host_is_one_connection_whatever_the_clients() {
    // Four clients (SCRAPE_CLIENTS, as `-t 1024` gets on two cores), one
    // request at a time: every request to the host goes down the one
    // HTTP/2 connection, not one in each client's pool.
    let (h2, connections) = crate::support::tls::alpn_server(&[b"h2", b"http/1.1"]);
    let list: String = (0..40)
        .map(|i| format!("https://{h2}/page/{i}\n"))
        .collect();
    let out = scrape()
        .env("SCRAPE_CLIENTS", "4")
        .args(["--insecure", "--http2", "-t", "8", "--per-host", "1"])
        .write_stdin(list)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 40);
    assert!(recs.iter().all(|r| r["http_version"] == "HTTP/2"));
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 1);
}
