//! Run statistics (docs/record.md "Summary and exit codes"), kept apart from
//! printing them.
//!
//! [`Stats`] takes every record and resumed line as the aggregator sees
//! them, in bounded memory (latencies go into an HDR histogram, not a list).
//! [`Summary`] is the finished figures: written to stderr for people
//! ([`Summary::write_human`]), as JSON for programs (`--summary-json`, the
//! `summary` of `--format json`), and as rows of the `--compare` table
//! ([`write_compare_table`]).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::timings::{TimingStats, TimingSummary};
use crate::crawl::Dropped;
use crate::error::ErrorKind;
use crate::input::shard::Shard;
use crate::politeness::slowdown::Slowed;
use crate::record::Record;

/// `n` and the noun that goes with it: "1 URL", "2 URLs".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Latencies above this (in µs, one hour) are recorded as this.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Counters and a latency histogram, fed one record at a time.
pub struct Stats {
    records: u64,
    ok: u64,
    http_errors: u64,
    failed: BTreeMap<ErrorKind, u64>,
    with_error: u64,
    duplicates: u64,
    fetched: u64,
    resumed: u64,
    other_shards: u64,
    shard: Option<Shard>,
    bytes: u64,
    /// `--since`: records unchanged, and 304s among them; `None` in runs
    /// without it.
    unchanged: Option<Unchanged>,
    /// `--since`: what PREV held.
    pub since: Option<PrevCounts>,
    /// `--robots`: the name robots.txt groups were matched by.
    pub robots_agent: Option<String>,
    /// A crawl's links not followed, by rule.
    pub dropped: Option<Dropped>,
    /// Hosts slowed by 429/503 without Retry-After.
    pub slowed: Vec<Slowed>,
    latency_us: Option<Histogram<u64>>,
    timings: TimingStats,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            records: 0,
            ok: 0,
            http_errors: 0,
            failed: BTreeMap::new(),
            with_error: 0,
            duplicates: 0,
            fetched: 0,
            resumed: 0,
            other_shards: 0,
            shard: None,
            bytes: 0,
            unchanged: None,
            since: None,
            robots_agent: None,
            dropped: None,
            slowed: Vec::new(),
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).ok(),
            timings: TimingStats::default(),
        }
    }
}

impl Stats {
    /// Statistics of a run over `shard` of the list (`--shard`), if one.
    pub fn new(shard: Option<Shard>) -> Stats {
        Stats {
            shard,
            ..Stats::default()
        }
    }

    /// Counts one record.
    pub fn add(&mut self, r: &Record) {
        self.records += 1;
        if r.is_duplicate() {
            self.duplicates += 1;
            return;
        }
        if let Some(unchanged) = r.unchanged {
            let counts = self.unchanged.get_or_insert_default();
            counts.unchanged += u64::from(unchanged == Some(true));
            counts.not_modified += u64::from(r.not_modified());
        }
        if !r.not_modified() {
            self.bytes += r.bytes;
        }
        self.fetched += u64::from(r.attempts > 0);
        if let Some(t) = &r.timings {
            self.timings.add(t);
        }
        match r.error_kind() {
            Some(kind) => {
                *self.failed.entry(kind).or_default() += 1;
                self.with_error += 1;
            }
            None if r.ok => self.ok += 1,
            None => self.http_errors += 1,
        }
        if r.attempts > 0
            && let Some(h) = self.latency_us.as_mut()
        {
            h.saturating_record(((r.elapsed_ms * 1000.0) as u64).clamp(1, MAX_LATENCY_US));
        }
    }

    /// Counts one line an earlier run already did (`--resume`).
    pub fn resumed(&mut self) {
        self.resumed += 1;
    }

    /// Counts lines left to other shards (`--shard`).
    pub fn other_shards(&mut self, n: u64) {
        self.other_shards += n;
    }

