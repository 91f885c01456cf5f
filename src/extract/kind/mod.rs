//! What kind of page this is (`page_type`): `article`, `forum`,
//! `product`, `collection`, `listing`, `documentation` or `service`,
//! decided from the page's own signals, in this order:
//!
//! 1. a forum: the host (`community.`, `forum.`…), the path (`/t/`,
//!    `/threads/`, `viewtopic.php`, `/questions/`…) or structured data
//!    (`DiscussionForumPosting`, `QAPage`, …);
//! 2. documentation: `TechArticle`, a `docs.`/`developer.` host or a
//!    `/docs/`, `/api/`, `/reference/`… path;
//! 3. a product: `Product`/`Offer` data (on one product, not a list of
//!    them), `og:type` product, or a `/product/`, `/p/`, `/dp/`… path;
//! 4. a collection: `CollectionPage`/`ItemList` data, or a `/collections/`,
//!    `/category/`… path;
//! 5. an article: `Article`/`BlogPosting`/… data, `og:type` article, a
//!    dated or `/blog/…` path;
//! 6. a service page: a `/pricing`, `/features`… path, or `Service` data;
//! 7. a listing: many headings that are links, or many `<article>`s;
//! 8. else a service page at a site's root (one path segment or none), an
//!    article elsewhere.
//!
//! The URL is the page's own canonical URL (`<link rel=canonical>`, else
//! `og:url`), else the one it was fetched from: pages served from a copy
//! keep their shape. Tuned on the development split of the WCXB corpus
//! (CHANGELOG.md).

mod signals;

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

pub use signals::Signals;

/// A kind of page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Article,
    Forum,
    Product,
    Collection,
    Listing,
    Documentation,
    Service,
}

/// Structured data of a thread. (`Question` and `Answer` alone are not:
/// they are also a FAQ's, nor `Comment`: articles have comments.)
const FORUM_TYPES: [&str; 3] = ["DiscussionForumPosting", "QAPage", "SocialMediaPosting"];
const PRODUCT_TYPES: [&str; 7] = [
    "Product",
    "ProductGroup",
    "IndividualProduct",
    "Offer",
    "AggregateOffer",
    "Vehicle",
    "Car",
];
const ARTICLE_TYPES: [&str; 12] = [
    "Article",
    "NewsArticle",
    "BlogPosting",
    "Report",
    "ScholarlyArticle",
    "OpinionNewsArticle",
    "AnalysisNewsArticle",
    "Recipe",
    "HowTo",
    "LiveBlogPosting",
    "ReviewNewsArticle",
    "Review",
];
const LIST_TYPES: [&str; 4] = [
    "CollectionPage",
    "ItemList",
    "OfferCatalog",
    "SearchResultsPage",
];
const DOC_TYPES: [&str; 2] = ["TechArticle", "APIReference"];
const SERVICE_TYPES: [&str; 6] = [
    "Service",
    "SoftwareApplication",
    "FAQPage",
    "ProfessionalService",
    "LocalBusiness",
    "WebApplication",
];

/// A pattern, compiled once.
struct Pattern(LazyLock<Option<Regex>>);

impl Pattern {
    const fn new(f: fn() -> Option<Regex>) -> Pattern {
        Pattern(LazyLock::new(f))
    }

    fn is_match(&self, text: &str) -> bool {
        self.0.as_ref().is_some_and(|re| re.is_match(text))
    }
}

static FORUM_HOST: Pattern = Pattern::new(|| {
    Regex::new(r"(^|\.)(community|forums?|discuss|discussions?|answers|boards|bbs)\.").ok()
});
static FORUM_PATH: Pattern = Pattern::new(|| {
    Regex::new(
        r"/(t|threads?|topic|topics|showthread\.php|viewtopic\.php|questions|discussion|comments)/|viewtopic|showthread",
    )
    .ok()
});
static DOC_HOST: Pattern = Pattern::new(|| {
    Regex::new(r"(^|\.)(docs|developer|developers|learn|support|help|wiki)\.").ok()
});
static DOC_PATH: Pattern = Pattern::new(|| {
    Regex::new(
        r"/(docs?|documentation|api|reference|manual|guide|guides|tutorial|wiki|kb|help)(/|$)",
    )
    .ok()
});
static DOCS_DIR: Pattern = Pattern::new(|| Regex::new(r"/(docs?|documentation)/").ok());
static PRODUCT_PATH: Pattern =
    Pattern::new(|| Regex::new(r"/(products?|p|dp|itm|item|pd|pdp)/").ok());
