//! A body as it streams, into what the page yields (docs/record.md:
//! `title`, `description`, `lang`, `fields`, `links`).
//!
//! [`Scanner`] takes the body in chunks, in the order they arrive, and
//! holds at most the first [`SNIFF_LEN`] bytes plus what is extracted:
//!
//! 1. The first 1024 bytes are kept to decide the charset — a byte order
//!    mark, else the Content-Type header's `charset`, else a
//!    `<meta charset>` / `http-equiv` declaration in those bytes, else UTF-8
//!    — and, when the response had no Content-Type, whether it is HTML.
//! 2. From then on each chunk is decoded to UTF-8 (`encoding_rs`) and fed to
//!    a streaming HTML parser (`lol_html`) whose handlers (`page.rs`) collect
//!    the title, lang, description, `--select` fields and `--links`.
//! 3. Once nothing later can change the result (only the defaults asked,
//!    the head over, the title known), parsing stops: the rest of the body
//!    is only counted by the caller. A body cut by `--max-body` yields what
//!    arrived.
//!
//! With `--text` or `--markdown`, the scanner also keeps the body of an
//! HTML page (and parses it to the end), with the charset it decided, for
//! the extraction pool (`crate::extract`).
//!
//! Everything here is pure: no I/O. [`charset`] decides the charset,
//! [`collector`] holds the parser's handlers, [`page`] is what they yield,
//! [`select`] the `--select` specs.

pub mod charset;
pub mod collector;
pub mod metadata;
pub mod page;

use std::borrow::Cow;

use encoding_rs::{Decoder, Encoding, UTF_8};
use lol_html::html_content::{Element, TextChunk};
use lol_html::{ElementContentHandlers, HtmlRewriter, MemorySettings, Selector, Settings};
use url::Url;

use charset::{charset_from_content_type, looks_like_html, meta_charset, mime_essence};
use collector::Collector;
use metadata::MetaScanner;
use page::Page;
use page::{Body, Declared};

/// How many leading bytes decide the charset and whether a body is HTML.
pub const SNIFF_LEN: usize = 1024;

/// The most memory the HTML parser's own buffers may take for one page.
const PARSER_MEMORY: usize = 32 << 20;

/// Whether a Content-Type says HTML, says something else, or is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Html,
    Other,
    Unknown,
}

/// Streams a body and collects what the page yields.
pub struct Scanner {
    kind: Kind,
    header_charset: Option<&'static Encoding>,
    stage: Stage,
    collector: Collector,
    /// The body so far, when it is kept for extraction.
    kept: Option<Vec<u8>>,
    /// The charset decided, and whether something declared it.
    charset: Option<(&'static Encoding, Declared)>,
    /// `--metadata`: reads the whole body on its own, once the charset is
    /// known.
    meta: Option<MetaScanner>,
}

enum Stage {
    Sniffing(Vec<u8>),
    Parsing(Box<Parser>),
    /// Parsing is over: the body is not HTML, or nothing more can change
    /// the result.
    Finished {
        html: bool,
    },
}

impl Scanner {
    /// A scanner for a response with this Content-Type header, if any,
    /// collecting into `collector`.
    pub fn new(content_type: Option<&str>, collector: Collector) -> Scanner {
        let kind = match content_type.map(mime_essence) {
            None => Kind::Unknown,
            Some(m) if m == "text/html" || m == "application/xhtml+xml" => Kind::Html,
            Some(_) => Kind::Other,
        };
        let stage = if kind == Kind::Other {
            Stage::Finished { html: false }
        } else {
            Stage::Sniffing(Vec::new())
        };
        let kept = (kind != Kind::Other && collector.extraction().content.any()).then(Vec::new);
        Scanner {
            kind,
            header_charset: content_type.and_then(charset_from_content_type),
            stage,
            collector,
            kept,
            charset: None,
            meta: None,
        }
    }

    /// Makes room for `len` bytes of body, when it is kept (a
    /// Content-Length: one allocation instead of a doubling series).
    pub fn reserve(&mut self, len: usize) {
        if let Some(kept) = &mut self.kept {
            kept.reserve_exact(len);
        }
    }

    /// Whether the body is being kept for extraction.
    pub fn keeps_body(&self) -> bool {
        self.kept.is_some()
    }

