//! `timings` (issue 23, item 2): where a request's time went, from the
//! client's own hooks, against servers that hold each step back by a known
//! amount. Bounds are generous above (a loaded machine is slow), never
//! below: a step cannot take less than the server made it wait.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use crate::support::tls::{read_head, self_signed_config};
use crate::support::{Server, by_input, list, records, refused_addr, scrape};

const HANDSHAKE: Duration = Duration::from_millis(300);
const FIRST_BYTE: Duration = Duration::from_millis(200);
/// Far above any step on loopback, far below the delays' sum.
const SLACK_MS: f64 = 2000.0;

/// An HTTPS server on 127.0.0.1 (self-signed, for localhost) that waits
/// `handshake` before its side of the TLS handshake and `first_byte`
/// before each response; it keeps connections open.
fn slow_tls_server(handshake: Duration, first_byte: Duration) -> SocketAddr {
    let config = self_signed_config(vec!["localhost".to_string()], &[]);
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                std::thread::sleep(handshake);
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                while read_head(&mut tls) {
                    std::thread::sleep(first_byte);
                    let body = "<title>Slow</title>";
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if tls
                        .write_all(answer.as_bytes())
                        .and_then(|_| tls.flush())
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

fn ms(v: &serde_json::Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("not milliseconds: {v}"))
}

fn within(v: &serde_json::Value, at_least: Duration) -> bool {
    let low = at_least.as_secs_f64() * 1000.0;
    (low..low + SLACK_MS).contains(&ms(v))
}

#[test]
fn each_step_of_an_https_request_is_timed_and_a_reused_connection_skips_them() {
    let addr = slow_tls_server(HANDSHAKE, FIRST_BYTE);
    let urls = [
        format!("https://localhost:{}/a", addr.port()),
        format!("https://localhost:{}/b", addr.port()),
    ];
    let file = list(&urls);
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = scrape()
        .arg(file.path())
        .args(["-t", "1", "--insecure", "--ordered", "--summary-json"])
        .arg(summary.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    let (first, second) = (
        &by_input(&recs, &urls[0])["timings"],
        &by_input(&recs, &urls[1])["timings"],
    );
    assert_eq!(first["reused"], false, "{first}");
    assert!(
        ms(&first["dns_ms"]) >= 0.0,
        "localhost is looked up: {first}"
    );
    assert!(ms(&first["connect_ms"]) < ms(&first["tls_ms"]), "{first}");
    assert!(within(&first["tls_ms"], HANDSHAKE), "{first}");
    assert!(within(&first["ttfb_ms"], FIRST_BYTE), "{first}");
    let steps = ["dns_ms", "connect_ms", "tls_ms", "ttfb_ms"];
    let sum: f64 = steps.iter().map(|s| ms(&first[s])).sum();
    assert!(ms(&first["total_ms"]) >= sum, "{first}");
    assert_eq!(second["reused"], true, "{second}");
    for skipped in ["dns_ms", "connect_ms", "tls_ms"] {
        assert!(second[skipped].is_null(), "{second}");
    }
    assert!(within(&second["ttfb_ms"], FIRST_BYTE), "{second}");
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary.path()).unwrap()).unwrap();
    let t = &s["timings"];
    assert_eq!(
        (t["requests"].as_u64(), t["reused"].as_u64()),
        (Some(2), Some(1)),
        "{t}"
    );
    assert!(within(&t["tls_ms"]["p99"], HANDSHAKE), "{t}");
    assert!(within(&t["ttfb_ms"]["p50"], FIRST_BYTE), "{t}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scrape: timings p50/p90/p99 ms: dns "),
        "{stderr}"
    );
}

#[test]
fn a_pinned_name_is_not_looked_up_and_no_response_means_no_timings() {
    let server = Server::start();
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let pinned = format!("http://pinned.test:{port}/page/1");
    let refused = format!("http://{}/", refused_addr());
    let file = list(&[pinned.clone(), refused.clone()]);
    let out = scrape()
        .arg(file.path())
        .args(["--resolve", &format!("pinned.test:{port}:127.0.0.1")])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    let t = &by_input(&recs, &pinned)["timings"];
    assert_eq!(by_input(&recs, &pinned)["status"], 200);
    assert!(t["dns_ms"].is_null(), "{t}");
    assert!(t["tls_ms"].is_null(), "http has no handshake: {t}");
    assert!(ms(&t["connect_ms"]) >= 0.0, "{t}");
    assert_eq!(t["reused"], false);
    assert!(by_input(&recs, &refused)["timings"].is_null());
}
