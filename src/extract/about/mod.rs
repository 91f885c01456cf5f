//! What a page says about itself, for the record beside its text:
//! `byline`, `published`, `modified`, `site_name`, `excerpt` and
//! `language`.
//!
//! Read from the page's own metadata first — JSON-LD (`author`,
//! `datePublished`, `dateModified`, `publisher`), then `<meta>` tags
//! (`author`, `article:published_time`, `og:site_name`, the usual date
//! names), then `<time datetime>` — and only then from what Readability
//! guessed from the visible page, cleaned ([`byline`]): a byline is a
//! name, not "by Lucas Nolan22 Dec 2016651". Dates are RFC 3339
//! ([`dates`]). `language` is the language of the extracted text
//! ([`language`]), beside the page's declared `lang`.

mod byline;
pub mod dates;
mod language;

use serde_json::Value;

use super::survey::Survey;

pub use language::language;

/// JSON-LD types whose `author` and dates are the page's.
const CREATIVE: [&str; 14] = [
    "Article",
    "NewsArticle",
    "BlogPosting",
    "TechArticle",
    "Report",
    "ScholarlyArticle",
    "OpinionNewsArticle",
    "AnalysisNewsArticle",
    "LiveBlogPosting",
    "Review",
    "Recipe",
    "HowTo",
    "WebPage",
    "DiscussionForumPosting",
];

/// `<meta>` names of the author.
const AUTHOR: [&str; 6] = [
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "citation_author",
];

/// `<meta>` names (and `itemprop`s) of the publication date.
const PUBLISHED: [&str; 16] = [
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
    "citation_publication_date",
    "article.published",
];

/// `<meta>` names (and `itemprop`s) of the last change.
const MODIFIED: [&str; 6] = [
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
    "article.updated",
];

/// What a page says about itself.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct About {
    pub byline: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub site_name: Option<String>,
    pub excerpt: Option<String>,
}

impl About {
    /// What a page's metadata, surveyed as `survey`, says.
    pub fn read(survey: &Survey) -> About {
        let (metas, json_ld) = (&survey.metas, survey.json_ld.as_slice());
        let meta = |names: &[&str]| names.iter().find_map(|n| metas.get(*n).cloned());
        let creative = json_ld.iter().find(|o| is_type(o, &CREATIVE));
        let from_ld = |key: &str| {
            creative
                .and_then(|o| o.get(key))
                .or_else(|| json_ld.iter().find_map(|o| o.get(key)))
        };
        let byline = from_ld("author")
            .and_then(names)
            .or_else(|| meta(&AUTHOR).filter(|a| !a.contains("://")))
            .and_then(|b| byline::clean(&b));
        let date = |ld: &str, names: &[&str]| {
            from_ld(ld)
                .and_then(Value::as_str)
                .and_then(dates::rfc3339)
                .or_else(|| names.iter().find_map(|n| dates::rfc3339(metas.get(*n)?)))
        };
        let published = date("datePublished", &PUBLISHED).or_else(|| time_element(survey));
        let modified = date("dateModified", &MODIFIED);
        let site_name = meta(&["og:site_name", "application-name"])
            .or_else(|| {
                let publisher = from_ld("publisher")?;
                publisher
                    .get("name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .or_else(|| {
                let site = json_ld.iter().find(|o| is_type(o, &["WebSite"]))?;
                site.get("name")?.as_str().map(str::to_string)
            })
            .map(|s| collapse(&s))
            .filter(|s| !s.is_empty());
        let excerpt = meta(&["description", "og:description", "twitter:description"])
            .map(|s| collapse(&s))
            .filter(|s| !s.is_empty());
        About {
            byline,
            published,
            modified,
            site_name,
            excerpt,
        }
    }

    /// Fills what the metadata did not say from what Readability found
    /// (`byline`, `published`, `site_name`, `excerpt`), cleaned.
    pub fn or_found(mut self, found: About) -> About {
        self.byline = self.byline.or(found.byline.and_then(|b| byline::clean(&b)));
        self.published = self
            .published
            .or(found.published.and_then(|d| dates::rfc3339(&d)));
        self.site_name = self.site_name.or(found.site_name);
        self.excerpt = self.excerpt.or(found.excerpt);
        self
    }
}

/// A `<time datetime>` that says it is the publication date (`pubdate`,
/// `itemprop=datePublished`), else the first one in an `<article>`.
fn time_element(survey: &Survey) -> Option<String> {
    let tagged = survey.times.iter().find(|(_, tagged, _)| *tagged);
    let time = tagged.or_else(|| survey.times.iter().find(|(_, _, in_article)| *in_article))?;
    dates::rfc3339(&time.0)
}

/// Whether a JSON-LD object is of one of `types`.
fn is_type(object: &Value, types: &[&str]) -> bool {
    match object.get("@type") {
        Some(Value::String(t)) => types.contains(&t.as_str()),
        Some(Value::Array(ts)) => ts
            .iter()
            .any(|t| t.as_str().is_some_and(|t| types.contains(&t))),
        _ => false,
    }
}

/// The names in a JSON-LD `author`: a name, an object with a `name`, or
/// a list of them, joined with `, `.
fn names(author: &Value) -> Option<String> {
    let name = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    let all: Vec<String> = match author {
        Value::Array(items) => items.iter().filter_map(name).collect(),
        other => name(other).into_iter().collect(),
    };
    let all: Vec<String> = all
        .into_iter()
        .map(|n| collapse(&n))
        .filter(|n| !n.is_empty() && !n.contains("://"))
        .collect();
    (!all.is_empty()).then(|| all.join(", "))
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