    /// False once more bytes cannot change the result.
    pub fn wants_more(&self) -> bool {
        self.kept.is_some() || self.meta.is_some() || !matches!(self.stage, Stage::Finished { .. })
    }

    /// Feeds the next chunk of the (decompressed) body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(chunk);
        }
        if let Some(meta) = &mut self.meta {
            meta.feed(chunk);
        }
        match &mut self.stage {
            Stage::Finished { .. } => {}
            Stage::Parsing(p) => {
                if p.feed(chunk, false) {
                    self.stage = Stage::Finished { html: true };
                }
            }
            Stage::Sniffing(head) => {
                if head.is_empty() && chunk.len() >= SNIFF_LEN {
                    self.start(chunk, false);
                } else {
                    head.extend_from_slice(chunk);
                    if head.len() >= SNIFF_LEN {
                        let head = std::mem::take(head);
                        self.start(&head, false);
                    }
                }
            }
        }
    }

    /// Ends the body: what the page yielded, links and URL attributes
    /// resolved against `url` (the page's own).
    pub fn finish(mut self, url: Option<&Url>) -> Page {
        if let Stage::Sniffing(head) = &mut self.stage {
            let head = std::mem::take(head);
            self.start(&head, true);
        }
        match self.stage {
            Stage::Parsing(p) => p.end(),
            Stage::Finished { html: true } => {}
            // Not HTML: nothing found (the record gets the asked-for
            // `fields` and `links` keys, empty, in `Record::complete`).
            Stage::Finished { html: false } | Stage::Sniffing(_) => return Page::default(),
        }
        let mut page = self.collector.finish(url, self.meta);
        if let (Some(bytes), Some((encoding, declared))) = (self.kept, self.charset) {
            page.body = Some(Body {
                bytes,
                encoding,
                declared,
                held: None,
            });
        }
        page
    }

    /// Decides charset and HTML-ness from the first bytes, then parses them.
    fn start(&mut self, head: &[u8], last: bool) {
        if self.kind == Kind::Unknown && !looks_like_html(head) {
            self.stage = Stage::Finished { html: false };
            self.kept = None;
            return;
        }
        // The `<meta>` prescan only when the header named no charset.
        let (encoding, declared) = match self.header_charset {
            Some(header) => (header, Declared::Header),
            None => match meta_charset(head) {
                Some(meta) => (meta, Declared::Meta),
                None => (UTF_8, Declared::Nothing),
            },
        };
        if self.collector.extraction().metadata {
            // A byte order mark overrides any declaration.
            let bom = Encoding::for_bom(head).map(|(e, _)| e);
            let mut meta = MetaScanner::new(bom.unwrap_or(encoding));
            meta.feed(head);
            self.meta = Some(meta);
        }
        // Only a kept body needs to know more (a byte order mark overrides
        // any declaration when the text is decoded).
        if self.kept.is_some() {
            let declared = match Encoding::for_bom(head) {
                Some(_) => Declared::Header,
                None => declared,
            };
            self.charset = Some((encoding, declared));
        }
        let mut parser = Box::new(Parser::new(encoding, &self.collector));
        self.stage = if parser.feed(head, last) {
            Stage::Finished { html: true }
        } else if last {
            parser.end();
            Stage::Finished { html: true }
        } else {
            Stage::Parsing(parser)
        };
    }
}

type Rewriter = HtmlRewriter<'static, fn(&[u8])>;

fn discard(_: &[u8]) {}

/// The built-in selectors, parsed once per thread (lol_html's are not
/// `Sync`).
struct Selectors {
    any: Selector,
    title: Selector,
}

thread_local! {
    static SELECTORS: Option<Selectors> = Some(Selectors {
        any: "*".parse().ok()?,
        title: "title".parse().ok()?,
    });
}

/// Charset decoding plus the HTML parser, once the charset is known.
struct Parser {
    decoder: Decoder,
    /// Boxed where it is built: it is large, and every worker's stack
    /// would otherwise hold a copy of it under the page's parsing.
    rewriter: Option<Box<Rewriter>>,
    utf8: String,
    /// The decoder has seen the end of the input.
    decoded_all: bool,
    collector: Collector,
}

