//! The article's date as ISO 8601.
//!
//! Pages write dates in the metadata (`article:published_time`, JSON-LD
//! `datePublished`, …) mostly as ISO 8601 already, but also as RFC 2822,
//! without a time zone, or with a space for the `T`. Those that parse are
//! written as RFC 3339 (a profile of ISO 8601): with their offset, or as a
//! local time or a date when the page gave no more. Anything else is kept
//! as the page wrote it.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Local date-time shapes tried after RFC 3339 and RFC 2822.
const LOCAL: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Date-time shapes with an offset that RFC 3339 does not allow.
const ZONED: [&str; 3] = [
    "%Y-%m-%d %H:%M:%S%.f%:z",
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f %z",
];

/// `date` in ISO 8601 when it parses, else as given (trimmed).
pub fn iso8601(date: &str) -> String {
    let date = date.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(date) {
        return t.to_rfc3339();
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(date) {
        return t.to_rfc3339();
    }
    for shape in ZONED {
        if let Ok(t) = DateTime::parse_from_str(date, shape) {
            return t.to_rfc3339();
        }
    }
    for shape in LOCAL {
        if let Ok(t) = NaiveDateTime::parse_from_str(date, shape) {
            return t.format("%Y-%m-%dT%H:%M:%S").to_string();
        }
    }
    match NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        Ok(day) if date.len() == 10 => day.format("%Y-%m-%d").to_string(),
        _ => date.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn dates_become_iso_8601() {
        let cases = [
            ("2024-03-05T10:20:30Z", "2024-03-05T10:20:30+00:00"),
            (
                "2024-03-05T10:20:30.5+01:00",
                "2024-03-05T10:20:30.500+01:00",
            ),
            ("Tue, 05 Mar 2024 10:20:30 GMT", "2024-03-05T10:20:30+00:00"),
            ("2024-03-05 10:20:30", "2024-03-05T10:20:30"),
            ("2024-03-05T10:20", "2024-03-05T10:20:00"),
            ("2024-03-05T10:20:30+0100", "2024-03-05T10:20:30+01:00"),
            (" 2024-03-05 ", "2024-03-05"),
            ("March 5th, 2024", "March 5th, 2024"),
            ("2024-13-45", "2024-13-45"),
            ("", ""),
        ];
        for (given, want) in cases {
            assert_eq!(iso8601(given), want, "{given}");
        }
    }
}
