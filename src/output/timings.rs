//! The summary's `timings`: p50, p90 and p99 of each step of the records'
//! `timings` (docs/record.md), in bounded memory (HDR histograms), and how
//! many requests went on a connection they did not make.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::fetch::timing::Timings;

/// Steps above this (in µs, one hour) are recorded as this.
const MAX_US: u64 = 3_600_000_000;

/// The steps' histograms, fed one record's `timings` at a time.
pub struct TimingStats {
    steps: [Option<Histogram<u64>>; 5],
    requests: u64,
    reused: u64,
}

impl Default for TimingStats {
    fn default() -> Self {
        TimingStats {
            steps: std::array::from_fn(|_| Histogram::new_with_bounds(1, MAX_US, 3).ok()),
            requests: 0,
            reused: 0,
        }
    }
}

impl TimingStats {
    /// Counts one record's timings.
    pub fn add(&mut self, t: &Timings) {
        self.requests += 1;
        self.reused += u64::from(t.reused);
        let values = [
            t.dns_ms,
            t.connect_ms,
            t.tls_ms,
            Some(t.ttfb_ms),
            Some(t.total_ms),
        ];
        for (h, ms) in self.steps.iter_mut().zip(values) {
            if let (Some(h), Some(ms)) = (h.as_mut(), ms) {
                h.saturating_record(((ms * 1000.0) as u64).clamp(1, MAX_US));
            }
        }
    }

    /// The quantiles.
    pub fn summary(&self) -> TimingSummary {
        let [dns, connect, tls, ttfb, total] = self.steps.each_ref().map(Quantiles::of);
        TimingSummary {
            dns_ms: dns,
            connect_ms: connect,
            tls_ms: tls,
            ttfb_ms: ttfb,
            total_ms: total,
            requests: self.requests,
            reused: self.reused,
        }
    }
}

/// The summary's `timings`: each step's quantiles (null when no request
/// took that step), the requests timed and those on a reused connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingSummary {
    /// Name lookups.
    pub dns_ms: Option<Quantiles>,
    /// TCP connects.
    pub connect_ms: Option<Quantiles>,
    /// TLS handshakes.
    pub tls_ms: Option<Quantiles>,
    /// From the request on a ready connection to the response's headers.
    pub ttfb_ms: Option<Quantiles>,
    /// From the request's start to the end of its body.
    pub total_ms: Option<Quantiles>,
    /// Records with timings (a response came).
    pub requests: u64,
    /// Of those, requests on a connection they did not make.
    pub reused: u64,
}

/// p50, p90 and p99 in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Quantiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Quantiles {
    fn of(h: &Option<Histogram<u64>>) -> Option<Quantiles> {
        let h = h.as_ref().filter(|h| !h.is_empty())?;
        let ms = |q: f64| (h.value_at_quantile(q) as f64 / 10.0).round() / 100.0;
        Some(Quantiles {
            p50: ms(0.5),
            p90: ms(0.9),
            p99: ms(0.99),
        })
    }
}

impl TimingSummary {
    /// "scrape: timings p50/p90/p99 ms: dns 0.4/1.1/2.0, …; 80 of 100
    /// requests on reused connections", or nothing when none was timed.
    pub fn line(&self) -> Option<String> {
        if self.requests == 0 {
            return None;
        }
        let steps = [
            ("dns", self.dns_ms),
            ("connect", self.connect_ms),
            ("tls", self.tls_ms),
            ("ttfb", self.ttfb_ms),
            ("total", self.total_ms),
        ];
        let said: Vec<String> = steps
            .iter()
            .filter_map(|(name, q)| {
                q.map(|q| format!("{name} {:.1}/{:.1}/{:.1}", q.p50, q.p90, q.p99))
            })
            .collect();
        Some(format!(
            "scrape: timings p50/p90/p99 ms: {}; {} of {} on reused connections",
            said.join(", "),
            self.reused,
            super::summary::count(self.requests, "request", "requests"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings(dns: Option<f64>, ttfb: f64, reused: bool) -> Timings {
        Timings {
            dns_ms: dns,
            connect_ms: dns.map(|_| 1.0),
            tls_ms: None,
            ttfb_ms: ttfb,
            total_ms: ttfb + 1.0,
            reused,
        }
    }

    #[test]
    fn quantiles_of_each_step_and_nulls_for_steps_never_taken() {
        let mut s = TimingStats::default();
        for i in 1..=100 {
            s.add(&timings((i <= 10).then_some(5.0), f64::from(i), i > 10));
        }
        let t = s.summary();
        assert_eq!((t.requests, t.reused), (100, 90));
        let ttfb = t.ttfb_ms.unwrap();
        assert!((49.0..=51.0).contains(&ttfb.p50), "{ttfb:?}");
        assert!((89.0..=91.0).contains(&ttfb.p90), "{ttfb:?}");
        assert!((98.0..=100.0).contains(&ttfb.p99), "{ttfb:?}");
        assert!((4.9..=5.1).contains(&t.dns_ms.unwrap().p99));
        assert_eq!(t.tls_ms, None);
        let line = t.line().unwrap();
        assert!(line.contains("ttfb 50.0/90.0/99.0"), "{line}");
        assert!(line.contains("90 of 100 requests on reused"), "{line}");
        assert!(!line.contains("tls"), "{line}");
    }

    #[test]
    fn no_requests_no_line() {
        let t = TimingStats::default().summary();
        assert_eq!(t.line(), None);
        let v = serde_json::to_value(&t).unwrap();
        assert!(v["ttfb_ms"].is_null());
        assert_eq!(v["requests"], 0);
    }
}
