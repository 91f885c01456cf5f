//! The streaming side of `--metadata`: what the parser's handlers gather
//! of `<link>`, `<meta>`, JSON-LD scripts and microdata while the body
//! streams, and [`MetaCollector::finish`], which makes [`Metadata`] of it.
//!
//! The page's own handler for every element (`Collector::on_any_element`)
//! calls [`MetaCollector::on_element`]; two text handlers, on `script` and
//! on `[itemprop]`, call [`MetaCollector::on_script_text`] and
//! [`MetaCollector::on_item_text`].
//!
//! Caps per page, so that no page makes a worker hoard memory or time:
//! [`MAX_TAGS`] links and metas, [`MAX_BLOCKS`] JSON-LD blocks and
//! [`MAX_JSONLD`] bytes of their text, [`MAX_ITEM_TEXT`] bytes of microdata
//! text (every open text-valued property copies each chunk, as nested
//! `--select` matches do), at most [`MAX_OPEN`] properties collecting text
//! at once. Each cap that cuts something is said in `errors`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use std::borrow::Cow;

use lol_html::html_content::{Element, EndTag, TextChunk, TextType};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};
use url::Url;

use super::microdata::{Items, Raw};
use super::{Alternate, Feed, MAX_ERRORS, Metadata, jsonld};
use crate::html::collector::implicitly_closes;
use crate::html::page::{collapse, decode, resolve};

/// The most `<link>` and `<meta>` elements (each) read.
pub const MAX_TAGS: usize = 2_000;

/// The most JSON-LD blocks read.
pub const MAX_BLOCKS: usize = 256;

/// The most JSON-LD text read, all blocks together.
pub const MAX_JSONLD: usize = 4 << 20;

/// The most text all microdata properties collect together.
pub const MAX_ITEM_TEXT: usize = 1 << 20;

/// The most text one microdata property or `<meta>` value keeps.
pub const MAX_VALUE: usize = 64 * 1024;

/// The most microdata properties collecting text at once.
const MAX_OPEN: usize = 256;

/// The most `<noscript>` markup parsed again for metadata, all together.
pub const MAX_NOSCRIPT: usize = 4 << 20;

/// Link relations that name an icon.
const ICONS: [&str; 4] = [
    "icon",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
];

/// Link types that are feeds.
const FEEDS: [&str; 4] = [
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
];

thread_local! {
    /// The selectors of a `<noscript>` parse (every element, `script`,
    /// `[itemprop]`, `noscript`), parsed once per thread.
    static FRAGMENT: Option<(Selector, Selector, Selector, Selector)> = Some((
        "*".parse().ok()?,
        "script".parse().ok()?,
        "[itemprop]".parse().ok()?,
        "noscript".parse().ok()?,
    ));
}

/// A `<link>` as written.
struct Link {
    rel: String,
    href: String,
    hreflang: Option<String>,
    kind: Option<String>,
    title: Option<String>,
}

/// An element being collected until its end tag (or the tag that
/// implicitly ends it).
struct Open {
    id: u64,
    tag: String,
    /// List and table scopes open when it started.
    scope: usize,
    /// The item it is (scopes), or the text value it fills (texts).
    item: usize,
    at: (usize, usize),
}

/// A JSON-LD block's text, and whether a cap cut it.
#[derive(Default)]
struct Block {
    text: String,
    cut: bool,
}

/// A `<meta>` as written: its key (`property`, else `name`), lower-cased.
struct Meta {
    key: String,
    content: String,
    by_property: bool,
}

#[derive(Default)]
struct State {
    links: Vec<Link>,
    metas: Vec<Meta>,
    blocks: Vec<Block>,
    /// The JSON-LD block being read.
    in_block: Option<usize>,
    jsonld_left: usize,
    items: Items,
    scopes: Vec<Open>,
    texts: Vec<Open>,
    text_left: usize,
    /// The `<noscript>` being read: its markup so far.
    noscript: Option<String>,
    noscript_left: usize,
    next_id: u64,
    /// What the caps left out, said in `errors`.
    cut: Vec<String>,
}

/// The metadata handlers' shared state.
#[derive(Clone)]
pub struct MetaCollector {
    state: Rc<RefCell<State>>,
}

