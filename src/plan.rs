//! The run's extraction plan: what records carry beyond the default
//! fields — `--select` specs, `--links`, `--text`/`--markdown`
//! ([`Wanted`]), `--metadata`, `--tls`, `--since` — decided once from the
//! command line and read by every stage. It depends on nothing of scrape's
//! (a ground-floor module).
//!
//! A spec is `NAME=CSS` (the text of each matching element) or
//! `NAME=CSS@ATTR` (an attribute of each). Specs are checked once, on the
//! command line: a selector `lol_html` cannot match while streaming (`:has`,
//! `+`, `~`, …) is a usage error naming it, before any request. Parsed
//! selectors are not `Sync`, so each worker thread parses the run's set once
//! and keeps it ([`Extraction::with_selectors`]).

use std::cell::RefCell;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use lol_html::Selector;

/// What the run asks to extract from each page's DOM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Wanted {
    /// `--text`.
    pub text: bool,
    /// `--markdown`.
    pub markdown: bool,
}

impl Wanted {
    /// Whether bodies must be kept for extraction at all.
    pub fn any(self) -> bool {
        self.text || self.markdown
    }
}

/// One `--select NAME=CSS[@ATTR]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    /// The key in `fields`.
    pub name: String,
    /// The CSS selector, as written.
    pub css: String,
    /// The attribute to take instead of the text.
    pub attr: Option<String>,
}

impl FromStr for Select {
    type Err = String;

    fn from_str(s: &str) -> Result<Select, String> {
        let (name, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("'{s}' is not NAME=CSS (for example h1=h1, or img=img@src)"))?;
        let name = name.trim();
        if name.is_empty() {
            return Err(format!("'{s}' has no NAME before '='"));
        }
        let (css, attr) = split_attr(rest.trim());
        if css.is_empty() {
            return Err(format!("'{s}' has no CSS selector after '='"));
        }
        if let Some(attr) = attr {
            let valid = !attr.is_empty()
                && !attr
                    .chars()
                    .any(|c| c.is_whitespace() || "\"'>/=".contains(c));
            if !valid {
                return Err(format!("'{attr}' in '{s}' is not an attribute name"));
            }
        }
        if let Err(e) = Selector::from_str(css) {
            let e = e.to_string();
            return Err(format!(
                "'{css}' is not a CSS selector scrape can match ({}); streaming matches \
                 tag, #id, .class, [attr], [attr=v], descendant, child (>), :nth-child, \
                 :first-child, :not(...)",
                e.trim_end_matches('.')
            ));
        }
        Ok(Select {
            name: name.to_string(),
            css: css.to_string(),
            attr: attr.map(|a| a.to_ascii_lowercase()),
        })
    }
}

/// Splits `CSS@ATTR` at the last `@` that is outside brackets, quotes and
/// parentheses (`a[href^="mailto:x@y"]` has no attribute part).
fn split_attr(spec: &str) -> (&str, Option<&str>) {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut at = None;
    for (i, c) in spec.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, '@') if depth == 0 => at = Some(i),
            _ => {}
        }
    }
    match at {
        Some(i) => (spec[..i].trim(), Some(spec[i + 1..].trim())),
        None => (spec, None),
    }
}

/// Attributes whose values are URLs: `--select NAME=CSS@ATTR` resolves them
/// against the page's URL and `<base href>`.
pub const URL_ATTRIBUTES: [&str; 12] = [
    "href",
    "src",
    "action",
    "formaction",
    "cite",
    "data",
    "poster",
    "background",
    "longdesc",
    "manifest",
    "codebase",
    "usemap",
];

/// Whether an attribute holds a URL.
pub fn is_url_attribute(name: &str) -> bool {
    URL_ATTRIBUTES.contains(&name)
}

/// What a run extracts beyond title, description and lang.
#[derive(Debug, Default)]
pub struct Extraction {
    /// `--select` specs, in command-line order.
    pub selects: Vec<Select>,
    /// `--links`.
    pub links: bool,
    /// `--text` / `--markdown`: HTML bodies are kept for extraction.
    pub content: Wanted,
    /// `--metadata`: records have `metadata` (read by its own scanner).
    pub metadata: bool,
    /// `--tls`: records have `tls`.
    pub tls: bool,
    /// `--since`: records have `unchanged`.
    pub since: bool,
    /// `--follow`: every page's links, with their `rel=nofollow` and the
    /// page's `<meta name=robots>`, for the crawl (not in the record).
    pub follow: bool,
    /// `--follow` / `--sitemap`: records have `depth`, `parent`,
    /// `noindex`, `lastmod` and `sitemap`.
    pub crawl: bool,
    /// `-X`, `--data`, `--json`: records have `method`, this one.
    pub method: Option<String>,
    /// Tells runs apart in the per-thread selector cache.
    id: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's parsed selectors for the extraction with this id.
    static PARSED: RefCell<Option<(u64, Vec<Option<Selector>>)>> = const { RefCell::new(None) };
}