impl Parser {
    fn new(encoding: &'static Encoding, collector: &Collector) -> Parser {
        let rewriter = SELECTORS.with(|builtin| {
            let builtin = builtin.as_ref()?;
            collector
                .extraction()
                .with_selectors(|selected| Some(rewriter(builtin, selected, collector)))
        });
        Parser {
            // `new_decoder` lets a byte order mark override `encoding`.
            decoder: encoding.new_decoder(),
            rewriter,
            utf8: String::new(),
            decoded_all: false,
            collector: collector.clone(),
        }
    }

    /// Parses a chunk; true once parsing is over (nothing more can change
    /// the result, or the parser gave up).
    fn feed(&mut self, bytes: &[u8], last: bool) -> bool {
        if self.decoded_all {
            return false;
        }
        self.decoded_all = last;
        self.utf8.clear();
        let need = self
            .decoder
            .max_utf8_buffer_length(bytes.len())
            .unwrap_or(bytes.len().saturating_mul(3));
        self.utf8.reserve(need);
        let _ = self.decoder.decode_to_string(bytes, &mut self.utf8, last);
        let failed = match self.rewriter.as_mut() {
            Some(r) => r.write(self.utf8.as_bytes()).is_err(),
            None => true,
        };
        if failed || self.collector.done() {
            self.rewriter = None;
            return true;
        }
        false
    }

    /// Ends the document: an element cut off by the end of the body still
    /// counts with what it had.
    fn end(mut self) {
        if self.feed(&[], true) {
            return;
        }
        if let Some(r) = self.rewriter.take() {
            let _ = (*r).end();
        }
    }
}

