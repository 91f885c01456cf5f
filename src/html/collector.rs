//! The `lol_html` handlers that collect what a page yields while the body
//! streams (docs/record.md, "Extraction").
//!
//! One [`Collector`] per page gathers raw text and attribute values as the
//! parser meets them; nothing of the page is kept beyond what is extracted.
//! Entities are decoded, whitespace collapsed and URLs resolved once, at the
//! end ([`RawPage::finish`]), so a `<base href>` anywhere in the page counts
//! for every link, as in a browser.
//!
//! - `title`: the first `<title>` outside SVG and MathML.
//! - `lang`: the root `<html lang>`; `description`: the first
//!   `<meta name=description>` in the head.
//! - `fields`: per `--select`, the text (or attribute) of every matching
//!   element in document order. Text is what the markup holds between the
//!   element's tags, `<script>` and `<style>` contents left out, with a
//!   space where a block, cell or `<br>` starts. A streaming parser builds
//!   no tree, so an element closed only implicitly (`<li>`, `<p>`, `<td>`,
//!   `<option>`… without their end tag) ends here where the next one of its
//!   kind (or a block, for `<p>`) starts, or where its list or table ends,
//!   as the HTML parser would close it. `lol_html`'s own matching does not
//!   know those implied ends: for `>` and `:nth-child` such an element stays
//!   the parent of what follows it (exact on well-formed markup).
//! - `links`: every `<a href>`, resolved, fragment dropped, http(s) only,
//!   each once, in document order.
//!
//! With only the defaults asked, parsing stops once the head has ended and
//! the title is known: nothing later can change the record. What one page
//! can make scrape collect is bounded: 1 MiB per value, [`MAX_PAGE_TEXT`]
//! for all `--select` text together, [`MAX_VALUES`] values and links.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;
use std::sync::Arc;

use lol_html::html_content::{Element, EndTag, TextChunk, TextType};
use url::Url;

use super::metadata::MetaScanner;
use super::page::{Page, RawPage, RobotsMeta, push_capped, says_nofollow};
use crate::plan::Extraction;

/// The "error" a handler returns to stop the parser early, once nothing
/// later in the document can change the result.
pub const STOP_PARSING: &str = "done";

/// The most raw text kept for one title, description or field value.
pub const MAX_TEXT: usize = 1 << 20;

/// The most text all `--select` values of one page collect together. Every
/// open element takes a copy of each chunk, so a selector like `div` on
/// thousands of unclosed nested `<div>`s would otherwise copy the page
/// thousands of times over; past this budget values are cut. It also bounds
/// the work: each collected byte is one step.
pub const MAX_PAGE_TEXT: usize = 16 << 20;

/// The most `--select` values (all NAMEs together), and the most links, one
/// page yields; later matches are left out.
pub const MAX_VALUES: usize = 100_000;

/// The most matched elements collecting text at once (nested, or left
/// open); a match deeper than that is listed with the text it has so far
/// (none).
const MAX_OPEN: usize = 1024;

/// Elements that may stand in a document's head; any other start tag ends
/// the head (the HTML parser's "in head" insertion mode).
const HEAD_ELEMENTS: [&str; 10] = [
    "html", "head", "title", "meta", "link", "style", "script", "noscript", "base", "template",
];

/// Start tags that close an open `<p>` (the HTML parser's list).
const CLOSES_P: [&str; 35] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
    "xmp",
];

/// Whether an element starts a new line of text (a block, a cell, `<br>`):
/// there, the text of the elements around it gets a space, so that
/// `<li>a</li><li>b</li>` reads "a b" rather than "ab" (as `innerText`
/// would break the line there).
fn breaks_line(tag: &str) -> bool {
    CLOSES_P.contains(&tag)
        || matches!(
            tag,
            "br" | "dd" | "dt" | "li" | "option" | "td" | "th" | "tr"
        )
}

/// Elements inside which an implicitly closed element cannot be closed from
/// outside: a `<li>` of a nested list does not close its parent's `<li>`.
const SCOPES: [&str; 6] = ["ul", "ol", "dl", "table", "select", "template"];

/// Whether a start tag `new` closes an open element `open` that has no end
/// tag yet (the HTML parser's implied end tags, for the common cases).
pub fn implicitly_closes(open: &str, new: &str) -> bool {
    match open {
        "p" => CLOSES_P.contains(&new),
        "li" => new == "li",
        "dt" | "dd" => matches!(new, "dt" | "dd"),
        "td" | "th" => matches!(new, "td" | "th" | "tr" | "tbody" | "thead" | "tfoot"),
        "tr" => matches!(new, "tr" | "tbody" | "thead" | "tfoot"),
        "option" => matches!(new, "option" | "optgroup"),
        "optgroup" => new == "optgroup",
        _ => false,
    }
}

