//! `--since PREV.jsonl`: a re-run that only downloads what changed
//! (docs/archive.md "Re-runs").
//!
//! PREV is indexed once ([`index`]: URL fingerprint → line); for each URL
//! a worker reads its earlier record back ([`Since::lookup`]), and:
//! - when that record has an `etag` or a `last_modified` and can stand in
//!   for a new one — no error, a 2xx status (or none written), and
//!   everything this run extracts (each `--select` name, `links`,
//!   `metadata`, `text`, `markdown`) — the request to its final URL (its `url` when it has no
//!   `final_url`) carries `If-None-Match` / `If-Modified-Since`;
//! - a `304 Not Modified` then yields a record marked `unchanged: true`
//!   carrying PREV's page data (content type, bytes, title, description,
//!   lang, sha256, fields, links, metadata, text…) with this run's status, timings,
//!   address and validators ([`apply`]);
//! - a response with PREV's status and `sha256` is `unchanged: true` too;
//!   any other response is `unchanged: false`; no response, or a URL PREV
//!   does not have, is `unchanged: null`.

mod document;
pub mod index;

use std::collections::BTreeMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use serde::{Deserialize, Deserializer};
use url::Url;

use crate::error::Fatal;
use crate::extract::{Content, Kind};
use crate::fetch::validators::Conditional;
use crate::html::metadata::Metadata;
use crate::html::page::Fields;
use crate::plan::Extraction;
use crate::record::Record;
use crate::urls::redact;
use index::Index;

/// The earlier run's records, indexed.
pub struct Since {
    file: File,
    index: Index,
    unreadable: u64,
}

/// What PREV held.
#[derive(Debug, Clone, Copy)]
pub struct Counts {
    /// Records with a URL (the last of each URL counts).
    pub records: u64,
    /// Lines (or elements of a JSON document) that are not records: torn,
    /// not JSON; their URLs are fetched as new.
    pub unreadable: u64,
}

/// An earlier record of a URL, and the conditional request it allows.
pub struct Prev {
    record: Earlier,
    /// Validators to send, when the earlier record can stand in for a new
    /// one.
    pub conditional: Option<Conditional>,
}

/// What is read back of an earlier record.
#[derive(Deserialize)]
struct Earlier {
    url: Option<String>,
    final_url: Option<String>,
    status: Option<u16>,
    error: Option<serde_json::Value>,
    content_type: Option<String>,
    #[serde(default)]
    bytes: u64,
    #[serde(default)]
    truncated: bool,
    title: Option<String>,
    description: Option<String>,
    lang: Option<String>,
    etag: Option<String>,
    last_modified: Option<String>,
    sha256: Option<String>,
    fields: Option<BTreeMap<String, Vec<String>>>,
    links: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present_metadata")]
    metadata: Option<Option<Box<Metadata>>>,
    #[serde(default, deserialize_with = "present")]
    text: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    markdown: Option<Option<String>>,
    page_type: Option<Kind>,
    byline: Option<String>,
    published: Option<String>,
    modified: Option<String>,
    site_name: Option<String>,
    excerpt: Option<String>,
    language: Option<String>,
    extract_note: Option<String>,
}

/// A field that is there, null or not: `Some`; missing: `None` (default).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `metadata`, there (null or not) or missing, as [`present`].
fn present_metadata<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<Box<Metadata>>>, D::Error> {
    Option::<Box<Metadata>>::deserialize(d).map(Some)
}

impl Since {
    /// Indexes `path`: JSON Lines, or a `--format json` document
    /// ([`document`]). Fails when it cannot be read, or holds no record
    /// with a URL.
    pub fn open(path: &Path) -> Result<Since, Fatal> {
        let input_error = |e| Fatal::Input {
            path: path.to_path_buf(),
            source: e,
        };
        let mut file = File::open(path).map_err(input_error)?;
        let mut unreadable = 0;
        if document::is_document(&file).map_err(input_error)?
            && let Some(lines) = document::to_lines(&file).map_err(input_error)?
        {
            file = lines.file;
            unreadable = lines.unreadable;
        }
        let index = Index::build(&file).map_err(input_error)?;
        let since = Since {
            file,
            unreadable: unreadable + index.unreadable,
            index,
        };
        if since.index.len() == 0 {
            return Err(Fatal::Usage(format!(
                "--since {}: no record with a URL in it ({} unreadable, {} without a URL): \
                 --since reads the output of an earlier scrape run, JSON Lines or --format json",
                path.display(),
                summary_count(since.unreadable, "line"),
                summary_count(since.index.without_url, "record"),
            )));
        }
        Ok(since)
    }

    /// What PREV held.
    pub fn counts(&self) -> Counts {
        Counts {
            records: self.index.len() as u64,
            unreadable: self.unreadable,
        }
    }

    /// The earlier record of `url`, if PREV has one; with the validators
    /// to send when it could stand in for this run's (see the module doc).
    /// Out of line: its parsing must not widen the worker's frame, under
    /// which the fetch waits.
    #[inline(never)]
    pub fn lookup(&self, url: &Url, extraction: &Extraction) -> Option<Prev> {
        let key = redact::url(url);
        let (offset, length) = self.index.find(&key)?;
        let mut line = vec![0; length];
        self.file.read_exact_at(&mut line, offset).ok()?;
        let record: Earlier = serde_json::from_slice(&line).ok()?;
        if record.url.as_deref() != Some(&*key) {
            return None;
        }
        let conditional = record
            .stands_in_for(extraction)
            .then(|| {
                let target = record.final_url.as_deref().or(record.url.as_deref());
                let url = Url::parse(target?).ok()?;
                Conditional::new(url, record.etag.as_deref(), record.last_modified.as_deref())
            })
            .flatten();
        Some(Prev {
            record,
            conditional,
        })
    }
}

