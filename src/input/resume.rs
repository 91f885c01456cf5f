//! `--resume`: finish a list whose earlier run was interrupted.
//!
//! The earlier run's output (`-o PATH`, JSON Lines) is read back before any
//! request: every whole record is kept, and its line is marked done — by the
//! record's `line` number and `input` text (hashed). Its `url` is kept too
//! (as dedupe does: a hash, fragment ignored) with the line of its first
//! record, so that a later line with the same URL gets a `duplicate_of`
//! record pointing there, as it would have in one run — while with
//! `--no-dedupe` it is fetched. A resumed run's summary thus counts every
//! line once: `resumed` (records kept) and the new records. A torn last line (no newline: the run was killed
//! mid-write) is dropped and the file truncated to the last complete line.
//! The new run then appends only the records of lines not done, so over all
//! runs every line gets exactly one record and every URL is fetched once.
//!
//! A complete line that is not a record means PATH is not a scrape output:
//! that is an error, and nothing is changed.
//!
//! With `--retry-errors`, a record whose error is transient (`dns`,
//! `connect`, `timeout`, `body`, `http`, `internal`: the network or the
//! server may do better next time) does not mark its line done: the line is
//! fetched again and its new record appended. Until the run ends the file
//! holds both (a crash then loses nothing, and a later `--resume` takes any
//! record that is not a transient error as done); at the end [`compact`]
//! rewrites it — a new file beside it, synced, renamed over it — keeping
//! one record per line: the last.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use std::collections::{BTreeMap, BTreeSet};

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};
use url::Url;

use super::request::{self, LineRequest, identity, is_json};
use super::seen::{FingerprintSet, FirstLines};
use crate::error::Fatal;
use crate::urls::redact;

/// The lines an earlier run already finished.
#[derive(Default)]
pub struct Done {
    keys: RandomState,
    /// Each kept record's line: its number and text ([`Done::line_key`]).
    lines: FingerprintSet,
    /// Each kept record's URL and the line of its first record, for the
    /// duplicates of done lines.
    urls: FirstLines,
    /// Pages a crawl found (records with a `parent`): their URLs.
    crawled: Crawled,
    /// Records kept from the earlier run.
    pub kept: u64,
    /// A torn last line was dropped.
    pub dropped_torn_line: bool,
    /// Lines to fetch again (`--retry-errors`).
    pub retried: u64,
    /// The keys the earlier records have (those of the first record, and
    /// `headers` if any has it); `None` when there was none.
    pub shape: Option<Shape>,
    /// Whether any earlier record got a response.
    pub responded: bool,
}

/// What the earlier run did for one line of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prior {
    /// The line has its record.
    Record,
    /// The line has none, but its URL has a record on another line: with
    /// dedupe, this line is a duplicate of that line (its number here),
    /// as in one uninterrupted run.
    SameUrl(u64),
    /// Nothing: the line is still to do.
    Nothing,
}

/// The fields of a record that identify its line, its error kind, and
/// which of the keys that options add it has.
#[derive(Deserialize)]
struct Seen {
    url: Option<String>,
    input: String,
    line: u64,
    #[serde(default)]
    duplicate_of: Option<u64>,
    /// A crawl's record of a page it found (not a list line's).
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    error: Option<SeenError>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default, deserialize_with = "names")]
    fields: Option<BTreeSet<String>>,
    #[serde(default, deserialize_with = "there")]
    links: bool,
    #[serde(default, deserialize_with = "there")]
    metadata: bool,
    #[serde(default, deserialize_with = "there")]
    headers: bool,
    #[serde(default, deserialize_with = "there")]
    text: bool,
    #[serde(default, deserialize_with = "there")]
    markdown: bool,
    #[serde(default, deserialize_with = "there")]
    tls: bool,
    #[serde(default, deserialize_with = "there")]
    warc: bool,
    #[serde(default, deserialize_with = "there")]
    unchanged: bool,
}

