//! The streaming side of `--metadata`: [`MetaScanner`] takes the body in
//! pieces as it arrives, has [`tokens`](super::tokens) tokenize it, keeps
//! what metadata is made of (raw bytes in the page's charset), and makes
//! [`Metadata`] of it at the end ([`MetaScanner::finish`]).
//!
//! It wants every tag in the head and inside microdata items (keeping a
//! stack of open elements there, to know where an item or a text value
//! ends, with the implied ends of `<p>`, `<li>`, `<td>`…); elsewhere the
//! tokenizer skips to the next marker. A page in a charset that is not
//! ASCII-compatible (UTF-16) is decoded to UTF-8 first.
//!
//! Caps per page, so that no page makes a worker hoard memory or time:
//! [`MAX_TAGS`] links and metas, [`MAX_BLOCKS`] JSON-LD blocks and
//! [`MAX_JSONLD`] bytes of their text, [`MAX_ITEM_TEXT`] bytes of microdata
//! text (every open text value copies each piece of text), at most
//! [`MAX_OPEN`] values collecting text at once and [`MAX_STACK`] open
//! elements. Each cap that cuts something is said in `errors`.

mod assemble;

use encoding_rs::{Decoder, Encoding, UTF_8};
use url::Url;

use super::Metadata;
use super::microdata::{Items, Raw};
use super::tokens::{Sink, Tag, Tokenizer};
use crate::html::collector::implicitly_closes;
use crate::html::page::decode;

/// The most `<link>` and `<meta>` elements (each) read.
pub const MAX_TAGS: usize = 2_000;

/// The most JSON-LD blocks read.
pub const MAX_BLOCKS: usize = 256;

/// The most JSON-LD text read, all blocks together.
pub const MAX_JSONLD: usize = 4 << 20;

/// The most text all microdata values collect together.
pub const MAX_ITEM_TEXT: usize = 1 << 20;

/// The most bytes one microdata value or attribute keeps.
pub const MAX_VALUE: usize = 64 * 1024;

/// The most microdata values collecting text at once.
pub const MAX_OPEN: usize = 256;

/// The most open elements tracked inside items.
pub const MAX_STACK: usize = 1024;

/// Start tags that end the head, besides `<body>` (and `</head>`): the
/// blocks a page's content starts with. Not `<img>`, `<a>` or `<iframe>`,
/// which pages leave in the head inside `<noscript>` (tracking pixels)
/// with more `<meta>` and `<link>` after them.
const BODY: [&[u8]; 18] = [
    b"body", b"div", b"p", b"main", b"article", b"section", b"header", b"nav", b"footer", b"aside",
    b"h1", b"h2", b"h3", b"ul", b"ol", b"table", b"form", b"center",
];

/// Elements without content (no end tag).
const VOID: [&[u8]; 14] = [
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta",
    b"source", b"track", b"wbr", b"param",
];

/// Streams a body into [`Metadata`].
pub struct MetaScanner {
    tokens: Tokenizer,
    found: Found,
    /// Decodes a charset that is not ASCII-compatible to UTF-8 first.
    decoder: Option<Decoder>,
    /// The charset of the bytes the tokenizer sees.
    encoding: &'static Encoding,
    utf8: String,
}

impl MetaScanner {
    /// A scanner for a body in `encoding`.
    pub fn new(encoding: &'static Encoding) -> MetaScanner {
        let (decoder, encoding) = if encoding.is_ascii_compatible() {
            (None, encoding)
        } else {
            (Some(encoding.new_decoder()), UTF_8)
        };
        MetaScanner {
            tokens: Tokenizer::default(),
            found: Found::default(),
            decoder,
            encoding,
            utf8: String::new(),
        }
    }

    /// The next piece of the body.
    pub fn feed(&mut self, piece: &[u8]) {
        match &mut self.decoder {
            None => self.tokens.feed(piece, &mut self.found),
            Some(decoder) => {
                self.utf8.clear();
                let need = decoder
                    .max_utf8_buffer_length(piece.len())
                    .unwrap_or(piece.len().saturating_mul(3));
                self.utf8.reserve(need);
                let _ = decoder.decode_to_string(piece, &mut self.utf8, false);
                self.tokens.feed(self.utf8.as_bytes(), &mut self.found);
            }
        }
    }