impl Default for MetaCollector {
    fn default() -> MetaCollector {
        let state = State {
            jsonld_left: MAX_JSONLD,
            text_left: MAX_ITEM_TEXT,
            noscript_left: MAX_NOSCRIPT,
            ..State::default()
        };
        MetaCollector {
            state: Rc::new(RefCell::new(state)),
        }
    }
}

type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

impl MetaCollector {
    /// Every element's start: `<link>`, `<meta>`, JSON-LD scripts, and
    /// microdata. `scope` is how many lists and tables are open.
    pub fn on_element(&self, el: &mut Element, tag: &str, scope: usize) {
        let mut s = self.state.borrow_mut();
        close_implied(&mut s, tag, scope);
        match tag {
            "link" => on_link(&mut s, el),
            "meta" => on_meta(&mut s, el),
            "script" => self.on_script(&mut s, el),
            "noscript" => self.on_noscript(&mut s, el),
            _ => {}
        }
        if el.has_attribute("itemscope") {
            self.on_itemscope(&mut s, el, tag, scope);
        } else if let Some(names) = named(el, "itemprop") {
            self.on_itemprop(&mut s, el, tag, scope, &names);
        }
    }

    fn on_script(&self, s: &mut State, el: &mut Element) {
        let is_jsonld = named(el, "type").is_some_and(|t| {
            let essence = t.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/ld+json")
        });
        if !is_jsonld {
            return;
        }
        if s.blocks.len() >= MAX_BLOCKS {
            note(
                s,
                format!("more than {MAX_BLOCKS} JSON-LD blocks: the rest left out"),
            );
            return;
        }
        let Some(handlers) = el.end_tag_handlers() else {
            return;
        };
        s.in_block = Some(s.blocks.len());
        s.blocks.push(Block::default());
        let state = Rc::clone(&self.state);
        handlers.push(Box::new(move |_: &mut EndTag| {
            state.borrow_mut().in_block = None;
            Ok(())
        }));
    }

    /// A `<noscript>`: the streaming parser reads its content as text, as
    /// a browser running scripts would; scrape runs none, so its markup is
    /// page content (forums put their posts there for crawlers). It is
    /// kept, and parsed for metadata when the element ends.
    fn on_noscript(&self, s: &mut State, el: &mut Element) {
        if s.noscript_left == 0 || s.noscript.is_some() {
            return;
        }
        let Some(handlers) = el.end_tag_handlers() else {
            return;
        };
        s.noscript = Some(String::new());
        let this = self.clone();
        handlers.push(Box::new(move |_: &mut EndTag| {
            let markup = this.state.borrow_mut().noscript.take();
            if let Some(markup) = markup {
                this.parse_fragment(&markup);
            }
            Ok(())
        }));
    }

    /// Text inside a `<noscript>`: its markup, kept while the budget lasts.
    pub fn on_noscript_text(&self, t: &mut TextChunk) -> HandlerResult {
        let mut s = self.state.borrow_mut();
        let State {
            noscript: Some(markup),
            noscript_left,
            ..
        } = &mut *s
        else {
            return Ok(());
        };
        let chunk = t.as_str();
        if chunk.len() > *noscript_left {
            *noscript_left = 0;
            s.noscript = None;
            note(
                &mut s,
                format!("<noscript> markup past {} MiB left out", MAX_NOSCRIPT >> 20),
            );
            return Ok(());
        }
        *noscript_left -= chunk.len();
        markup.push_str(chunk);
        Ok(())
    }