/// The keys options add to every record, as a run's records show them:
/// what a resumed run must ask for again so that every record of the file
/// has one shape.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Shape {
    /// `--select`: the names.
    pub fields: Option<BTreeSet<String>>,
    /// `--links`.
    pub links: bool,
    /// `--metadata`.
    pub metadata: bool,
    /// `--headers` (only on records with a response).
    pub headers: bool,
    /// `--text`.
    pub text: bool,
    /// `--markdown`.
    pub markdown: bool,
    /// `--tls`.
    pub tls: bool,
    /// `--warc`.
    pub warc: bool,
    /// `--since`.
    pub unchanged: bool,
}

/// A key that is there, whatever its value (null too).
fn there<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// The names of `fields`.
fn names<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeSet<String>>, D::Error> {
    let fields = Option::<BTreeMap<String, IgnoredAny>>::deserialize(d)?;
    Ok(Some(
        fields.map(|f| f.into_keys().collect()).unwrap_or_default(),
    ))
}

impl Shape {
    /// What differs between the records of an earlier run (`self`) and
    /// those of a run asking for `now`, by option; `responded`: whether an
    /// earlier record got a response (`headers` is on those only).
    pub fn differences(&self, now: &Shape, responded: bool) -> Vec<String> {
        let mut out = Vec::new();
        let flags = [
            ("--links", self.links, now.links),
            ("--metadata", self.metadata, now.metadata),
            (
                "--headers",
                self.headers || !responded && now.headers,
                now.headers,
            ),
            ("--text", self.text, now.text),
            ("--markdown", self.markdown, now.markdown),
            ("--tls", self.tls, now.tls),
            ("--warc", self.warc, now.warc),
            ("--since", self.unchanged, now.unchanged),
        ];
        for (option, before, after) in flags {
            match (before, after) {
                (true, false) => out.push(format!(
                    "the earlier records were written with {option}, this run does not ask for it"
                )),
                (false, true) => out.push(format!(
                    "this run asks for {option}, the earlier records were written without it"
                )),
                _ => {}
            }
        }
        let list = |names: &Option<BTreeSet<String>>| match names {
            Some(n) if !n.is_empty() => n.iter().cloned().collect::<Vec<_>>().join(", "),
            _ => "none".to_string(),
        };
        let empty = BTreeSet::new();
        let (before, after) = (
            self.fields.as_ref().unwrap_or(&empty),
            now.fields.as_ref().unwrap_or(&empty),
        );
        if before != after {
            out.push(format!(
                "--select names differ: the earlier records have {}, this run asks for {}",
                list(&self.fields),
                list(&now.fields)
            ));
        }
        out
    }
}

#[derive(Deserialize)]
struct SeenError {
    kind: String,
}

impl Seen {
    fn shape(&self) -> Shape {
        Shape {
            fields: self.fields.clone(),
            links: self.links,
            metadata: self.metadata,
            headers: self.headers,
            text: self.text,
            markdown: self.markdown,
            tls: self.tls,
            warc: self.warc,
            unchanged: self.unchanged,
        }
    }

    /// Whether the record's error is one another attempt may not have.
    fn is_transient(&self) -> bool {
        self.error.as_ref().is_some_and(|e| {
            matches!(
                e.kind.as_str(),
                "dns" | "connect" | "timeout" | "body" | "http" | "internal"
            )
        })
    }
}

impl Done {
    /// What the earlier run did for line number `line` of its list, with
    /// this URL (if it is one) and text.
    pub fn prior(
        &self,
        line: u64,
        url: Option<&Url>,
        request: Option<&LineRequest>,
        input: &str,
    ) -> Prior {
        if self.lines.contains(self.line_key(line, input)) {
            Prior::Record
        } else if let Some(first) = url.and_then(|u| self.urls.get(self.url_key(u, request))) {
            Prior::SameUrl(first)
        } else {
            Prior::Nothing
        }
    }

