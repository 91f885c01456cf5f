//! What scrape takes out of the block Readability picked, each rule kept
//! because it raised the scores of `bench/extract.sh` (CHANGELOG.md has
//! the numbers):
//! - `<figcaption>`: photo credits and captions, which Readability keeps
//!   and the benchmarks' annotators do not count as text;
//! - `<nav>`, `<footer>`, small forms and the author line left in the
//!   block;
//! - picture credits elsewhere ("Foto: Getty", "Photograph by …");
//! - the run of boilerplate at the end of the block (headings with nothing
//!   after them, lines of links, copyright and newsletter lines, short
//!   lines that are not sentences).

use dom_query::{NodeRef, Selection};

/// Takes out of the block what readers of the text do not want.
pub fn clean(block: &Selection) {
    block.select("figcaption").remove();
    drop_chrome(block);
    drop_credits(block);
    trim_tail(block);
}

/// A form with fewer words than this is a login, search or newsletter
/// form, not content.
const FORM_WORDS: usize = 40;

/// Elements that hold the author line.
const AUTHOR_LINES: &str = "[class*=byline], [class*=author], [rel=author]";

/// An author line has fewer words than this (an author box has more).
const AUTHOR_LINE_WORDS: usize = 20;

/// Navigation, footers, small forms and the author line that Readability
/// leaves in the block (a site's menu above a short page, a newsletter
/// form below an article). Measured: trafilatura's benchmark 0.916 ->
/// 0.918, article-extraction-benchmark 0.959 -> 0.961, WCXB 0.839 ->
/// 0.840, Readability's pages unchanged.
fn drop_chrome(block: &Selection) {
    block.select("nav, footer").remove();
    // The visible author line ("by Ada Greenfield, 17 May"): the record
    // has it as `byline`.
    for line in block.select(AUTHOR_LINES).nodes() {
        if line.text().split_whitespace().count() < AUTHOR_LINE_WORDS {
            line.remove_from_parent();
        }
    }
    for form in block.select("form").nodes() {
        if form.text().split_whitespace().count() < FORM_WORDS {
            form.remove_from_parent();
        }
    }
}

/// Picture credits, wherever they are in the block: short paragraphs
/// naming a photographer or an agency ("Foto: Getty", "Photograph by …").
fn drop_credits(block: &Selection) {
    let credits: Vec<_> = paragraphs(block)
        .into_iter()
        .filter(|p| {
            let text = p.text();
            visible_len(&text) < CREDIT_LEN && {
                let lower = text.to_lowercase();
                CREDIT_WORDS.iter().any(|w| lower.contains(w))
            }
        })
        .collect();
    for p in credits {
        p.remove_from_parent();
    }
}

/// The innermost blocks of the block: its paragraphs, in document order.
fn paragraphs<'a>(block: &Selection<'a>) -> Vec<NodeRef<'a>> {
    block
        .nodes()
        .iter()
        .flat_map(|root| root.descendants_it())
        .filter(|n| is_block(n) && !n.descendants_it().any(|d| is_block(&d)))
        .collect()
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

/// A paragraph shorter than this (whitespace not counted) that holds one
/// of [`CREDIT_WORDS`] is a picture credit.
const CREDIT_LEN: usize = 100;

/// How picture credits begin, in the languages of the benchmark pages.
const CREDIT_WORDS: [&str; 10] = [
    "foto:",
    "fotos:",
    "photo:",
    "photos:",
    "bild:",
    "photograph by",
    "image:",
    "getty images",
    "istock",
    "bild via",
];

/// Words of the boilerplate that follows articles, in the languages of
/// the benchmark pages; a paragraph at the end that holds one is taken out
/// (sentence or not).
const TAIL_WORDS: [&str; 24] = [
    "all rights reserved",
    "alle rechte vorbehalten",
    "newsletter",
    "abonniere",
    "abonnieren",
    "subscribe",
    "über den autor",
    "about the author",
    "auch interessant",
    "mehr zum thema",
    "weitere beiträge",
    "lade weitere",
    "lesen sie auch",
    "read more",
    "related stories",
    "download the",
    "advertising disclosure",
    "kommentieren zu können",
    "leave a comment",
    "leave a reply",
    "lea más",
    "le puede interesar",
    "puede escribirnos",
    "follow us",
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
    let paragraphs = paragraphs(block);
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
pub fn link_text(node: &NodeRef) -> usize {
    node.descendants_it()
        .filter(|d| d.node_name().is_some_and(|n| n.as_ref() == "a"))
        .map(|a| visible_len(&a.text()))
        .sum()
}

/// Bytes of `text` that are not whitespace.
pub fn visible_len(text: &str) -> usize {
    text.split_whitespace().map(str::len).sum()
}

fn is_block(node: &NodeRef) -> bool {
    node.node_name()
        .is_some_and(|name| BLOCKS.contains(&name.as_ref()))
}

/// Whether a paragraph at the end of the article reads as boilerplate.
fn is_boilerplate(node: &NodeRef, name: &str, text: &str) -> bool {
    let heading = name.len() == 2 && name.starts_with('h') && name != "hr";
    let links = link_text(node);
    let lower = text.to_lowercase();
    let copyright = text.contains('©') || TAIL_WORDS.iter().any(|w| lower.contains(w));
    let sentence = text.ends_with([
        '.', '!', '?', '…', '"', '”', '»', ')', '“', '。', '！', '？', '」', '』', '）',
    ]);
    heading
        || links * 2 >= visible_len(text)
        || copyright
        || (text.chars().count() < 80 && !sentence)
}
