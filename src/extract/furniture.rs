//! Furniture of wiki pages that both extractors take out: the `[edit]`
//! links after headings, infoboxes and navigation boxes (MediaWiki's
//! classes, which Wikipedia and most wikis use). Readability keeps them,
//! and they put lists of links before the article's first sentence.

use dom_query::Document;

/// What is taken out.
const FURNITURE: &str = ".mw-editsection, table.infobox, .navbox, .vertical-navbox, \
    table.sidebar, .mw-jump-link, .noprint";

/// Class names that betray a wiki page: a page without them in its
/// markup has no furniture, and is not searched for it.
const WIKI_SIGNS: [&str; 4] = ["mw-", "infobox", "navbox", "noprint"];

/// Takes the furniture out of `doc`, parsed from `html`.
pub fn remove(doc: &Document, html: &str) {
    if WIKI_SIGNS.iter().any(|sign| html.contains(sign)) {
        doc.select(FURNITURE).remove();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_links_and_boxes_go() {
        let html = "<h2>History<span class=mw-editsection>[<a>edit</a>]</span></h2>\
             <table class='infobox vcard'><tr><td>Born</td></tr></table><p>Text</p>";
        let doc = Document::from(html);
        remove(&doc, html);
        assert_eq!(doc.select("body").text().trim(), "HistoryText");
    }
}