impl Extraction {
    /// The extraction for these specs; an error names a repeated NAME.
    pub fn new(selects: Vec<Select>, links: bool) -> Result<Extraction, String> {
        for (i, s) in selects.iter().enumerate() {
            if selects[..i].iter().any(|t| t.name == s.name) {
                return Err(format!(
                    "--select name '{}' is given twice: each NAME is one key of `fields`",
                    s.name
                ));
            }
        }
        Ok(Extraction {
            selects,
            links,
            content: Wanted::default(),
            metadata: false,
            tls: false,
            since: false,
            follow: false,
            crawl: false,
            method: None,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// True when nothing beyond the defaults is asked for, so parsing may
    /// stop after the head.
    pub fn is_empty(&self) -> bool {
        self.selects.is_empty() && !self.links && !self.follow
    }

    /// Calls `f` with this thread's parsed selectors, one per `--select` in
    /// the same order (parsed on this thread's first page; `None` cannot
    /// happen for a spec that came through [`Select::from_str`]).
    pub fn with_selectors<R>(&self, f: impl FnOnce(&[Option<Selector>]) -> R) -> R {
        PARSED.with_borrow_mut(|cache| {
            if cache.as_ref().is_none_or(|(id, _)| *id != self.id) {
                let parsed = self
                    .selects
                    .iter()
                    .map(|s| Selector::from_str(&s.css).ok())
                    .collect();
                *cache = Some((self.id, parsed));
            }
            let parsed = cache.as_ref().map(|(_, p)| p.as_slice()).unwrap_or(&[]);
            f(parsed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(s: &str) -> Result<Select, String> {
        s.parse()
    }

    #[test]
    fn text_and_attribute_specs() {
        let s = select("h1=h1").unwrap();
        assert_eq!(
            (s.name.as_str(), s.css.as_str(), s.attr),
            ("h1", "h1", None)
        );
        let s = select("img = img.hero @ SRC").unwrap();
        assert_eq!(s.name, "img");
        assert_eq!(s.css, "img.hero");
        assert_eq!(s.attr.as_deref(), Some("src"));
        let s = select("canonical=link[rel=canonical]@href").unwrap();
        assert_eq!(s.css, "link[rel=canonical]");
        assert_eq!(s.attr.as_deref(), Some("href"));
    }

    #[test]
    fn an_at_inside_brackets_or_quotes_is_part_of_the_selector() {
        let s = select(r#"mail=a[href="mailto:x@y.org"]"#).unwrap();
        assert_eq!(s.css, r#"a[href="mailto:x@y.org"]"#);
        assert_eq!(s.attr, None);
        let s = select(r#"mail=a[href="mailto:x@y.org"]@href"#).unwrap();
        assert_eq!(s.attr.as_deref(), Some("href"));
    }

    #[test]
    fn bad_specs_are_refused_with_the_reason() {
        assert!(select("h1").unwrap_err().contains("NAME=CSS"));
        assert!(select("=h1").unwrap_err().contains("no NAME"));
        assert!(select("x=").unwrap_err().contains("no CSS"));
        assert!(select("x=@href").unwrap_err().contains("no CSS"));
        assert!(select("x=a@").unwrap_err().contains("attribute name"));
        let e = select("x=div >> p").unwrap_err();
        assert!(e.contains("'div >> p'"), "{e}");
        let e = select("x=h1 + p").unwrap_err();
        assert!(e.contains("'h1 + p'"), "{e}");
        for css in [
            "li:nth-child(2)",
            "li:first-child",
            "p:not(.price)",
            "a[href^=http]",
            "a[href$=\".pdf\"]",
            "a[href*=x]",
            "p[class~=a]",
            "html[lang|=en]",
            "#main > ul li",
        ] {
            assert!(
                select(&format!("x={css}")).is_ok(),
                "{css} is documented as supported"
            );
        }
        assert!(select("x=div.a p[data-x]").is_ok());
    }

    #[test]
    fn names_must_differ() {
        let a = select("x=h1").unwrap();
        let b = select("x=h2").unwrap();
        let e = Extraction::new(vec![a.clone(), b], false).unwrap_err();
        assert!(e.contains("'x'"), "{e}");
        assert!(Extraction::new(vec![a], true).is_ok());
    }

    #[test]
    fn each_thread_parses_its_own_selectors() {
        let ex =
            Extraction::new(vec![select("a=h1").unwrap(), select("b=p").unwrap()], false).unwrap();
        assert_eq!(ex.with_selectors(|s| s.len()), 2);
        let other = Extraction::new(vec![select("c=h2").unwrap()], false).unwrap();
        assert_eq!(other.with_selectors(|s| s.len()), 1);
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(ex.with_selectors(|s| s.len()), 2));
        });
    }
}