    /// The finished figures for a run that took `wall`.
    pub fn summary(&self, wall: Duration, threads: usize, interrupted: bool) -> Summary {
        let urls = self.records + self.resumed;
        let wall_s = wall.as_secs_f64();
        let latency = self.latency_us.as_ref().filter(|h| !h.is_empty());
        let ms = |us: u64| (us as f64 / 10.0).round() / 100.0;
        Summary {
            urls,
            records: self.records,
            ok: self.ok,
            http_errors: self.http_errors,
            failed: self.with_error,
            failed_by_kind: self.failed.iter().map(|(k, n)| (k.as_str(), *n)).collect(),
            duplicates: self.duplicates,
            resumed: self.resumed,
            fetched: self.fetched,
            other_shards: self.other_shards,
            shard: self.shard,
            wall_s: (wall_s * 1000.0).round() / 1000.0,
            urls_per_s: if wall_s > 0.0 {
                ((self.records as f64 / wall_s) * 10.0).round() / 10.0
            } else {
                0.0
            },
            latency_ms: Latency {
                p50: latency.map(|h| ms(h.value_at_quantile(0.5))),
                p95: latency.map(|h| ms(h.value_at_quantile(0.95))),
                max: latency.map(|h| ms(h.max())),
            },
            timings: self.timings.summary(),
            bytes: self.bytes,
            unchanged: self.unchanged,
            since: self.since,
            robots_agent: self.robots_agent.clone(),
            dropped: self.dropped,
            slowed: self.slowed.clone(),
            threads,
            interrupted,
        }
    }
}

/// The summary of a run, as `--summary-json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Input lines handled: records (duplicates' too) and lines done by an
    /// earlier run.
    pub urls: u64,
    /// Records written.
    pub records: u64,
    /// Records with `ok: true`.
    pub ok: u64,
    /// Records with a 4xx/5xx status and no error.
    pub http_errors: u64,
    /// Records with an error.
    pub failed: u64,
    /// Records with an error, by kind.
    pub failed_by_kind: BTreeMap<&'static str, u64>,
    /// Records of repeated URLs (`duplicate_of`: not fetched again).
    pub duplicates: u64,
    /// Lines skipped because the resumed output has their records.
    pub resumed: u64,
    /// Records of URLs this run requested (not duplicates, not lines that
    /// are not URLs, not URLs robots.txt or a dead host kept back).
    pub fetched: u64,
    /// Lines left to other shards (`--shard`); not in `urls`.
    pub other_shards: u64,
    /// The shard this run took (`--shard`: index, count, and `from`:
    /// flag, slurm or kubernetes); null without `--shard`.
    pub shard: Option<Shard>,
    /// Wall time of the run, seconds.
    pub wall_s: f64,
    /// Records written per second of wall time (lines an earlier run did,
    /// `resumed`, are not in it: they took no time).
    pub urls_per_s: f64,
    /// Latency (`elapsed_ms`) of fetched records.
    pub latency_ms: Latency,
    /// The records' `timings`: p50/p90/p99 of each step, and how many
    /// requests went on reused connections.
    pub timings: TimingSummary,
    /// Decoded body bytes read, all records (a 304's carried page is not
    /// read).
    pub bytes: u64,
    /// `--since`: how many records are unchanged, and how many of those
    /// came as 304 Not Modified (no body downloaded); only with
    /// `--since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<Unchanged>,
    /// `--since`: PREV's `records` (with a URL) and `unreadable` lines
    /// (torn, not JSON: their URLs were fetched as new); only with
    /// `--since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<PrevCounts>,
    /// `--robots`: the name robots.txt groups were matched by
    /// (`--robots-agent`, else the User-Agent's product token); only with
    /// `--robots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robots_agent: Option<String>,
    /// A crawl's links not followed, by the rule that stopped them; only
    /// with `--follow` or `--sitemap`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<Dropped>,
    /// Hosts that answered 429 or 503 without `Retry-After` and were
    /// slowed for every worker: `[{host, max_gap_ms}]`, widest gap first;
    /// only when there were some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slowed: Vec<Slowed>,
    /// Worker threads.
    pub threads: usize,
    /// The run was stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
}

/// `--since` counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Unchanged {
    /// Records with `unchanged: true`.
    pub unchanged: u64,
    /// Those that came as 304 Not Modified.
    pub not_modified: u64,
}

/// `--since`: what PREV held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PrevCounts {
    /// Records with a URL.
    pub records: u64,
    /// Lines that are not records (torn, not JSON).
    pub unreadable: u64,
}

/// Latency quantiles in milliseconds; null when nothing was fetched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// Slowest.
    pub max: Option<f64>,
}

impl Summary {
    /// Two lines for people, as the end of a run prints them on stderr,
    /// and one for each option that has something to say.
    pub fn write_human(&self, w: &mut dyn Write) -> io::Result<()> {
        writeln!(w, "{}", self.status_line())?;
        if let Some(shard) = self.shard {
            let lines = count(self.other_shards, "line belongs", "lines belong");
            writeln!(
                w,
                "scrape: shard {shard} (from {}): {lines} to other shards",
                shard.from.as_str()
            )?;
        }
        if let Some(line) = self.since_line() {
            writeln!(w, "{line}")?;
        }
        if let Some(agent) = &self.robots_agent {
            let refused = self.failed_by_kind.get("robots").copied().unwrap_or(0);
            writeln!(
                w,
                "scrape: robots.txt obeyed as {agent:?}: {} disallowed",
                count(refused, "URL", "URLs")
            )?;
        }
        self.crawl_lines(w)?;
        if self.resumed > 0 {
            let lines = count(
                self.resumed,
                "line already had its record",
                "lines already had their records",
            );
            writeln!(
                w,
                "scrape: resumed: {lines} (--resume), {} now, {} fetched",
                count(self.records, "record written", "records written"),
                self.fetched
            )?;
        }
        writeln!(w, "{}", self.latency_line())?;
        if let Some(line) = self.timings.line() {
            writeln!(w, "{line}")?;
        }
        Ok(())
    }

