//! The record (docs/record.md): the one place that defines the output
//! schema.
//!
//! Every input line that is not blank or a comment (and not a skipped
//! duplicate) becomes exactly one [`Record`]. Field names and JSON types are
//! the contract: numbers stay numbers (milliseconds as floats), absent values
//! are `null`, never missing.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::archive::WarcRef;
use crate::crawl::Fields as CrawlFields;
use crate::error::{ErrorKind, FetchError};
use crate::extract::Content;
use crate::fetch::Fetched;
use crate::fetch::timing::{Timing, Timings};
use crate::fetch::tls::Tls;
use crate::fetch::validators::Headers;
use crate::html::metadata::Metadata;
use crate::html::page::Fields;
use crate::input::Job;
use crate::plan::Extraction;
use crate::urls::redact;
use url::Url;

/// The record's fields, in the order records write them, with what they
/// hold: the one list the man page prints and the tests check records
/// against (unit tests here; `tests/it/cli.rs` through `scrape --man`).
/// The first [`BASE`] are in every record; the others only when an option
/// asks for them.
pub const FIELDS: [(&str, &str); 49] = [
    (
        "url",
        "the URL fetched, absolute (a password shown as ***); null when the line is not a URL",
    ),
    ("input", "the line as written, trimmed"),
    (
        "file",
        "the list the line is in, as given (- for standard input)",
    ),
    ("line", "the line's number in its list, from 1"),
    (
        "duplicate_of",
        "a repeated URL: the line of its first record, which has the result; else null",
    ),
    (
        "final_url",
        "the URL of the final response, after redirects; null without a response",
    ),
    (
        "status",
        "the final response's status; null when no response came",
    ),
    (
        "ok",
        "true exactly when error is null and status is below 400",
    ),
    ("content_type", "the final response's Content-Type"),
    ("bytes", "decoded body bytes read"),
    ("truncated", "the body was cut at --max-body"),
    (
        "title",
        "the page's title (document.title); null for no title or not HTML",
    ),
    (
        "description",
        "the head's <meta name=description>; null when absent",
    ),
    ("lang", "the <html lang> attribute; null when absent"),
    ("redirects", "redirects followed"),
    (
        "location",
        "a redirect not followed (--max-redirects 0, a loop, the limit): its Location, absolute; else null",
    ),
    ("attempts", "attempts made; 0 when never fetched"),
    (
        "elapsed_ms",
        "milliseconds from the first attempt's start to the end",
    ),
    (
        "ttfb_ms",
        "milliseconds to the final response's headers; null without a response",
    ),
    (
        "timings",
        "the final request's {dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms, reused}: steps in milliseconds, null where skipped (a reused connection, http's TLS); null without a response",
    ),
    (
        "http_version",
        "the final response's HTTP version: HTTP/1.1, HTTP/2 (with --http2, from a server that takes it) or HTTP/1.0 (an old server); null without a response",
    ),
    ("ip", "the address that answered; null without a response"),
    ("etag", "the final response's ETag; null when absent"),
    (
        "last_modified",
        "the final response's Last-Modified; null when absent",
    ),
    (
        "sha256",
        "SHA-256 (hex) of the decoded body bytes read; null without a response",
    ),
    ("error", "null, or {\"kind\": KIND, \"message\": TEXT}"),
    ("fields", "with --select: NAME -> array of strings"),
    (
        "links",
        "with --links: the page's links, absolute, each once",
    ),
    (
        "metadata",
        "with --metadata: {canonical, alternates, feeds, icons, meta, opengraph, twitter, json_ld, microdata, errors} of an HTML page; null otherwise",
    ),
    (
        "headers",
        "with --headers: the final response's headers, names lower-cased, every value an array of strings",
    ),
    (
        "unchanged",
        "with --since: true when the page is as the earlier run saw it (a 304, or the same status and sha256), false when not, null when the earlier run has no record of it or no response came",
    ),
    (
        "tls",
        "with --tls: {version, cipher, subject, issuer, not_after, days_left, sans} of an HTTPS response; null otherwise",
    ),
    (
        "warc",
        "with --warc: {file, offset, length} of the response record in the archive; null without a response",
    ),
    (
        "page_type",
        "with --text or --markdown: article, forum, product, collection, listing, documentation or service; null for no HTML page",
    ),
    (
        "text",
        "with --text: the page's main content as plain text; null when none",
    ),
    (
        "markdown",
        "with --markdown: the same as Markdown; null when none",
    ),
    (
        "byline",
        "with --text or --markdown: the article's author line, or null",
    ),
    (
        "published",
        "with --text or --markdown: publication date, RFC 3339 (a date when only the date is known), or null",
    ),
    (
        "modified",
        "with --text or --markdown: last change, as published, or null",
    ),
    (
        "site_name",
        "with --text or --markdown: the site's name, or null",
    ),
    (
        "excerpt",
        "with --text or --markdown: the description or first paragraph, or null",
    ),
    (
        "language",
        "with --text or --markdown: the language of the text (ISO 639-1) by a detector; null when too short to tell",
    ),
    (
        "extract_note",
        "with --text or --markdown: why there is no text, or that it was cut; else null",
    ),
    (
        "method",
        "with --method, --data or --json, and on JSON list lines: the request method (a redirect may have turned it into GET: see RFC 9110)",
    ),
    (
        "depth",
        "with --follow or --sitemap: links from the seed (list lines and pages a sitemap lists: 0)",
    ),
    (
        "parent",
        "with --follow or --sitemap: the page or sitemap that led here; null for a list line",
    ),
    (
        "noindex",
        "with --follow or --sitemap: the page says <meta name=robots content=noindex>",
    ),
    (
        "lastmod",
        "with --follow or --sitemap: the lastmod a sitemap gave the page, as written; else null",
    ),
    (
        "sitemap",
        "with --follow or --sitemap: a sitemap's (or site root's) own record: {urls, sitemaps, errors}; else null",
    ),
];

