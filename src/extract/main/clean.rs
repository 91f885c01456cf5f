//! What the main column never holds: elements that are not read, hidden
//! ones, and the page's chrome.

use std::collections::HashMap;
use std::sync::LazyLock;

use dom_query::NodeRef;
use regex::Regex;

use crate::extract::dom;
use crate::extract::kind::Kind;
use crate::extract::render::hidden;

/// Elements that are never text.
const UNREAD: [&str; 17] = [
    "script", "style", "template", "svg", "iframe", "object", "embed", "canvas", "select",
    "option", "input", "textarea", "head", "title", "meta", "link", "button",
];

/// Elements that are chrome by their name.
const CHROME: [&str; 4] = ["nav", "header", "footer", "aside"];

/// Landmark and widget roles that are chrome.
const ROLES: [&str; 9] = [
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "dialog",
    "menu",
    "menubar",
    "alertdialog",
];

/// Class and id words of chrome: a whole class name, or a part of one
/// between `-`/`_` (`site-footer`, `share_buttons`).
static CHROME_NAMES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(^|[\s_-])(nav|navbar|navigation|menu|breadcrumbs?|footer|sidebar|cookies?|consent|gdpr|newsletter|subscribe|share|sharing|social|related|recommended|promo|advert|ads|ad|banner|popup|modal|skip|login|signup|pagination|widget)($|[\s_-])",
    )
    .ok()
});

/// Class and id words of comment threads (`commentlist`,
/// `comments-area`, `disqus_thread`): chrome, but on a forum, whatever
/// their share of the page.
static COMMENT_NAMES: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(comment|disqus|respond|replies)").ok());

/// Classes that hide an element (screen-reader text, utility classes).
static HIDING_CLASSES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(^|\s)(hidden|sr-only|visually-hidden|visuallyhidden|screen-reader-text|screenreader|d-none|is-hidden|offscreen)($|\s)",
    )
    .ok()
});

/// An element named as chrome that holds this share of the page's words
/// or more is kept: it is the content under an unlucky name.
const CHROME_MAX_SHARE: f64 = 0.4;

/// A form with fewer words than this is a login, search or newsletter
/// form, not content (a page wrapped whole in a `<form>` is content).
const FORM_WORDS: f64 = 40.0;

/// Elements named as chrome that hold this share of the page's words
/// together are all kept.
const NAMED_MAX_SHARE: f64 = 0.5;

/// Takes out of `body` what is not read, what is hidden, and the chrome.
pub fn clean(body: &NodeRef, kind: Kind) {
    let unread: Vec<NodeRef> = body
        .descendants_it()
        .filter(|n| {
            dom::tag(n).is_some_and(|t| UNREAD.contains(&&*t)) || hidden(n) || hidden_by_class(n)
        })
        .collect();
    for node in unread {
        node.remove_from_parent();
    }
    let weights = dom::weigh(body);
    let total = weights.get(&body.id).map_or(0, |w| w.words) as f64;
    let (mut by_tag, mut by_name) = (Vec::new(), Vec::new());
    let mut per_name: HashMap<String, f64> = HashMap::new();
    let mut stack: Vec<NodeRef> = body.children_it(true).collect();
    while let Some(node) = stack.pop() {
        if !node.is_element() {
            continue;
        }
        let words = weights.get(&node.id).map_or(0, |w| w.words) as f64;
        let chrome = chrome(&node, kind, words);
        if chrome == Chrome::Always {
            by_tag.push(node);
            continue;
        }
        if chrome != Chrome::No && words < CHROME_MAX_SHARE * total {
            match chrome {
                Chrome::ByName(name) => {
                    *per_name.entry(name.clone()).or_default() += words;
                    by_name.push((node, name));
                }
                _ => by_tag.push(node),
            }
            continue;
        }
        stack.extend(node.children_it(true));
    }
    // Elements named alike that add up to most of the page are its content
    // (a news front page whose every story is a `promo`).
    by_name.retain(|(_, name)| {
        per_name
            .get(name)
            .is_none_or(|&w| w < NAMED_MAX_SHARE * total)
    });
    for node in by_tag
        .into_iter()
        .chain(by_name.into_iter().map(|(n, _)| n))
    {
        node.remove_from_parent();
    }
}

/// Whether an element is chrome, and by what.
#[derive(PartialEq, Eq)]
enum Chrome {
    No,
    /// Its tag or landmark role.
    ByTag,
    /// A word of its class or id.
    ByName(String),
    /// A comment thread or a small form: taken out whatever its share of
    /// the page.
    Always,
}

fn chrome(node: &NodeRef, kind: Kind, words: f64) -> Chrome {
    let tag = dom::tag(node);
    if tag.as_ref().is_some_and(|t| CHROME.contains(&&**t)) {
        return Chrome::Always;
    }
    // A login, search or newsletter form: its labels are not content.
    if tag.is_some_and(|t| &*t == "form") && words < FORM_WORDS {
        return Chrome::Always;
    }
    if node
        .attr("role")
        .is_some_and(|r| ROLES.contains(&r.trim().to_ascii_lowercase().as_str()))
    {
        return Chrome::ByTag;
    }
    let names = dom::names(node);
    if names.trim().is_empty() {
        return Chrome::No;
    }
    let word = |re: &LazyLock<Option<Regex>>| {
        let re = re.as_ref()?;
        Some(re.captures(&names)?.get(2)?.as_str().to_string())
    };
    if kind != Kind::Forum && COMMENT_NAMES.as_ref().is_some_and(|re| re.is_match(&names)) {
        return Chrome::Always;
    }
    match word(&CHROME_NAMES) {
        Some(name) => Chrome::ByName(name),
        None => Chrome::No,
    }
}

fn hidden_by_class(node: &NodeRef) -> bool {
    let Some(class) = node.attr("class") else {
        return false;
    };
    let class = class.to_ascii_lowercase();
    HIDING_CLASSES
        .as_ref()
        .is_some_and(|re| re.is_match(&class))
}
