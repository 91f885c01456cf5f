//! How each kind of element is written: headings, lists and their items,
//! quotes, emphasis, code, links, images, `<pre>` blocks and tables, as
//! text or as Markdown.

use dom_query::{NodeData, NodeRef};
use url::Url;

use super::line::{self, Mark};
use super::{Gap, List, Render, SKIPPED, apart, hidden, table};

impl Render<'_> {
    pub(super) fn heading(&mut self, node: &NodeRef, tag: &str) {
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

    pub(super) fn list(&mut self, node: &NodeRef, ordered: bool) {
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

    pub(super) fn item(&mut self, node: &NodeRef) {
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

    pub(super) fn quote(&mut self, node: &NodeRef) {
        self.block_end(Gap::Paragraph);
        self.quotes += 1;
        self.children(node);
        self.block_end(Gap::Paragraph);
        self.quotes -= 1;
    }

    pub(super) fn marked(&mut self, node: &NodeRef, mark: Mark) {
        if self.heading.is_some() {
            return self.children(node);
        }
        self.line.open(mark);
        self.children(node);
        self.line.close();
    }

    /// Inline code: in backticks, more of them than any run inside.
    pub(super) fn code(&mut self, node: &NodeRef) {
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

    pub(super) fn link(&mut self, node: &NodeRef) {
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

    pub(super) fn image(&mut self, node: &NodeRef) {
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
    pub(super) fn url(&self, href: &str) -> Option<String> {
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

    pub(super) fn pre(&mut self, node: &NodeRef) {
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

    pub(super) fn table(&mut self, node: &NodeRef) {
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
