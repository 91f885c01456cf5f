//! One walk over the parsed page, before any extractor changes it, for
//! what the page kind ([`super::kind`]), the page's own metadata
//! ([`super::about`]) and the choice between the extractors need: a
//! dozen CSS selections cost a dozen walks (measured: 0.2 ms a page of the
//! article corpora), this one walk costs one.

use std::collections::HashMap;

use dom_query::{Document, NodeRef};
use serde_json::Value;

use super::dom;
use crate::html::metadata::jsonld;

/// Elements whose text is not shown.
const UNSHOWN: [&str; 4] = ["script", "style", "template", "head"];

/// What the walk found.
#[derive(Debug, Default)]
pub struct Survey {
    /// Every JSON-LD object (`@graph` flattened).
    pub json_ld: Vec<Value>,
    /// Every microdata `itemtype` as written.
    pub itemtypes: Vec<String>,
    /// `<meta>` contents by `property`, `name` and `itemprop`
    /// (lower-cased), the first of each.
    pub metas: HashMap<String, String>,
    /// The first `<link rel=canonical>`'s and `<base>`'s `href`.
    pub canonical: Option<String>,
    pub base: Option<String>,
    /// `<pre>`, `<h2>`/`<h3>` with a link in them, `<article>`.
    pub pre: usize,
    pub linked_headings: usize,
    pub articles: usize,
    /// `<time datetime>`: its value, whether it says it is the
    /// publication date (`pubdate`, `itemprop=datePublished`), whether it
    /// is in an `<article>`.
    pub times: Vec<(String, bool, bool)>,
    /// Words a reader could see, and those of them in `<p>` elements.
    pub words: usize,
    pub paragraph_words: usize,
    /// Bytes of the text in `<p>` elements, white space not counted.
    pub paragraph_chars: usize,
}

impl Survey {
    /// Walks `doc`.
    pub fn of(doc: &Document) -> Survey {
        let mut s = Survey::default();
        s.walk(&doc.root(), Context::default());
        s
    }

    fn walk(&mut self, node: &NodeRef, cx: Context) {
        for child in node.children_it(false) {
            let Some(tag) = dom::tag(&child) else {
                if !cx.unshown
                    && let Some(text) = dom::text_of(&child)
                {
                    let words = dom::words(&text);
                    self.words += words;
                    if cx.in_p {
                        self.paragraph_words += words;
                        self.paragraph_chars +=
                            text.split_whitespace().map(str::len).sum::<usize>();
                    }
                }
                continue;
            };
            let mut inner = cx;
            match &*tag {
                "script" => self.script(&child),
                "meta" => self.meta(&child),
                "link" if self.canonical.is_none() => {
                    let rel = child.attr("rel").unwrap_or_default().to_ascii_lowercase();
                    if rel.split_ascii_whitespace().any(|r| r == "canonical") {
                        self.canonical = child.attr("href").map(|h| h.to_string());
                    }
                }
                "base" if self.base.is_none() => {
                    self.base = child.attr("href").map(|h| h.to_string());
                }
                "pre" => self.pre += 1,
                "h2" | "h3" if child.children_it(false).any(|c| c.has_name("a")) => {
                    self.linked_headings += 1;
                }
                "article" => {
                    self.articles += 1;
                    inner.in_article = true;
                }
                "p" => inner.in_p = true,
                "time" => self.time(&child, cx.in_article),
                _ => {}
            }
            if let Some(itemtype) = child.attr("itemtype") {
                self.itemtypes.push(itemtype.to_string());
            }
            if UNSHOWN.contains(&&*tag) {
                inner.unshown = true;
            }
            self.walk(&child, inner);
        }
    }

    fn script(&mut self, script: &NodeRef) {
        let is_jsonld = script.attr("type").is_some_and(|t| {
            let essence = t.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/ld+json")
        });
        if is_jsonld {
            self.json_ld
                .extend(jsonld::parse(&script.text()).unwrap_or_default());
        }
    }

    fn meta(&mut self, meta: &NodeRef) {
        let Some(content) = meta.attr("content") else {
            return;
        };
        for key in ["property", "name", "itemprop"] {
            if let Some(k) = meta.attr(key) {
                self.metas
                    .entry(k.trim().to_ascii_lowercase())
                    .or_insert_with(|| content.trim().to_string());
            }
        }
    }

    fn time(&mut self, time: &NodeRef, in_article: bool) {
        let Some(datetime) = time.attr("datetime") else {
            return;
        };
        let tagged = time.has_attr("pubdate")
            || time
                .attr("itemprop")
                .is_some_and(|i| i.trim().eq_ignore_ascii_case("datePublished"));
        self.times.push((datetime.to_string(), tagged, in_article));
    }

    /// The content of the first `<meta>` named `name`.
    pub fn meta_of(&self, name: &str) -> Option<&str> {
        self.metas.get(name).map(String::as_str)
    }
}

/// Where in the page a node is.
#[derive(Debug, Default, Clone, Copy)]
struct Context {
    unshown: bool,
    in_p: bool,
    in_article: bool,
}
