//! What a page says about its kind: the types of its structured data, its
//! `og:type`, the shape of its URL, a few counts of its markup.

use dom_query::{Document, NodeRef};
use serde_json::Value;
use url::Url;

use crate::extract::dom;
use crate::html::metadata::jsonld;

/// How deep structured data is searched for types.
const TYPE_DEPTH: usize = 6;

/// What [`super::classify`] decides from.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Signals {
    /// `@type`s of the JSON-LD objects (and of those in their `@graph`,
    /// `mainEntity`, `itemListElement`, `hasPart`), and microdata
    /// `itemtype`s (their last path segment).
    pub types: Vec<String>,
    /// `og:type`, lower-cased.
    pub og_type: String,
    /// The page's URL's host and path, lower-cased: of its canonical URL,
    /// else `og:url`, else the URL it came from.
    pub host: String,
    pub path: String,
    /// `<pre>` elements.
    pub pre: usize,
    /// `<h2>`/`<h3>` elements with a link in them.
    pub linked_headings: usize,
    /// `<article>` elements.
    pub articles: usize,
    /// The JSON-LD objects (for the product's description).
    pub json_ld: Vec<Value>,
}

impl Signals {
    /// The signals of `doc`, fetched from `url`.
    pub fn read(doc: &Document, url: Option<&Url>) -> Signals {
        let mut s = Signals::default();
        for script in doc.select("script[type]").nodes() {
            let is_jsonld = script.attr("type").is_some_and(|t| {
                let essence = t.split(';').next().unwrap_or_default().trim();
                essence.eq_ignore_ascii_case("application/ld+json")
            });
            if is_jsonld {
                s.json_ld
                    .extend(jsonld::parse(&script.text()).unwrap_or_default());
            }
        }
        for object in &s.json_ld {
            collect_types(object, 0, &mut s.types);
        }
        for item in doc.select("[itemtype]").nodes() {
            if let Some(itemtype) = item.attr("itemtype") {
                for t in itemtype.split_ascii_whitespace() {
                    let name = t.trim_end_matches('/').rsplit('/').next().unwrap_or(t);
                    s.types.push(name.to_string());
                }
            }
        }
        s.og_type = meta(doc, "og:type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let own = doc
            .select_single("link[rel=canonical]")
            .attr("href")
            .map(|h| h.to_string())
            .or_else(|| meta(doc, "og:url"));
        let page = own
            .and_then(|own| match url {
                Some(url) => url.join(own.trim()).ok(),
                None => Url::parse(own.trim()).ok(),
            })
            .or_else(|| url.cloned());
        if let Some(page) = page {
            s.host = page.host_str().unwrap_or_default().to_ascii_lowercase();
            s.path = page.path().to_ascii_lowercase();
        }
        for node in doc.select("pre, h2, h3, article").nodes() {
            match dom::tag(node).as_deref() {
                Some("pre") => s.pre += 1,
                Some("article") => s.articles += 1,
                _ if has_link_child(node) => s.linked_headings += 1,
                _ => {}
            }
        }
        s
    }
}

/// The `content` of `<meta property=NAME>` (or `name=NAME`).
fn meta(doc: &Document, name: &str) -> Option<String> {
    doc.select("meta[property], meta[name]")
        .nodes()
        .iter()
        .find(|m| {
            let key = m.attr("property").or_else(|| m.attr("name"));
            key.is_some_and(|k| k.trim().eq_ignore_ascii_case(name))
        })
        .and_then(|m| m.attr("content"))
        .map(|c| c.trim().to_string())
}

fn has_link_child(node: &NodeRef) -> bool {
    node.children_it(false).any(|c| c.has_name("a"))
}

/// The `@type`s in a JSON-LD value, down to [`TYPE_DEPTH`].
fn collect_types(value: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > TYPE_DEPTH {
        return;
    }
    match value {
        Value::Object(object) => {
            match object.get("@type") {
                Some(Value::String(t)) => out.push(t.clone()),
                Some(Value::Array(ts)) => {
                    out.extend(ts.iter().filter_map(|t| t.as_str().map(str::to_string)));
                }
                _ => {}
            }
            for key in ["@graph", "mainEntity", "itemListElement", "hasPart"] {
                if let Some(inner) = object.get(key) {
                    collect_types(inner, depth + 1, out);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_types(item, depth + 1, out);
            }
        }
        _ => {}
    }
}
