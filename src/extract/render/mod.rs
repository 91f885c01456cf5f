//! A block of the page as plain text and as Markdown, each bounded.
//!
//! One walk over the DOM ([`Render`]) makes both: blocks (paragraphs,
//! headings, list items, table rows, code) separated by newlines, their
//! inline content written by [`line::Line`]. What a reader can count on:
//! - a newline means a block or a `<br>`, nothing else: the line breaks of
//!   the page's source are spaces, as in a browser; white space (the
//!   no-break space too) collapses to one space;
//! - text: paragraphs separated by a blank line, a line per list item and
//!   per table row (its cells separated by a space), `<pre>` with its
//!   lines and indentation;
//! - Markdown: `#` headings, nested `-` and `1.` lists, `>` quotes, every
//!   `<pre>` fenced (its `language-…` class as the fence's language),
//!   tables as pipe tables (an empty header row when the table has none; a
//!   layout table, one holding another, is written as its text), `**` and
//!   `*` emphasis with the spaces outside, `<br>` as a hard break (`\` at
//!   the line's end), links and images with absolute URLs — resolved
//!   against the page and its `<base href>`, `#anchors` included, the same
//!   strings `links` gives (`&`, never `&amp;`);
//! - adjacent links (`<a>Home</a><a>News</a>`, breadcrumbs) are never
//!   glued into one word.
//!
//! Not rendered: scripts, styles, forms' controls, SVG, embedded frames
//! and media, elements `hidden` or styled `display:none`. `<noscript>` is
//! rendered: scrape runs no scripts, so what a page shows without them is
//! its content (forums put their posts there). Output is bounded
//! ([`cap`]).

mod elements;
mod line;
mod table;

use dom_query::{NodeData, NodeRef};
use url::Url;

use line::{Line, Mark};

/// The most bytes of text or Markdown one page of `body_len` bytes yields.
pub fn cap(body_len: usize) -> usize {
    body_len.saturating_mul(2).saturating_add(64 * 1024)
}

/// `out` cut to at most `cap` bytes at a character boundary; whether it
/// was cut.
pub fn bounded(mut out: String, cap: usize) -> (String, bool) {
    if out.len() <= cap {
        return (out, false);
    }
    let mut end = cap;
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    (out, true)
}

/// `root` and what is in it as plain text.
pub fn text(root: &NodeRef, base: Option<&Url>) -> String {
    Render::new(false, base).run(root)
}

/// `root` and what is in it as Markdown.
pub fn markdown(root: &NodeRef, base: Option<&Url>) -> String {
    Render::new(true, base).run(root)
}

/// Elements that are not rendered, nor anything in them.
const SKIPPED: [&str; 18] = [
    "script", "style", "template", "head", "title", "meta", "link", "svg", "canvas", "iframe",
    "object", "embed", "audio", "video", "select", "input", "textarea", "dialog",
];

/// Elements that make a block of their own (a paragraph).
const BLOCKS: [&str; 29] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "aside",
    "nav",
    "header",
    "footer",
    "address",
    "figure",
    "figcaption",
    "details",
    "summary",
    "form",
    "fieldset",
    "legend",
    "center",
    "hgroup",
    "menu",
    "dl",
    "body",
    "html",
    "caption",
    "tbody",
    "thead",
    "tfoot",
    "search",
    "picture",
];

/// How the next block is set apart from the last.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Gap {
    None,
    Line,
    Paragraph,
}

/// An open list.
struct List {
    ordered: bool,
    next: u64,
    /// The width of its items' marker (`- `, `10. `): where their
    /// continuation lines start.
    width: usize,
}

/// The walk and what it has written.
pub struct Render<'a> {
    markdown: bool,
    base: Option<&'a Url>,
    out: String,
    line: Line,
    gap: Gap,
    lists: Vec<List>,
    /// A list item whose first line is still to come: its marker.
    marker: Option<String>,
    /// A list item's first line is still to come (text or Markdown).
    item_starts: bool,
    quotes: usize,
    /// How many quotes the last block written was in.
    last_quotes: usize,
    /// Inside a heading (its level) or a table cell: one line only.
    heading: Option<usize>,
    cell: usize,
}

