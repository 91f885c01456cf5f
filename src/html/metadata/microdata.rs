//! schema.org microdata (`itemscope`, `itemtype`, `itemprop`) as objects
//! shaped like JSON-LD: `@type`, `@id`, then each property; an item that is
//! a property's value nested in it.
//!
//! The streaming parser meets items as they open, so they are kept in an
//! arena ([`Items`]) while the page streams — each property's value a
//! string, a URL still to resolve, or the index of a nested item — and
//! assembled into JSON at the end ([`Items::finish`]). Values follow the
//! HTML standard: `content` (also taken on elements other than `<meta>`,
//! as schema.org's examples do), `src`/`href`/`data` resolved to absolute
//! URLs, `value`, `datetime`, else the element's text.
//!
//! Bounded: at most [`MAX_ITEMS`] items and [`MAX_PROPS`] properties a
//! page, items nested at most [`MAX_NESTING`] deep; what is left out is
//! counted.

use encoding_rs::Encoding;
use serde_json::{Map, Value};
use url::Url;

use crate::html::page;

/// The most items one page yields.
pub const MAX_ITEMS: usize = 10_000;

/// The most properties, all items together.
pub const MAX_PROPS: usize = 20_000;

/// The deepest items nest in one another.
pub const MAX_NESTING: usize = 32;

/// A property's value as the page gave it: bytes in the page's charset,
/// character references not decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    /// Text (an element's text or an attribute), not yet collapsed.
    Text(Vec<u8>),
    /// A URL attribute, resolved at the end against the page's base.
    Url(Vec<u8>),
    /// A nested item.
    Item(usize),
}

/// One item.
#[derive(Debug, Default)]
struct Item {
    types: Vec<String>,
    id: Option<String>,
    props: Vec<(String, Raw)>,
}

/// Every item of a page, as met.
#[derive(Debug, Default)]
pub struct Items {
    items: Vec<Item>,
    /// Items that are no property's value.
    top: Vec<usize>,
    props: usize,
    /// Items and properties left out by the bounds.
    pub dropped: usize,
}

impl Items {
    /// A new item (`itemtype`, `itemid` as written), as the value of
    /// property `names` of item `parent` or at the top; `None` when the
    /// bounds leave it out.
    pub fn open(
        &mut self,
        itemtype: Option<&str>,
        itemid: Option<String>,
        parent: Option<(usize, &str)>,
        depth: usize,
    ) -> Option<usize> {
        if self.items.len() >= MAX_ITEMS || depth >= MAX_NESTING {
            self.dropped += 1;
            return None;
        }
        let index = self.items.len();
        self.items.push(Item {
            types: itemtype
                .map(|t| t.split_ascii_whitespace().map(str::to_string).collect())
                .unwrap_or_default(),
            id: itemid,
            props: Vec::new(),
        });
        match parent {
            Some((parent, names)) => {
                self.add(parent, names, Raw::Item(index));
            }
            None => self.top.push(index),
        }
        Some(index)
    }

    /// Adds a value under each of `names` (space-separated) to item
    /// `item`; where it went (item, property index), for text that comes
    /// later, or `None` when the bounds leave it out.
    pub fn add(&mut self, item: usize, names: &str, value: Raw) -> Option<(usize, usize)> {
        let mut at = None;
        for name in names.split_ascii_whitespace() {
            if self.props >= MAX_PROPS {
                self.dropped += 1;
                return at;
            }
            let props = &mut self.items.get_mut(item)?.props;
            props.push((name.to_string(), value.clone()));
            self.props += 1;
            at.get_or_insert((item, props.len() - 1));
        }
        at
    }

