//! Finding the article: `dom_smoothie` (Mozilla Readability, ported to
//! Rust) picks the main block of the page, then scrape takes out what
//! Readability keeps but a reader of the text does not want.
//!
//! What is taken out, each measured on the corpora of `bench/extract.sh`
//! (README "Readable text and Markdown"):
//! - `<figcaption>`: photo credits and captions. Readability keeps them;
//!   trafilatura's and the article-extraction benchmark's annotators do
//!   not count them as text (F1 +0.005 and +0.006; Readability's own test
//!   pages −0.005, which keep them).

use dom_query::{Document, NodeId, Selection};
use dom_smoothie::{Config, Readability, ReadabilityError, TextMode};

/// A page with more elements than this is not extracted (its DOM alone
/// would take hundreds of megabytes); the record says so.
pub const MAX_ELEMENTS: usize = 200_000;

/// A page that nests elements deeper than this is not extracted:
/// Readability's scoring walks every node's ancestors, which on 100 000
/// nested `<div>`s ran for minutes. Browsers' parsers stop nesting at 512
/// (Blink), real pages stay far below.
pub const MAX_DEPTH: usize = 512;

/// Before parsing: a page whose tags (counted from the markup, [`nesting`])
/// open this many more elements than they close is not parsed. The HTML
/// parser checks scopes by walking its stack of open elements, so its time
/// grows with tags × depth: 100 000 nested `<div>`s took 17 s to parse.
pub const MAX_TAG_NESTING: usize = 4096;

/// On a page that Readability's quick test finds unlikely to hold an
/// article (no paragraph of 140 characters or more), a short block (under
/// [`SHORT`] characters) of which one character in this many is link text
/// is not taken for one — it is a menu, or a login form's labels beside
/// one — and the page gets no text. (Readability's test pages hold
/// articles of a few words, which a length limit alone would refuse; a
/// news digest is long and mostly links.)
const LINKS_UNREADABLE: usize = 3;

/// See [`LINKS_UNREADABLE`].
const SHORT: usize = 500;

/// Elements whose end tag the parser implies (or that have none): left out
/// of [`nesting`], as pages leave them open.
const IMPLIED_END: [&str; 27] = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot", "rp",
    "rt", "br", "img", "meta", "link", "input", "hr", "area", "base", "col", "embed", "source",
    "track", "wbr",
];

/// What the page's metadata says about the article.
#[derive(Debug, Default)]
pub struct Meta {
    pub byline: Option<String>,
    pub published: Option<String>,
    pub site_name: Option<String>,
    pub excerpt: Option<String>,
}

/// The main block of a page, cleaned, with the article's metadata.
pub struct Article {
    /// The document Readability worked on: the page, with the block
    /// assembled in one element (links already absolute).
    doc: Document,
    /// That element.
    root: NodeId,
    pub meta: Meta,
}

impl Article {
    /// The block.
    pub fn root(&self) -> Selection<'_> {
        match self.doc.tree.get(&self.root) {
            Some(node) => Selection::from(node),
            None => Selection::from(Vec::new()),
        }
    }
}

/// Finds the article of `html`, whose URL is `url`; `Err` says why there is
/// none.
pub fn find(html: &str, url: Option<&str>) -> Result<Article, String> {
    let config = Config {
        // Keeps `class="language-…"` on code, for the Markdown fence.
        keep_classes: true,
        // The text is made from the cleaned block (`render`); the raw mode
        // is the cheapest one Readability computes alongside.
        text_mode: TextMode::Raw,
        ..Config::default()
    };
    if nesting(html) > MAX_TAG_NESTING {
        return Err(too_deep());
    }
    let doc = Document::from(html);
    check_shape(&doc)?;
    // Readability wants an absolute http(s) URL to resolve links against.
    let url = url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let url = url.filter(|u| url::Url::parse(u).is_ok());
    let mut readability = Readability::with_document(doc, url, Some(config))
        .map_err(|e| format!("extraction failed: {e}"))?;
    let readable = readability.is_probably_readable();
    let found = readability.parse().map_err(|e| match e {
        ReadabilityError::GrabFailed => "no article found on the page".to_string(),
        other => format!("extraction failed: {other}"),
    })?;
    // The block is Readability's own document's `#readability-page-1`
    // (what `found.content` serialises): used as it is, not parsed again.
    let doc = std::mem::take(&mut readability.doc);
    let root = doc
        .select_single("#readability-page-1")
        .nodes()
        .first()
        .map(|n| n.id)
        .ok_or_else(|| "no article found on the page".to_string())?;
    let article = Article {
        doc,
        root,
        meta: Meta::default(),
    };
    let block = article.root();
    clean(&block);
    let text = block.text();
    let text = text.trim();
    let links = block.nodes().first().map_or(0, link_text);
    let visible = visible_len(text);
    let menu = links * LINKS_UNREADABLE >= visible && visible < SHORT;
    if visible == 0 || (!readable && menu) {
        return Err("no article found on the page".to_string());
    }
    Ok(Article {
        meta: Meta {
            byline: nonempty(found.byline),
            published: nonempty(found.published_time),
            site_name: nonempty(found.site_name),
            excerpt: nonempty(found.excerpt),
        },
        ..article
    })
}

