//! Finding the article: `dom_smoothie` (Mozilla Readability, ported to
//! Rust) picks the main block of the page; then scrape
//! - runs it again without the usual homes of boilerplate when the block
//!   holds a small share of the page's paragraph text (a cookie banner or
//!   an author box picked instead of the article), keeping the longer;
//! - takes out what Readability keeps but a reader of the text does not
//!   want ([`clean`]);
//! - puts back the page's lead when Readability left it out ([`lead`]).
//!
mod clean;
mod lead;

use dom_query::{Document, NodeId, Selection};

use crate::extract::dom;
use crate::extract::spare::Spare;
use dom_smoothie::{Config, Readability, ReadabilityError, TextMode};

pub use clean::visible_len;
use clean::{clean, link_text};

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

/// A block with less than one part in this many of the page's paragraph
/// text is taken for a wrong pick (a cookie banner, the blog's header, an
/// author box) and Readability runs again on the page without
/// [`BOILERPLATE`]; the longer block wins. (Measured: trafilatura's
/// benchmark F1 0.901 → 0.902, the others unchanged: few pages, but the
/// cookie-banner and author-box picks the issue named.)
const SMALL_SHARE: usize = 3;

/// What the second run takes out of the page first: the usual homes of
/// boilerplate, by element and by class or id.
const BOILERPLATE: &str = "header, footer, nav, aside, form, \
    [id*=cookie], [class*=cookie], [id*=consent], [class*=consent], [class*=gdpr], \
    [id*=newsletter], [class*=newsletter], [class*=author], [id*=sidebar], \
    [class*=sidebar], [class*=widget], [class*=share], [class*=social], \
    [class*=related], [id*=comment], [class*=comment]";

/// What the page's metadata says about the article.
#[derive(Debug, Default, Clone)]
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
    /// Its text, whitespace not counted.
    visible: usize,
    /// Its words.
    pub words: usize,
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

/// Finds the article of `doc` (`spare` has it again for a second try), whose URL is `url` and whose paragraphs (`<p>`) hold `paragraphs`
/// bytes of text (white space not counted); `Err` says why there is none.
pub fn find(
    doc: Document,
    spare: &Spare,
    url: Option<&str>,
    paragraphs: usize,
) -> Result<Article, String> {
    let lead = lead::lead(&doc);
    // Readability wants an absolute http(s) URL to resolve links against.
    let url = url.filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    let url = url.filter(|u| url::Url::parse(u).is_ok());
    let first = grab(doc, url);
    let small = match &first {
        Ok(a) => a.visible * SMALL_SHARE < paragraphs,
        Err(_) => paragraphs > 0,
    };
    let found = if small {
        let doc = spare.get();
        doc.select(BOILERPLATE).remove();
        match (first, grab(doc, url)) {
            (Ok(a), Ok(b)) if b.visible > a.visible => Ok(b),
            (Err(_), second) => second,
            (first, _) => first,
        }
    } else {
        first
    };
    found.inspect(|article| {
        if let Some(lead) = lead {
            lead::add_lead(article, &lead);
        }
    })
}

/// Readability on `doc`, then the cleanup.
fn grab(doc: Document, url: Option<&str>) -> Result<Article, String> {
    let config = Config {
        // Keeps `class="language-…"` on code, for the Markdown fence.
        keep_classes: true,
        // The text is made from the cleaned block (`render`); the raw mode
        // is the cheapest one Readability computes alongside.
        text_mode: TextMode::Raw,
        ..Config::default()
    };
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
    let mut article = Article {
        doc,
        root,
        visible: 0,
        words: 0,
        meta: Meta {
            byline: nonempty(found.byline),
            published: nonempty(found.published_time),
            site_name: nonempty(found.site_name),
            excerpt: nonempty(found.excerpt),
        },
    };
    let block = article.root();
    clean(&block);
    let text = block.text();
    let links = block.nodes().first().map_or(0, link_text);
    let visible = visible_len(&text);
    let menu = links * LINKS_UNREADABLE >= visible && visible < SHORT;
    if visible == 0 || (!readable && menu) {
        return Err("no article found on the page".to_string());
    }
    article.visible = visible;
    article.words = dom::words(&text);
    Ok(article)
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
}
