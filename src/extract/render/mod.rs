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

    fn heading(&mut self, node: &NodeRef, tag: &str) {
        if self.cell > 0 || self.heading.is_some() {
            self.children(node);
            return;
        }
        self.block_end(Gap::Paragraph);
        let level = usize::from(tag.as_bytes()[1] - b'0');
        self.heading = Some(level);
        self.children(node);
        self.heading = None;
        let content = self.line.take();
        if !content.is_empty() {
            let content = if self.markdown {
                format!("{} {content}", "#".repeat(level))
            } else {
                content
            };
            self.emit(&content);
        }
        self.gap = Gap::Paragraph;
    }

    fn list(&mut self, node: &NodeRef, ordered: bool) {
        if self.cell > 0 || self.heading.is_some() {
            self.children(node);
            return;
        }
        self.block_end(if self.lists.is_empty() {
            Gap::Paragraph
        } else {
            Gap::Line
        });
        let start = node
            .attr("start")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|_| ordered)
            .unwrap_or(1);
        self.lists.push(List {
            ordered,
            next: start,
            width: 0,
        });
        self.children(node);
        self.block_end(Gap::Line);
        self.lists.pop();
        self.gap = if self.lists.is_empty() {
            Gap::Paragraph
        } else {
            Gap::Line
        };
    }

    fn item(&mut self, node: &NodeRef) {
        if self.cell > 0 || self.heading.is_some() || self.lists.is_empty() {
            return self.block(node, Gap::Line);
        }
        self.block_end(Gap::Line);
        self.item_starts = true;
        if let Some(list) = self.lists.last_mut().filter(|_| self.markdown) {
            let marker = if list.ordered {
                format!("{}. ", list.next)
            } else {
                "- ".to_string()
            };
            list.next += 1;
            list.width = marker.len();
            self.marker = Some(marker);
        }
        self.children(node);
        self.block_end(Gap::Line);
        self.marker = None;
        self.item_starts = false;
        self.gap = Gap::Line;
    }

    fn quote(&mut self, node: &NodeRef) {
        self.block_end(Gap::Paragraph);
        self.quotes += 1;
        self.children(node);
        self.block_end(Gap::Paragraph);
        self.quotes -= 1;
    }

    fn marked(&mut self, node: &NodeRef, mark: Mark) {
        if self.heading.is_some() {
            return self.children(node);
        }
        self.line.open(mark);
        self.children(node);
        self.line.close();
    }

    /// Inline code: in backticks, more of them than any run inside.
    fn code(&mut self, node: &NodeRef) {
        let text = node.text();
        let text = text
            .split(line::is_space)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if text.is_empty() {
            return;
        }
        if !self.markdown {
            self.line.text(&text);
            return;
        }
        let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest + 1);
        let pad = if text.starts_with('`') || text.ends_with('`') {
            " "
        } else {
            ""
        };
        self.line.raw(&format!("{fence}{pad}{text}{pad}{fence}"));
    }

    fn link(&mut self, node: &NodeRef) {
        // Adjacent links (a breadcrumb, a tag list), or links around a
        // separator (`›`, `|`), are separate words.
        if node.prev_sibling().is_some_and(|p| apart(&p)) {
            self.line.space();
        }
        let target = node.attr("href").and_then(|h| self.url(&h));
        match target {
            Some(target) if self.markdown => {
                self.line.open_link(target);
                self.children(node);
                self.line.close();
            }
            _ => self.children(node),
        }
        if node.next_sibling().is_some_and(|n| apart(&n)) {
            self.line.space();
        }
    }

    fn image(&mut self, node: &NodeRef) {
        if !self.markdown {
            return;
        }
        let src = node
            .attr("src")
            .or_else(|| node.attr("data-src"))
            .and_then(|s| self.url(&s))
            .filter(|s| !s.starts_with("data:"));
        let Some(src) = src else {
            return;
        };
        let alt = node.attr("alt").unwrap_or_default();
        let alt = alt
            .split(line::is_space)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .replace('\\', "\\\\")
            .replace('[', "\\[")
            .replace(']', "\\]");
        self.line.raw(&format!("![{alt}]({src})"));
    }

    /// A link's target, absolute, as Markdown can hold it; `None` for a
    /// script or an empty one.
    fn url(&self, href: &str) -> Option<String> {
        let href = href.trim();
        if href.is_empty() || href.to_ascii_lowercase().starts_with("javascript:") {
            return None;
        }
        let url = match self.base {
            Some(base) => base.join(href).ok().map(String::from),
            None => Url::parse(href).ok().map(String::from),
        };
        let url = url.unwrap_or_else(|| href.to_string());
        // Markdown ends a link at a space or an unbalanced `)`.
        Some(if url.contains([' ', '(', ')', '<', '>']) {
            format!("<{}>", url.replace('<', "%3C").replace('>', "%3E"))
        } else {
            url
        })
    }

    fn pre(&mut self, node: &NodeRef) {
        self.block_end(Gap::Paragraph);
        let mut code = String::new();
        pre_text(node, &mut code);
        let code = code.trim_end();
        let code = code.trim_start_matches('\n');
        if code.trim().is_empty() {
            return;
        }
        if self.markdown {
            let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
            let fence = "`".repeat((longest + 1).max(3));
            let language = language(node).unwrap_or_default();
            let block = format!("{fence}{language}\n{code}\n{fence}");
            self.emit(&block);
        } else {
            self.emit(code);
        }
        self.gap = Gap::Paragraph;
    }

    fn table(&mut self, node: &NodeRef) {
        if self.cell > 0 || table::is_layout(node) {
            return self.block(node, Gap::Paragraph);
        }
        self.block_end(Gap::Paragraph);
        let rows = table::rows(node, |cell| {
            let mut inner = Render::new(self.markdown, self.base);
            inner.cell = 1;
            inner.children(cell);
            inner.line.take()
        });
        if rows.is_empty() {
            return;
        }
        let block = if self.markdown {
            table::markdown(&rows)
        } else {
            table::text(&rows)
        };
        if !block.is_empty() {
            self.emit(&block);
        }
        self.gap = Gap::Paragraph;
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

/// The text of a `<pre>`, as laid out: text nodes as they are, `<br>` a
/// newline, what is not rendered left out.
fn pre_text(node: &NodeRef, out: &mut String) {
    for child in node.children_it(false) {
        match child.qual_name_ref().map(|q| q.local.clone()) {
            Some(tag) if &tag == "br" => out.push('\n'),
            Some(tag) if SKIPPED.contains(&&*tag) || hidden(&child) => {}
            Some(_) => pre_text(&child, out),
            None => {
                if let Some(Some(text)) = child.query(|n| match &n.data {
                    NodeData::Text { contents } => Some(contents.to_string()),
                    _ => None,
                }) {
                    out.push_str(&text);
                }
            }
        }
    }
}

/// The language of a code block: a `language-…` or `lang-…` class on the
/// `<pre>` or the `<code>` in it.
fn language(pre: &NodeRef) -> Option<String> {
    let code = pre.children_it(false).find(|c| c.has_name("code"));
    [Some(*pre), code].into_iter().flatten().find_map(|n| {
        let class = n.attr("class")?;
        class.split_ascii_whitespace().find_map(|c| {
            let lang = c
                .strip_prefix("language-")
                .or_else(|| c.strip_prefix("lang-"))?;
            let ok = !lang.is_empty()
                && lang
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '#' | '.' | '_'));
            ok.then(|| lang.to_string())
        })
    })
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