    /// Parses markup (a `<noscript>`'s) with this collector's handlers.
    fn parse_fragment(&self, markup: &str) {
        FRAGMENT.with(|selectors| {
            let Some(selectors) = selectors else {
                return;
            };
            let (any, script, item, noscript) =
                (self.clone(), self.clone(), self.clone(), self.clone());
            let settings = Settings::new()
                .with_strict(false)
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.0),
                    ElementContentHandlers::default().element(move |el: &mut Element| {
                        let tag = el.tag_name();
                        any.on_element(el, &tag, 0);
                        Ok(())
                    }),
                ))
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.1),
                    ElementContentHandlers::default()
                        .text(move |t: &mut TextChunk| script.on_script_text(t)),
                ))
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.2),
                    ElementContentHandlers::default()
                        .text(move |t: &mut TextChunk| item.on_item_text(t)),
                ))
                .append_element_content_handler((
                    Cow::Borrowed(&selectors.3),
                    ElementContentHandlers::default()
                        .text(move |t: &mut TextChunk| noscript.on_noscript_text(t)),
                ));
            let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
            // A parser that gives up keeps what it found.
            let _ = rewriter.write(markup.as_bytes());
            let _ = rewriter.end();
        });
    }

    /// Text inside a `<script>`: kept when it is a JSON-LD block.
    pub fn on_script_text(&self, t: &mut TextChunk) -> HandlerResult {
        let mut s = self.state.borrow_mut();
        let Some(block) = s.in_block else {
            return Ok(());
        };
        let chunk = t.as_str();
        if chunk.len() > s.jsonld_left {
            s.jsonld_left = 0;
            s.in_block = None;
            note(
                &mut s,
                format!("JSON-LD past {} MiB left out", MAX_JSONLD >> 20),
            );
            // The block is cut: it cannot be read whole.
            if let Some(b) = s.blocks.get_mut(block) {
                b.text = String::new();
                b.cut = true;
            }
            return Ok(());
        }
        s.jsonld_left -= chunk.len();
        if let Some(b) = s.blocks.get_mut(block) {
            b.text.push_str(chunk);
        }
        Ok(())
    }

    fn on_itemscope(&self, s: &mut State, el: &mut Element, tag: &str, scope: usize) {
        let parent = s.scopes.last().map(|o| o.item);
        let names = named(el, "itemprop");
        let parent = match (&names, parent) {
            (Some(names), Some(parent)) => Some((parent, names.as_str())),
            _ => None,
        };
        let itemtype = named(el, "itemtype");
        let depth = s.scopes.len();
        let Some(item) = s
            .items
            .open(itemtype.as_deref(), named(el, "itemid"), parent, depth)
        else {
            return;
        };
        let Some(handlers) = el.end_tag_handlers() else {
            return;
        };
        let id = next_id(s);
        s.scopes.push(Open {
            id,
            tag: tag.to_string(),
            scope,
            item,
            at: (0, 0),
        });
        let state = Rc::clone(&self.state);
        handlers.push(Box::new(move |_: &mut EndTag| {
            state.borrow_mut().scopes.retain(|o| o.id != id);
            Ok(())
        }));
    }

    fn on_itemprop(&self, s: &mut State, el: &mut Element, tag: &str, scope: usize, names: &str) {
        let Some(item) = s.scopes.last().map(|o| o.item) else {
            return; // a property outside any item
        };
        let value = match attribute_value(el, tag) {
            Some(value) => value,
            None => Raw::Text(String::new()),
        };
        let collects = matches!(&value, Raw::Text(t) if t.is_empty());
        let Some(at) = s.items.add(item, names, value) else {
            return;
        };
        if !collects {
            return;
        }
        if s.texts.len() >= MAX_OPEN {
            return;
        }
        let Some(handlers) = el.end_tag_handlers() else {
            return;
        };
        let id = next_id(s);
        s.texts.push(Open {
            id,
            tag: tag.to_string(),
            scope,
            item,
            at,
        });
        let state = Rc::clone(&self.state);
        handlers.push(Box::new(move |_: &mut EndTag| {
            state.borrow_mut().texts.retain(|o| o.id != id);
            Ok(())
        }));
    }

    /// Text inside an `[itemprop]` element: every text-valued property
    /// still open collects it.
    pub fn on_item_text(&self, t: &mut TextChunk) -> HandlerResult {
        if matches!(t.text_type(), TextType::ScriptData | TextType::RawText) {
            return Ok(());
        }
        let mut s = self.state.borrow_mut();
        let State {
            items,
            texts,
            text_left,
            ..
        } = &mut *s;
        for open in texts.iter() {
            let Some(value) = items.text_mut(open.at) else {
                continue;
            };
            let room = MAX_VALUE.saturating_sub(value.len()).min(*text_left);
            let mut take = t.as_str().len().min(room);
            while !t.as_str().is_char_boundary(take) {
                take -= 1;
            }
            value.push_str(&t.as_str()[..take]);
            *text_left -= take;
        }
        Ok(())
    }

    /// What was collected, URLs resolved against `base`.
    pub fn finish(self, base: Option<&Url>) -> Metadata {
        let s = self.state.take();
        let mut m = Metadata::default();
        for link in &s.links {
            add_link(&mut m, link, base);
        }
        // Keys given both ways: (by property, by name).
        let mut ways: HashMap<&str, (bool, bool)> = HashMap::new();
        for m in &s.metas {
            let way = ways.entry(&m.key).or_default();
            if m.by_property {
                way.0 = true;
            } else {
                way.1 = true;
            }
        }
        let keep: Vec<bool> = s
            .metas
            .iter()
            .map(|m| ways.get(m.key.as_str()) != Some(&(true, true)) || standard(m))
            .collect();
        for (meta, _) in s.metas.into_iter().zip(keep).filter(|(_, keep)| *keep) {
            let Meta { key, content, .. } = meta;
            let value = decode(&content).trim().to_string();
            if let Some(og) = key.strip_prefix("og:") {
                m.opengraph.push(og.to_string(), value);
            } else if let Some(tw) = key.strip_prefix("twitter:") {
                m.twitter.push(tw.to_string(), value);
            } else {
                m.meta.push(key, value);
            }
        }
        for (i, block) in s.blocks.iter().enumerate() {
            let result = if block.cut {
                Err(format!("cut at {} MiB", MAX_JSONLD >> 20))
            } else {
                jsonld::parse(&block.text)
            };
            match result {
                Ok(objects) => m.json_ld.extend(objects),
                Err(why) => m.errors.push(format!("JSON-LD block {}: {why}", i + 1)),
            }
        }
        if s.items.dropped > 0 {
            m.errors.push(format!(
                "microdata: {} items or properties past the caps left out",
                s.items.dropped
            ));
        }
        if !s.items.is_empty() {
            m.microdata = s.items.finish(base);
        }
        m.errors.extend(s.cut);
        m.errors.truncate(MAX_ERRORS);
        m.bound();
        m
    }
}