    /// The links a crawl did not follow, and the hosts slowed down.
    fn crawl_lines(&self, w: &mut dyn Write) -> io::Result<()> {
        if let Some(dropped) = &self.dropped {
            let words = dropped.in_words();
            let said: Vec<String> = words
                .iter()
                .map(|(n, rule)| format!("{n} {rule}"))
                .collect();
            let said = match said.is_empty() {
                true => "none".to_string(),
                false => said.join(", "),
            };
            writeln!(w, "scrape: crawl: links not followed: {said}")?;
        }
        if !self.slowed.is_empty() {
            let hosts: Vec<String> = self
                .slowed
                .iter()
                .map(|h| {
                    format!(
                        "{} (gaps up to {:.2} s)",
                        h.host,
                        h.max_gap_ms as f64 / 1000.0
                    )
                })
                .collect();
            writeln!(
                w,
                "scrape: slowed down (429/503 without Retry-After): {}",
                hosts.join(", ")
            )?;
        }
        Ok(())
    }

    /// "scrape: done: 200 URLs in 0.70 s (…): 180 ok, …".
    fn status_line(&self) -> String {
        let status = if self.interrupted {
            "interrupted after"
        } else {
            "done:"
        };
        let mut failed = format!("{} failed", self.failed);
        if !self.failed_by_kind.is_empty() {
            let kinds: Vec<String> = self
                .failed_by_kind
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            failed = format!("{failed} ({})", kinds.join(", "));
        }
        format!(
            "scrape: {status} {} in {:.2} s ({:.1} URLs/s, {}): {} ok, {}, {failed}, {}",
            count(self.records, "URL", "URLs"),
            self.wall_s,
            self.urls_per_s,
            count(self.threads as u64, "thread", "threads"),
            self.ok,
            count(self.http_errors, "HTTP error", "HTTP errors"),
            count(self.duplicates, "duplicate", "duplicates"),
        )
    }

    /// `--since`: what was unchanged, and what of PREV was not read.
    fn since_line(&self) -> Option<String> {
        let u = self.unchanged?;
        let not_modified = count(u.not_modified, "304 Not Modified", "304 Not Modified");
        let mut line = format!(
            "scrape: {} unchanged since --since ({not_modified}, no body downloaded)",
            u.unchanged
        );
        if let Some(prev) = self.since.filter(|p| p.unreadable > 0) {
            let lines = count(prev.unreadable, "line", "lines");
            line.push_str(&format!("; {lines} in it not read (torn or not JSON)"));
        }
        Some(line)
    }

    /// Latency quantiles and bytes read.
    fn latency_line(&self) -> String {
        let l = &self.latency_ms;
        match (l.p50, l.p95, l.max) {
            (Some(p50), Some(p95), Some(max)) => format!(
                "scrape: latency p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms; {} read",
                human_bytes(self.bytes)
            ),
            _ => format!("scrape: nothing fetched; {} read", human_bytes(self.bytes)),
        }
    }
}

/// The `--compare` table: one row per run, speedup and efficiency relative
/// to the first (1-thread) run.
pub fn write_compare_table(w: &mut dyn Write, runs: &[Summary]) -> io::Result<()> {
    writeln!(
        w,
        "{:>8}  {:>9}  {:>9}  {:>8}  {:>10}",
        "threads", "wall s", "URLs/s", "speedup", "efficiency"
    )?;
    let base = runs.first().map(|r| r.wall_s).unwrap_or(0.0);
    for r in runs {
        let speedup = if r.wall_s > 0.0 { base / r.wall_s } else { 0.0 };
        let efficiency = speedup / r.threads.max(1) as f64;
        writeln!(
            w,
            "{:>8}  {:>9.3}  {:>9.1}  {:>7.2}x  {:>10.2}",
            r.threads, r.wall_s, r.urls_per_s, speedup, efficiency
        )?;
    }
    Ok(())
}

