//! What a page yields: [`Page`], and the last step that makes it from what
//! the collector gathered raw ([`RawPage::finish`]): entities decoded,
//! whitespace collapsed, URLs resolved against the page's URL and its
//! `<base href>`.

use std::collections::HashSet;

use encoding_rs::Encoding;
use serde::ser::{Serialize, SerializeMap, Serializer};
use url::Url;

use super::metadata::{MetaScanner, Metadata};
use crate::budget::Held;
use crate::plan::{Extraction, is_url_attribute};

/// Everything extracted from one page.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    /// `document.title`.
    pub title: Option<String>,
    /// `<meta name=description content>`.
    pub description: Option<String>,
    /// `<html lang>`.
    pub lang: Option<String>,
    /// `--select` results, when asked.
    pub fields: Option<Fields>,
    /// `--links` results, when asked.
    pub links: Option<Vec<String>>,
    /// `--metadata` results, when asked.
    pub metadata: Option<Box<Metadata>>,
    /// `--follow`: what the crawl may follow from the page.
    pub outlinks: Option<Outlinks>,
    /// The body, kept for `--text` / `--markdown`.
    pub body: Option<Body>,
}

/// `fields`: one array of strings per `--select` NAME, in command-line
/// order (serialized as a JSON object).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields(pub Vec<(String, Vec<String>)>);

impl Fields {
    /// Every NAME with no value.
    pub fn empty(extraction: &Extraction) -> Fields {
        Fields(
            extraction
                .selects
                .iter()
                .map(|s| (s.name.clone(), Vec::new()))
                .collect(),
        )
    }

    /// The values of NAME.
    #[cfg(test)]
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            map.serialize_entry(name, values)?;
        }
        map.end()
    }
}

/// What the collector gathered, as the markup had it.
pub struct RawPage {
    /// The first title's text, if a title began.
    pub title: Option<String>,
    /// The head's description.
    pub description: Option<String>,
    /// `<html lang>`.
    pub lang: Option<String>,
    /// The first `<base href>`.
    pub base: Option<String>,
    /// Per `--select`, its values.
    pub values: Vec<Vec<String>>,
    /// The (field, value) pairs that are a `<script>`'s or `<style>`'s raw
    /// text: kept as written.
    pub verbatim: HashSet<(usize, usize)>,
    /// Every `<a href>`, and whether its `rel` says `nofollow`.
    pub links: Vec<(String, bool)>,
    /// `<meta name=robots>`.
    pub robots: RobotsMeta,
    /// What `--metadata` read of the page.
    pub meta: Option<MetaScanner>,
}

impl RawPage {
    /// The finished page; `url` is the page's own (final) URL.
    pub fn finish(self, extraction: &Extraction, url: Option<&Url>) -> Page {
        let base = match (url, &self.base) {
            (Some(url), Some(href)) => url.join(decode(href).trim()).ok(),
            (Some(url), None) => Some(url.clone()),
            (None, _) => None,
        };
        let fields = (!extraction.selects.is_empty())
            .then(|| cook_fields(extraction, self.values, &self.verbatim, base.as_ref()));
        Page {
            title: self.title.map(|t| collapse(&decode(&t))),
            description: self.description.map(|d| collapse(&decode(&d))),
            lang: self.lang.map(|l| decode(&l).into_owned()),
            fields,
            links: extraction.links.then(|| {
                let links = links(base.as_ref(), &self.links);
                links
                    .into_iter()
                    .map(|(url, _)| String::from(url))
                    .collect()
            }),
            outlinks: extraction.follow.then(|| Outlinks {
                links: links(base.as_ref(), &self.links),
                nofollow: self.robots.nofollow,
                noindex: self.robots.noindex,
            }),
            metadata: self.meta.map(|m| Box::new(m.finish(base.as_ref()))),
            body: None,
        }
    }
}

/// Each `--select` value decoded: text collapsed (but a raw-text
/// element's, which is kept as written), URL attributes resolved.
fn cook_fields(
    extraction: &Extraction,
    values: Vec<Vec<String>>,
    verbatim: &HashSet<(usize, usize)>,
    base: Option<&Url>,
) -> Fields {
    let fields = extraction.selects.iter().zip(values).enumerate();
    let fields = fields.map(|(field, (spec, raw))| {
        let url_attr = spec.attr.as_deref().is_some_and(is_url_attribute);
        let cooked = raw
            .into_iter()
            .enumerate()
            .map(|(i, v)| match (&spec.attr, url_attr) {
                (None, _) if verbatim.contains(&(field, i)) => v,
                (None, _) => collapse(&decode(&v)),
                (Some(_), true) => resolve(base, &v),
                (Some(_), false) => decode(&v).into_owned(),
            })
            .collect();
        (spec.name.clone(), cooked)
    });
    Fields(fields.collect())
}