    /// What the page holds, URLs resolved against `base`.
    pub fn finish(mut self, base: Option<&Url>) -> Metadata {
        self.tokens.finish(&mut self.found);
        self.found.into_metadata(base, self.encoding)
    }
}

/// A `<link>` as written.
struct Link {
    rel: String,
    href: Vec<u8>,
    hreflang: Option<Vec<u8>>,
    kind: Option<String>,
    title: Option<Vec<u8>>,
}

/// A `<meta>` as written: its key (`property`, else `name`), lower-cased.
struct Meta {
    key: String,
    content: Vec<u8>,
    by_property: bool,
}

/// A JSON-LD block's text, and whether a cap cut it.
#[derive(Default)]
struct Block {
    text: Vec<u8>,
    cut: bool,
}

/// An element's name on the stack: its first bytes (long custom element
/// names compare by those).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Name([u8; 16], u8);

impl Name {
    fn new(name: &[u8]) -> Name {
        let mut bytes = [0; 16];
        let len = name.len().min(16);
        bytes[..len].copy_from_slice(&name[..len]);
        Name(bytes, len as u8)
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0[..usize::from(self.1)]).unwrap_or_default()
    }
}

/// What has been found so far: the tokenizer's sink.
#[derive(Default)]
struct Found {
    head_over: bool,
    links: Vec<Link>,
    metas: Vec<Meta>,
    blocks: Vec<Block>,
    /// The JSON-LD block being read.
    in_block: Option<usize>,
    jsonld_read: usize,
    items: Items,
    /// Open elements, while an item is open; how many more past the cap.
    stack: Vec<Name>,
    overflow: usize,
    /// Open items and the stack depth of their element.
    scopes: Vec<(usize, usize)>,
    /// Open text values and the stack depth of their element.
    texts: Vec<((usize, usize), usize)>,
    text_read: usize,
    /// Bytes kept and values, for [`json_bound`].
    kept: usize,
    entries: usize,
    /// What the caps left out, said in `errors`.
    cut: Vec<String>,
}

impl Sink for Found {
    fn wants_tags(&self) -> bool {
        !self.head_over || !self.scopes.is_empty()
    }

    fn wants_text(&self) -> bool {
        !self.texts.is_empty()
    }

    fn start(&mut self, tag: &Tag<'_>) -> bool {
        let name = tag.name;
        if BODY.contains(&name) {
            self.head_over = true;
        }
        if !self.scopes.is_empty() {
            self.close_implied(name);
        }
        let mut wants_content = false;
        match name {
            b"meta" => self.on_meta(tag),
            b"link" => self.on_link(tag),
            b"script" => wants_content = self.on_script(tag),
            _ => {}
        }
        if tag.mentions_item() {
            let opens_element = !VOID.contains(&name) && !wants_content;
            if tag.has(b"itemscope") {
                self.on_itemscope(tag, opens_element);
            } else if let Some(names) = tag.attr(b"itemprop") {
                let names = text(names);
                self.on_itemprop(tag, &names, opens_element);
            } else if !self.scopes.is_empty() && opens_element {
                self.push(name);
            }
        } else if !self.scopes.is_empty() && !VOID.contains(&name) && !wants_content {
            self.push(name);
        }
        wants_content
    }

    fn end(&mut self, name: &[u8]) {
        if name == b"head" {
            self.head_over = true;
        }
        if self.scopes.is_empty() {
            return;
        }
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        let wanted = Name::new(name);
        if let Some(at) = self.stack.iter().rposition(|n| *n == wanted) {
            self.pop_to(at);
        }
    }