/// `1536` → `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FetchError;

    fn record(status: Option<u16>, kind: Option<ErrorKind>, ms: f64) -> Record {
        Record {
            url: Some("http://a/".into()),
            input: "a".into(),
            file: "-".into(),
            line: 1,
            duplicate_of: None,
            final_url: None,
            status,
            ok: kind.is_none() && status.is_some_and(|s| s < 400),
            content_type: None,
            bytes: 100,
            truncated: false,
            title: None,
            description: None,
            lang: None,
            redirects: 0,
            location: None,
            attempts: if kind == Some(ErrorKind::InvalidUrl) {
                0
            } else {
                1
            },
            elapsed_ms: ms,
            ttfb_ms: None,
            timings: None,
            error: kind.map(|k| FetchError::new(k, "x")),
            fields: None,
            links: None,
            metadata: None,
            content: None,
            tls: None,
            warc: None,
            method: None,
            crawl: None,
            http_version: None,
            ip: None,
            etag: None,
            last_modified: None,
            sha256: None,
            unchanged: None,
            headers: None,
        }
    }

    fn sample() -> Stats {
        let mut s = Stats::default();
        for i in 1..=100 {
            s.add(&record(Some(200), None, i as f64));
        }
        s.add(&record(Some(404), None, 5.0));
        s.add(&record(Some(500), None, 5.0));
        s.add(&record(None, Some(ErrorKind::Timeout), 1000.0));
        s.add(&record(None, Some(ErrorKind::InvalidUrl), 0.0));
        let mut duplicate = record(None, None, 0.0);
        duplicate.duplicate_of = Some(1);
        duplicate.attempts = 0;
        s.add(&duplicate);
        s.resumed();
        s
    }

    #[test]
    fn counts_add_up() {
        let s = sample().summary(Duration::from_secs(2), 4, false);
        assert_eq!(s.records, 105);
        assert_eq!(s.urls, 106);
        assert_eq!(s.ok, 100);
        assert_eq!(s.http_errors, 2);
        assert_eq!(s.failed, 2);
        assert_eq!(s.failed_by_kind.get("timeout"), Some(&1));
        assert_eq!(s.failed_by_kind.get("invalid_url"), Some(&1));
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.resumed, 1);
        assert_eq!(s.bytes, 10400);
        // The rate is over this run's records, not the resumed line.
        assert_eq!(s.urls_per_s, 52.5);
        assert_eq!(s.ok + s.http_errors + s.failed + s.duplicates, s.records);
    }

    #[test]
    fn quantiles_ignore_unfetched_lines() {
        let s = sample().summary(Duration::from_secs(1), 1, false);
        let p50 = s.latency_ms.p50.unwrap();
        let p95 = s.latency_ms.p95.unwrap();
        assert!((48.0..=52.0).contains(&p50), "{p50}");
        assert!((93.0..=97.0).contains(&p95), "{p95}");
        assert!((999.0..=1001.0).contains(&s.latency_ms.max.unwrap()));
    }

    #[test]
    fn empty_run_has_null_latency() {
        let s = Stats::default().summary(Duration::ZERO, 16, false);
        assert_eq!(s.latency_ms.p50, None);
        assert_eq!(s.urls_per_s, 0.0);
        let v = serde_json::to_value(&s).unwrap();
        assert!(v["latency_ms"]["p50"].is_null());
        let mut out = Vec::new();
        s.write_human(&mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("nothing fetched"));
    }

    #[test]
    fn human_summary_names_kinds_and_interruption() {
        let s = sample().summary(Duration::from_secs(2), 4, true);
        let mut out = Vec::new();
        s.write_human(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("interrupted after 105 URLs"), "{text}");
        assert!(text.contains("1 duplicate"), "{text}");
        assert!(
            text.contains(
                "resumed: 1 line already had its record (--resume), 105 records written now"
            ),
            "{text}"
        );
        assert!(text.contains("timeout 1"), "{text}");
        assert!(text.contains("100 ok, 2 HTTP errors"), "{text}");
    }

    #[test]
    fn compare_table_speedup_and_efficiency() {
        let mut one = Stats::default().summary(Duration::from_secs(10), 1, false);
        one.wall_s = 10.0;
        let mut many = one.clone();
        many.threads = 16;
        many.wall_s = 0.8;
        let mut out = Vec::new();
        write_compare_table(&mut out, &[one, many]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let last = text.lines().last().unwrap();
        assert!(last.contains("12.50x"), "{text}");
        assert!(last.trim_end().ends_with("0.78"), "{text}");
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(12), "12 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(10 << 20), "10.0 MiB");
    }
}