/// How many of [`FIELDS`] every record has.
pub const BASE: usize = 26;

/// One result line.
#[derive(Debug, PartialEq, Serialize)]
pub struct Record {
    /// The parsed absolute URL; null when the line is not a URL.
    pub url: Option<String>,
    /// The line as written.
    pub input: String,
    /// The list it is in, as given on the command line (`-`: standard
    /// input).
    pub file: Arc<str>,
    /// Its 1-based line number in its list.
    pub line: u64,
    /// A repeated URL (dedupe is on): the line of its first record, which
    /// has the result; null otherwise.
    pub duplicate_of: Option<u64>,
    /// The URL of the final response, after redirects.
    pub final_url: Option<String>,
    /// The final response's status; null when no response came.
    pub status: Option<u16>,
    /// True exactly when `error` is null and `status` is below 400.
    pub ok: bool,
    /// The final response's Content-Type header.
    pub content_type: Option<String>,
    /// Decoded body bytes read.
    pub bytes: u64,
    /// The body was cut at `--max-body`.
    pub truncated: bool,
    /// The page's `document.title`; null for non-HTML or no title.
    pub title: Option<String>,
    /// The head's `<meta name=description>` content; null when absent.
    pub description: Option<String>,
    /// The `<html lang>` attribute; null when absent.
    pub lang: Option<String>,
    /// Redirects followed.
    pub redirects: u32,
    /// The final response's `Location`, absolute, when it is a redirect
    /// that was not followed (`--max-redirects 0`, a loop, the limit);
    /// null otherwise.
    pub location: Option<String>,
    /// Attempts made (1 + retries used); 0 when never fetched.
    pub attempts: u32,
    /// Milliseconds from the first attempt's start to the end, all attempts.
    pub elapsed_ms: f64,
    /// Milliseconds from the first attempt's start to the final response's
    /// headers; null when no response came.
    pub ttfb_ms: Option<f64>,
    /// Where the final request's time went; null without a response.
    pub timings: Option<Timings>,
    /// The final response's HTTP version (`HTTP/1.1`; `HTTP/2` with
    /// `--http2`; `HTTP/1.0` from an old server).
    pub http_version: Option<String>,
    /// The IP address that answered.
    pub ip: Option<String>,
    /// The final response's `ETag`.
    pub etag: Option<String>,
    /// The final response's `Last-Modified`.
    pub last_modified: Option<String>,
    /// SHA-256 (hex) of the decoded body bytes read.
    pub sha256: Option<String>,
    /// `--since`: the page is as the earlier run saw it (a 304, or the same
    /// status and sha256); null when the earlier run has no record of the
    /// URL or no response came; only with `--since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged: Option<Option<bool>>,
    /// Why this URL failed, or null.
    pub error: Option<FetchError>,
    /// `--select` results: NAME → strings; only when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
    /// `--links` results; only when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<String>>,
    /// `--metadata`: what the page publishes for machines (null for
    /// non-HTML or no response); only when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Option<Box<Metadata>>>,
    /// `--headers`: the final response's headers; only when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<Headers>,
    /// `--text` / `--markdown`: `text`, `markdown`, `byline`, `published`,
    /// `site_name`, `excerpt`, `extract_note`; only when asked.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// `--tls`: the certificate and TLS of an HTTPS response (null for
    /// http or without a response); only when asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Option<Tls>>,
    /// `--warc`: where the final response's record is in the archive
    /// (null without a response); only in runs with an archive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warc: Option<Option<WarcRef>>,
    /// `-X`, `--data`, `--json`: the request method; only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `--follow` / `--sitemap`: `depth`, `parent`, `noindex`, `lastmod`,
    /// `sitemap`; only in a crawl.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub crawl: Option<CrawlFields>,
}