    /// A line's key: its number and its text as records write it (a
    /// password masked). Not the list's path: a resume may spell it
    /// differently (`./urls.txt`). Two lists given together with the same
    /// text on the same line number share a key, which only matters with
    /// `--no-dedupe`.
    fn line_key(&self, line: u64, input: &str) -> u64 {
        self.keys.hash_one((line, redact::line(input).as_ref()))
    }

    /// A URL's key: as records write it (a password masked), without
    /// its fragment; with a JSON line's method and body (as dedupe's).
    fn url_key(&self, url: &Url, request: Option<&LineRequest>) -> u64 {
        let shown = redact::url(url);
        let shown = &shown[..url_without_fragment(&shown)];
        self.keys.hash_one(identity(shown, request))
    }

    fn add(&mut self, seen: Seen, retry_errors: bool) {
        self.responded |= seen.status.is_some();
        match &mut self.shape {
            Some(shape) => shape.headers |= seen.headers,
            None => self.shape = Some(seen.shape()),
        }
        if retry_errors && seen.is_transient() {
            self.retried += 1;
            return;
        }
        if seen.parent.is_some() {
            if let Some(Ok(url)) = seen.url.as_deref().map(Url::parse) {
                self.crawled.insert(&url);
            }
            self.kept += 1;
            return;
        }
        let key = self.line_key(seen.line, &seen.input);
        self.lines.insert(key);
        if let Some(Ok(url)) = seen.url.as_deref().map(Url::parse) {
            // A JSON line's request is in its `input`, as written.
            let request = is_json(&seen.input)
                .then(|| request::parse(&seen.input).ok())
                .flatten();
            let key = self.url_key(&url, request.as_ref().map(|(_, r)| r));
            // A duplicate's record names the first line; it may come
            // before that line's record (it was written at once).
            self.urls
                .insert_first(key, seen.duplicate_of.unwrap_or(seen.line));
        }
        self.kept += 1;
    }
}

impl Done {
    /// The pages an earlier crawl found and wrote records of, for the
    /// frontier (`crate::crawl`): they are seen, and not fetched again.
    pub fn take_crawled(&mut self) -> Crawled {
        std::mem::take(&mut self.crawled)
    }
}

/// URLs that have records, as written (`url`: the crawl's normal form).
#[derive(Default)]
pub struct Crawled {
    keys: RandomState,
    urls: FingerprintSet,
}

impl Crawled {
    fn insert(&mut self, url: &Url) {
        let key = self.keys.hash_one(redact::url(url).as_ref());
        self.urls.insert(key);
    }

    /// Whether `url` has a record.
    pub fn contains(&self, url: &Url) -> bool {
        self.urls
            .contains(self.keys.hash_one(redact::url(url).as_ref()))
    }
}

/// Where the fragment of a serialized URL starts (or its end).
fn url_without_fragment(url: &str) -> usize {
    url.find('#').unwrap_or(url.len())
}

/// Reads `-o PATH` back (`--resume`): the lines its records finished, or,
/// with `retry_errors`, those whose records are not transient errors.
pub fn prepare(path: &Path, retry_errors: bool) -> Result<Done, Fatal> {
    let input_error = |e: io::Error| Fatal::Input {
        path: path.to_path_buf(),
        source: e,
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Done::default()),
        Err(e) => return Err(input_error(e)),
    };
    let mut done = Done::default();
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::new();
    let mut whole_bytes: u64 = 0;
    let mut number = 0u64;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(input_error)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            done.dropped_torn_line = true;
            break;
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            whole_bytes += n as u64;
            continue;
        }
        let seen: Seen = serde_json::from_slice(&line).map_err(|e| {
            Fatal::Usage(format!(
                "--resume: line {number} of {} is not a scrape record ({e}); \
                 is it a JSON Lines output of scrape?",
                path.display()
            ))
        })?;
        done.add(seen, retry_errors);
        whole_bytes += n as u64;
    }
    if done.dropped_torn_line {
        OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(whole_bytes))
            .map_err(|e| Fatal::Output {
                path: path.to_path_buf(),
                source: e,
            })?;
    }
    Ok(done)
}