static COLLECTION_PATH: Pattern = Pattern::new(|| {
    Regex::new(r"/(collections?|category|categories|c|shop|b|browse|catalog)(/|$)").ok()
});
static ARTICLE_PATH: Pattern =
    Pattern::new(|| Regex::new(r"/(blog|news|articles?|posts?|stories|story)/[^/]+|/20\d\d/").ok());
static SERVICE_PATH: Pattern = Pattern::new(|| {
    Regex::new(
        r"/(pricing|features?|services?|solutions?|platform|plans|enterprise|about|contact)(/|$)",
    )
    .ok()
});

/// A last path segment of this many words or more (`-`/`_`-separated,
/// an extension and a numeric id aside) names one piece: an article's
/// slug, `/meldung/1password-fuer-mac-generiert-2596987.html`.
const SLUG_WORDS: usize = 4;

/// Whether the path ends in an article's slug.
fn slug(path: &str) -> bool {
    let last = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let stem = last.split('.').next().unwrap_or_default();
    let words = stem
        .split(['-', '_'])
        .filter(|w| !w.is_empty() && w.chars().any(|c| c.is_alphabetic()))
        .count();
    words >= SLUG_WORDS
}

/// Headings that are links, or `<article>`s, from which on a page is a
/// listing of other pages.
const LISTING_HEADINGS: usize = 8;
const LISTING_ARTICLES: usize = 5;

/// The kind of a page with these signals.
pub fn classify(s: &Signals) -> Kind {
    let has = |types: &[&str]| s.types.iter().any(|t| types.contains(&t.as_str()));
    let path = s.path.as_str();
    let host = s.host.as_str();
    let with_slash = format!("{path}/");
    let questions = has(&["Question"]) && has(&["Answer"]) && !has(&["FAQPage"]);
    let forum = FORUM_HOST.is_match(host)
        || FORUM_PATH.is_match(&with_slash)
        || has(&FORUM_TYPES)
        || questions;
    if forum && !DOCS_DIR.is_match(path) {
        return Kind::Forum;
    }
    let docs = has(&DOC_TYPES) || DOC_HOST.is_match(host) || DOC_PATH.is_match(path);
    if docs && (s.pre > 0 || !has(&PRODUCT_TYPES)) {
        return Kind::Documentation;
    }
    let products = s
        .types
        .iter()
        .filter(|t| matches!(t.as_str(), "Product" | "ProductGroup"))
        .count();
    if has(&PRODUCT_TYPES) && !has(&LIST_TYPES) && products <= 2 {
        return Kind::Product;
    }
    if s.og_type == "product" || PRODUCT_PATH.is_match(&with_slash) {
        return Kind::Product;
    }
    if has(&LIST_TYPES) || COLLECTION_PATH.is_match(path) {
        return Kind::Collection;
    }
    if has(&ARTICLE_TYPES) || s.og_type == "article" || ARTICLE_PATH.is_match(path) {
        return Kind::Article;
    }
    if SERVICE_PATH.is_match(path) || has(&SERVICE_TYPES) {
        return Kind::Service;
    }
    let listing = s.linked_headings >= LISTING_HEADINGS || s.articles >= LISTING_ARTICLES;
    if listing && !slug(path) {
        return Kind::Listing;
    }
    if path.split('/').filter(|p| !p.is_empty()).count() <= 1 {
        return Kind::Service;
    }
    Kind::Article
}

#[cfg(test)]
mod tests;