/// The parser with every handler of this page: the built-in ones and one
/// per `--select`.
#[inline(never)]
fn rewriter(
    builtin: &Selectors,
    selected: &[Option<Selector>],
    collector: &Collector,
) -> Box<Rewriter> {
    let (any, title, title_text) = (collector.clone(), collector.clone(), collector.clone());
    let mut settings = Settings::new()
        .with_strict(false)
        // The parser's own buffers (a tag split across chunks, the element
        // stack of a deeply nested page): past this it gives up on the
        // page, keeping what it found.
        .with_memory_settings(MemorySettings::new().with_max_allowed_memory_usage(PARSER_MEMORY))
        .append_element_content_handler((
            Cow::Borrowed(&builtin.any),
            ElementContentHandlers::default()
                .element(move |el: &mut Element| any.on_any_element(el)),
        ))
        .append_element_content_handler((
            Cow::Borrowed(&builtin.title),
            ElementContentHandlers::default()
                .element(move |el: &mut Element| title.on_title(el))
                .text(move |t: &mut TextChunk| title_text.on_title_text(t)),
        ));
    for (field, selector) in selected.iter().enumerate() {
        let Some(selector) = selector else { continue };
        let (on_element, on_text) = (collector.clone(), collector.clone());
        let mut handlers = ElementContentHandlers::default()
            .element(move |el: &mut Element| on_element.on_selected(field, el));
        if collector.extraction().selects[field].attr.is_none() {
            // Text is decoded only inside matching elements.
            handlers = handlers.text(move |t: &mut TextChunk| on_text.on_text(field, t));
        }
        settings = settings.append_element_content_handler((Cow::Borrowed(selector), handlers));
    }
    Box::new(HtmlRewriter::new(settings, discard as fn(&[u8])))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner(content_type: Option<&str>) -> Scanner {
        let extraction = std::sync::Arc::new(crate::plan::Extraction::default());
        Scanner::new(content_type, Collector::new(extraction))
    }

    fn title_of(content_type: Option<&str>, body: &[u8]) -> Option<String> {
        let mut s = scanner(content_type);
        s.feed(body);
        s.finish(None).title
    }

    fn html(body: &str) -> Option<String> {
        title_of(Some("text/html"), body.as_bytes())
    }

    #[test]
    fn plain_title() {
        assert_eq!(
            html("<html><head><title>Example Domain</title></head></html>").as_deref(),
            Some("Example Domain")
        );
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            html("<title>Tom &amp; Jerry&#8217;s &lt;Show&gt; &hellip; &#x41;</title>").as_deref(),
            Some("Tom & Jerry\u{2019}s <Show> \u{2026} A")
        );
    }

    #[test]
    fn ascii_whitespace_collapses_other_spaces_stay() {
        assert_eq!(
            html("<title>\n  Lots \t of\r\n space  </title>").as_deref(),
            Some("Lots of space")
        );
        assert_eq!(
            html("<title>a&nbsp;b\u{3000}c</title>").as_deref(),
            Some("a\u{a0}b\u{3000}c")
        );
    }

    #[test]
    fn only_the_first_html_title_counts() {
        let page = "<html><head><title>First</title><title>Second</title></head>\
                    <body><svg><title>Icon</title></svg></body></html>";
        assert_eq!(html(page).as_deref(), Some("First"));
        let svg_first = "<body><svg><title>Icon</title></svg><title>Real</title></body>";
        assert_eq!(html(svg_first).as_deref(), Some("Real"));
    }

    #[test]
    fn no_title_and_empty_title() {
        assert_eq!(html("<html><body><h1>Hi</h1></body></html>"), None);
        assert_eq!(html(""), None);
        assert_eq!(html("<title></title>").as_deref(), Some(""));
    }

    #[test]
    fn markup_inside_title_is_text() {
        assert_eq!(
            html("<title>a <b>bold</b> move</title>").as_deref(),
            Some("a <b>bold</b> move")
        );
    }

    #[test]
    fn title_split_across_chunks() {
        let page = "<html><head><title>Split &am".to_string() + "p; joined</title>";
        let mut s = scanner(Some("text/html"));
        for b in page.as_bytes().chunks(3) {
            s.feed(b);
        }
        assert_eq!(s.finish(None).title.as_deref(), Some("Split & joined"));
    }

    #[test]
    fn scanning_stops_once_the_head_is_over_and_the_title_known() {
        let mut s = scanner(Some("text/html"));
        s.feed(&[b' '; 2000]);
        s.feed(b"<head><title>Done</title>");
        assert!(s.wants_more(), "a description may follow in the head");
        s.feed(b"<meta name=description content=D></head>");
        assert!(!s.wants_more());
        s.feed(b"<title>Later</title>");
        let page = s.finish(None);
        assert_eq!(page.title.as_deref(), Some("Done"));
        assert_eq!(page.description.as_deref(), Some("D"));

        let mut s = scanner(Some("text/html"));
        s.feed(&[b' '; 2000]);
        s.feed(b"<title>T</title><p>body text");
        assert!(!s.wants_more(), "a body element ends the head");
    }

    #[test]
    fn a_title_in_the_body_is_still_found() {
        let mut s = scanner(Some("text/html"));
        s.feed(&[b' '; 2000]);
        s.feed(b"<body><p>x</p>");
        assert!(s.wants_more());
        s.feed(b"<title>Late</title>");
        assert!(!s.wants_more());
        assert_eq!(s.finish(None).title.as_deref(), Some("Late"));
    }

    #[test]
    fn unterminated_title_at_end_of_body() {
        assert_eq!(html("<title>Cut off here").as_deref(), Some("Cut off here"));
    }

    #[test]
    fn non_html_has_no_title() {
        assert_eq!(
            title_of(Some("application/json"), b"{\"<title>x</title>\":1}"),
            None
        );
        assert_eq!(title_of(Some("text/plain"), b"<title>x</title>"), None);
        assert_eq!(title_of(None, b"PNG\x00\x01<title>x</title>"), None);
    }

    #[test]
    fn missing_content_type_is_sniffed() {
        assert_eq!(
            title_of(None, b"\n <!DOCTYPE html><title>Sniffed</title>").as_deref(),
            Some("Sniffed")
        );
        assert_eq!(title_of(None, b"<title>T</title>").as_deref(), Some("T"));
    }

    #[test]
    fn xhtml_counts_as_html() {
        assert_eq!(
            title_of(
                Some("application/xhtml+xml; charset=utf-8"),
                b"<title>X</title>"
            )
            .as_deref(),
            Some("X")
        );
    }

    #[test]
    fn latin1_by_header() {
        assert_eq!(
            title_of(
                Some("text/html; charset=ISO-8859-1"),
                b"<title>Caf\xe9</title>"
            )
            .as_deref(),
            Some("Café")
        );
    }

    #[test]
    fn windows_1252_by_meta() {
        let body = b"<meta charset=\"windows-1252\"><title>\x93Quoted\x94 \x80</title>";
        assert_eq!(
            title_of(Some("text/html"), body).as_deref(),
            Some("\u{201c}Quoted\u{201d} \u{20ac}")
        );
    }

    #[test]
    fn shift_jis_by_http_equiv() {
        let body = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=Shift_JIS\">\
                     <title>\x93\xfa\x96\x7b\x8c\xea</title>";
        assert_eq!(title_of(Some("text/html"), body).as_deref(), Some("日本語"));
    }

    #[test]
    fn header_beats_meta_and_bom_beats_both() {
        let body = b"<meta charset=windows-1252><title>Caf\xc3\xa9</title>";
        assert_eq!(
            title_of(Some("text/html; charset=utf-8"), body).as_deref(),
            Some("Café")
        );
        let bom = b"\xEF\xBB\xBF<title>Caf\xc3\xa9</title>";
        assert_eq!(
            title_of(Some("text/html; charset=iso-8859-1"), bom).as_deref(),
            Some("Café")
        );
    }

    #[test]
    fn utf16_with_bom() {
        let text = "<title>Wide</title>";
        let mut body = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            body.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(title_of(Some("text/html"), &body).as_deref(), Some("Wide"));
    }

    #[test]
    fn meta_after_the_first_kilobyte_is_ignored() {
        let mut body = vec![b' '; 1100];
        body.extend_from_slice(b"<meta charset=windows-1252><title>Caf\xe9</title>");
        assert_eq!(
            title_of(Some("text/html"), &body).as_deref(),
            Some("Caf\u{fffd}")
        );
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(
            title_of(Some("text/html"), b"<title>a\xffb</title>").as_deref(),
            Some("a\u{fffd}b")
        );
    }

    mod fuzz {
        //! Property tests (run longer with PROPTEST_CASES=200000).
        use super::*;
        use encoding_rs::WINDOWS_1252;
        use proptest::prelude::*;

        /// Feeds `body` in pieces of the lengths `cuts`, then the rest.
        fn feed_in_pieces(s: &mut Scanner, body: &[u8], cuts: &[usize]) {
            let mut at = 0;
            for &cut in cuts {
                let end = (at + cut).min(body.len());
                s.feed(&body[at..end]);
                at = end;
            }
            s.feed(&body[at..]);
        }

        fn scan(content_type: Option<&str>, body: &[u8], cuts: &[usize]) -> Option<String> {
            let mut s = scanner(content_type);
            feed_in_pieces(&mut s, body, cuts);
            s.finish(None).title
        }

        fn content_type() -> impl Strategy<Value = Option<&'static str>> {
            prop_oneof![
                Just(None),
                Just(Some("text/html")),
                Just(Some("text/html; charset=windows-1252")),
                Just(Some("text/html; charset=shift_jis")),
                Just(Some("text/html; charset=utf-16le")),
                Just(Some("application/json")),
            ]
        }

        fn html_soup() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                Just(b"<title>".to_vec()),
                Just(b"</title>".to_vec()),
                Just(b"<svg>".to_vec()),
                Just(b"</svg>".to_vec()),
                Just(b"<meta charset=shift_jis>".to_vec()),
                Just(b"<meta http-equiv=content-type content='text/html;charset=koi8-r'>".to_vec()),
                Just(b"<!--".to_vec()),
                Just(b"-->".to_vec()),
                Just(b"<script>".to_vec()),
                Just(b"&amp;&#x2019;&bogus;&#99999999;".to_vec()),
                Just(b"\xEF\xBB\xBF".to_vec()),
                Just(b"\xFF\xFE".to_vec()),
                proptest::collection::vec(any::<u8>(), 0..40),
                "[ a-z\t\n<>/=\"'&;#]{0,40}".prop_map(String::into_bytes),
            ];
            proptest::collection::vec(piece, 0..30).prop_map(|v| v.concat())
        }

        /// Pages of lists, paragraphs and links, well-formed or not.
        fn markup_soup() -> impl Strategy<Value = Vec<u8>> {
            let piece = prop_oneof![
                Just(b"<p>".to_vec()),
                Just(b"</p>".to_vec()),
                Just(b"<ul><li>".to_vec()),
                Just(b"<li>".to_vec()),
                Just(b"</li>".to_vec()),
                Just(b"</ul>".to_vec()),
                Just(b"<div class=x>".to_vec()),
                Just(b"</div>".to_vec()),
                Just(b"<b>".to_vec()),
                Just(b"<a href='../a b.html#f'>".to_vec()),
                Just(b"<a href=\"?q=1&amp;r\">".to_vec()),
                Just(b"<a href=mailto:x@y>".to_vec()),
                Just(b"</a>".to_vec()),
                Just(b"<base href=/base/>".to_vec()),
                Just(b"<img src=i.png alt='&lt;x&gt;'>".to_vec()),
                Just(b"<script>".to_vec()),
                Just(b"</script>".to_vec()),
                Just(b"<br>".to_vec()),
                "[ a-z\t\n&;#]{0,20}".prop_map(String::into_bytes),
            ];
            proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
        }

        fn extract(body: &[u8], cuts: &[usize]) -> Page {
            let specs = ["p=p", "li=ul li", "x=div.x", "img=img@src", "alt=img@alt"];
            let selects = specs.iter().map(|s| s.parse().unwrap()).collect();
            let extraction = crate::plan::Extraction::new(selects, true).unwrap();
            let mut s = Scanner::new(
                Some("text/html"),
                Collector::new(std::sync::Arc::new(extraction)),
            );
            feed_in_pieces(&mut s, body, cuts);
            let url = Url::parse("http://h.example/dir/page.html").unwrap();
            s.finish(Some(&url))
        }

        proptest! {
            #[test]
            fn chunking_never_changes_fields_or_links(
                body in markup_soup(),
                cuts in proptest::collection::vec(0usize..60, 0..20),
            ) {
                let whole = extract(&body, &[]);
                let pieces = extract(&body, &cuts);
                prop_assert_eq!(&whole, &pieces);
                let links = whole.links.unwrap_or_default();
                let mut unique = links.clone();
                unique.sort();
                unique.dedup();
                prop_assert_eq!(unique.len(), links.len(), "links are unique");
                prop_assert!(links.iter().all(|l| l.starts_with("http://") && !l.contains('#')));
                for (name, values) in whole.fields.unwrap_or_default().0 {
                    // Attributes are kept as written (decoded); text collapses.
                    if name == "img" || name == "alt" {
                        continue;
                    }
                    for v in values {
                        prop_assert_eq!(v.trim_ascii(), v.as_str());
                        prop_assert!(!v.contains("  "));
                    }
                }
            }

            #[test]
            fn chunking_never_changes_the_title(
                ct in content_type(),
                body in html_soup(),
                cuts in proptest::collection::vec(0usize..200, 0..20),
            ) {
                let whole = scan(ct, &body, &[]);
                let pieces = scan(ct, &body, &cuts);
                prop_assert_eq!(&whole, &pieces);
                if let Some(title) = whole {
                    prop_assert_eq!(title.trim_ascii(), title.as_str());
                    prop_assert!(!title.contains("  "));
                    prop_assert!(!title.contains(['\t', '\n', '\r', '\x0C']));
                }
            }

            #[test]
            fn plain_titles_come_back_collapsed(text in "[a-zA-Z0-9 \t\n.,!?\u{a0}\u{e9}\u{4e2d}]{0,60}") {
                let body = format!("<!doctype html><html><head><title>{text}</title></head><body>x</body></html>");
                let expected = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
                prop_assert_eq!(scan(Some("text/html"), body.as_bytes(), &[7, 13]), Some(expected));
            }

            #[test]
            fn declared_charsets_are_decoded(text in "[ -~\u{a0}-\u{ff}\u{20ac}\u{201c}\u{201d}]{1,40}") {
                let escaped = text.replace('&', "&amp;").replace('<', "&lt;");
                let (bytes, _, unmappable) = WINDOWS_1252.encode(&escaped);
                prop_assume!(!unmappable);
                let mut body = b"<meta charset=windows-1252><title>".to_vec();
                body.extend_from_slice(&bytes);
                body.extend_from_slice(b"</title>");
                let expected = text.split_ascii_whitespace().collect::<Vec<_>>().join(" ");
                prop_assert_eq!(scan(Some("text/html"), &body, &[5]), Some(expected));
            }
        }
    }
}
