//! The page itself: its readable main content as plain text (`--text`) and
//! Markdown (`--markdown`), with the article's metadata (docs/extraction.md).
//!
//! Fetching is waiting; building a DOM is CPU work. So the blocking workers
//! only keep the body of an HTML page (up to `--max-body`, in
//! [`crate::html::Scanner`]) and hand it, with the record it belongs to, to
//! the [`pool::Extractor`]: a rayon pool the size of the cores behind a
//! bounded queue. A thousand workers therefore never build a thousand DOMs
//! at once; a worker whose page finds the queue full waits, which is the
//! back-pressure. Runs without `--text`/`--markdown` keep no body and never
//! start the pool.
//!
//! One page, in order (`extract_page`, top to bottom):
//! 1. [`decode`]: the bytes to text, in the charset the scanner decided —
//!    or, when nothing declared one and the bytes are not UTF-8, the one
//!    `chardetng` (Firefox's detector) guesses; [`shape`] refuses pages
//!    too deep or too large to parse.
//! 2. [`survey`]: one walk of the parsed page for what the later steps
//!    ask (structured data, `<meta>`, counts of words, paragraphs,
//!    headings that are links…).
//! 3. [`kind`]: the page's kind (`page_type`) from those signals;
//!    [`about`]: its byline, dates, site name, description.
//! 4. [`furniture`] (wiki edit links, infoboxes) out; [`streamed`]: the
//!    content React streams hidden at the end of the body moved into place.
//! 5. `Block::find`: articles (and the kinds decided from weak signals) go
//!    to [`article`] — `dom_smoothie`, a port of Mozilla Readability, then
//!    cleaned — on a copy kept by [`spare`]; forums, products, collections,
//!    and pages whose article does not hold the page's text, to [`main`],
//!    the main column. [`product`] adds a product's description from its
//!    JSON-LD when the page does not show it.
//! 6. [`render`]: the block as plain text and as Markdown in one walk,
//!    each cut at [`render::cap`] bytes; the language of the text.
//!
//! docs/extraction.md says what each kind yields and how well, measured.
//!
//! A page the extractor gives up on (no article, too many elements, a bug
//! that panics) yields `text: null` and says why in `extract_note`; it never
//! takes a worker or the run down.

mod about;
mod article;
mod decode;
mod dom;
mod furniture;
mod kind;
mod main;
pub mod pool;
mod product;
mod render;
mod shape;
mod spare;
mod streamed;
mod survey;

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::html::page::Body;
use crate::plan::Wanted;

use dom_query::{Document, NodeId, NodeRef};
use url::Url;

use crate::error::panic_message;
use about::About;
pub use kind::Kind;
use serde::ser::{Serialize, SerializeMap, Serializer};
use spare::Spare;
use survey::Survey;

/// What extraction yields for one record: the fields `page_type`, `text`,
/// `markdown`, `byline`, `published`, `modified`, `site_name`, `excerpt`,
/// `language` and `extract_note`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Content {
    wanted: Wanted,
    /// What kind of page it is.
    pub page_type: Option<Kind>,
    /// The main content as plain text.
    pub text: Option<String>,
    /// The main content as Markdown.
    pub markdown: Option<String>,
    /// The article's author line.
    pub byline: Option<String>,
    /// When it was published: RFC 3339, a date when only the date is known.
    pub published: Option<String>,
    /// When it was last changed, as `published`.
    pub modified: Option<String>,
    /// The site's name.
    pub site_name: Option<String>,
    /// A short summary: the page's description, or the first paragraph.
    pub excerpt: Option<String>,
    /// The language of the text (ISO 639-1), by a detector.
    pub language: Option<String>,
    /// Why there is no text, or what happened to it (cut short).
    pub note: Option<String>,
}

impl Content {
    /// No content, with the fields the run asks for, and why.
    pub fn none(wanted: Wanted, note: Option<String>) -> Content {
        Content {
            wanted,
            note,
            ..Content::default()
        }
    }
}

