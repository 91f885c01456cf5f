//! `--metadata`: what a page publishes for machines (docs/extraction.md),
//! collected in the same streaming pass as the title, with no DOM.
//!
//! - `<link>`: `canonical`, `alternates` (hreflang), `feeds` (RSS, Atom,
//!   JSON Feed), `icons`; URLs resolved against the page and `<base href>`.
//! - `<meta>`: `og:*` into `opengraph`, `twitter:*` into `twitter`, every
//!   other `name` (and `property`, such as `article:published_time`) into
//!   `meta`; keys lower-cased, a value a string, or an array of strings
//!   where the page repeats the key (`og:image`).
//! - `json_ld`: every object of every `<script type="application/ld+json">`
//!   ([`jsonld`]: lenient, `@graph` flattened); a block that cannot be read
//!   is skipped and said in `errors`.
//! - `microdata`: schema.org microdata as JSON-LD-shaped objects
//!   ([`microdata`]).
//!
//! The page's own parser stops after the head; [`MetaScanner`] reads the
//! body on its own, with a tokenizer ([`tokens`]) that skips what cannot
//! hold metadata.
//!
//! Bounded ([`scan`] has the per-kind caps): the whole object is at most
//! [`MAX_BYTES`] of JSON — past that, objects are left out from the end and
//! `errors` says so.

pub mod jsonld;
pub mod microdata;
mod scan;
mod tokens;

pub use scan::MetaScanner;

use serde::de::{Deserializer, Error as _};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The most JSON one page's `metadata` takes.
pub const MAX_BYTES: usize = 256 * 1024;

/// The most entries `errors` lists.
pub const MAX_ERRORS: usize = 16;

/// `metadata` of one page.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// `<link rel=canonical>`, absolute.
    pub canonical: Option<String>,
    /// `<link rel=alternate hreflang>`: the page in other languages.
    #[serde(default)]
    pub alternates: Vec<Alternate>,
    /// `<link rel=alternate>` to RSS, Atom and JSON feeds.
    #[serde(default)]
    pub feeds: Vec<Feed>,
    /// `<link rel=icon>` (and `apple-touch-icon`, `mask-icon`), absolute.
    #[serde(default)]
    pub icons: Vec<String>,
    /// `<meta name>` (and `property` other than `og:`/`twitter:`) values.
    #[serde(default)]
    pub meta: Props,
    /// `og:*`, without the prefix.
    #[serde(default)]
    pub opengraph: Props,
    /// `twitter:*`, without the prefix.
    #[serde(default)]
    pub twitter: Props,
    /// Every JSON-LD object, `@graph` members flattened in.
    #[serde(default)]
    pub json_ld: Vec<Value>,
    /// schema.org microdata items, shaped like JSON-LD.
    #[serde(default)]
    pub microdata: Vec<Value>,
    /// What could not be read, or was left out.
    #[serde(default)]
    pub errors: Vec<String>,
}

/// A translation of the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternate {
    pub hreflang: String,
    pub url: String,
}

/// A feed the page links to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feed {
    #[serde(rename = "type")]
    pub kind: String,
    pub url: String,
    pub title: Option<String>,
}

/// Keys and their values in page order: one value is a JSON string, a key
/// the page repeats an array.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Props(pub Vec<(String, Vec<String>)>);

impl Props {
    /// Adds a value under `key`.
    pub fn push(&mut self, key: String, value: String) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => self.0.push((key, vec![value])),
        }
    }
}

impl Serialize for Props {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, values) in &self.0 {
            match values.as_slice() {
                [one] => map.serialize_entry(key, one)?,
                many => map.serialize_entry(key, many)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Props {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Props, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(d)?;
        let mut props = Props::default();
        for (key, value) in map {
            let values = match value {
                Value::String(s) => vec![s],
                Value::Array(items) => items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s),
                        _ => Err(D::Error::custom("a metadata value is not a string")),
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(D::Error::custom("a metadata value is not a string")),
            };
            props.0.push((key, values));
        }
        Ok(props)
    }
}

impl Metadata {
    /// Keeps the whole within [`MAX_BYTES`] of JSON: drops microdata, then
    /// JSON-LD objects, then `meta`/`opengraph`/`twitter` entries, from the
    /// end, and says so in `errors`.
    ///
    /// `most` is an upper bound of the JSON's size known from what was read
    /// ([`json_bound`]); under the cap, nothing needs measuring.
    pub fn bound(&mut self, most: usize) {
        if most <= MAX_BYTES {
            return;
        }
        let mut total = json_size(self);
        if total <= MAX_BYTES {
            return;
        }
        let mut left_out = 0;
        // Room for the note itself.
        let limit = MAX_BYTES - 256;
        let mut shrink = |len: usize, total: &mut usize| {
            *total = total.saturating_sub(len + 1);
            left_out += 1;
        };
        while total > limit {
            if let Some(v) = self.microdata.pop() {
                shrink(json_len(&v), &mut total);
            } else if let Some(v) = self.json_ld.pop() {
                shrink(json_len(&v), &mut total);
            } else if let Some((k, v)) = self
                .meta
                .0
                .pop()
                .or_else(|| self.opengraph.0.pop())
                .or_else(|| self.twitter.0.pop())
            {
                shrink(
                    k.len() + v.iter().map(|s| s.len() + 3).sum::<usize>(),
                    &mut total,
                );
            } else {
                // What is left is links and errors: small by their caps.
                break;
            }
        }
        self.errors.truncate(MAX_ERRORS - 1);
        self.errors.push(format!(
            "metadata cut at {} KiB: {left_out} objects or values left out",
            MAX_BYTES / 1024
        ));
    }
}

fn json_len(v: &Value) -> usize {
    json_size(v)
}

/// Bytes of `value` as JSON, counted without keeping them.
fn json_size(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

/// An upper bound of the JSON that `bytes` read bytes in `entries` values
/// can become: each byte at most six (`\u0001`), each value at most 64
/// more (key, quotes, punctuation) plus the page's URL (a relative URL
/// resolved against it), and the object's own keys.
pub fn json_bound(bytes: usize, entries: usize, url_len: usize) -> usize {
    bytes
        .saturating_mul(6)
        .saturating_add(entries.saturating_mul(64 + url_len))
        .saturating_add(1024)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn props_are_strings_or_arrays_and_read_back() {
        let mut p = Props::default();
        p.push("title".into(), "T".into());
        p.push("image".into(), "a.jpg".into());
        p.push("image".into(), "b.jpg".into());
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(v, json!({"title": "T", "image": ["a.jpg", "b.jpg"]}));
        let back: Props = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn too_much_is_cut_from_the_end_and_said() {
        let mut m = Metadata::default();
        for i in 0..100 {
            m.json_ld
                .push(json!({"@type": "Thing", "n": i, "text": "x".repeat(10_000)}));
        }
        m.bound(usize::MAX);
        let len = serde_json::to_vec(&m).unwrap().len();
        assert!(len <= MAX_BYTES, "{len}");
        assert!(m.json_ld.len() > 20 && m.json_ld.len() < 30);
        assert_eq!(m.json_ld[0]["n"], 0, "the first objects are kept");
        assert!(m.errors.last().unwrap().contains("cut at 256 KiB"));
    }
}
