//! Furniture of wiki pages that both extractors take out: the `[edit]`
//! links after headings, infoboxes and navigation boxes (MediaWiki's
//! classes, which Wikipedia and most wikis use). Readability keeps them,
//! and they put lists of links before the article's first sentence.

use dom_query::Document;

/// What is taken out.
const FURNITURE: &str = ".mw-editsection, table.infobox, .navbox, .vertical-navbox, \
    table.sidebar, .mw-jump-link, .noprint";

/// Takes the furniture out of `doc`.
pub fn remove(doc: &Document) {
    doc.select(FURNITURE).remove();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_links_and_boxes_go() {
        let doc = Document::from(
            "<h2>History<span class=mw-editsection>[<a>edit</a>]</span></h2>\
             <table class='infobox vcard'><tr><td>Born</td></tr></table><p>Text</p>",
        );
        remove(&doc);
        assert_eq!(doc.select("body").text().trim(), "HistoryText");
    }
}