impl Serialize for Content {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("page_type", &self.page_type)?;
        if self.wanted.text {
            map.serialize_entry("text", &self.text)?;
        }
        if self.wanted.markdown {
            map.serialize_entry("markdown", &self.markdown)?;
        }
        map.serialize_entry("byline", &self.byline)?;
        map.serialize_entry("published", &self.published)?;
        map.serialize_entry("modified", &self.modified)?;
        map.serialize_entry("site_name", &self.site_name)?;
        map.serialize_entry("excerpt", &self.excerpt)?;
        map.serialize_entry("language", &self.language)?;
        map.serialize_entry("extract_note", &self.note)?;
        map.end()
    }
}

/// A page to extract: its body and what the record knows of it.
#[derive(Debug)]
pub struct Page {
    /// The body as read.
    pub body: Body,
    /// The page's own URL (after redirects), to resolve links against.
    pub url: Option<String>,
    /// The body was cut at `--max-body`.
    pub truncated: bool,
}

/// Extracts what `wanted` asks from one page. Never panics: a bug in the
/// extraction becomes a note.
pub fn extract(page: &Page, wanted: Wanted) -> Content {
    match catch_unwind(AssertUnwindSafe(|| extract_page(page, wanted))) {
        Ok(content) => content,
        Err(panic) => {
            let why = panic_message(&*panic);
            Content::none(wanted, Some(format!("bug: the extractor panicked: {why}")))
        }
    }
}