impl Record {
    /// The record of a fetched URL (passwords in URLs shown as `***`).
    pub fn fetched(job: Job, f: Fetched) -> Record {
        let ok = f.error.is_none() && f.status.is_some_and(|s| s < 400);
        let error = f.error.map(|e| FetchError {
            kind: e.kind,
            message: redact::message(e.message, &[Some(&job.url), f.final_url.as_ref()]),
        });
        Record {
            url: Some(redact::url(&job.url).into_owned()),
            input: redact::line(&job.input).into_owned(),
            file: job.file,
            line: job.line,
            duplicate_of: None,
            final_url: f.final_url.as_ref().map(|u| redact::url(u).into_owned()),
            status: f.status,
            ok,
            content_type: f.content_type,
            bytes: f.bytes,
            truncated: f.truncated,
            title: f.page.title,
            description: f.page.description,
            lang: f.page.lang,
            redirects: f.redirects,
            location: f.location.as_ref().map(|u| redact::url(u).into_owned()),
            attempts: f.attempts,
            elapsed_ms: millis(f.elapsed),
            ttfb_ms: f.ttfb.map(millis),
            timings: f.timing.as_ref().map(Timing::record),
            http_version: f.validators.http_version,
            ip: f.validators.ip,
            etag: f.validators.etag,
            last_modified: f.validators.last_modified,
            sha256: f.sha256,
            unchanged: None,
            error,
            fields: f.page.fields,
            links: f.page.links,
            metadata: f.page.metadata.map(Some),
            headers: f.headers,
            content: None,
            tls: f.tls.map(Some),
            warc: None,
            method: None,
            crawl: None,
        }
    }

    /// The record of a line that is not an http(s) URL.
    pub fn invalid(file: Arc<str>, line: u64, input: String, reason: &str) -> Record {
        let error = FetchError::new(ErrorKind::InvalidUrl, reason);
        Record::failed(file, line, input, None, error)
    }

    /// The record of a repeated URL (dedupe): not fetched, pointing at
    /// the line of its first record.
    pub fn duplicate(
        file: Arc<str>,
        line: u64,
        input: &str,
        url: Option<&Url>,
        first: u64,
    ) -> Record {
        Record {
            duplicate_of: Some(first),
            ..Record::unfetched(file, line, input, url)
        }
    }

