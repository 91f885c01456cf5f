//! Content React streams in with the page. A server-rendered React page
//! sends what is ready first, with a placeholder where the rest will go
//! (`<!--$?--><template id="B:1"></template>` a spinner `<!--/$-->`), and
//! the rest later in the same response, hidden, at the end of the body
//! (`<div hidden id="S:1">`), with a script that moves it into place.
//! scrape runs no scripts, so it does the move itself, as React's does:
//! the placeholder and its fallback go, the segment's children take their
//! place. On some shops the segment is the whole product; Readability and
//! the main column would drop it as hidden.

use dom_query::{Document, NodeData, NodeRef};

/// The marker of a streamed segment in the page's markup: a page without
/// it is not searched.
const SIGN: &str = "hidden id=\"S:";

/// Moves every streamed segment of `doc`, parsed from `html`, into its
/// placeholder; a segment without one is shown where it is.
pub fn reveal(doc: &Document, html: &str) {
    if !html.contains(SIGN) {
        return;
    }
    let segments: Vec<NodeRef> = doc.select("div[hidden][id^='S:']").nodes().to_vec();
    for segment in segments {
        let Some(n) = segment.attr("id").and_then(|id| suffix(&id)) else {
            continue;
        };
        let placeholder = doc.select(&format!("template[id='B:{n}']"));
        match placeholder.nodes().first() {
            Some(template) => move_into(&segment, template),
            None => segment.remove_attr("hidden"),
        }
    }
}

/// `S:1` → `1`, when it is a segment's id.
fn suffix(id: &str) -> Option<String> {
    let n = id.strip_prefix("S:")?;
    (!n.is_empty() && n.bytes().all(|b| b.is_ascii_hexdigit())).then(|| n.to_string())
}

/// Puts the children of `segment` where `template` and the fallback after
/// it are, up to the boundary's closing `<!--/$-->`; drops the segment.
fn move_into(segment: &NodeRef, template: &NodeRef) {
    let Some(parent) = template.parent() else {
        return;
    };
    let end = fallback_end(template);
    let mut node = Some(*template);
    while let Some(current) = node {
        if end.is_some_and(|e| e.id == current.id) {
            break;
        }
        node = current.next_sibling();
        current.remove_from_parent();
    }
    let children: Vec<NodeRef> = segment.children_it(false).collect();
    for child in children {
        match &end {
            Some(end) => end.insert_before(&child),
            None => parent.append_child(&child),
        }
    }
    segment.remove_from_parent();
}

/// The comment that closes the boundary `template` opens (`<!--/$-->`),
/// nested boundaries skipped; `None` when the boundary is not closed.
fn fallback_end<'a>(template: &NodeRef<'a>) -> Option<NodeRef<'a>> {
    let mut depth = 0usize;
    let mut node = template.next_sibling();
    while let Some(current) = node {
        match comment(&current).as_deref() {
            Some("/$") if depth == 0 => return Some(current),
            Some("/$") => depth -= 1,
            Some("$" | "$?" | "$!") => depth += 1,
            _ => {}
        }
        node = current.next_sibling();
    }
    None
}

/// The text of a comment node.
fn comment(node: &NodeRef) -> Option<String> {
    node.query(|n| match &n.data {
        NodeData::Comment { contents } => Some(contents.to_string()),
        _ => None,
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_takes_its_placeholder_s_place() {
        let html = "<body><h1>Desk</h1><!--$?--><template id=\"B:0\"></template>\
             <p>Loading…</p><!--/$--><p>Footer</p>\
             <div hidden id=\"S:0\"><p>Solid oak.</p><p>$499</p></div></body>";
        let doc = Document::from(html);
        reveal(&doc, html);
        assert_eq!(
            doc.select("body").text().to_string(),
            "DeskSolid oak.$499Footer"
        );
        assert!(doc.select("[hidden], template").is_empty());
    }

    #[test]
    fn nested_boundaries_are_skipped_and_orphans_shown() {
        let html = "<body><!--$?--><template id=\"B:1\"></template>\
             <!--$--><p>a</p><!--/$--><p>b</p><!--/$--><p>after</p>\
             <div hidden id=\"S:1\"><p>one</p></div>\
             <div hidden id=\"S:2\"><p>two</p></div></body>";
        let doc = Document::from(html);
        reveal(&doc, html);
        assert_eq!(doc.select("body").text().to_string(), "oneaftertwo");
        assert!(doc.select("[hidden]").is_empty());
    }

    #[test]
    fn other_hidden_elements_stay_hidden() {
        let html = "<body><div hidden id=\"S:x\">not a segment</div>\
             <div hidden id=\"menu\">menu</div></body>";
        let doc = Document::from(html);
        reveal(&doc, html);
        assert_eq!(doc.select("[hidden]").length(), 2);
    }
}
