//! A start tag as the tokenizer hands it on: its name, and its attributes
//! read when asked.

use std::sync::LazyLock;

static ITEM: LazyLock<memchr::memmem::Finder<'static>> =
    LazyLock::new(|| memchr::memmem::Finder::new("item"));

/// A start tag: its name (lower-cased) and its text after the name.
pub struct Tag<'a> {
    pub name: &'a [u8],
    pub rest: &'a [u8],
    /// The attributes, read once when first asked for.
    attrs: std::cell::OnceCell<Vec<(&'a [u8], &'a [u8])>>,
}

impl<'a> Tag<'a> {
    pub(super) fn new(name: &'a [u8], rest: &'a [u8]) -> Tag<'a> {
        Tag {
            name,
            rest,
            attrs: std::cell::OnceCell::new(),
        }
    }

    /// The value of attribute `name` (lower-case), raw (character
    /// references not decoded); `Some(b"")` for one without a value. The
    /// first of a repeated one, as in HTML.
    pub fn attr(&self, name: &[u8]) -> Option<&'a [u8]> {
        let attrs = self
            .attrs
            .get_or_init(|| Attributes { rest: self.rest }.collect());
        attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, v)| v)
    }

    /// Whether the tag has attribute `name`.
    pub fn has(&self, name: &[u8]) -> bool {
        self.attr(name).is_some()
    }

    /// Whether the tag's text mentions `item` (`itemscope`, `itemprop`):
    /// a cheap test before reading attributes.
    pub fn mentions_item(&self) -> bool {
        ITEM.find(self.rest).is_some()
    }
}

/// The attributes of a tag's text, in order.
pub(super) struct Attributes<'a> {
    pub(super) rest: &'a [u8],
}

impl<'a> Iterator for Attributes<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let s = self.rest;
        let mut i = 0;
        let start = loop {
            let at = i + s[i..]
                .iter()
                .position(|b| !b.is_ascii_whitespace() && *b != b'/')?;
            // A stray `=`, `>` or quote where a name should be: skipped.
            if matches!(s[at], b'=' | b'>' | b'"' | b'\'') {
                i = at + 1;
                continue;
            }
            break at;
        };
        i = start;
        while i < s.len() && !s[i].is_ascii_whitespace() && !matches!(s[i], b'=' | b'/' | b'>') {
            i += 1;
        }
        let name = &s[start..i];
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= s.len() || s[i] != b'=' {
            self.rest = &s[i..];
            return Some((name, b""));
        }
        i += 1;
        while i < s.len() && s[i].is_ascii_whitespace() {
            i += 1;
        }
        let value = match s.get(i) {
            Some(&q) if q == b'"' || q == b'\'' => {
                let end = s[i + 1..]
                    .iter()
                    .position(|&b| b == q)
                    .map_or(s.len(), |e| i + 1 + e);
                let value = &s[i + 1..end];
                i = (end + 1).min(s.len());
                value
            }
            _ => {
                let start = i;
                while i < s.len() && !s[i].is_ascii_whitespace() && s[i] != b'>' {
                    i += 1;
                }
                &s[start..i]
            }
        };
        self.rest = &s[i..];
        Some((name, value))
    }
}
