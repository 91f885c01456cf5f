//! What a page says about its kind: the types of its structured data, its
//! `og:type`, the shape of its URL, a few counts of its markup.

use serde_json::Value;
use url::Url;

use crate::extract::survey::Survey;

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
}

impl Signals {
    /// The signals of a page surveyed as `survey`, fetched from `url`.
    pub fn read(survey: &Survey, url: Option<&Url>) -> Signals {
        let mut s = Signals::default();
        for object in &survey.json_ld {
            collect_types(object, 0, &mut s.types);
        }
        for itemtype in &survey.itemtypes {
            for t in itemtype.split_ascii_whitespace() {
                let name = t.trim_end_matches('/').rsplit('/').next().unwrap_or(t);
                s.types.push(name.to_string());
            }
        }
        s.og_type = survey
            .meta_of("og:type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let own = survey
            .canonical
            .as_deref()
            .or_else(|| survey.meta_of("og:url"));
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
        s.pre = survey.pre;
        s.linked_headings = survey.linked_headings;
        s.articles = survey.articles;
        s
    }
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