/// After a `--retry-errors` run: rewrites `path` keeping, for every line
/// that has a transient-error record, only its last record (its retry, or
/// the error again). The new file is written beside the old one, synced and
/// renamed over it, under the output's lock: a crash leaves one or the
/// other, whole. A record that is not a transient error is always kept.
pub fn compact(path: &Path) -> Result<(), Fatal> {
    let fail = |e: io::Error| Fatal::Output {
        path: path.to_path_buf(),
        source: e,
    };
    let held = File::open(path).map_err(fail)?;
    if held.try_lock().is_err() {
        return Ok(()); // Another run has it now: it stays valid as it is.
    }
    let done = Done::default();
    let last = last_records(path, &done).map_err(fail)?;
    let name = path
        .file_name()
        .map_or("output".into(), |n| n.to_string_lossy());
    let tmp = path.with_file_name(format!(".{name}.scrape-compact"));
    let written = write_compacted(path, &tmp, &done, &last).map_err(fail);
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// For every line with a transient-error record, the number of its last
/// record (records counted from 0).
fn last_records(path: &Path, keys: &Done) -> io::Result<HashMap<u64, u64>> {
    let mut last = HashMap::new();
    for_each_record(path, |i, seen, _| {
        let key = keys.line_key(seen.line, &seen.input);
        if seen.is_transient() || last.contains_key(&key) {
            last.insert(key, i);
        }
    })?;
    Ok(last)
}

/// Copies the records of `path` to `tmp` but the superseded ones; syncs it.
fn write_compacted(
    path: &Path,
    tmp: &Path,
    keys: &Done,
    last: &HashMap<u64, u64>,
) -> io::Result<()> {
    let out = File::create(tmp)?;
    out.lock()?;
    let mut writer = io::BufWriter::new(&out);
    for_each_record(path, |i, seen, raw| {
        let superseded =
            seen.is_transient() && last.get(&keys.line_key(seen.line, &seen.input)) != Some(&i);
        if !superseded {
            let _ = writer.write_all(raw);
        }
    })?;
    writer.flush()?;
    drop(writer);
    out.sync_all()
}

/// Calls `each` with every whole record of `path`: its number, its
/// identifying fields and its line as written.
fn for_each_record(path: &Path, mut each: impl FnMut(u64, Seen, &[u8])) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(64 * 1024, File::open(path)?);
    let mut line = Vec::new();
    let mut i = 0;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            return Ok(());
        }
        if let Ok(seen) = serde_json::from_slice::<Seen>(&line) {
            each(i, seen, &line);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    #[test]
    fn missing_file_means_nothing_done() {
        let done = prepare(Path::new("/nonexistent/never/there.jsonl"), false).unwrap();
        assert_eq!(done.kept, 0);
    }

    #[test]
    fn whole_records_are_kept_and_a_torn_line_is_cut() {
        let text = "{\"url\":\"http://a.example/x#f\",\"input\":\"a.example/x\",\"line\":1}\n\
                    {\"url\":null,\"input\":\"not a url\",\"line\":2}\n\
                    {\"url\":\"http://b.exa";
        let f = file_with(text);
        let done = prepare(f.path(), false).unwrap();
        assert_eq!(done.kept, 2);
        assert!(done.dropped_torn_line);
        let a = Url::parse("http://a.example/x").unwrap();
        let b = Url::parse("http://b.example/").unwrap();
        assert_eq!(done.prior(1, Some(&a), None, "a.example/x"), Prior::Record);
        assert_eq!(done.prior(3, Some(&b), None, "b.example"), Prior::Nothing);
        assert_eq!(done.prior(2, None, None, "not a url"), Prior::Record);
        assert_eq!(done.prior(4, None, None, "not a url"), Prior::Nothing);
        let left = std::fs::read_to_string(f.path()).unwrap();
        assert!(left.ends_with("\"not a url\",\"line\":2}\n"), "{left}");
    }

    #[test]
    fn a_line_is_done_by_its_number_and_text_and_its_url_marks_duplicates() {
        let text = "{\"url\":\"http://a.example/\",\"input\":\"a.example\",\"line\":1}\n";
        let done = prepare(file_with(text).path(), false).unwrap();
        let a = Url::parse("http://a.example/#top").unwrap();
        assert_eq!(done.prior(1, Some(&a), None, "a.example"), Prior::Record);
        // The same URL on a later line: no record of its own.
        assert_eq!(
            done.prior(5, Some(&a), None, "a.example/#top"),
            Prior::SameUrl(1)
        );
        // Line 1 changed since: not the line that has the record.
        assert_eq!(
            done.prior(1, Some(&a), None, "http://a.example/"),
            Prior::SameUrl(1)
        );
    }

    #[test]
    fn a_foreign_file_is_refused_untouched() {
        let f = file_with("hello world\n{\"url\":null,\"input\":\"x\",\"line\":1}\n{\"torn");
        assert!(matches!(prepare(f.path(), false), Err(Fatal::Usage(_))));
        let left = std::fs::read_to_string(f.path()).unwrap();
        assert!(left.ends_with("{\"torn"));
    }

    #[test]
    fn retry_errors_leaves_transient_failures_undone() {
        let text = "{\"url\":\"http://a/\",\"input\":\"a\",\"line\":1,\"error\":{\"kind\":\"timeout\",\"message\":\"m\"}}\n\
                    {\"url\":\"http://b/\",\"input\":\"b\",\"line\":2,\"error\":{\"kind\":\"tls\",\"message\":\"m\"}}\n\
                    {\"url\":\"http://c/\",\"input\":\"c\",\"line\":3,\"error\":null}\n";
        let f = file_with(text);
        let url = |s: &str| Url::parse(s).unwrap();
        let plain = prepare(f.path(), false).unwrap();
        assert_eq!(
            plain.prior(1, Some(&url("http://a/")), None, "a"),
            Prior::Record
        );
        let retry = prepare(f.path(), true).unwrap();
        assert_eq!(
            retry.prior(1, Some(&url("http://a/")), None, "a"),
            Prior::Nothing,
            "timeouts are tried again"
        );
        assert_eq!(
            retry.prior(2, Some(&url("http://b/")), None, "b"),
            Prior::Record,
            "a bad certificate stays bad"
        );
        assert_eq!(
            retry.prior(3, Some(&url("http://c/")), None, "c"),
            Prior::Record
        );
        assert_eq!((retry.kept, retry.retried), (2, 1));
    }

    #[test]
    fn compaction_keeps_the_last_record_of_each_retried_line() {
        let rec = |u: &str, kind: Option<&str>| match kind {
            Some(k) => format!(
                "{{\"url\":\"http://{u}/\",\"input\":\"{u}\",\"line\":1,\"error\":{{\"kind\":\"{k}\",\"message\":\"m\"}}}}\n"
            ),
            None => {
                format!("{{\"url\":\"http://{u}/\",\"input\":\"{u}\",\"line\":1,\"error\":null}}\n")
            }
        };
        let text = [
            rec("a", Some("timeout")),
            rec("b", None),
            rec("c", Some("dns")),
            rec("d", Some("tls")),
            rec("a", None),
            rec("c", Some("dns")),
        ]
        .concat();
        let f = file_with(&text);
        compact(f.path()).unwrap();
        let left = std::fs::read_to_string(f.path()).unwrap();
        let expected = [
            rec("b", None),
            rec("d", Some("tls")),
            rec("a", None),
            rec("c", Some("dns")),
        ]
        .concat();
        assert_eq!(left, expected);
        compact(f.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(f.path()).unwrap(),
            expected,
            "idempotent"
        );
    }
}