fn next_id(s: &mut State) -> u64 {
    s.next_id += 1;
    s.next_id
}

/// Says once that a cap cut something.
fn note(s: &mut State, what: String) {
    if !s.cut.contains(&what) {
        s.cut.push(what);
    }
}

/// Ends the open items and text values a start tag `tag` implicitly
/// closes (a `<p>` left open ends at the next block).
fn close_implied(s: &mut State, tag: &str, scope: usize) {
    for stack in [&mut s.texts, &mut s.scopes] {
        while let Some(last) = stack.last() {
            if last.scope == scope && implicitly_closes(&last.tag, tag) {
                stack.pop();
            } else {
                break;
            }
        }
    }
}

fn on_link(s: &mut State, el: &Element) {
    let (Some(rel), Some(href)) = (named(el, "rel"), el.get_attribute("href")) else {
        return;
    };
    if s.links.len() >= MAX_TAGS {
        note(
            s,
            format!("more than {MAX_TAGS} <link> elements: the rest left out"),
        );
        return;
    }
    s.links.push(Link {
        rel: rel.to_ascii_lowercase(),
        href: capped(href),
        hreflang: el.get_attribute("hreflang").map(capped),
        kind: named(el, "type").map(capped),
        title: el.get_attribute("title").map(capped),
    });
}

fn on_meta(s: &mut State, el: &Element) {
    let (property, name) = (named(el, "property"), named(el, "name"));
    let by_property = property.is_some();
    let key = property
        .or(name)
        .map(|k| k.trim().to_ascii_lowercase())
        .filter(|k| !k.is_empty());
    let (Some(key), Some(content)) = (key, el.get_attribute("content")) else {
        return;
    };
    if s.metas.len() >= MAX_TAGS {
        note(
            s,
            format!("more than {MAX_TAGS} <meta> elements: the rest left out"),
        );
        return;
    }
    s.metas.push(Meta {
        key: capped(key),
        content: capped(content),
        by_property,
    });
}