/// One element whose text is being collected.
struct Open {
    /// Which field, and which of its values.
    field: usize,
    value: usize,
    /// Tells this capture apart for its end tag handler.
    id: u64,
    tag: String,
    /// How many list/table scopes were open when it started.
    scope: usize,
    /// A `<script>`, `<style>` or other raw-text element: its value is its
    /// raw text (kept as written), not the text of its descendants.
    verbatim: bool,
}

/// Elements whose content is raw text, not markup: selected themselves,
/// they yield that text as written (JSON-LD, `script#__NEXT_DATA__`).
const RAW_TEXT: [&str; 7] = [
    "script", "style", "noscript", "xmp", "iframe", "noembed", "noframes",
];

/// What the handlers have gathered so far.
#[derive(Default)]
struct State {
    title_active: bool,
    title_done: bool,
    title: String,
    /// Inside `<svg>` or `<math>` (their titles are not the page's).
    foreign_depth: usize,
    html_seen: bool,
    lang: Option<String>,
    description: Option<String>,
    base: Option<String>,
    head_ended: bool,
    /// Per `--select`, its raw values.
    values: Vec<Vec<String>>,
    /// The (field, value) pairs that are a raw-text element's text.
    verbatim: HashSet<(usize, usize)>,
    open: Vec<Open>,
    next_id: u64,
    scopes: usize,
    /// Every `<a href>` (with `--links` or `--follow`), and whether its
    /// `rel` says `nofollow`.
    links: Vec<(String, bool)>,
    /// `<meta name=robots>`: nofollow, noindex.
    robots: RobotsMeta,
    /// What is left of [`MAX_PAGE_TEXT`].
    budget: usize,
    /// `--select` values so far, all fields (at most [`MAX_VALUES`]).
    value_count: usize,
}

/// A page's handlers' shared state plus what to extract.
#[derive(Clone)]
pub struct Collector {
    state: Rc<RefCell<State>>,
    extraction: Arc<Extraction>,
}

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

impl Collector {
    /// A collector for one page.
    pub fn new(extraction: Arc<Extraction>) -> Collector {
        let state = State {
            values: vec![Vec::new(); extraction.selects.len()],
            budget: MAX_PAGE_TEXT,
            ..State::default()
        };
        Collector {
            state: Rc::new(RefCell::new(state)),
            extraction,
        }
    }

    /// The run's extraction settings.
    pub fn extraction(&self) -> &Extraction {
        &self.extraction
    }

    /// True when the parser may stop: only the defaults are asked, the head
    /// has ended and the title is known.
    pub fn done(&self) -> bool {
        let s = self.state.borrow();
        self.extraction.is_empty() && s.head_ended && s.title_done
    }

    fn stop_if_done(&self) -> HandlerResult {
        if self.done() {
            return Err(STOP_PARSING.into());
        }
        Ok(())
    }

    /// The handler for every element (`*`): head, lang, description, base,
    /// links, foreign content, and the implied ends of collected elements.
    pub fn on_any_element(&self, el: &mut Element) -> HandlerResult {
        let tag = el.tag_name();
        let mut s = self.state.borrow_mut();
        match tag.as_str() {
            "html" | "meta" | "base" | "a" => self.on_attributes(&mut s, el, &tag),
            "svg" | "math" if !el.is_self_closing() => self.enter_foreign(&mut s, el),
            "head" => self.on_head(el),
            _ => {}
        }
        if !HEAD_ELEMENTS.contains(&tag.as_str()) {
            s.head_ended = true;
        }
        if !self.extraction.selects.is_empty() {
            close_implied(&mut s, &tag);
            if breaks_line(&tag) {
                separate(&mut s);
            }
            if SCOPES.contains(&tag.as_str()) {
                self.enter_scope(&mut s, el);
            }
        }
        drop(s);
        self.stop_if_done()
    }

