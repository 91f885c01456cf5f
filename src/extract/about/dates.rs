//! Dates as pages write them, to RFC 3339: one format, so that readers of
//! the records (DuckDB, pandas) type the column as a date.
//!
//! - A date and time with an offset: `2019-08-02T15:57:41+00:00` (whole
//!   seconds).
//! - Only a date, or a date and time without an offset (a local time
//!   whose zone the page does not say): the date, `2019-11-18`.
//! - What does not parse — or is not a plausible publication date (before
//!   1900, or more than a year ahead) — is no date (`None`).
//!
//! Shapes read: RFC 3339 and ISO 8601 variants (a space for `T`, `+0100`
//! offsets, no seconds), RFC 2822 (`Tue, 05 Mar 2024 10:20:30 GMT`),
//! `2024/03/05`, `05.03.2024` (day first, as dots write it), and English
//! month names (`March 5th, 2024`, `5 Mar 2024`). Slashed dates with the
//! day or month first are ambiguous (`03/05/2024`) and not read.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use regex::Regex;

/// Date-time shapes with an offset that RFC 3339 does not allow.
const ZONED: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f %z",
    "%Y-%m-%dT%H:%M%:z",
];

/// Local date-time shapes: the date is kept.
const LOCAL: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Date shapes.
const DATES: [&str; 10] = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%Y",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d %Y",
    "%b %d %Y",
];

/// `date` as RFC 3339, or `None` (see the module doc).
pub fn rfc3339(date: &str) -> Option<String> {
    let date = date.trim();
    if date.is_empty() || date.len() > 64 {
        return None;
    }
    if let Some(t) = zoned(date) {
        return plausible(t.date_naive()).then(|| t.to_rfc3339_opts(SecondsFormat::Secs, false));
    }
    let day = local(date).or_else(|| day(date))?;
    plausible(day).then(|| day.format("%Y-%m-%d").to_string())
}

fn zoned(date: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(date)
        .ok()
        .or_else(|| DateTime::parse_from_rfc2822(date).ok())
        .or_else(|| {
            ZONED
                .iter()
                .find_map(|s| DateTime::parse_from_str(date, s).ok())
        })
}

fn local(date: &str) -> Option<NaiveDate> {
    LOCAL
        .iter()
        .find_map(|s| NaiveDateTime::parse_from_str(date, s).ok())
        .map(|t| t.date())
}

fn day(date: &str) -> Option<NaiveDate> {
    // `March 5th, 2024`: ordinal suffixes go.
    let plain = strip_ordinals(date);
    DATES
        .iter()
        .find_map(|s| NaiveDate::parse_from_str(&plain, s).ok())
}

/// `5th` → `5` (and `1st`, `2nd`, `3rd`).
fn strip_ordinals(date: &str) -> String {
    static ORDINAL: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"(?i)(\d)(st|nd|rd|th)\b").ok());
    match ORDINAL.as_ref() {
        Some(re) => re.replace_all(date, "$1").into_owned(),
        None => date.to_string(),
    }
}

/// A publication date: from 1900 to a year from now.
fn plausible(day: NaiveDate) -> bool {
    day.year() >= 1900 && day.year() <= Utc::now().year() + 1
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn dates_become_rfc_3339_or_nothing() {
        let cases = [
            ("2024-03-05T10:20:30Z", Some("2024-03-05T10:20:30+00:00")),
            (
                "2024-03-05T10:20:30.5+01:00",
                Some("2024-03-05T10:20:30+01:00"),
            ),
            (
                "Tue, 05 Mar 2024 10:20:30 GMT",
                Some("2024-03-05T10:20:30+00:00"),
            ),
            (
                "2024-03-05T10:20:30+0100",
                Some("2024-03-05T10:20:30+01:00"),
            ),
            ("2024-03-05 10:20:30", Some("2024-03-05")),
            ("2024-03-05T10:20", Some("2024-03-05")),
            (" 2024-03-05 ", Some("2024-03-05")),
            ("March 5th, 2024", Some("2024-03-05")),
            ("5 Mar 2024", Some("2024-03-05")),
            ("05.03.2024", Some("2024-03-05")),
            ("2024/03/05", Some("2024-03-05")),
            ("03/05/2024", None),
            ("2024-13-45", None),
            ("0001-01-01", None),
            ("yesterday", None),
            ("", None),
        ];
        for (given, want) in cases {
            assert_eq!(rfc3339(given).as_deref(), want, "{given}");
        }
    }
}