impl Earlier {
    /// Whether this record has what a run with `extraction` writes, from
    /// a successful response (a record written by hand may leave out
    /// `status` and `sha256`).
    fn stands_in_for(&self, extraction: &Extraction) -> bool {
        let fields = &self.fields;
        let has_fields = extraction
            .selects
            .iter()
            .all(|s| fields.as_ref().is_some_and(|f| f.contains_key(&s.name)));
        let wanted = extraction.content;
        self.error.as_ref().is_none_or(serde_json::Value::is_null)
            && self.status.is_none_or(|s| (200..300).contains(&s))
            && has_fields
            && (!extraction.links || self.links.is_some())
            && (!extraction.metadata || self.metadata.is_some())
            && (!wanted.text || self.text.is_some())
            && (!wanted.markdown || self.markdown.is_some())
    }
}

/// "1 line", "3 lines".
fn summary_count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Marks `record` against its earlier one (`None`: PREV does not have
/// the URL), and fills a 304's record with the earlier page data.
pub fn apply(prev: Option<Prev>, record: &mut Record, extraction: &Extraction) {
    let Some(Prev {
        record: earlier,
        conditional,
    }) = prev
    else {
        record.unchanged = Some(None);
        return;
    };
    let unchanged = if record.status == Some(304) && conditional.is_some() {
        carry(earlier, record, extraction);
        Some(true)
    } else if record.status.is_none() {
        None
    } else {
        Some(
            record.error.is_none()
                && record.status == earlier.status
                && record.sha256.is_some()
                && record.sha256 == earlier.sha256,
        )
    };
    record.unchanged = Some(unchanged);
}

/// The earlier page data into a 304's record; this run's status, timings,
/// address, and validators when the 304 sent new ones, stay.
fn carry(earlier: Earlier, record: &mut Record, extraction: &Extraction) {
    record.content_type = earlier.content_type;
    record.bytes = earlier.bytes;
    record.truncated = earlier.truncated;
    record.title = earlier.title;
    record.description = earlier.description;
    record.lang = earlier.lang;
    record.sha256 = earlier.sha256;
    record.etag = record.etag.take().or(earlier.etag);
    record.last_modified = record.last_modified.take().or(earlier.last_modified);
    if let Some(mut fields) = earlier.fields.filter(|_| !extraction.selects.is_empty()) {
        let named = extraction.selects.iter().map(|s| {
            let values = fields.remove(&s.name).unwrap_or_default();
            (s.name.clone(), values)
        });
        record.fields = Some(Fields(named.collect()));
    }
    if extraction.links {
        record.links = earlier.links;
    }
    if extraction.metadata {
        record.metadata = earlier.metadata;
    }
    if extraction.content.any() {
        let mut content = Content::none(extraction.content, earlier.extract_note);
        content.text = earlier.text.flatten();
        content.markdown = earlier.markdown.flatten();
        content.page_type = earlier.page_type;
        content.byline = earlier.byline;
        content.published = earlier.published;
        content.modified = earlier.modified;
        content.site_name = earlier.site_name;
        content.excerpt = earlier.excerpt;
        content.language = earlier.language;
        record.content = Some(content);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Fetched;
    use crate::input::Job;
    use crate::record::FIELDS;

    /// What `Earlier` reads is what records write: a record serialized and
    /// read back keeps every value `--since` carries (a renamed field would
    /// come back empty), and each of those names is one of the record's.
    #[test]
    fn an_earlier_record_is_read_by_the_record_s_own_field_names() {
        let f = Fetched {
            final_url: Some(Url::parse("https://a.example/x").unwrap()),
            status: Some(200),
            content_type: Some("text/html".into()),
            bytes: 12,
            sha256: Some("ab".into()),
            validators: crate::fetch::validators::Validators {
                etag: Some("\"v1\"".into()),
                last_modified: Some("Mon, 01 Jan 2024 00:00:00 GMT".into()),
                ..Default::default()
            },
            ..Fetched::default()
        };
        let mut record = Record::fetched(Job::for_test("https://a.example/"), f);
        record.title = Some("T".into());
        let line = serde_json::to_vec(&record).unwrap();
        let earlier: Earlier = serde_json::from_slice(&line).unwrap();
        assert_eq!(earlier.url.as_deref(), Some("https://a.example/"));
        assert_eq!(earlier.final_url.as_deref(), Some("https://a.example/x"));
        assert_eq!(earlier.status, Some(200));
        assert_eq!(earlier.title.as_deref(), Some("T"));
        assert_eq!(earlier.etag.as_deref(), Some("\"v1\""));
        assert!(earlier.last_modified.is_some() && earlier.sha256.is_some());
        assert_eq!(earlier.bytes, 12);
        let value = serde_json::to_value(&record).unwrap();
        for key in value.as_object().unwrap().keys() {
            assert!(FIELDS.iter().any(|(n, _)| n == key), "{key}");
        }
    }
}
