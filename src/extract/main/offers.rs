//! The other products on a product page: "People who viewed this item also
//! viewed", "Similar items", "You may also like" — rows of other products'
//! names and prices that shops put under the one the page is about, often
//! with more words than its description. Found by their heading, taken
//! out with the block the heading leads, never with the product's own
//! name (`<h1>`) or one of its own sections (a heading that is neither
//! another product's link nor such a title).

use std::collections::HashMap;
use std::sync::LazyLock;

use dom_query::{NodeId, NodeRef};
use regex::Regex;

use crate::extract::dom::{self, Weight};

/// Titles of rows of other products.
static TITLES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(people (who )?(also )?(viewed|bought)|customers (who|also)|you (may|might|will) (also )?(like|love)|similar (items|products)|(explore )?related( items| products)?\b|recently viewed|frequently bought|more from|seller'?s other items|other items|complete the look|shop the look|recommended|sponsored|explore more|(also|more) viewed|more (items|products) (like|from)|pairs well|more to (explore|consider)|inspired by|top picks|best ?sellers|trending now|.*\bthis ad\b)",
    )
    .ok()
});

/// Headings that may be titles.
const HEADINGS: [&str; 5] = ["h2", "h3", "h4", "h5", "h6"];

/// A title longer than this is prose that happens to start alike.
const TITLE_WORDS: usize = 10;

/// The block a title leads never holds this share of the column's words
/// or more: the product is there too.
const BLOCK_SHARE: f64 = 0.9;

/// Takes out of `root` (a product page's column, weighed as `weights`) the
/// rows of other products.
pub fn remove(root: &NodeRef, weights: &HashMap<NodeId, Weight>) {
    let Some(titles) = TITLES.as_ref() else {
        return;
    };
    let total = weights.get(&root.id).map_or(0, |w| w.words) as f64;
    let is_title = |n: &NodeRef| {
        let text = n.text();
        dom::words(&text) <= TITLE_WORDS && titles.is_match(&text)
    };
    let found: Vec<NodeRef> = root
        .descendants_it()
        .filter(|n| dom::tag(n).is_some_and(|t| HEADINGS.contains(&&*t)) && is_title(n))
        .collect();
    let mut blocks: Vec<NodeRef> = Vec::new();
    for title in found {
        let block = block_of(&title, root, weights, total, &is_title);
        if !blocks.iter().any(|b| b.id == block.id) {
            blocks.push(block);
        }
    }
    for block in blocks {
        block.remove_from_parent();
    }
}

/// The largest ancestor of `title` below `root` that holds no `<h1>`, no
/// heading of the product's own ([`holds_own_heading`]), and less than [`BLOCK_SHARE`] of the
/// column's words.
fn block_of<'a>(
    title: &NodeRef<'a>,
    root: &NodeRef<'a>,
    weights: &HashMap<NodeId, Weight>,
    total: f64,
    is_title: &dyn Fn(&NodeRef) -> bool,
) -> NodeRef<'a> {
    let level = heading_level(title).unwrap_or(6);
    let mut block = *title;
    while let Some(parent) = block.parent() {
        if parent.id == root.id {
            break;
        }
        let words = weights.get(&parent.id).map_or(0, |w| w.words) as f64;
        if words >= BLOCK_SHARE * total || holds_own_heading(&parent, level, is_title) {
            break;
        }
        block = parent;
    }
    block
}

/// Whether `node` holds the `<h1>` or a heading of the product's own: one
/// as high as the title (`level`) or higher that is neither a link
/// (another product's name) nor a title of other products. Lower ones are
/// the other products' names.
fn holds_own_heading(node: &NodeRef, level: u8, is_title: &dyn Fn(&NodeRef) -> bool) -> bool {
    node.descendants_it().any(|n| {
        let Some(l) = heading_level(&n) else {
            return false;
        };
        l == 1
            || (l <= level
                && !is_title(&n)
                && n.descendants_it().all(|d| !d.has_name("a"))
                && n.ancestors_it(None).all(|a| !a.has_name("a")))
    })
}

/// `2` for an `<h2>`…; `None` for what is not a heading.
fn heading_level(node: &NodeRef) -> Option<u8> {
    let tag = dom::tag(node)?;
    let level = tag.strip_prefix('h')?.parse().ok()?;
    (1..=6).contains(&level).then_some(level)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dom_query::Document;

    fn column_text(html: &str) -> String {
        let doc = Document::from(html);
        let root = doc.select("main");
        let root = root.nodes()[0];
        remove(&root, &dom::weigh(&root));
        let texts: Vec<String> = root
            .descendants_it()
            .filter_map(|n| dom::text_of(&n))
            .collect();
        texts
            .join(" ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn rows_of_other_products_go() {
        let html = "<main><h1>Oak desk</h1><p>$499</p><div class=details>\
             <h2>Description</h2><p>A solid oak top on a frame that lifts.</p></div>\
             <section><div><h2>You may also like</h2></div><ul>\
             <li><h3><a href=/a>Pine desk</a></h3>$199</li>\
             <li><h3><a href=/b>Ash desk</a></h3>$299</li></ul></section></main>";
        assert_eq!(
            column_text(html),
            "Oak desk $499 Description A solid oak top on a frame that lifts."
        );
    }

    #[test]
    fn the_product_s_own_sections_stay() {
        let html = "<main><h1>Oak desk</h1><div><h2>Specifications</h2><p>160 cm</p>\
             <h2>Similar items</h2><p><a href=/a>Pine desk</a></p></div></main>";
        assert_eq!(
            column_text(html),
            "Oak desk Specifications 160 cm Pine desk"
        );
    }
}
