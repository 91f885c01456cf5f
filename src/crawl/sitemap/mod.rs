//! Sitemaps (sitemaps.org), read as a stream (`--sitemap`).
//!
//! A sitemap is a `<urlset>` of `<url>`s (each a `<loc>` and maybe a
//! `<lastmod>`) or a `<sitemapindex>` of `<sitemap>`s, XML, maybe gzipped
//! (told by its first bytes, whatever the name or headers say); or a plain
//! text file of URLs, one a line. It is read with `quick-xml` as events, a
//! `<loc>` at a time, so memory does not grow with its size; past the
//! protocol's limits (50 000 URLs, 50 MB uncompressed) reading stops and
//! the record says so. Entities other than XML's five and character
//! references are not expanded: a document that defines its own (a
//! "billion laughs" bomb) gets an error, not gigabytes.
//!
//! A site root's robots.txt names its sitemaps in `Sitemap:` lines
//! ([`robots_sitemaps`]).

use std::io::{BufRead, BufReader, Read};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use flate2::read::MultiGzDecoder;
use quick_xml::Reader;
use quick_xml::events::Event;
use url::Url;

/// The most entries one sitemap may list (the protocol's limit).
pub const MAX_ENTRIES: u64 = 50_000;

/// The most bytes of one sitemap read, uncompressed (the protocol's 50 MB).
pub const MAX_BYTES: u64 = 50 * 1000 * 1000;

/// The longest `<loc>` or `<lastmod>` kept (a URL is far shorter).
const MAX_TEXT: usize = 64 * 1024;

/// What a sitemap lists.
#[derive(Debug, PartialEq)]
pub enum Found {
    /// A page, with its `lastmod` as written.
    Page(Url, Option<String>),
    /// Another sitemap (a sitemap index's entry).
    Sitemap(Url),
}

/// What reading a sitemap came to: entries are handed out as they are
/// read; these are the problems met, in words (reading stops at the first
/// that breaks the document).
#[derive(Debug, Default)]
pub struct Reading {
    /// Bytes read, uncompressed.
    pub bytes: u64,
    /// What could not be read.
    pub errors: Vec<String>,
}

/// Reads the sitemap `body` (fetched from `base`), handing each entry to
/// `found`; reading stops early when `found` returns false.
pub fn read(body: impl Read, base: &Url, mut found: impl FnMut(Found) -> bool) -> Reading {
    let mut raw = BufReader::with_capacity(64 * 1024, body);
    let gzipped = raw
        .fill_buf()
        .is_ok_and(|head| head.starts_with(&[0x1f, 0x8b]));
    let counted = Counted::new(match gzipped {
        true => Box::new(MultiGzDecoder::new(raw)) as Box<dyn Read>,
        false => Box::new(raw),
    });
    let mut input = BufReader::with_capacity(64 * 1024, counted);
    let mut reading = Reading::default();
    let text = match input.fill_buf() {
        Ok(head) => !String::from_utf8_lossy(head)
            .trim_start_matches('\u{feff}')
            .trim_start()
            .starts_with('<'),
        Err(e) => {
            reading.errors.push(format!("cannot read the sitemap: {e}"));
            return reading;
        }
    };
    let mut entries = 0u64;
    let mut each = |f: Found, errors: &mut Vec<String>| {
        entries += 1;
        if entries > MAX_ENTRIES {
            errors.push(format!(
                "more than {MAX_ENTRIES} entries, the protocol's limit: the rest is not read"
            ));
            return false;
        }
        found(f)
    };
    if text {
        read_text(&mut input, base, &mut reading.errors, &mut each);
    } else {
        read_xml(&mut input, base, &mut reading.errors, &mut each);
    }
    let counted = input.get_ref();
    reading.bytes = counted.read;
    if counted.read > MAX_BYTES {
        reading.errors.push(format!(
            "larger than {MAX_BYTES} bytes uncompressed, the protocol's limit: the rest is not read"
        ));
    }
    reading
}

/// A reader that stops after [`MAX_BYTES`] (+1, to tell) and counts.
struct Counted<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Counted<R> {
    fn new(inner: R) -> Counted<R> {
        Counted { inner, read: 0 }
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = (MAX_BYTES + 1).saturating_sub(self.read);
        if left == 0 {
            return Ok(0);
        }
        let n = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = self.inner.read(&mut buf[..n])?;
        self.read += got as u64;
        Ok(got)
    }
}

type Each<'a> = dyn FnMut(Found, &mut Vec<String>) -> bool + 'a;

/// A text sitemap: one URL a line.
fn read_text(input: &mut impl BufRead, base: &Url, errors: &mut Vec<String>, each: &mut Each) {
    let mut line = String::new();
    loop {
        line.clear();
        match input.read_line(&mut line) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) => {
                errors.push(format!("cannot read the sitemap: {e}"));
                return;
            }
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        match page(base, text) {
            Ok(url) => {
                if !each(Found::Page(url, None), errors) {
                    return;
                }
            }
            Err(e) => errors.push(e),
        }
    }
}