/// Whether a `<meta>` names its key the way its protocol says: `property`
/// for OpenGraph, `name` for Twitter cards. Where a page gives a key both
/// ways, only these count (`<meta name=og:title>` beside a different
/// `<meta property=og:title>` is the page's own confusion).
fn standard(meta: &Meta) -> bool {
    if meta.key.starts_with("og:") {
        meta.by_property
    } else if meta.key.starts_with("twitter:") {
        !meta.by_property
    } else {
        true
    }
}

/// An attribute that names something (a type, a relation, a key), its
/// character references decoded (`application/ld&#x2B;json`); values are
/// decoded once, at the end.
fn named(el: &Element, attribute: &str) -> Option<String> {
    el.get_attribute(attribute).map(|v| decode(&v).into_owned())
}

/// A value cut at [`MAX_VALUE`] bytes.
fn capped(mut value: String) -> String {
    if value.len() > MAX_VALUE {
        let mut end = MAX_VALUE;
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
    }
    value
}

/// A microdata property's value from the element's attributes, as the
/// HTML standard says for each element (and `content` on any element);
/// `None` when it is the element's text.
fn attribute_value(el: &Element, tag: &str) -> Option<Raw> {
    if let Some(content) = el.get_attribute("content") {
        return Some(Raw::Text(capped(content)));
    }
    let url = |name: &str| Some(Raw::Url(capped(el.get_attribute(name).unwrap_or_default())));
    match tag {
        "audio" | "embed" | "iframe" | "img" | "source" | "track" | "video" => url("src"),
        "a" | "area" | "link" => url("href"),
        "object" => url("data"),
        "data" | "meter" => Some(Raw::Text(el.get_attribute("value").unwrap_or_default())),
        "time" => el.get_attribute("datetime").map(|d| Raw::Text(capped(d))),
        "meta" => Some(Raw::Text(String::new())),
        _ => None,
    }
}

