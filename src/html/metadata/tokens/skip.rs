//! Skipping: outside the head and microdata items, the tokenizer jumps
//! from marker to marker (`itemscope`, `ld+json`, `<meta`, `<link`,
//! comments) and re-synchronises at the tag that holds each.

use std::sync::LazyLock;

use super::{State, Tokenizer, quote_state, tag_starts};

/// What skipping looks for, each inside the tag that matters: `cope` of
/// `itemscope` (also `itemScope`, as React writes it; checked for `items`
/// before it), `ld+json`, `<meta` and `<link` (pages put OpenGraph tags and
/// canonical links in the body too), in the cases pages write them; and
/// the start of a comment, skipped whole (a JSON-LD block commented out is
/// not the page's). They are searched for together (aho-corasick's packed
/// SIMD searcher, Teddy): 23 µs on an average WCXB page of 280 KB, where
/// four `memmem` passes took 35.
pub(super) const MARKERS: [&str; 9] = [
    "cope", "COPE", "ld+json", "LD+JSON", "<meta", "<META", "<link", "<LINK", "<!--",
];

/// The index of `<!--` in [`MARKERS`].
pub(super) const COMMENT: usize = MARKERS.len() - 1;

/// Bytes always kept of the last piece: enough for a marker cut by the
/// piece's end, with the `items` before `cope`.
pub(super) const KEEP: usize = 16;

/// The markers' searcher: packed SIMD where the machine has it, else the
/// general automaton.
static MARKER_SEARCH: LazyLock<Search> = LazyLock::new(
    || match aho_corasick::packed::Searcher::new(MARKERS.iter()) {
        Some(packed) => Search::Packed(packed),
        None => Search::General(aho_corasick::AhoCorasick::new(MARKERS).ok()),
    },
);

enum Search {
    Packed(aho_corasick::packed::Searcher),
    General(Option<aho_corasick::AhoCorasick>),
}

/// The first marker in `haystack`: its index in [`MARKERS`] and where.
pub(super) fn find_marker(haystack: &[u8]) -> Option<(usize, usize)> {
    let m = match &*MARKER_SEARCH {
        Search::Packed(s) => s.find(haystack)?,
        Search::General(s) => s.as_ref()?.find(haystack)?,
    };
    Some((m.pattern().as_usize(), m.start()))
}

/// Whether marker `k` is the `cope` of `itemscope`.
pub(super) fn is_cope(k: usize) -> bool {
    k < 2
}

impl Tokenizer {
    /// Skips to the next marker that is inside a tag, and goes on in that
    /// tag; the whole piece when there is none.
    pub(super) fn skip(&mut self, input: &[u8], at: usize) -> usize {
        if at == 0 {
            match self.marker_across(input) {
                // A comment began at the last piece's end.
                Some((COMMENT, end)) => {
                    self.state = State::Comment { dashes: 0 };
                    return end;
                }
                Some(_) if self.resume_in_tail(input) => return 0,
                _ => {}
            }
        }
        let mut from = at;
        loop {
            let Some((k, hit)) = find_marker(&input[from..]).map(|(k, i)| (k, from + i)) else {
                return input.len();
            };
            if k == COMMENT {
                self.state = State::Comment { dashes: 0 };
                return hit + 4;
            }
            if !self.is_marker(k, input, hit) {
                from = hit + 1;
                continue;
            }
            match memchr::memrchr2(b'<', b'>', &input[..=hit]) {
                Some(lt) if input[lt] == b'<' && tag_starts(&input[lt + 1..]) => {
                    self.state = State::Open;
                    self.resynced = true;
                    return lt + 1;
                }
                // Not inside a tag (text, code).
                Some(_) => from = hit + 1,
                // The tag began in an earlier piece.
                None if self.resume_in_tail(input) => return at,
                None => from = hit + 1,
            }
        }
    }

    /// Whether the search hit for marker `k` at `hit` is one: `cope` must
    /// follow `items` (any case), in this piece or the last.
    fn is_marker(&self, k: usize, input: &[u8], hit: usize) -> bool {
        if !is_cope(k) {
            return true;
        }
        let before: Vec<u8> = if hit >= 5 {
            input[hit - 5..hit].to_vec()
        } else {
            let from_tail = (5 - hit).min(self.tail.len());
            [&self.tail[self.tail.len() - from_tail..], &input[..hit]].concat()
        };
        before.eq_ignore_ascii_case(b"items")
    }

    /// A marker that spans the last piece's end and this one's start:
    /// which, and where in this piece it ends.
    fn marker_across(&self, input: &[u8]) -> Option<(usize, usize)> {
        let longest = MARKERS.iter().map(|m| m.len()).max().unwrap_or(1);
        // Five more bytes before: `items` ahead of `cope`.
        let before = &self.tail[self.tail.len().saturating_sub(longest - 1 + 5)..];
        let mut joint = before.to_vec();
        joint.extend_from_slice(&input[..input.len().min(longest - 1)]);
        let mut from = 0;
        while let Some((k, i)) = find_marker(&joint[from..]).map(|(k, i)| (k, from + i)) {
            let end = i + MARKERS[k].len();
            let cope_ok = !is_cope(k) || i >= 5 && joint[i - 5..i].eq_ignore_ascii_case(b"items");
            if i < before.len() && end > before.len() && cope_ok {
                return Some((k, end - before.len()));
            }
            from = i + 1;
        }
        None
    }

    /// Goes on inside the tag that the kept tail of the input ends in
    /// (false when it does not end inside a tag); `input` is what follows.
    fn resume_in_tail(&mut self, input: &[u8]) -> bool {
        let Some(lt) = memchr::memrchr2(b'<', b'>', &self.tail) else {
            return false;
        };
        let after = &self.tail[lt + 1..];
        let starts = if after.is_empty() {
            tag_starts(input)
        } else {
            tag_starts(after)
        };
        if self.tail[lt] != b'<' || !starts {
            return false;
        }
        self.tag.clear();
        self.tag.extend_from_slice(&self.tail[lt + 1..]);
        self.state = State::Start {
            quote: quote_state(&self.tag),
        };
        self.resynced = true;
        true
    }
}
