//! The main column of a page that is not one article: a forum thread, a
//! product, a category or listing page, documentation, a service page.
//!
//! Readability looks for one block of prose and drops the rest as
//! comments, related links and chrome; on these pages the content is
//! many blocks — posts, items, specification tables, feature lists. So
//! here the page is taken whole and what is not content is taken out:
//! 1. [`clean`]: what is never read (scripts, forms' controls, hidden
//!    elements), then the page's chrome — `<nav>`, `<header>`,
//!    `<footer>`, `<aside>`, landmark roles, and elements whose class or id
//!    names a menu, a footer, a cookie banner, sharing buttons, comments
//!    (not on a forum, where the comments are the content)… — but never an
//!    element that holds a large share of the page's words: that is the
//!    content under an unlucky name.
//! 2. [`column`]: the `<main>` element when it holds most of the words;
//!    else the deepest element that holds most of them, link text counted
//!    at a fraction.
//! 3. On a product page, the column is widened to hold the `<h1>` (the
//!    product's name, the price beside it).
//! 4. On a product page, the rows of other products ("You may also
//!    like") are taken out, found by their titles ([`offers`]).
//! 5. Inside it, blocks that are mostly links and small (a menu, a tag
//!    cloud) are taken out — but on collection and listing pages, whose
//!    items are links.
//!
//! Each threshold was tuned on the development split of the WCXB corpus
//! (CHANGELOG.md has the figures).

mod clean;
mod offers;

use std::collections::HashMap;

use dom_query::{Document, NodeId, NodeRef};

use super::dom::{self, Weight};
use super::kind::Kind;

/// A child holding at least this share of its parent's content is where
/// the main column goes on down to.
const COLUMN_SHARE: f64 = 0.7;

/// `<main>` (or `role=main`) holding at least this share of the page's
/// content is the column.
const MAIN_SHARE: f64 = 0.5;

/// Link text counts this much of a word when shares are compared: a
/// column of links is not content, a link in a paragraph mostly is.
const LINK_WORD: f64 = 0.3;

/// A block inside the column with more than this share of link text…
const LINK_DENSE: f64 = 0.5;

/// …and less than this share of the column's words is a menu, taken out.
const SMALL_BLOCK: f64 = 0.3;

/// The main column of `doc`, a page of kind `kind`, cleaned; `None` when
/// the page has no words.
pub fn find(doc: &Document, kind: Kind) -> Option<NodeId> {
    let body = doc.select_single("body");
    let body = body.nodes().first().copied().unwrap_or_else(|| doc.root());
    clean::clean(&body, kind);
    let weights = dom::weigh(&body);
    let mut root = column(&body, &weights);
    // A product's name and price sit beside its description, which the
    // column may have gone below (WCXB products 0.635 -> 0.636).
    if kind == Kind::Product {
        root = with_heading(root, &body);
    }
    if weights.get(&root.id).is_none_or(|w| w.words == 0) {
        return None;
    }
    if kind == Kind::Product {
        offers::remove(&root, &weights);
    }
    if !matches!(kind, Kind::Collection | Kind::Listing) {
        prune_links(&root, &weights);
    }
    Some(root.id)
}

/// The element that holds the page's content: `<main>` when it holds most
/// of it, else the deepest element holding [`COLUMN_SHARE`] of its
/// parent's.
fn column<'a>(body: &NodeRef<'a>, weights: &HashMap<NodeId, Weight>) -> NodeRef<'a> {
    let score = |n: &NodeRef| weights.get(&n.id).map_or(0.0, |w| w.content(LINK_WORD));
    let total = score(body).max(1.0);
    let main = body.descendants_it().find(|n| {
        (n.has_name("main")
            || n.attr("role")
                .is_some_and(|r| r.trim().eq_ignore_ascii_case("main")))
            && score(n) >= MAIN_SHARE * total
    });
    if let Some(main) = main {
        return main;
    }
    let mut best = *body;
    loop {
        let next = best
            .children_it(false)
            .find(|c| c.is_element() && score(c) >= COLUMN_SHARE * total);
        match next {
            Some(next) => best = next,
            None => return best,
        }
    }
}

/// The column widened to hold the page's `<h1>` (a product's name, with
/// its price beside it), up to their nearest common ancestor below the
/// body.
fn with_heading<'a>(root: NodeRef<'a>, body: &NodeRef<'a>) -> NodeRef<'a> {
    let Some(h1) = body.descendants_it().find(|n| n.has_name("h1")) else {
        return root;
    };
    if h1.ancestors_it(None).any(|a| a.id == root.id) {
        return root;
    }
    let mut up = root;
    while let Some(parent) = up.parent() {
        if parent.id == body.id {
            return root;
        }
        if h1.ancestors_it(None).any(|a| a.id == parent.id) {
            return parent;
        }
        up = parent;
    }
    root
}

/// Takes out of the column the small blocks that are mostly links.
fn prune_links(root: &NodeRef, weights: &HashMap<NodeId, Weight>) {
    let total = weights.get(&root.id).map_or(0, |w| w.words).max(1) as f64;
    let blocks: Vec<NodeRef> = root
        .descendants_it()
        .filter(|n| {
            dom::tag(n).is_some_and(|t| {
                matches!(&*t, "ul" | "ol" | "div" | "section" | "table" | "p" | "dl")
            })
        })
        .filter(|n| {
            weights.get(&n.id).is_some_and(|w| {
                w.words >= 3
                    && w.link_words as f64 > LINK_DENSE * w.words as f64
                    && (w.words as f64) < SMALL_BLOCK * total
            })
        })
        .collect();
    for block in blocks {
        block.remove_from_parent();
    }
}