pub fn decode(raw: &str) -> std::borrow::Cow<'_, str> {
    html_escape::decode_html_entities(raw)
}

/// Strips and collapses ASCII whitespace; other spaces (no-break,
/// ideographic) stay, as in `document.title`.
pub fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// An attribute URL resolved against the base; as written when it cannot be.
pub fn resolve(base: Option<&Url>, raw: &str) -> String {
    let value = decode(raw);
    let value = value.trim();
    base.and_then(|b| b.join(value).ok())
        .map(String::from)
        .unwrap_or_else(|| value.to_string())
}

/// The page's links: resolved, http(s) only, without fragment, each once
/// (nofollow when any `<a>` to it says so).
fn links(base: Option<&Url>, raw: &[(String, bool)]) -> Vec<(Url, bool)> {
    let Some(base) = base else {
        return Vec::new();
    };
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut links: Vec<(Url, bool)> = Vec::new();
    for (href, nofollow) in raw {
        let Ok(mut url) = base.join(decode(href).trim()) else {
            continue;
        };
        if !matches!(url.scheme(), "http" | "https") {
            continue;
        }
        url.set_fragment(None);
        match seen.entry(String::from(url.clone())) {
            std::collections::hash_map::Entry::Occupied(at) => links[*at.get()].1 |= *nofollow,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(links.len());
                links.push((url, *nofollow));
            }
        }
    }
    links
}

/// What a page's links may lead a crawl to (`--follow`).
#[derive(Debug, Default, PartialEq)]
pub struct Outlinks {
    /// Every link, absolute, each once, and whether an `<a>` to it has
    /// `rel=nofollow`.
    pub links: Vec<(Url, bool)>,
    /// `<meta name=robots content=nofollow>` (or `none`).
    pub nofollow: bool,
    /// `<meta name=robots content=noindex>` (or `none`).
    pub noindex: bool,
}

/// Appends as much of `text` as keeps `value` within `cap` bytes (cut at a
/// character boundary); returns how many bytes it appended.
pub fn push_capped(value: &mut String, text: &str, cap: usize) -> usize {
    let room = cap.saturating_sub(value.len());
    let mut take = text.len().min(room);
    while !text.is_char_boundary(take) {
        take -= 1;
    }
    value.push_str(&text[..take]);
    take
}

/// Whether an `<a rel>` value says `nofollow`.
pub fn says_nofollow(rel: &str) -> bool {
    rel.split_ascii_whitespace()
        .any(|r| r.eq_ignore_ascii_case("nofollow"))
}

/// What `<meta name=robots>` says, all such tags together.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct RobotsMeta {
    /// Links are not to be followed.
    pub nofollow: bool,
    /// The page is not to be indexed.
    pub noindex: bool,
}

impl RobotsMeta {
    /// Takes in one tag's `content` (`noindex, nofollow`, `none`, …).
    pub fn read(&mut self, content: &str) {
        for word in content.split([',', ' ']).map(str::trim) {
            if word.eq_ignore_ascii_case("nofollow") || word.eq_ignore_ascii_case("none") {
                self.nofollow = true;
            }
            if word.eq_ignore_ascii_case("noindex") || word.eq_ignore_ascii_case("none") {
                self.noindex = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_collapses() {
        assert_eq!(collapse("  a \n\t b  "), "a b");
        assert_eq!(collapse("a\u{a0} b"), "a\u{a0} b");
        assert_eq!(collapse(""), "");
    }

    #[test]
    fn fields_serialize_in_order() {
        let f = Fields(vec![("z".into(), vec!["1".into()]), ("a".into(), vec![])]);
        assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"z":["1"],"a":[]}"#);
    }
}

/// The body of an HTML page, kept for extraction.
#[derive(Debug, PartialEq)]
pub struct Body {
    /// The decoded (content-coding undone) bytes, at most `--max-body`.
    pub bytes: Vec<u8>,
    /// The charset the scanner decided.
    pub encoding: &'static Encoding,
    /// What declared it.
    pub declared: Declared,
    /// Its share of the body budget, given back when the body is dropped.
    pub held: Option<Held>,
}

/// What declared a page's charset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// Nothing: the scanner took UTF-8.
    Nothing,
    /// A `<meta>` in the page.
    Meta,
    /// The Content-Type header or a byte order mark.
    Header,
}
