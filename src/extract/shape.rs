//! Pages too large or too deep to extract, refused before the costly
//! work: nesting estimated from the tags before parsing, then elements
//! counted and depth measured in one pass over the parsed document.

use dom_query::Document;

/// A page with more elements than this is not extracted (its DOM alone
/// would take hundreds of megabytes); the record says so.
pub const MAX_ELEMENTS: usize = 200_000;

/// A page that nests elements deeper than this is not extracted:
/// Readability's scoring walks every node's ancestors, which on 100 000
/// nested `<div>`s ran for minutes. Browsers' parsers stop nesting at 512
/// (Blink), real pages stay far below.
pub const MAX_DEPTH: usize = 512;

/// Before parsing: a page whose tags (counted from the markup, [`nesting`])
/// open this many more elements than they close is not parsed. The HTML
/// parser checks scopes by walking its stack of open elements, so its time
/// grows with tags × depth: 100 000 nested `<div>`s took 17 s to parse.
pub const MAX_TAG_NESTING: usize = 4096;

/// Elements whose end tag the parser implies (or that have none): left out
/// of [`nesting`], as pages leave them open.
const IMPLIED_END: [&str; 27] = [
    "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "tbody", "thead", "tfoot", "rp",
    "rt", "br", "img", "meta", "link", "input", "hr", "area", "base", "col", "embed", "source",
    "track", "wbr",
];

/// How deep the markup nests, by counting tags: the most start tags not
/// yet closed by an end tag, at any point (elements in [`IMPLIED_END`] and
/// self-closed ones not counted). An estimate, made without parsing.
pub fn nesting(html: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let bytes = html.as_bytes();
    let mut at = 0;
    while let Some(i) = bytes[at..].iter().position(|&b| b == b'<') {
        let tag = &bytes[at + i + 1..];
        at += i + 1;
        let (closing, name) = match tag.first() {
            Some(b'/') => (true, &tag[1..]),
            Some(c) if c.is_ascii_alphabetic() => (false, tag),
            _ => continue,
        };
        let len = name
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = &name[..len];
        if IMPLIED_END
            .iter()
            .any(|e| e.as_bytes().eq_ignore_ascii_case(name))
        {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            let end = tag.iter().position(|&b| b == b'>').unwrap_or(tag.len());
            if !tag[..end].ends_with(b"/") {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
    }
    deepest
}

pub fn too_deep() -> String {
    format!("the page nests elements more than {MAX_DEPTH} deep, too deep to extract from")
}

/// Refuses a page too large or too deep to extract, in one pass.
pub fn check_shape(doc: &Document) -> Result<(), String> {
    let (mut elements, mut deepest) = (0usize, 0usize);
    let mut stack = vec![(doc.root(), 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if node.is_element() {
            elements += 1;
            deepest = deepest.max(depth);
        }
        if deepest > MAX_DEPTH {
            return Err(too_deep());
        }
        if elements > MAX_ELEMENTS {
            return Err(format!(
                "the page has more than {MAX_ELEMENTS} elements, more than scrape extracts from"
            ));
        }
        if let Some(next) = node.next_sibling() {
            stack.push((next, depth));
        }
        if let Some(child) = node.first_child() {
            stack.push((child, depth + 1));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_open_tags_but_not_those_left_open_by_design() {
        assert_eq!(
            nesting("<html><body><div><p>a<p>b<br><img src=x></div></body></html>"),
            3
        );
        assert_eq!(nesting("<ul><li>a<li>b</ul><svg><path/></svg>"), 1);
        assert_eq!(nesting(&"<div>".repeat(5000)), 5000);
        assert_eq!(nesting("a < b </x> <!-- <div> -->"), 1);
    }
}
