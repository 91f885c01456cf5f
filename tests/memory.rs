//! Peak memory under bodies that would eat it (issue 3, promise 3), and of
//! `--warc` when every worker reads a large body: raw payloads are held
//! until their records are built, within a budget of `RAW_PER_CORE` bytes
//! per core (docs/archive.md).
//!
//! A test binary of its own, with one test that runs the two cases in turn:
//! the child's peak RSS comes from `wait4`, and on Linux that figure also
//! covers the test process's own peak at the moment of spawning (the
//! spawned child starts as a view of it). Alone in this binary and one at a
//! time, the cases keep that share small, so each bound checked is an
//! honest upper bound on scrape's peak.

#[path = "it/support/mod.rs"]
mod support;

use support::faults::FaultServer;
use support::{records, run_measured};

/// `fetch::capture::RAW_PER_CORE`.
const RAW_PER_CORE: i64 = 32 << 20;

#[test]
fn peak_memory_stays_bounded_under_hostile_and_large_bodies() {
    // The small case first: the second's server then adds nothing to the
    // first's measure.
    endless_bodies_and_gzip_bombs_keep_memory_flat();
    large_bodies_read_at_once_are_not_all_held_in_memory();
}

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

fn large_bodies_read_at_once_are_not_all_held_in_memory() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    let budget_kib = RAW_PER_CORE * cores / 1024;
    // 32 bodies of 12 MiB at once: 384 MiB if each worker held its own.
    let bound_kib = budget_kib + 128 * 1024;
    if bound_kib >= 320 * 1024 {
        eprintln!("{cores} cores: the budget is too large for this test to tell");
        return;
    }
    let s = FaultServer::start();
    let lines: String = (0..32)
        .map(|i| format!("{}?{i}\n", s.url("/endless")))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("big.warc.gz");
    let args = [
        "-t",
        "32",
        "-q",
        "--max-body",
        "12M",
        "--timeout",
        "120",
        "--warc",
        archive.to_str().unwrap(),
        "-",
    ];
    let m = run_measured(&args, &lines);
    assert_eq!(m.code, Some(0), "{}", String::from_utf8_lossy(&m.stderr));
    eprintln!("peak RSS of scrape (upper bound): {} KiB", m.max_rss_kib);
    let recs = records(&m.stdout);
    assert_eq!(recs.len(), 32);
    assert!(
        recs.iter()
            .all(|r| r["truncated"] == true && r["warc"].is_object())
    );
    assert!(
        m.max_rss_kib < bound_kib,
        "peak RSS {} KiB for 32 bodies of 12 MiB (bound {bound_kib} KiB)",
        m.max_rss_kib
    );
}