    fn text(&mut self, bytes: &[u8]) {
        let Found {
            items,
            texts,
            text_read,
            kept,
            ..
        } = self;
        for (at, _) in texts.iter() {
            let Some(value) = items.text_mut(*at) else {
                continue;
            };
            let room = MAX_VALUE
                .saturating_sub(value.len())
                .min(MAX_ITEM_TEXT - *text_read);
            let take = bytes.len().min(room);
            value.extend_from_slice(&bytes[..take]);
            *text_read += take;
            *kept += take;
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        let Some(block) = self.in_block else {
            return;
        };
        if self.jsonld_read + bytes.len() > MAX_JSONLD {
            self.in_block = None;
            self.note(format!("JSON-LD past {} MiB left out", MAX_JSONLD >> 20));
            if let Some(b) = self.blocks.get_mut(block) {
                b.text = Vec::new();
                b.cut = true;
            }
            return;
        }
        self.jsonld_read += bytes.len();
        self.kept += bytes.len();
        if let Some(b) = self.blocks.get_mut(block) {
            b.text.extend_from_slice(bytes);
        }
    }

    fn raw_end(&mut self) {
        self.in_block = None;
    }
}

impl Found {
    /// Says once that a cap cut something.
    fn note(&mut self, what: String) {
        if !self.cut.contains(&what) {
            self.cut.push(what);
        }
    }

    /// Counts a value of `len` bytes kept, for [`json_bound`].
    fn count(&mut self, len: usize) {
        self.kept = self.kept.saturating_add(len);
        self.entries += 1;
    }

    fn push(&mut self, name: &[u8]) {
        if self.stack.len() >= MAX_STACK {
            self.overflow += 1;
            return;
        }
        self.stack.push(Name::new(name));
    }

    /// Closes the element at stack position `at` and all inside it, with
    /// the items and text values they hold.
    fn pop_to(&mut self, at: usize) {
        self.stack.truncate(at);
        let depth = self.stack.len();
        self.scopes.retain(|&(_, d)| d <= depth);
        self.texts.retain(|&(_, d)| d <= depth);
        if self.scopes.is_empty() {
            self.stack.clear();
            self.texts.clear();
        }
    }

    /// Ends the open elements a start tag `name` implicitly closes (a
    /// `<p>` left open ends at the next block, a `<li>` at the next one).
    fn close_implied(&mut self, name: &[u8]) {
        let Ok(name) = std::str::from_utf8(name) else {
            return;
        };
        while let Some(top) = self.stack.last() {
            if self.overflow == 0 && implicitly_closes(top.as_str(), name) {
                let at = self.stack.len() - 1;
                self.pop_to(at);
                if self.scopes.is_empty() {
                    return;
                }
            } else {
                break;
            }
        }
    }

    fn on_script(&mut self, tag: &Tag<'_>) -> bool {
        let is_jsonld = tag.attr(b"type").is_some_and(|t| {
            let t = text(t);
            let essence = t.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/ld+json")
        });
        if !is_jsonld {
            return false;
        }
        if self.blocks.len() >= MAX_BLOCKS {
            self.note(format!(
                "more than {MAX_BLOCKS} JSON-LD blocks: the rest left out"
            ));
            return false;
        }
        self.in_block = Some(self.blocks.len());
        self.blocks.push(Block::default());
        true
    }

    fn on_itemscope(&mut self, tag: &Tag<'_>, opens_element: bool) {
        let parent = self.scopes.last().map(|&(item, _)| item);
        let names = tag.attr(b"itemprop").map(text);
        let parent = match (&names, parent) {
            (Some(names), Some(parent)) => Some((parent, names.as_str())),
            _ => None,
        };
        let itemtype = tag.attr(b"itemtype").map(text);
        let itemid = tag.attr(b"itemid").map(text);
        self.count(itemtype.as_deref().map_or(0, str::len) + itemid.as_deref().map_or(0, str::len));
        let depth = self.scopes.len();
        let Some(item) = self.items.open(itemtype.as_deref(), itemid, parent, depth) else {
            return;
        };
        if opens_element {
            self.push(tag.name);
            if self.overflow == 0 {
                self.scopes.push((item, self.stack.len()));
            }
        }
    }

