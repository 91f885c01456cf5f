//! `-v`: one line on stderr per event, each starting with its time (UTC,
//! milliseconds), so that `--delay`, retries and robots waits can be
//! checked from the log alone:
//!
//! ```text
//! 2026-12-07T14:55:01.123Z scrape: GET http://a.example/ -> 200 HTTP/1.1 in 12.3 ms
//! ```

use std::fmt;

/// Writes one `-v` line, whole (`eprintln!` locks stderr).
pub fn verbose(line: fmt::Arguments) {
    eprintln!("{} scrape: {line}", stamp(chrono::Utc::now()));
}

/// Writes one warning line (always, not only with `-v`): something went
/// wrong that the run survives.
pub fn warn(line: fmt::Arguments) {
    eprintln!("scrape: warning: {line}");
}

fn stamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_rfc3339_utc_with_milliseconds() {
        let at = chrono::DateTime::from_timestamp_millis(1_765_119_301_123).unwrap();
        assert_eq!(stamp(at), "2025-12-07T14:55:01.123Z");
    }
}