    /// The text value at `at` (from [`Items::add`]), to append to; every
    /// other name of the same element gets a copy at the end.
    pub fn text_mut(&mut self, at: (usize, usize)) -> Option<&mut Vec<u8>> {
        match self.items.get_mut(at.0)?.props.get_mut(at.1)? {
            (_, Raw::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// Whether there is no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The top-level items as JSON: values decoded from `encoding`, URLs
    /// resolved against `base`.
    pub fn finish(self, base: Option<&Url>, encoding: &'static Encoding) -> Vec<Value> {
        let out = Out { base, encoding };
        self.top.iter().map(|&i| self.to_json(i, &out, 0)).collect()
    }

    fn to_json(&self, index: usize, out: &Out<'_>, depth: usize) -> Value {
        let Some(item) = self.items.get(index) else {
            return Value::Null;
        };
        let mut object = Map::new();
        let (context, types) = vocabulary(&item.types);
        if let Some(context) = context.filter(|_| depth == 0) {
            object.insert("@context".into(), Value::String(context.into()));
        }
        match types.len() {
            0 => {}
            1 => {
                object.insert("@type".into(), Value::String(types[0].clone()));
            }
            _ => {
                object.insert(
                    "@type".into(),
                    types.into_iter().map(Value::String).collect(),
                );
            }
        }
        if let Some(id) = &item.id {
            object.insert("@id".into(), Value::String(id.clone()));
        }
        for (name, raw) in &item.props {
            let value = match raw {
                Raw::Text(text) => Value::String(page::collapse(&page::decode(&out.text(text)))),
                Raw::Url(url) => Value::String(page::resolve(out.base, &out.text(url))),
                Raw::Item(i) if depth < MAX_NESTING => self.to_json(*i, out, depth + 1),
                Raw::Item(_) => Value::Null,
            };
            match object.get_mut(name) {
                Some(Value::Array(values)) => values.push(value),
                Some(first) => {
                    let first = std::mem::take(first);
                    object.insert(name.clone(), Value::Array(vec![first, value]));
                }
                None => {
                    object.insert(name.clone(), value);
                }
            }
        }
        Value::Object(object)
    }
}

/// `@context` and the short type names when every `itemtype` is in one
/// schema.org vocabulary (`http://schema.org/Product` → `Product`), else
/// no context and the types as written.
fn vocabulary(types: &[String]) -> (Option<&'static str>, Vec<String>) {
    for context in ["https://schema.org", "http://schema.org"] {
        let short: Option<Vec<String>> = types
            .iter()
            .map(|t| {
                let rest = t.strip_prefix(context)?.strip_prefix('/')?;
                (!rest.is_empty()).then(|| rest.trim_end_matches('/').to_string())
            })
            .collect();
        if let Some(short) = short.filter(|s| !s.is_empty()) {
            return (Some(context), short);
        }
    }
    (None, types.to_vec())
}

/// How values are written out.
struct Out<'a> {
    base: Option<&'a Url>,
    encoding: &'static Encoding,
}

impl Out<'_> {
    /// Bytes of the page to text.
    fn text<'b>(&self, bytes: &'b [u8]) -> std::borrow::Cow<'b, str> {
        self.encoding.decode_without_bom_handling(bytes).0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_items_and_repeated_properties() {
        let mut items = Items::default();
        let product = items
            .open(Some("http://schema.org/Product"), None, None, 0)
            .unwrap();
        let name = items.add(product, "name", Raw::Text(Vec::new())).unwrap();
        items
            .text_mut(name)
            .unwrap()
            .extend_from_slice(b"  Standing\n desk &amp; ");
        items.add(product, "image", Raw::Url(b"/a.jpg".to_vec()));
        items.add(product, "image", Raw::Url(b"b.jpg".to_vec()));
        let offer = items
            .open(
                Some("http://schema.org/Offer"),
                None,
                Some((product, "offers")),
                1,
            )
            .unwrap();
        items.add(
            offer,
            "price priceSpecification",
            Raw::Text(b"12.99".to_vec()),
        );
        let base = Url::parse("https://shop.example/p/desk").unwrap();
        assert_eq!(
            items.finish(Some(&base), encoding_rs::UTF_8),
            vec![json!({
                "@context": "http://schema.org",
                "@type": "Product",
                "name": "Standing desk &",
                "image": ["https://shop.example/a.jpg", "https://shop.example/p/b.jpg"],
                "offers": {"@type": "Offer",
                           "price": "12.99", "priceSpecification": "12.99"},
            })]
        );
    }

    #[test]
    fn other_vocabularies_keep_their_types() {
        let mut items = Items::default();
        items.open(
            Some("https://example.org/Thing"),
            Some("#t".into()),
            None,
            0,
        );
        assert_eq!(
            items.finish(None, encoding_rs::UTF_8),
            vec![json!({"@type": "https://example.org/Thing", "@id": "#t"})]
        );
    }

    #[test]
    fn bounds_are_kept_and_counted() {
        let mut items = Items::default();
        let top = items.open(None, None, None, 0).unwrap();
        for _ in 0..MAX_PROPS + 5 {
            items.add(top, "p", Raw::Text(b"x".to_vec()));
        }
        assert_eq!(items.dropped, 5);
        assert!(items.open(None, None, None, MAX_NESTING).is_none());
        assert_eq!(items.dropped, 6);
    }
}