    /// The attributes the record takes: `<html lang>`, the head's
    /// description, `<base href>`, and with `--links` every `<a href>`.
    fn on_attributes(&self, s: &mut State, el: &Element, tag: &str) {
        match tag {
            "html" if !s.html_seen => {
                s.html_seen = true;
                s.lang = el
                    .get_attribute("lang")
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty());
            }
            "meta" => {
                let name = el.get_attribute("name").unwrap_or_default();
                let name = name.trim();
                if name.eq_ignore_ascii_case("description")
                    && !s.head_ended
                    && s.description.is_none()
                {
                    s.description = Some(el.get_attribute("content").unwrap_or_default());
                } else if name.eq_ignore_ascii_case("robots") && self.extraction.follow {
                    s.robots
                        .read(&el.get_attribute("content").unwrap_or_default());
                }
            }
            "base" if s.base.is_none() => s.base = el.get_attribute("href"),
            "a" if (self.extraction.links || self.extraction.follow)
                && s.links.len() < MAX_VALUES =>
            {
                if let Some(href) = el.get_attribute("href") {
                    let rel = el.get_attribute("rel");
                    s.links.push((href, rel.is_some_and(|r| says_nofollow(&r))));
                }
            }
            _ => {}
        }
    }

    /// An `<svg>` or `<math>` starts: titles inside are not the page's
    /// until it ends.
    fn enter_foreign(&self, s: &mut State, el: &mut Element) {
        if let Some(handlers) = el.end_tag_handlers() {
            s.foreign_depth += 1;
            let state = Rc::clone(&self.state);
            handlers.push(Box::new(move |_: &mut EndTag| {
                let mut s = state.borrow_mut();
                s.foreign_depth = s.foreign_depth.saturating_sub(1);
                Ok(())
            }));
        }
    }

    /// `<head>`: its end tag ends the head.
    fn on_head(&self, el: &mut Element) {
        if let Some(handlers) = el.end_tag_handlers() {
            let this = self.clone();
            handlers.push(Box::new(move |_: &mut EndTag| {
                this.state.borrow_mut().head_ended = true;
                this.stop_if_done()
            }));
        }
    }

    /// A list or table starts: implicitly closed elements inside it end
    /// with it at the latest.
    fn enter_scope(&self, s: &mut State, el: &mut Element) {
        let Some(handlers) = el.end_tag_handlers() else {
            return;
        };
        s.scopes += 1;
        let depth = s.scopes;
        let state = Rc::clone(&self.state);
        handlers.push(Box::new(move |_: &mut EndTag| {
            let mut s = state.borrow_mut();
            s.open.retain(|o| o.scope < depth);
            s.scopes = depth - 1;
            Ok(())
        }));
    }

    /// The handler for the first `<title>`.
    pub fn on_title(&self, el: &mut Element) -> HandlerResult {
        let mut s = self.state.borrow_mut();
        if s.foreign_depth > 0 || s.title_active || s.title_done {
            return Ok(());
        }
        s.title_active = true;
        drop(s);
        if let Some(handlers) = el.end_tag_handlers() {
            let this = self.clone();
            handlers.push(Box::new(move |_: &mut EndTag| {
                this.state.borrow_mut().title_done = true;
                this.stop_if_done()
            }));
        }
        Ok(())
    }

    /// The text handler of `<title>`.
    pub fn on_title_text(&self, t: &mut TextChunk) -> HandlerResult {
        let mut s = self.state.borrow_mut();
        if s.title_active && !s.title_done && s.title.len() < MAX_TEXT {
            s.title.push_str(t.as_str());
        }
        Ok(())
    }

    /// The handler for elements matching `--select` number `field`.
    pub fn on_selected(&self, field: usize, el: &mut Element) -> HandlerResult {
        let spec = &self.extraction.selects[field];
        let mut s = self.state.borrow_mut();
        if s.value_count >= MAX_VALUES {
            return Ok(());
        }
        if let Some(attr) = &spec.attr {
            if let Some(value) = el.get_attribute(attr) {
                s.values[field].push(value);
                s.value_count += 1;
            }
            return Ok(());
        }
        let value = s.values[field].len();
        s.values[field].push(String::new());
        s.value_count += 1;
        if s.open.len() >= MAX_OPEN {
            return Ok(());
        }
        let tag = el.tag_name();
        let Some(handlers) = el.end_tag_handlers() else {
            return Ok(()); // a void element: its text is empty
        };
        let id = s.next_id;
        s.next_id += 1;
        let scope = s.scopes;
        let verbatim = RAW_TEXT.contains(&tag.as_str());
        if verbatim {
            s.verbatim.insert((field, value));
        }
        s.open.push(Open {
            field,
            value,
            id,
            tag,
            scope,
            verbatim,
        });
        let state = Rc::clone(&self.state);
        handlers.push(Box::new(move |_: &mut EndTag| {
            state.borrow_mut().open.retain(|o| o.id != id);
            Ok(())
        }));
        Ok(())
    }

    /// The text handler of `--select` number `field`, called by the parser
    /// once per chunk inside any element matching it: every element of
    /// that field still open collects the chunk — but the raw text of a
    /// `<script>` or `<style>` only the element itself.
    pub fn on_text(&self, field: usize, t: &mut TextChunk) -> HandlerResult {
        let raw = matches!(t.text_type(), TextType::ScriptData | TextType::RawText);
        let mut s = self.state.borrow_mut();
        let State {
            open,
            values,
            budget,
            ..
        } = &mut *s;
        for o in open
            .iter()
            .filter(|o| o.field == field && o.verbatim == raw)
        {
            if *budget == 0 {
                break;
            }
            let value = &mut values[o.field][o.value];
            *budget -= push_capped(value, t.as_str(), MAX_TEXT.min(value.len() + *budget));
        }
        Ok(())
    }

    /// What the page yielded; `url` is the page's own (final) URL; `meta`
    /// what `--metadata` read of it.
    pub fn finish(self, url: Option<&Url>, meta: Option<MetaScanner>) -> Page {
        let s = self.state.take();
        let raw = RawPage {
            title: s.title_active.then_some(s.title),
            description: s.description,
            lang: s.lang,
            base: s.base,
            values: s.values,
            verbatim: s.verbatim,
            links: s.links,
            robots: s.robots,
            meta,
        };
        raw.finish(&self.extraction, url)
    }
}