fn add_link(m: &mut Metadata, link: &Link, base: Option<&Url>) {
    let url = resolve(base, &link.href);
    let rels: Vec<&str> = link.rel.split_ascii_whitespace().collect();
    if rels.contains(&"canonical") && m.canonical.is_none() {
        m.canonical = Some(url.clone());
    }
    if rels.contains(&"alternate") {
        let kind = link.kind.as_deref().map(|t| t.trim().to_ascii_lowercase());
        if let Some(hreflang) = &link.hreflang {
            m.alternates.push(Alternate {
                hreflang: decode(hreflang).trim().to_string(),
                url: url.clone(),
            });
        } else if let Some(kind) = kind.filter(|k| FEEDS.contains(&k.as_str())) {
            m.feeds.push(Feed {
                kind,
                url: url.clone(),
                title: link.title.as_deref().map(|t| collapse(&decode(t))),
            });
        }
    }
    if rels.iter().any(|r| ICONS.contains(r)) && !m.icons.contains(&url) {
        m.icons.push(url);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::*;
    use crate::html::Scanner;
    use crate::html::collector::Collector;
    use crate::html::select::Extraction;

    /// `metadata` of a body fed in pieces of `piece` bytes, and how long
    /// the scan took.
    fn scan(body: &[u8], piece: usize) -> (Metadata, Duration) {
        let mut extraction = Extraction::new(Vec::new(), false).unwrap();
        extraction.metadata = true;
        let mut scanner = Scanner::new(Some("text/html"), Collector::new(Arc::new(extraction)));
        let started = Instant::now();
        for chunk in body.chunks(piece.max(1)) {
            scanner.feed(chunk);
        }
        let page = scanner.finish(Url::parse("http://h.example/a/").ok().as_ref());
        let m = page.metadata.map(|m| *m).unwrap_or_default();
        (m, started.elapsed())
    }

    fn json_len(m: &Metadata) -> usize {
        serde_json::to_vec(m).unwrap().len()
    }

    /// A deadline no sane run comes near, that a hang would pass.
    const DEADLINE: Duration = Duration::from_secs(20);

    #[test]
    fn a_hundred_thousand_itemprops_are_bounded() {
        let mut body = String::from("<div itemscope itemtype='https://schema.org/Thing'>");
        for i in 0..100_000 {
            body.push_str(&format!("<span itemprop=p{}>value {i}</span>", i % 7));
        }
        let (m, took) = scan(body.as_bytes(), 16 * 1024);
        assert!(took < DEADLINE, "{took:?}");
        assert!(json_len(&m) <= crate::html::metadata::MAX_BYTES);
        assert!(
            m.errors.iter().any(|e| e.contains("microdata")),
            "{:?}",
            m.errors
        );
        assert!(
            m.errors.iter().any(|e| e.contains("cut at 256 KiB")),
            "{:?}",
            m.errors
        );
    }

    #[test]
    fn nested_unclosed_items_and_properties_are_bounded() {
        let body = "<div itemscope itemprop=x><span itemprop=y>text text ".repeat(100_000);
        let (m, took) = scan(body.as_bytes(), 16 * 1024);
        assert!(took < DEADLINE, "{took:?}");
        assert!(json_len(&m) <= crate::html::metadata::MAX_BYTES);
        // One item at the top, the rest nested in it: more than the whole
        // budget, so it is left out, and that is said.
        assert!(m.microdata.is_empty());
        assert!(
            m.errors.iter().any(|e| e.contains("cut at 256 KiB")),
            "{:?}",
            m.errors
        );
    }

    #[test]
    fn a_fifty_megabyte_script_is_cut_and_said() {
        let mut body = b"<script type=application/ld+json>{\"a\": \"".to_vec();
        body.resize(body.len() + (50 << 20), b'x');
        body.extend_from_slice(b"\"}</script><script type=application/ld+json>{\"b\":1}</script>");
        let (m, took) = scan(&body, 64 * 1024);
        assert!(took < DEADLINE, "{took:?}");
        assert!(m.json_ld.is_empty(), "no budget left for the second block");
        assert!(
            m.errors.iter().any(|e| e.contains("block 1: cut")),
            "{:?}",
            m.errors
        );
    }

    #[test]
    fn deeply_nested_json_ld_is_an_error_not_a_stack_overflow() {
        let body = format!(
            "<script type=application/ld+json>{}{}</script>\
             <script type=application/ld+json>{{\"@type\":\"Thing\"}}</script>",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let (m, _) = scan(body.as_bytes(), 100);
        assert_eq!(m.json_ld.len(), 1, "the next block is still read");
        assert!(m.errors[0].contains("nested"), "{:?}", m.errors);
    }

    fn soup() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"<div itemscope itemtype=https://schema.org/Thing>".to_vec()),
            Just(b"<span itemprop='name url'>".to_vec()),
            Just(b"<a itemprop=url href=../x>".to_vec()),
            Just(b"<meta itemprop=p content=v>".to_vec()),
            Just(b"</div>".to_vec()),
            Just(b"</span>".to_vec()),
            Just(b"<p itemprop=t>".to_vec()),
            Just(b"<li itemprop=l>".to_vec()),
            Just(b"<script type=application/ld+json>".to_vec()),
            Just(b"</script>".to_vec()),
            Just(b"<noscript>".to_vec()),
            Just(b"</noscript>".to_vec()),
            Just(b"{\"@graph\":[{\"a\":1},],}".to_vec()),
            Just(b"<meta property=og:image content=i>".to_vec()),
            Just(b"<link rel='alternate icon' hreflang=de href=/x>".to_vec()),
            Just(b"&amp;&#x2B;".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..30),
            "[ a-z\t\n<>/=\"'{}\\[\\],:]{0,30}".prop_map(String::into_bytes),
        ];
        proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn any_soup_is_bounded_and_chunking_changes_nothing(
            body in soup(),
            piece in 1usize..64,
        ) {
            let (whole, _) = scan(&body, usize::MAX);
            let (pieces, _) = scan(&body, piece);
            prop_assert_eq!(&whole, &pieces);
            prop_assert!(json_len(&whole) <= crate::html::metadata::MAX_BYTES);
            prop_assert!(whole.errors.len() <= MAX_ERRORS);
        }
    }
}