    fn on_itemprop(&mut self, tag: &Tag<'_>, names: &str, opens_element: bool) {
        let Some(&(item, _)) = self.scopes.last() else {
            return; // a property outside any item
        };
        let value = attribute_value(tag).unwrap_or(Raw::Text(Vec::new()));
        let len = match &value {
            Raw::Text(v) | Raw::Url(v) => v.len(),
            Raw::Item(_) => 0,
        };
        self.count(names.len() + len);
        let collects = matches!(&value, Raw::Text(t) if t.is_empty()) && opens_element;
        let at = self.items.add(item, names, value);
        if opens_element {
            self.push(tag.name);
        }
        let room = self.texts.len() < MAX_OPEN;
        if let Some(at) = at.filter(|_| collects && self.overflow == 0 && room) {
            self.texts.push((at, self.stack.len()));
        }
    }

    fn on_link(&mut self, tag: &Tag<'_>) {
        let (Some(rel), Some(href)) = (tag.attr(b"rel"), tag.attr(b"href")) else {
            return;
        };
        if self.links.len() >= MAX_TAGS {
            self.note(format!(
                "more than {MAX_TAGS} <link> elements: the rest left out"
            ));
            return;
        }
        self.count(rel.len() + href.len() + tag.rest.len().min(MAX_VALUE));
        self.links.push(Link {
            rel: text(rel).to_ascii_lowercase(),
            href: capped(href),
            hreflang: tag.attr(b"hreflang").map(capped),
            kind: tag.attr(b"type").map(text),
            title: tag.attr(b"title").map(capped),
        });
    }

    fn on_meta(&mut self, tag: &Tag<'_>) {
        let (property, name) = (tag.attr(b"property"), tag.attr(b"name"));
        let by_property = property.is_some();
        let key = property
            .or(name)
            .map(|k| text(k).trim().to_ascii_lowercase())
            .filter(|k| !k.is_empty());
        let (Some(key), Some(content)) = (key, tag.attr(b"content")) else {
            return;
        };
        if self.metas.len() >= MAX_TAGS {
            self.note(format!(
                "more than {MAX_TAGS} <meta> elements: the rest left out"
            ));
            return;
        }
        self.count(key.len() + content.len());
        self.metas.push(Meta {
            key,
            content: capped(content),
            by_property,
        });
    }
}

/// An attribute that names something (a type, a relation, a key), its
/// character references decoded (`application/ld&#x2B;json`). Names are
/// ASCII in practice; other bytes are replaced.
fn text(bytes: &[u8]) -> String {
    decode(&String::from_utf8_lossy(bytes)).into_owned()
}

/// A value cut at [`MAX_VALUE`] bytes.
fn capped(value: &[u8]) -> Vec<u8> {
    value[..value.len().min(MAX_VALUE)].to_vec()
}

/// A microdata property's value from the element's attributes, as the
/// HTML standard says for each element (and `content` on any element);
/// `None` when it is the element's text.
fn attribute_value(tag: &Tag<'_>) -> Option<Raw> {
    if let Some(content) = tag.attr(b"content") {
        return Some(Raw::Text(capped(content)));
    }
    let url = |name: &[u8]| Some(Raw::Url(capped(tag.attr(name).unwrap_or_default())));
    match tag.name {
        b"audio" | b"embed" | b"iframe" | b"img" | b"source" | b"track" | b"video" => url(b"src"),
        b"a" | b"area" | b"link" => url(b"href"),
        b"object" => url(b"data"),
        b"data" | b"meter" => Some(Raw::Text(capped(tag.attr(b"value").unwrap_or_default()))),
        b"time" => tag.attr(b"datetime").map(|d| Raw::Text(capped(d))),
        b"meta" => Some(Raw::Text(Vec::new())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::html::metadata::MAX_ERRORS;
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::*;
    use crate::html::Scanner;
    use crate::html::collector::Collector;
    use crate::html::metadata::MAX_BYTES;
    use crate::plan::Extraction;

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
        assert!(json_len(&m) <= MAX_BYTES);
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
        assert!(json_len(&m) <= MAX_BYTES);
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
        assert_eq!(
            m.json_ld,
            [serde_json::json!({"b": 1})],
            "the next block is read"
        );
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
            Just(b"<body>".to_vec()),
            Just(b"<p>itemscope ld+json <meta".to_vec()),
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
            prop_assert!(json_len(&whole) <= MAX_BYTES);
            prop_assert!(whole.errors.len() <= MAX_ERRORS);
        }
    }
}