impl<'a> Render<'a> {
    fn new(markdown: bool, base: Option<&'a Url>) -> Render<'a> {
        Render {
            markdown,
            base,
            out: String::new(),
            line: Line::new(markdown),
            gap: Gap::None,
            lists: Vec::new(),
            marker: None,
            item_starts: false,
            quotes: 0,
            last_quotes: 0,
            heading: None,
            cell: 0,
        }
    }

    fn run(mut self, root: &NodeRef) -> String {
        self.node(root);
        self.block_end(Gap::None);
        self.out
    }

    fn node(&mut self, node: &NodeRef) {
        let tag = node.qual_name_ref().map(|q| q.local.clone());
        let Some(tag) = tag else {
            let text = node.query(|n| match &n.data {
                NodeData::Text { contents } => Some(contents.to_string()),
                _ => None,
            });
            if let Some(Some(text)) = text {
                self.line.text(&text);
            }
            if node.is_document() || node.is_fragment() {
                self.children(node);
            }
            return;
        };
        let tag: &str = &tag;
        if SKIPPED.contains(&tag) || hidden(node) {
            return;
        }
        match tag {
            "br" => self.line_break(),
            "hr" => self.rule(),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.heading(node, tag),
            "ul" | "ol" => self.list(node, tag == "ol"),
            "li" => self.item(node),
            "dt" | "dd" | "tr" => self.block(node, Gap::Line),
            "td" | "th" => {
                self.line.space();
                self.children(node);
                self.line.space();
            }
            "blockquote" => self.quote(node),
            "pre" if self.cell > 0 || self.heading.is_some() => self.code(node),
            "pre" => self.pre(node),
            "table" => self.table(node),
            "strong" | "b" => self.marked(node, Mark::Strong),
            "em" | "i" => self.marked(node, Mark::Em),
            "code" | "kbd" | "samp" | "tt" => self.code(node),
            "a" => self.link(node),
            "img" => self.image(node),
            "noscript" => self.noscript(node),
            _ if BLOCKS.contains(&tag) => self.block(node, Gap::Paragraph),
            _ => self.children(node),
        }
    }

    fn children(&mut self, node: &NodeRef) {
        for child in node.children_it(false) {
            self.node(&child);
        }
    }

    /// Ends the block being written (if anything is in it), and asks for
    /// at least `gap` before the next.
    fn block_end(&mut self, gap: Gap) {
        if self.cell > 0 || self.heading.is_some() {
            self.line.space();
            return;
        }
        let content = self.line.take();
        if !content.is_empty() {
            self.emit(&content);
        }
        // A list item's first line comes next: no blank line before it.
        if !self.item_starts {
            self.gap = self.gap.max(gap);
        }
    }

    /// Writes one block's content: after the gap, with the prefixes of
    /// the quotes and lists it is in.
    fn emit(&mut self, content: &str) {
        if !self.out.is_empty() {
            self.out.push('\n');
            if self.gap == Gap::Paragraph {
                // Inside a quote, its blank line is quoted too.
                let depth = if self.markdown {
                    self.quotes.min(self.last_quotes)
                } else {
                    0
                };
                self.out.push_str(&vec![">"; depth].join(" "));
                self.out.push('\n');
            }
        }
        self.last_quotes = self.quotes;
        self.gap = Gap::None;
        let indent = if self.markdown {
            self.lists.iter().map(|l| l.width).sum::<usize>()
        } else {
            0
        };
        let marker = self.marker.take();
        self.item_starts = false;
        let quote = if self.markdown {
            "> ".repeat(self.quotes)
        } else {
            String::new()
        };
        for (i, line) in content.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
            }
            self.out.push_str(&quote);
            match (&marker, i) {
                (Some(marker), 0) => {
                    let width = self.lists.last().map_or(0, |l| l.width);
                    self.out.push_str(&" ".repeat(indent.saturating_sub(width)));
                    self.out.push_str(marker);
                }
                _ => self.out.push_str(&" ".repeat(indent)),
            }
            self.out.push_str(line);
        }
    }

    fn block(&mut self, node: &NodeRef, gap: Gap) {
        self.block_end(gap);
        self.children(node);
        self.block_end(gap);
    }

    /// What a page shows without scripts: its elements. (A `<noscript>`
    /// parsed as a browser with scripts parses it holds its markup as
    /// text, which is not shown.)
    fn noscript(&mut self, node: &NodeRef) {
        for child in node.children_it(false) {
            match text_of(&child) {
                Some(text) if text.contains('<') => {}
                _ => self.node(&child),
            }
        }
    }

    fn line_break(&mut self) {
        if self.cell > 0 || self.heading.is_some() {
            self.line.space();
        } else {
            self.line.hard_break();
        }
    }

    fn rule(&mut self) {
        self.block_end(Gap::Paragraph);
        if self.markdown && self.cell == 0 {
            self.line.raw("---");
            self.block_end(Gap::Paragraph);
        }
    }
}

/// The text of a text node.
fn text_of(node: &NodeRef) -> Option<String> {
    node.query(|n| match &n.data {
        NodeData::Text { contents } => Some(contents.to_string()),
        _ => None,
    })
    .flatten()
}

/// Characters that separate links in breadcrumbs and lists of tags.
const SEPARATORS: &str = "›»‹«/|>→•·–—";

/// Whether a link's neighbour `sibling` is to be set apart from it by a
/// space: another link, or a separator such as `›` between links.
fn apart(sibling: &NodeRef) -> bool {
    if sibling.has_name("a") {
        return true;
    }
    let text = sibling.query(|n| match &n.data {
        NodeData::Text { contents } => Some(contents.to_string()),
        _ => None,
    });
    match text.flatten() {
        Some(text) => {
            let text = text.trim_matches(line::is_space);
            !text.is_empty() && text.chars().all(|c| SEPARATORS.contains(c))
        }
        None => false,
    }
}

/// Whether an element is not shown: `hidden`, `aria-hidden`, or styled
/// `display:none` / `visibility:hidden`.
pub fn hidden(node: &NodeRef) -> bool {
    let Some(el) = node.element_ref() else {
        return false;
    };
    el.attrs.iter().any(|a| match &*a.name.local {
        "hidden" => true,
        "aria-hidden" => a.value.trim().eq_ignore_ascii_case("true"),
        "style" => {
            let style: String = a
                .value
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect::<String>()
                .to_ascii_lowercase();
            style.contains("display:none") || style.contains("visibility:hidden")
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests;
