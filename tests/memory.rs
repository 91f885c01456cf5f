//! Peak memory under bodies that would eat it (issue 3, promise 3).
//!
//! A test binary of its own: the child's peak RSS comes from `wait4`, and on
//! Linux that figure also covers the test process's own peak at the moment
//! of spawning (the spawned child starts as a view of it). Alone in this
//! binary, the test keeps that share small, so the bound checked is an
//! honest upper bound on scrape's peak.

#[path = "it/support/mod.rs"]
mod support;

use support::faults::FaultServer;
use support::{records, run_measured};

#[test]
fn endless_bodies_and_gzip_bombs_keep_memory_flat() {
    let s = FaultServer::start();
    let mut lines = String::new();
    for i in 0..4 {
        lines.push_str(&format!(
            "{}?{i}\n{}?{i}\n",
            s.url("/endless"),
            s.url("/gzip-bomb")
        ));
    }
    // Default --max-body (10M), four workers at once.
    let m = run_measured(&["-t", "4", "-q", "-"], &lines);
    assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    eprintln!("peak RSS of scrape (upper bound): {} KiB", m.max_rss_kib);
    let recs = records(&m.stdout);
    assert_eq!(recs.len(), 8);
    assert!(recs.iter().all(|r| r["truncated"] == true), "{recs:?}");
    assert!(
        m.max_rss_kib < 64 * 1024,
        "peak RSS {} KiB for 8 endless bodies",
        m.max_rss_kib
    );
}