/// Closes the collected elements a start tag `tag` implicitly ends.
fn close_implied(s: &mut State, tag: &str) {
    let scope = s.scopes;
    while let Some(last) = s.open.last() {
        if last.scope == scope && implicitly_closes(&last.tag, tag) {
            s.open.pop();
        } else {
            break;
        }
    }
}

/// A space in the text of every element being collected (collapsed later).
fn separate(s: &mut State) {
    let State {
        open,
        values,
        budget,
        ..
    } = s;
    for o in open.iter() {
        if *budget == 0 {
            break;
        }
        let value = &mut values[o.field][o.value];
        *budget -= push_capped(value, " ", MAX_TEXT.min(value.len() + *budget));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implied_end_tags() {
        assert!(implicitly_closes("li", "li"));
        assert!(implicitly_closes("p", "div"));
        assert!(implicitly_closes("p", "ul"));
        assert!(breaks_line("li") && breaks_line("ul") && !breaks_line("b"));
        assert!(!implicitly_closes("p", "span"));
        assert!(implicitly_closes("td", "tr"));
        assert!(!implicitly_closes("div", "div"));
    }

    #[test]
    fn pushes_stop_at_the_cap_on_a_character_boundary() {
        let mut v = String::from("ab");
        assert_eq!(push_capped(&mut v, "cdé", 5), 2);
        assert_eq!(v, "abcd", "é would cross the cap: left out whole");
        assert_eq!(push_capped(&mut v, "x", 4), 0);
        assert_eq!(push_capped(&mut v, "xyz", 100), 3);
    }

    #[test]
    fn nested_unclosed_matches_cost_at_most_the_page_budget() {
        use crate::html::Scanner;
        use crate::plan::Extraction;
        // 200 000 nested unclosed <div>s, each with text: every open div
        // would take a copy of every later chunk (2·10¹⁰ copies).
        let n = 200_000;
        let body = "<div>xxxxxxxxxxxxxxxxxxxxxxxx".repeat(n);
        let ex = Extraction::new(vec!["d=div".parse().unwrap()], false).unwrap();
        let mut scanner = Scanner::new(Some("text/html"), Collector::new(Arc::new(ex)));
        for chunk in body.as_bytes().chunks(16 * 1024) {
            scanner.feed(chunk);
        }
        let page = scanner.finish(None);
        let fields = page.fields.unwrap();
        let values = fields.get("d").unwrap();
        assert_eq!(values.len(), MAX_VALUES, "matches are listed up to the cap");
        let total: usize = values.iter().map(String::len).sum();
        assert!(total <= MAX_PAGE_TEXT, "{total} bytes collected");
        assert!(
            total >= MAX_PAGE_TEXT / 2,
            "the budget was spent, not skipped"
        );
        let word = "x".repeat(24);
        assert!(
            values[0].starts_with(&format!("{word} {word} {word}")),
            "{}",
            &values[0][..80]
        );
    }
}
