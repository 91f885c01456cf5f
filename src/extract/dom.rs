//! Small questions asked of DOM nodes by the extractors: a node's tag, its
//! class and id, its words, and how many of them are link text.

use std::collections::HashMap;

use dom_query::{LocalName, NodeData, NodeId, NodeRef};

/// The tag name of an element; `None` for text and other nodes.
pub fn tag(node: &NodeRef) -> Option<LocalName> {
    node.qual_name_ref().map(|q| q.local.clone())
}

/// The text of a text node; `None` for other nodes.
pub fn text_of(node: &NodeRef) -> Option<String> {
    node.query(|n| match &n.data {
        NodeData::Text { contents } => Some(contents.to_string()),
        _ => None,
    })
    .flatten()
}

/// An element's `class` and `id`, lower-cased, space-separated.
pub fn names(node: &NodeRef) -> String {
    let Some(el) = node.element_ref() else {
        return String::new();
    };
    let mut out = String::new();
    for a in &el.attrs {
        if matches!(&*a.name.local, "class" | "id") {
            out.push(' ');
            out.push_str(&a.value.to_ascii_lowercase());
        }
    }
    out
}

/// Words in a piece of text: runs of non-space characters, and in
/// Chinese and Japanese, which put no spaces between words, a word for
/// every two of their characters — so that a page in those languages
/// weighs its paragraphs against its menus as any other page does.
pub fn words(text: &str) -> usize {
    text.split_whitespace().map(token_words).sum()
}

/// The words in one run of non-space characters.
fn token_words(token: &str) -> usize {
    if token.is_ascii() {
        return 1;
    }
    let unspaced = token.chars().filter(|&c| unspaced_script(c)).count();
    let rest = token.chars().any(|c| !unspaced_script(c));
    unspaced.div_ceil(2) + usize::from(rest)
}

/// Han ideographs, kana: scripts written without spaces between words.
fn unspaced_script(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}')
}

/// What is in an element: its words, and how many of them are inside
/// links.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Weight {
    pub words: usize,
    pub link_words: usize,
}

impl Weight {
    /// Words that are not link text, with link text counted at
    /// `link_share` of a word.
    pub fn content(self, link_share: f64) -> f64 {
        self.words as f64 - (1.0 - link_share) * self.link_words as f64
    }
}

/// The weight of every element under `root` (and of `root`), in one walk.
pub fn weigh(root: &NodeRef) -> HashMap<NodeId, Weight> {
    let mut out = HashMap::new();
    weigh_into(root, false, &mut out);
    out
}

fn weigh_into(node: &NodeRef, in_link: bool, out: &mut HashMap<NodeId, Weight>) -> Weight {
    let mut w = Weight::default();
    let in_link = in_link || node.has_name("a");
    for child in node.children_it(false) {
        if child.is_element() {
            let c = weigh_into(&child, in_link, out);
            w.words += c.words;
            w.link_words += c.link_words;
        } else if let Some(text) = text_of(&child) {
            let n = words(&text);
            w.words += n;
            if in_link {
                w.link_words += n;
            }
        }
    }
    out.insert(node.id, w);
    w
}

/// Elements whose text is not shown.
const UNSHOWN: [&str; 4] = ["script", "style", "template", "head"];

/// Words a reader could see under `node` (not those of scripts, styles
/// and the head).
pub fn visible_words(node: &NodeRef) -> usize {
    node.children_it(false)
        .map(|child| match tag(&child) {
            Some(t) if UNSHOWN.contains(&&*t) => 0,
            Some(_) => visible_words(&child),
            None => text_of(&child).map_or(0, |t| words(&t)),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_spaced_and_unspaced_scripts() {
        assert_eq!(words("  a solid oak\u{a0}desk "), 4);
        // Two characters of Chinese or Japanese make a word; a run mixing
        // them with Latin letters counts both.
        assert_eq!(words("出国前后关注点大不同"), 5);
        assert_eq!(words("フリーWi-Fi"), 3);
        assert_eq!(words("Ünïcödé wörds"), 2);
    }
}