fn extract_page(page: &Page, wanted: Wanted) -> Content {
    let html = decode::html(&page.body);
    if shape::nesting(&html) > shape::MAX_TAG_NESTING {
        return Content::none(wanted, Some(shape::too_deep()));
    }
    let doc = Document::from(&*html);
    if let Err(why) = shape::check_shape(&doc) {
        return Content::none(wanted, Some(why));
    }
    let url = page.url.as_deref().and_then(|u| Url::parse(u).ok());
    let survey = Survey::of(&doc);
    let base = base_url(survey.base.as_deref(), url.as_ref());
    let kind = kind::classify(&kind::Signals::read(&survey, url.as_ref()));
    let about = About::read(&survey);
    furniture::remove(&doc, &html);
    streamed::reveal(&doc, &html);
    let block = match Block::find(doc, &html, kind, &survey, page.url.as_deref()) {
        Ok(block) => block,
        Err(why) => {
            let mut content = Content::none(wanted, Some(why));
            content.page_type = Some(kind);
            return content;
        }
    };
    let (text, markdown, notes) = render_block(page, &block, kind, &survey, base.as_ref(), wanted);
    if text
        .as_ref()
        .or(markdown.as_ref())
        .is_some_and(|t| t.trim().is_empty())
    {
        let mut content = Content::none(wanted, Some(NOTHING.to_string()));
        content.page_type = Some(kind);
        return content;
    }
    let about = with_found(about, &block);
    let language = text
        .as_deref()
        .or(markdown.as_deref())
        .and_then(about::language)
        .map(str::to_string);
    Content {
        wanted,
        page_type: Some(kind),
        text,
        markdown,
        byline: about.byline,
        published: about.published,
        modified: about.modified,
        site_name: about.site_name,
        excerpt: about.excerpt,
        language,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

/// What the page says about itself, completed by what Readability found
/// when it found the article.
fn with_found(about: About, block: &Block) -> About {
    match block {
        Block::Article(a) => about.or_found(About {
            byline: a.meta.byline.clone(),
            published: a.meta.published.clone(),
            modified: None,
            site_name: a.meta.site_name.clone(),
            excerpt: a.meta.excerpt.clone(),
        }),
        Block::Main(..) => about,
    }
}

/// The block as text and as Markdown (what `wanted` asks), each within
/// the page's output cap, and the notes of what was cut.
fn render_block(
    page: &Page,
    block: &Block,
    kind: Kind,
    survey: &Survey,
    base: Option<&Url>,
    wanted: Wanted,
) -> (Option<String>, Option<String>, Vec<String>) {
    let cap = render::cap(page.body.bytes.len());
    let mut notes = Vec::new();
    if page.truncated {
        notes.push(format!(
            "the body was cut at --max-body: extracted from its first {} bytes",
            page.body.bytes.len()
        ));
    }
    let root = block.root();
    if let (Kind::Product, Some(root)) = (kind, &root) {
        product::add_description(root, &survey.json_ld);
    }
    let mut rendered = |wanted: bool, markdown: bool, what: &str| {
        let root = root.as_ref().filter(|_| wanted)?;
        let out = if markdown {
            render::markdown(root, base)
        } else {
            render::text(root, base)
        };
        let (out, cut) = render::bounded(out, cap);
        if cut {
            notes.push(format!("{what} cut at {cap} bytes"));
        }
        Some(out)
    };
    let markdown = rendered(wanted.markdown, true, "markdown");
    let text = rendered(wanted.text, false, "text");
    (text, markdown, notes)
}

/// What links resolve against: the page's `<base href>` (resolved against
/// `url`), else `url`, the page's own URL.
fn base_url(href: Option<&str>, url: Option<&Url>) -> Option<Url> {
    let url = url?;
    match href {
        Some(href) => url.join(href.trim()).ok().or_else(|| Some(url.clone())),
        None => Some(url.clone()),
    }
}

/// The note of a page without text.
const NOTHING: &str = "no content found on the page";

/// The block a page's text is made of.
enum Block {
    /// Readability's article.
    Article(article::Article),
    /// The main column, in its document.
    Main(Document, NodeId),
}

/// Kinds whose pages go to Readability first, as articles do: the kinds
/// decided from the weakest signals, where the page is often an article
/// after all.
const READ_FIRST: [Kind; 4] = [
    Kind::Article,
    Kind::Listing,
    Kind::Service,
    Kind::Documentation,
];

/// Readability's article is kept when it has at least one part in this
/// many of the page's words…
const ARTICLE_SHARE: usize = 2;

/// …or more than this many words…
const ARTICLE_WORDS: usize = 250;

/// …or at least this share of the words in the page's paragraphs (`<p>`):
/// a real article, whatever else is on the page.
const ARTICLE_PARAGRAPHS: f64 = 0.7;

impl Block {
    /// The block of `doc` (parsed from `html`), a page of kind `kind`.
    ///
    /// Forums, products and collections: the main column. The other kinds
    /// ([`READ_FIRST`]): Readability's article when it holds the page's
    /// text ([`ARTICLE_SHARE`], [`ARTICLE_WORDS`],
    /// [`ARTICLE_PARAGRAPHS`]); else the main column — for an article page
    /// only when it holds [`ARTICLE_SHARE`] times the article's words (a
    /// page of several blocks that Readability took one of). Thresholds
    /// tuned on the WCXB development split and the three article corpora
    /// together (CHANGELOG.md).
    fn find(
        doc: Document,
        html: &str,
        kind: Kind,
        survey: &Survey,
        url: Option<&str>,
    ) -> Result<Block, String> {
        if !READ_FIRST.contains(&kind) {
            return match main::find(&doc, kind) {
                Some(root) => Ok(Block::Main(doc, root)),
                None => Err(NOTHING.to_string()),
            };
        }
        let (page_words, paragraph_words) = (survey.words, survey.paragraph_words);
        let spare = Spare::new(&doc, html);
        let found = article::find(doc, &spare, url, survey.paragraph_chars);
        let article_words = match &found {
            Ok(a) => {
                let holds = a.words * ARTICLE_SHARE >= page_words
                    || a.words > ARTICLE_WORDS
                    || a.words as f64 >= ARTICLE_PARAGRAPHS * paragraph_words as f64;
                if holds {
                    return found.map(Block::Article);
                }
                a.words
            }
            Err(_) => 0,
        };
        let doc = spare.take();
        let column = main::find(&doc, kind).filter(|root| {
            let words = doc.tree.get(root).map_or(0, |r| dom::visible_words(&r));
            kind != Kind::Article || words > ARTICLE_SHARE * article_words
        });
        match (column, found) {
            (Some(root), _) => Ok(Block::Main(doc, root)),
            (None, found) => found.map(Block::Article),
        }
    }

    /// The block's root element.
    fn root(&self) -> Option<NodeRef<'_>> {
        match self {
            Block::Article(a) => a.root().nodes().first().copied(),
            Block::Main(doc, root) => doc.tree.get(root),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::page::Declared;
    use encoding_rs::UTF_8;
    use proptest::prelude::*;

    fn page(bytes: Vec<u8>, declared: Declared) -> Page {
        Page {
            body: Body {
                bytes,
                encoding: UTF_8,
                declared,
                held: None,
            },
            url: Some("http://127.0.0.1/a/b.html".into()),
            truncated: false,
        }
    }

    const BOTH: Wanted = Wanted {
        text: true,
        markdown: true,
    };

    /// Pieces of markup, for pages that are almost HTML.
    fn markup() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("<p>".to_string()),
            Just("</p>".to_string()),
            Just("<div class=content>".to_string()),
            Just("</div>".to_string()),
            Just("<table><tr><td>".to_string()),
            Just("<pre>".to_string()),
            Just("<code>".to_string()),
            Just("<ul><li>".to_string()),
            Just("<a href='../x?y#z'>".to_string()),
            Just("<a href='javascript:x'>".to_string()),
            Just("<h2>".to_string()),
            Just("<br>".to_string()),
            Just("<img src=x alt='a|b'>".to_string()),
            Just("<!--".to_string()),
            Just("<script>".to_string()),
            Just("&amp;&#0;&#xD800;".to_string()),
            "[a-z ,.|`*_#>\\[\\]()!-]{0,40}",
            "\\PC{0,20}",
        ];
        prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            for declared in [Declared::Nothing, Declared::Header] {
                let p = page(bytes.clone(), declared);
                let c = extract(&p, BOTH);
                let note = c.note.unwrap_or_default();
                prop_assert!(!note.starts_with("bug"), "{}", note);
                let cap = render::cap(bytes.len());
                prop_assert!(c.text.map_or(0, |t| t.len()) <= cap);
                prop_assert!(c.markdown.map_or(0, |t| t.len()) <= cap);
            }
        }

        #[test]
        fn almost_html_never_panics(html in markup()) {
            let c = extract(&page(html.into_bytes(), Declared::Header), BOTH);
            let note = c.note.unwrap_or_default();
            prop_assert!(!note.starts_with("bug"), "{}", note);
            prop_assert_eq!(c.text.is_some(), c.markdown.is_some());
        }
    }

    #[test]
    fn output_past_the_cap_is_cut_and_noted() {
        // Every relative link becomes the page's whole (long) URL in the
        // Markdown: 15 bytes of page, 2 KB of output each.
        let html = format!(
            "<html><body><article><p>{}</p><p>{}</p></article></body></html>",
            "Words of an article, long enough to be one. ".repeat(20),
            "<a href=x>y</a> ".repeat(1000)
        );
        let mut p = page(html.into_bytes(), Declared::Header);
        p.url = Some(format!("http://127.0.0.1/{}/", "d".repeat(2000)));
        let c = extract(&p, BOTH);
        let cap = render::cap(p.body.bytes.len());
        let md = c.markdown.unwrap_or_default();
        assert!(
            md.len() <= cap && md.len() > cap - 4,
            "{} of {cap}",
            md.len()
        );
        assert_eq!(
            c.note.as_deref(),
            Some(&*format!("markdown cut at {cap} bytes"))
        );
        assert!(c.text.is_some_and(|t| t.len() < cap));
        p.truncated = true;
        let note = extract(&p, BOTH).note.unwrap_or_default();
        assert!(
            note.contains("--max-body") && note.contains("markdown cut"),
            "{note}"
        );
    }
}