    /// Whether this is a repeated URL's record.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate_of.is_some()
    }

    /// The record of a URL whose handling failed before any result, such as a
    /// worker that hit a bug.
    pub fn failed(
        file: Arc<str>,
        line: u64,
        input: String,
        url: Option<&Url>,
        error: FetchError,
    ) -> Record {
        let error = FetchError {
            kind: error.kind,
            message: redact::message(error.message, &[url]),
        };
        Record {
            error: Some(error),
            ..Record::unfetched(file, line, &input, url)
        }
    }

    /// A line that got no response: nothing but where it is.
    fn unfetched(file: Arc<str>, line: u64, input: &str, url: Option<&Url>) -> Record {
        Record {
            url: url.map(|u| redact::url(u).into_owned()),
            input: redact::line(input).into_owned(),
            file,
            line,
            duplicate_of: None,
            final_url: None,
            status: None,
            ok: false,
            content_type: None,
            bytes: 0,
            truncated: false,
            title: None,
            description: None,
            lang: None,
            redirects: 0,
            location: None,
            attempts: 0,
            elapsed_ms: 0.0,
            ttfb_ms: None,
            timings: None,
            http_version: None,
            ip: None,
            etag: None,
            last_modified: None,
            sha256: None,
            unchanged: None,
            error: None,
            fields: None,
            links: None,
            metadata: None,
            headers: None,
            content: None,
            tls: None,
            warc: None,
            method: None,
            crawl: None,
        }
    }

    /// Gives the record the `fields` and `links` the run asks for, empty
    /// where it has none (a failed fetch, a page that is not HTML), so that
    /// every record of a run has the same keys.
    pub fn complete(&mut self, extraction: &Extraction) {
        if self.fields.is_none() && !extraction.selects.is_empty() {
            self.fields = Some(Fields::empty(extraction));
        }
        if self.links.is_none() && extraction.links {
            self.links = Some(Vec::new());
        }
        if self.metadata.is_none() && extraction.metadata {
            self.metadata = Some(None);
        }
        if self.tls.is_none() && extraction.tls {
            self.tls = Some(None);
        }
        if self.method.is_none() {
            self.method.clone_from(&extraction.method);
        }
        if self.crawl.is_none() && extraction.crawl {
            self.crawl = Some(CrawlFields::default());
        }
        if self.unchanged.is_none() && extraction.since {
            self.unchanged = Some(None);
        }
        if self.content.is_none() && extraction.content.any() {
            self.content = Some(Content::none(extraction.content, self.no_content_note()));
        }
    }

    /// Why a record that asked for `--text` has none, when its error does
    /// not say it already: an HTML body would have been extracted, so it is
    /// no body or not HTML.
    fn no_content_note(&self) -> Option<String> {
        let note = match (&self.error, self.bytes) {
            (Some(_), _) => return None,
            (None, 0) => "the response has no body",
            (None, _) => "not an HTML page",
        };
        Some(note.to_string())
    }

    /// `--since`: a 304 whose page data is the earlier run's.
    pub fn not_modified(&self) -> bool {
        self.status == Some(304) && self.unchanged == Some(Some(true))
    }

    /// The error kind, if the record has an error.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error.as_ref().map(|e| e.kind)
    }
}

/// Milliseconds with microsecond precision, as a JSON number.
pub fn millis(d: Duration) -> f64 {
    d.as_micros() as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::page::Page;

    fn job() -> Job {
        Job {
            file: "urls.txt".into(),
            line: 3,
            input: "example.com".into(),
            url: Url::parse("https://example.com/").unwrap(),
            request: None,
        }
    }

    #[test]
    fn every_field_is_present_with_its_json_type() {
        let f = Fetched {
            final_url: Some(job().url),
            status: Some(200),
            content_type: Some("text/html".into()),
            bytes: 1256,
            truncated: false,
            page: Page {
                title: Some("Example Domain".into()),
                ..Page::default()
            },
            redirects: 0,
            attempts: 1,
            elapsed: Duration::from_micros(123_456),
            ttfb: Some(Duration::from_micros(98_100)),
            error: None,
            ..Fetched::default()
        };
        let text = serde_json::to_string(&Record::fetched(job(), f)).unwrap();
        let names: Vec<&str> = FIELDS[..BASE].iter().map(|(n, _)| *n).collect();
        let positions: Vec<usize> = names
            .iter()
            .map(|n| text.find(&format!("\"{n}\":")).unwrap())
            .collect();
        assert!(positions.is_sorted(), "fields out of order: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v.as_object().unwrap().len(), names.len());
        assert_eq!(v["ok"], true);
        assert_eq!(v["elapsed_ms"], 123.456);
        assert_eq!(v["ttfb_ms"], 98.1);
        assert_eq!(v["line"], 3);
        assert_eq!(v["file"], "urls.txt");
        assert!(v["error"].is_null());
    }

    #[test]
    fn http_errors_are_not_ok_but_not_errors() {
        let f = Fetched {
            status: Some(404),
            ..Fetched::default()
        };
        let r = Record::fetched(job(), f);
        assert!(!r.ok);
        assert!(r.error.is_none());
    }

    #[test]
    fn invalid_lines_have_null_url_and_zero_attempts() {
        let r = Record::invalid("-".into(), 3, "example.com".into(), "not a URL");
        let v = serde_json::to_value(&r).unwrap();
        assert!(v["url"].is_null());
        assert_eq!(v["attempts"], 0);
        assert_eq!(v["error"]["kind"], "invalid_url");
        assert_eq!(v["error"]["message"], "not a URL");
        assert!(!r.ok);
    }
}
