//! Politeness and scale (issue 5): sharding, ordering, per-host limits.

use std::collections::BTreeMap;

use crate::support::{Server, list, records, scrape};

#[test]
fn shards_partition_a_list_exactly() {
    let server = Server::start();
    let port = server.addr.port();
    // Many hosts, all on loopback: 127.0.0.1 and localhost name the server;
    // on 127.0.0.2.. nothing listens (refused at once), but sharding is
    // what is tested.
    let mut lines = vec![];
    for i in 0..60 {
        lines.push(server.url(&format!("/page/{i}")));
        lines.push(format!("http://localhost:{port}/page/{i}"));
        lines.push(format!("http://127.0.0.{}:{port}/x", i + 2));
    }
    lines.push("not a url at all".into());
    let file = list(&lines);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for k in 0..4 {
        let out = scrape()
            .arg(file.path())
            .args([
                "--shard",
                &format!("{k}/4"),
                "--retries",
                "0",
                "--connect-timeout",
                "1",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        for r in records(&out.stdout) {
            *seen
                .entry(r["input"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("belong to other shards"), "{stderr}");
    }
    assert_eq!(seen.len(), lines.len(), "every line in some shard");
    assert!(seen.values().all(|&n| n == 1), "no line in two shards");
}

#[test]
fn bad_shard_values_are_usage_errors() {
    for bad in ["4/4", "1/0", "x/2", "3"] {
        scrape().args(["--shard", bad, "x"]).assert().code(2);
    }
}

#[test]
fn ordered_output_follows_input_order_under_random_latency() {
    let server = Server::start();
    let mut lines: Vec<String> = vec![];
    for i in 0..80u64 {
        // A fixed pseudo-random latency per line, 0..60 ms.
        let ms = (i * 7919 + 13) % 61;
        let url = server.url(&format!("/slow/{i}?ms={ms}"));
        lines.push(url.clone());
        if i % 10 == 3 {
            lines.push("not a url".into());
        }
        if i % 10 == 7 {
            lines.push(url); // a duplicate: a record of its own, in its place
        }
    }
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "8", "--ordered", "--order-window", "16"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    let got: Vec<u64> = recs.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(got, sorted, "records out of input order");
    assert_eq!(recs.len(), 80 + 8 + 8, "duplicates and invalid lines kept");
    assert!(
        server.max_inflight() > 1,
        "ordering must not serialize the fetching"
    );
}

#[test]
fn per_host_limit_holds_while_other_hosts_go_ahead() {
    let group = std::sync::Arc::new(crate::support::Seen::default());
    let servers: Vec<Server> = (0..4)
        .map(|_| Server::start_in(Some(group.clone())))
        .collect();
    let mut lines = vec![];
    for i in 0..12 {
        for s in &servers {
            lines.push(s.url(&format!("/slow/{i}?ms=40")));
        }
    }
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "8", "--per-host", "2"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(records(&out.stdout).len(), 48);
    for s in &servers {
        assert!(
            s.max_inflight() <= 2,
            "a host saw {} at once",
            s.max_inflight()
        );
    }
    assert!(
        group.max_inflight() > 2,
        "hosts went one at a time: {}",
        group.max_inflight()
    );
}

#[test]
fn delay_spaces_request_starts_to_one_host() {
    let server = Server::start();
    let lines: Vec<String> = (0..5).map(|i| server.url(&format!("/page/{i}"))).collect();
    let file = list(&lines);
    scrape()
        .arg(file.path())
        .args(["-t", "4", "--delay", "100"])
        .assert()
        .success();
    let starts = server.starts();
    assert_eq!(starts.len(), 5);
    // scrape spaces the requests it sends; the server sees them arrive
    // with the loopback's jitter (one gap of 84 ms seen on a loaded
    // machine, the next one longer). Over four gaps the jitter cancels
    // out but for the ends; each gap alone must still be clearly spaced.
    let span = starts[4] - starts[0];
    assert!(
        span >= std::time::Duration::from_millis(390),
        "5 starts in {span:?}"
    );
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(50),
            "starts {gap:?} apart"
        );
    }
}

#[test]
fn rate_spreads_the_whole_runs_requests_evenly() {
    // Two hosts (the same server under two names), eight workers: --rate
    // holds the run, not a host, to 20 a second.
    let server = Server::start();
    let lines: Vec<String> = (0..21)
        .map(|i| {
            let url = server.url(&format!("/page/{i}"));
            match i % 2 {
                0 => url,
                _ => url.replace("127.0.0.1", "localhost"),
            }
        })
        .collect();
    let file = list(&lines);
    scrape()
        .arg(file.path())
        .args(["-t", "8", "--rate", "20"])
        .assert()
        .success();
    let starts = server.starts();
    assert_eq!(starts.len(), 21);
    // 21 requests at 20 a second take 1 s from first to last, at least
    // (the loopback's jitter can only move the ends by a few ms).
    let span = starts[20] - starts[0];
    assert!(
        span >= std::time::Duration::from_millis(950),
        "21 starts in {span:?}"
    );
}

#[test]
fn bad_rates_are_usage_errors() {
    for bad in ["0", "-1", "fast", "inf", "NaN"] {
        let out = scrape()
            .args(["--rate", bad, "-"])
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--rate {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("not a rate"));
    }
}

#[test]
fn retry_after_pauses_the_whole_host() {
    let faults = crate::support::faults::FaultServer::start();
    let mut lines = vec![faults.url("/429-once")];
    lines.extend((0..20).map(|i| faults.url(&format!("/fine/{i}"))));
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "4", "--per-host", "4", "--retries", "1"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(records(&out.stdout).len(), 21);
    let starts = faults.starts();
    let (_, t429) = starts
        .iter()
        .find(|(p, _)| p == "/429-once")
        .cloned()
        .unwrap();
    // Requests already on their way when the 429 was answered may land just
    // after it; then nothing until Retry-After: 1 has passed.
    let quiet_from = t429 + std::time::Duration::from_millis(100);
    let quiet_to = t429 + std::time::Duration::from_millis(900);
    let during: Vec<_> = starts
        .iter()
        .filter(|(_, t)| *t > quiet_from && *t < quiet_to)
        .collect();
    assert!(during.is_empty(), "requests during the pause: {during:?}");
}

#[test]
fn robots_txt_is_obeyed_with_its_crawl_delay() {
    let server = Server::start();
    let mut lines = vec![];
    for i in 0..3 {
        lines.push(server.url(&format!("/page/{i}")));
        lines.push(server.url(&format!("/private/{i}")));
    }
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "4", "--robots"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 6);
    for r in &recs {
        let private = r["input"].as_str().unwrap().contains("/private/");
        if private {
            assert_eq!(r["error"]["kind"], "robots", "{r}");
            assert_eq!(r["attempts"], 0);
        } else {
            assert_eq!(r["ok"], true, "{r}");
        }
    }
    assert_eq!(server.hits("/robots.txt"), 1, "fetched once per host");
    assert_eq!(server.hits("/private/0"), 0);
    // The three pages were spaced by Crawl-delay: 0.2 (robots.txt itself
    // is the first request).
    let starts = server.starts();
    let pages = &starts[starts.len() - 3..];
    for pair in pages.windows(2) {
        assert!(
            pair[1] - pair[0] >= std::time::Duration::from_millis(190),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[test]
fn a_host_answering_429_without_retry_after_is_slowed_and_its_urls_still_succeed() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let storm = std::sync::Arc::new(AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&storm);
    let site = crate::support::site::Site::start(2, move |host, _| {
        // The first three requests to the busy host are turned away.
        if host == "127.0.0.1" && count.fetch_add(1, Ordering::SeqCst) < 3 {
            return (429, "text/plain", b"slow down".to_vec());
        }
        crate::support::site::html("ok", &[], "")
    });
    let lines: Vec<String> = (0..6)
        .flat_map(|i| [site.url(0, &format!("/{i}")), site.url(1, &format!("/{i}"))])
        .collect();
    let file = list(&lines);
    let summary = tempfile::NamedTempFile::new().unwrap();
    let out = scrape()
        .arg(file.path())
        .args(["-t", "4", "--retries", "5", "--summary-json"])
        .arg(summary.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 12);
    assert!(
        recs.iter().all(|r| r["ok"] == true),
        "every URL got through"
    );
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(summary.path()).unwrap()).unwrap();
    let slowed = s["slowed"].as_array().unwrap();
    assert_eq!(slowed.len(), 1, "only the busy host: {s}");
    assert_eq!(slowed[0]["host"], format!("http://127.0.0.1:{}", site.port));
    assert!(slowed[0]["max_gap_ms"].as_u64().unwrap() >= 250);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("slowed down"), "{stderr}");
}

#[test]
fn auto_throttle_spaces_a_hosts_requests_by_its_latency() {
    // 100 ms to answer, target concurrency 1: after the first answers,
    // requests to the host start at least 100 ms apart (they would go 4 at
    // a time, in three rounds of 100 ms, without it).
    let server = Server::start();
    let lines: Vec<String> = (0..12)
        .map(|i| server.url(&format!("/slow/{i}?ms=100")))
        .collect();
    let file = list(&lines);
    let out = scrape()
        .arg(file.path())
        .args(["-t", "4", "--auto-throttle"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(records(&out.stdout).iter().all(|r| r["ok"] == true));
    let starts = server.starts();
    assert_eq!(starts.len(), 12);
    let span = starts[11] - starts[0];
    // The first four start together; the other eight are held 100 ms
    // apart at least, after the first answer came (100 ms in).
    assert!(
        span >= std::time::Duration::from_millis(750),
        "12 starts in {span:?}"
    );
}