/// How deep the markup nests, by counting tags: the most start tags not
/// yet closed by an end tag, at any point (elements in [`IMPLIED_END`] and
/// self-closed ones not counted). An estimate, made without parsing.
fn nesting(html: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(i) = bytes[at..].iter().position(|&b| b == b'<') {
        let tag = &bytes[at + i + 1..];
        at += i + 1;
        let (closing, name) = match tag.first() {
            Some(b'/') => (true, &tag[1..]),
            Some(c) if c.is_ascii_alphabetic() => (false, tag),
            _ => continue,
        };
        let len = name
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = &name[..len];
        if IMPLIED_END
            .iter()
            .any(|e| e.as_bytes().eq_ignore_ascii_case(name))
        {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
            if !tag[..end].ends_with(b"/") {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
    }
    deepest
}

fn too_deep() -> String {
    format!("the page nests elements more than {MAX_DEPTH} deep, too deep to extract from")
}

/// Refuses a page too large or too deep to extract, in one pass.
fn check_shape(doc: &Document) -> Result<(), String> {
    let (mut elements, mut deepest) = (0usize, 0usize);
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if node.is_element() {
            elements += 1;
            deepest = deepest.max(depth);
        }
        if deepest > MAX_DEPTH {
            return Err(too_deep());
        }
        if elements > MAX_ELEMENTS {
            return Err(format!(
                "the page has more than {MAX_ELEMENTS} elements, more than scrape extracts from"
            ));
        }
        if let Some(next) = node.next_sibling() {
            stack.push((next, depth));
        }
        if let Some(child) = node.first_child() {
            stack.push((child, depth + 1));
        }
    }
    Ok(())
}

/// Takes out of the block what readers of the text do not want.
fn clean(block: &Selection) {
    block.select("figcaption").remove();
    trim_tail(block);
}

/// Elements that hold text as a block; the innermost ones are the
/// paragraphs [`trim_tail`] looks at.
const BLOCKS: [&str; 18] = [
    "p",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "dd",
    "dt",
    "div",
    "section",
    "pre",
    "table",
    "blockquote",
    "ul",
    "ol",
    "article",
];

/// Elements at the end never taken out: their shortness is their form.
const KEEP_AT_END: [&str; 3] = ["pre", "table", "blockquote"];

/// Takes out the run of boilerplate paragraphs at the end of the block
/// ("Mehr zum Thema", "Related stories", "Kontakt:", "© 2024 … All rights
/// reserved", share and subscribe links), which Readability keeps with the
/// article they follow: from the last paragraph back, each one that is a
/// heading, mostly links, a copyright line, or a short line that is not a
/// sentence — stopping at the first real sentence, and never taking more
/// than a quarter of the text.
fn trim_tail(block: &Selection) {
    let paragraphs: Vec<_> = block
        .nodes()
        .iter()
        .flat_map(|root| root.descendants_it())
        .filter(|n| is_block(n) && !n.descendants_it().any(|d| is_block(&d)))
        .collect();
    let total: usize = paragraphs.iter().map(|n| visible_len(&n.text())).sum();
    let mut taken = 0;
    let mut drop = Vec::new();
    for node in paragraphs.iter().rev() {
        let text = node.text();
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let name = node.node_name().unwrap_or_default();
        if KEEP_AT_END.contains(&name.as_ref()) || !is_boilerplate(node, &name, text) {
            break;
        }
        taken += visible_len(text);
        if taken * 4 > total {
            return;
        }
        drop.push(*node);
    }

    for node in drop {
        node.remove_from_parent();
    }
}

/// The length of the text inside links, whitespace not counted.
fn link_text(node: &dom_query::NodeRef) -> usize {
    node.descendants_it()
        .filter(|d| d.node_name().is_some_and(|n| n.as_ref() == "a"))
        .map(|a| visible_len(&a.text()))
        .sum()
}

/// Bytes of `text` that are not whitespace.
fn visible_len(text: &str) -> usize {
    text.split_whitespace().map(str::len).sum()
}

fn is_block(node: &dom_query::NodeRef) -> bool {
    node.node_name()
        .is_some_and(|name| BLOCKS.contains(&name.as_ref()))
}

/// Whether a paragraph at the end of the article reads as boilerplate.
fn is_boilerplate(node: &dom_query::NodeRef, name: &str, text: &str) -> bool {
    let heading = name.len() == 2 && name.starts_with('h') && name != "hr";
    let links = link_text(node);
    let copyright = text.contains('©') || {
        let lower = text.to_lowercase();
        lower.contains("all rights reserved") || lower.contains("alle rechte vorbehalten")
    };
    let sentence = text.ends_with([
        '.', '!', '?', '…', '"', '”', '»', ')', '“', '。', '！', '？', '」', '』', '）',
    ]);
    heading
        || links * 2 >= visible_len(text)
        || copyright
        || (text.chars().count() < 80 && !sentence)
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_open_tags_but_not_those_left_open_by_design() {
        assert_eq!(
            nesting("<html><body><div><p>a<p>b<br><img src=x></div></body></html>"),
            3
        );
        assert_eq!(nesting("<ul><li>a<li>b</ul><svg><path/></svg>"), 1);
        assert_eq!(nesting(&"<div>".repeat(5000)), 5000);
        assert_eq!(nesting("a < b </x> <!-- <div> -->"), 1);
    }

    #[test]
    fn too_deep_a_page_is_refused_quickly() {
        let deep = format!("<body>{}<p>text</p></body>", "<div>".repeat(100_000));
        let started = std::time::Instant::now();
        let err = find(&deep, None).err().unwrap_or_default();
        assert!(err.contains("too deep"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        let err = find(&format!("<body>{}x</body>", "<span>".repeat(1000)), None);
        assert!(err.err().unwrap_or_default().contains("too deep"));
    }
}