/// Where the reader is in an XML sitemap.
#[derive(Default)]
struct Entry {
    /// Inside `<url>` (false: `<sitemap>`).
    page: bool,
    loc: Option<String>,
    lastmod: Option<String>,
}

/// An XML sitemap or sitemap index, event by event.
fn read_xml(input: &mut impl BufRead, base: &Url, errors: &mut Vec<String>, each: &mut Each) {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut state = Xml::default();
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                let at = reader.buffer_position();
                errors.push(format!("broken XML at byte {at}: {e}"));
                return;
            }
        };
        if !state.take(event, base, errors, each) {
            return;
        }
    }
}

/// What the XML reader has gathered so far.
#[derive(Default)]
struct Xml {
    entry: Option<Entry>,
    /// The element whose text is being gathered (`loc`: true, `lastmod`:
    /// false), and the text.
    field: Option<(bool, String)>,
}

impl Xml {
    /// Takes in one event; false when reading ends.
    fn take(
        &mut self,
        event: Event,
        base: &Url,
        errors: &mut Vec<String>,
        each: &mut Each,
    ) -> bool {
        match event {
            Event::Eof => {
                if self.entry.is_some() {
                    errors.push("the sitemap ends inside an entry".into());
                }
                return false;
            }
            Event::Start(e) => match e.local_name().as_ref() {
                "url" => {
                    self.entry = Some(Entry {
                        page: true,
                        ..Entry::default()
                    })
                }
                "sitemap" => self.entry = Some(Entry::default()),
                "loc" if self.entry.is_some() => self.field = Some((true, String::new())),
                "lastmod" if self.entry.is_some() => self.field = Some((false, String::new())),
                _ => {}
            },
            Event::Text(t) => push_text(&mut self.field, &t),
            Event::CData(t) => push_text(&mut self.field, &t),
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    _ => predefined(&r),
                };
                let Some(c) = ch else {
                    errors.push(format!(
                        "the entity &{}; is not expanded (only XML's own are)",
                        &*r
                    ));
                    return false;
                };
                push_text(&mut self.field, c.encode_utf8(&mut [0; 4]));
            }
            Event::End(e) => return self.end(e.local_name().as_ref(), base, errors, each),
            _ => {}
        }
        true
    }

    /// An element ends; false when reading ends.
    fn end(&mut self, name: &str, base: &Url, errors: &mut Vec<String>, each: &mut Each) -> bool {
        match name {
            "loc" | "lastmod" => {
                if let (Some(entry), Some((is_loc, text))) =
                    (self.entry.as_mut(), self.field.take())
                {
                    let text = text.trim().to_string();
                    match is_loc {
                        true => entry.loc = Some(text),
                        false => entry.lastmod = Some(text),
                    }
                }
                true
            }
            "url" | "sitemap" => match self.entry.take() {
                Some(done) => emit(done, base, errors, each),
                None => true,
            },
            _ => true,
        }
    }
}

fn push_text(field: &mut Option<(bool, String)>, text: &str) {
    if let Some((_, value)) = field
        && value.len() + text.len() <= MAX_TEXT
    {
        value.push_str(text);
    }
}

/// XML's five predefined entities.
fn predefined(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    }
}

/// Hands a finished entry on; false to stop.
fn emit(entry: Entry, base: &Url, errors: &mut Vec<String>, each: &mut Each) -> bool {
    let Some(loc) = entry.loc.filter(|l| !l.is_empty()) else {
        errors.push("an entry without <loc>".into());
        return true;
    };
    match page(base, &loc) {
        Ok(url) if entry.page => each(Found::Page(url, entry.lastmod), errors),
        Ok(url) => each(Found::Sitemap(url), errors),
        Err(e) => {
            errors.push(e);
            true
        }
    }
}

/// A listed URL, absolute and http(s).
fn page(base: &Url, loc: &str) -> Result<Url, String> {
    let shown: String = loc.chars().take(200).collect();
    match base.join(loc) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
        Ok(_) => Err(format!("{shown:?} is not an http(s) URL")),
        Err(e) => Err(format!("{shown:?} is not a URL ({e})")),
    }
}

/// A `lastmod` (W3C Datetime: a date, or a date and time with a zone) or a
/// `--sitemap-since` value (then a time without a zone is UTC) as an
/// instant; `None` when it is neither.
pub fn parse_lastmod(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    // A minute without seconds, with a zone (W3C Datetime allows it).
    if let Some(at) = text
        .get(..16)
        .zip(text.get(16..))
        .and_then(|(hm, zone)| DateTime::parse_from_rfc3339(&format!("{hm}:00{zone}")).ok())
    {
        return Some(at.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d"))
        .or_else(|_| NaiveDate::parse_from_str(&format!("{text}-01-01"), "%Y-%m-%d"))
        .ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

/// The sitemaps a robots.txt names (`Sitemap:` lines, any case).
pub fn robots_sitemaps(body: &str, base: &Url) -> Vec<Url> {
    body.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case("sitemap").then_some(value)
        })
        .filter_map(|value| page(base, value.split('#').next()?.trim()).ok())
        .collect()
}

#[cfg(test)]
mod tests;
