//! A small HTML tokenizer for `--metadata`, made to be cheap on the pages
//! that have none: it skips what cannot hold metadata at the speed of a
//! substring search.
//!
//! The page's own parser (`lol_html`, in `crate::html`) stops once the head
//! is over, and a selector on every element of the body would cost it more
//! than three times a plain run (measured: 1.25 ms against 0.37 ms of CPU a
//! page on the WCXB pages). Metadata sits in a few places: `<meta>` and
//! `<link>` (mostly in the head), JSON-LD `<script>`s and microdata items.
//! So this tokenizer reads every tag only while its [`Sink`] asks for it
//! (the head, the inside of a microdata item); elsewhere it jumps from
//! marker to marker (`itemscope`, `ld+json`, `<meta`, with SIMD substring
//! search) and re-synchronises at the `<` of the tag that holds the marker.
//! A marker that is not inside a tag (text, a script's code) is passed by.
//!
//! It knows what a tag is, comments, and raw-text elements (`<script>`,
//! `<style>`, `<textarea>`, `<title>`…, whose content is text up to their
//! end tag); it does not build a tree (the sink keeps the stack it needs).
//! `<noscript>` content is markup here, as in a browser without scripts:
//! scrape runs none.
//!
//! Bounded: a tag's text is kept up to [`MAX_TAG`] bytes (attributes past
//! that are not read), and [`TAIL`] bytes of input are kept for
//! re-synchronising.

mod skip;
mod tag;

use skip::KEEP;
pub use tag::Tag;

/// The most bytes of one tag kept; the rest of a longer tag is skipped.
pub const MAX_TAG: usize = 16 * 1024;

/// Bytes of input kept for re-synchronising: a marker whose tag began
/// further back than this (after a huge attribute) is passed by.
pub const TAIL: usize = 4 * 1024;

/// Elements whose content is text up to their end tag.
const RAW_TEXT: [&[u8]; 8] = [
    b"script",
    b"style",
    b"textarea",
    b"title",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
];

/// What the tokenizer tells, and what it asks.
pub trait Sink {
    /// Whether every tag is wanted now; else the tokenizer skips to the
    /// next marker.
    fn wants_tags(&self) -> bool;
    /// Whether text between tags is wanted now.
    fn wants_text(&self) -> bool;
    /// A start tag; `true` asks for the content when it is a raw-text
    /// element (a JSON-LD script), through [`Sink::raw`].
    fn start(&mut self, tag: &Tag<'_>) -> bool;
    /// An end tag (name lower-cased).
    fn end(&mut self, name: &[u8]);
    /// Text between tags (raw: references not decoded).
    fn text(&mut self, text: &[u8]);
    /// Content of a raw-text element the sink asked for, in pieces; then
    /// [`Sink::raw_end`].
    fn raw(&mut self, text: &[u8]);
    fn raw_end(&mut self);
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Data,
    /// After `<`.
    Open,
    /// In a start tag (`quote`: inside a quoted value).
    Start {
        quote: u8,
    },
    /// In an end tag's name, or after it up to `>`.
    End,
    /// After `<!`: a comment or a doctype.
    Bang,
    /// In a comment; how many `-` were just seen.
    Comment {
        dashes: u8,
    },
    /// `<!doctype …>`, `<?…>`: up to `>`.
    Bogus,
    /// In the content of raw-text element `RAW_TEXT[name]`; `wanted`: the
    /// sink asked for it.
    Raw {
        name: usize,
        wanted: bool,
    },
}

/// The tokenizer's state between pieces of input.
pub struct Tokenizer {
    state: State,
    /// The current tag was found by skipping to a marker.
    resynced: bool,
    /// The current tag's text after `<` (or the end tag's name).
    tag: Vec<u8>,
    /// The end of the input so far ([`Tokenizer::keep_tail`]).
    tail: Vec<u8>,
    /// Bytes since the last `>`.
    since_gt: usize,
}

impl Default for Tokenizer {
    fn default() -> Tokenizer {
        Tokenizer {
            state: State::Data,
            resynced: false,
            tag: Vec::new(),
            tail: Vec::new(),
            since_gt: 0,
        }
    }
}

impl Tokenizer {
    /// Reads the next piece of input.
    pub fn feed(&mut self, input: &[u8], sink: &mut impl Sink) {
        let mut at = 0;
        let mut steps = 0usize;
        while at < input.len() {
            steps += 1;
            debug_assert!(
                steps < 4 * input.len() + 100,
                "looping at {at} in {:?}",
                self.state
            );
            let before = (at, self.state);
            at = match self.state {
                State::Data if !sink.wants_tags() => self.skip(input, at),
                State::Data => self.data(input, at, sink),
                State::Open => self.open(input, at),
                State::Start { .. } => self.start(input, at, sink),
                State::End => self.end(input, at, sink),
                State::Bang => self.bang(input, at),
                State::Comment { .. } => self.comment(input, at),
                State::Bogus => match memchr::memchr(b'>', &input[at..]) {
                    Some(i) => {
                        self.state = State::Data;
                        at + i + 1
                    }
                    None => input.len(),
                },
                State::Raw { .. } => self.raw(input, at, sink),
            };
            debug_assert!((at, self.state) != before, "stuck at {before:?}");
        }
        self.keep_tail(input);
    }

    /// Ends the input: a raw-text element left open ends here.
    pub fn finish(&mut self, sink: &mut impl Sink) {
        if let State::Raw { wanted: true, .. } = self.state {
            sink.raw(&self.tag);
            sink.raw_end();
        }
        self.tag.clear();
        self.state = State::Data;
    }

    /// Keeps the end of the input that the next piece may need: what came
    /// after the last `>` (a tag cut by the piece's end), at least [`KEEP`]
    /// bytes, at most [`TAIL`].
    fn keep_tail(&mut self, input: &[u8]) {
        self.since_gt = match memchr::memrchr(b'>', input) {
            Some(gt) => input.len() - gt - 1,
            None => self.since_gt.saturating_add(input.len()),
        };
        let want = self.since_gt.clamp(KEEP, TAIL);
        if input.len() >= want {
            self.tail.clear();
            self.tail.extend_from_slice(&input[input.len() - want..]);
        } else {
            let drop = (self.tail.len() + input.len()).saturating_sub(want);
            self.tail.drain(..drop.min(self.tail.len()));
            self.tail.extend_from_slice(input);
        }
    }

    /// Text up to the next `<`.
    fn data(&mut self, input: &[u8], at: usize, sink: &mut impl Sink) -> usize {
        let rest = &input[at..];
        let end = memchr::memchr(b'<', rest).unwrap_or(rest.len());
        if end > 0 && sink.wants_text() {
            sink.text(&rest[..end]);
        }
        if end < rest.len() {
            self.state = State::Open;
            at + end + 1
        } else {
            input.len()
        }
    }

    /// After `<`: what kind of markup this is.
    fn open(&mut self, input: &[u8], at: usize) -> usize {
        self.tag.clear();
        match input[at] {
            b'!' => {
                self.state = State::Bang;
                at + 1
            }
            b'/' => {
                self.state = State::End;
                at + 1
            }
            b'?' => {
                self.state = State::Bogus;
                at + 1
            }
            c if c.is_ascii_alphabetic() => {
                self.state = State::Start { quote: 0 };
                at
            }
            // Not a tag: `<` was text.
            _ => {
                self.state = State::Data;
                at
            }
        }
    }

    /// In a start tag, up to its `>` outside quotes.
    fn start(&mut self, input: &[u8], at: usize, sink: &mut impl Sink) -> usize {
        let State::Start { mut quote } = self.state else {
            return at;
        };
        let mut i = at;
        loop {
            let found = if quote == 0 {
                memchr::memchr3(b'>', b'"', b'\'', &input[i..])
            } else {
                memchr::memchr(quote, &input[i..])
            };
            let Some(off) = found else {
                self.push_tag(&input[i..]);
                self.state = State::Start { quote };
                return input.len();
            };
            let j = i + off;
            self.push_tag(&input[i..j]);
            let c = input[j];
            if quote != 0 {
                quote = 0;
            } else if c == b'>' {
                self.state = State::Data;
                self.emit_start(sink);
                return j + 1;
            } else if opens_value(&self.tag) {
                // A quote opens a value only right after `=`.
                quote = c;
            }
            self.push_tag(&[c]);
            i = j + 1;
        }
    }

    fn push_tag(&mut self, bytes: &[u8]) {
        let room = MAX_TAG.saturating_sub(self.tag.len());
        self.tag.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    /// A whole start tag: to the sink, then into a raw-text element's
    /// content when it is one.
    fn emit_start(&mut self, sink: &mut impl Sink) {
        let text = std::mem::take(&mut self.tag);
        // A tag found by skipping whose values are quoted `\"…\"` is markup
        // inside a script's string (a page's JSON state), not the page's.
        let escaped = std::mem::take(&mut self.resynced)
            && (memchr::memmem::find(&text, b"=\\\"").is_some()
                || memchr::memmem::find(&text, b"=\\'").is_some());
        if escaped {
            self.tag = text;
            self.tag.clear();
            return;
        }
        let name_end = text
            .iter()
            .position(|b| b.is_ascii_whitespace() || *b == b'/')
            .unwrap_or(text.len());
        // Lower-cased on the stack: names longer than this compare by
        // their first bytes.
        let mut buf = [0u8; 32];
        let len = name_end.min(buf.len());
        buf[..len].copy_from_slice(&text[..len]);
        buf[..len].make_ascii_lowercase();
        let name = &buf[..len];
        let tag = Tag::new(name, &text[name_end..]);
        let wanted = sink.start(&tag);
        if let Some(raw) = RAW_TEXT.iter().position(|r| *r == name) {
            self.state = State::Raw { name: raw, wanted };
        }
        self.tag = text;
        self.tag.clear();
    }

    /// In an end tag, up to its `>`.
    fn end(&mut self, input: &[u8], at: usize, sink: &mut impl Sink) -> usize {
        match memchr::memchr(b'>', &input[at..]) {
            Some(i) => {
                self.push_tag(&input[at..at + i]);
                let len = self
                    .tag
                    .iter()
                    .position(|b| b.is_ascii_whitespace() || *b == b'/')
                    .unwrap_or(self.tag.len());
                self.tag.truncate(len);
                self.tag.make_ascii_lowercase();
                if !self.tag.is_empty() {
                    sink.end(&self.tag);
                }
                self.state = State::Data;
                at + i + 1
            }
            None => {
                self.push_tag(&input[at..]);
                input.len()
            }
        }
    }

    /// After `<!`: a comment (`<!--`) or something else up to `>`.
    fn bang(&mut self, input: &[u8], at: usize) -> usize {
        self.tag.push(input[at]);
        match self.tag.as_slice() {
            b"-" => at + 1,
            b"--" => {
                self.state = State::Comment { dashes: 0 };
                at + 1
            }
            _ => {
                self.state = State::Bogus;
                at
            }
        }
    }

    /// In a comment, up to `-->`.
    fn comment(&mut self, input: &[u8], at: usize) -> usize {
        let State::Comment { mut dashes } = self.state else {
            return at;
        };
        let mut i = at;
        while i < input.len() {
            match input[i] {
                b'-' => dashes = dashes.saturating_add(1),
                b'>' if dashes >= 2 => {
                    self.state = State::Data;
                    return i + 1;
                }
                _ => {
                    dashes = 0;
                    // Jump to the next dash.
                    match memchr::memchr(b'-', &input[i..]) {
                        Some(off) => {
                            i += off;
                            continue;
                        }
                        None => {
                            self.state = State::Comment { dashes: 0 };
                            return input.len();
                        }
                    }
                }
            }
            i += 1;
        }
        self.state = State::Comment { dashes };
        input.len()
    }

    /// In a raw-text element, up to `</name` followed by a space, `/` or
    /// `>`; the content goes to the sink when it asked for it. A `<` too
    /// near the piece's end to decide is kept (in `tag`) for the next.
    fn raw(&mut self, input: &[u8], at: usize, sink: &mut impl Sink) -> usize {
        let State::Raw { name, wanted } = self.state else {
            return at;
        };
        let close = RAW_TEXT[name];
        let need = close.len() + 3;
        let mut i = at;
        while !self.tag.is_empty() {
            let take = need.saturating_sub(self.tag.len()).min(input.len() - i);
            self.tag.extend_from_slice(&input[i..i + take]);
            i += take;
            if self.tag.len() < need {
                return input.len();
            }
            if closes(&self.tag, close) {
                self.tag.clear();
                self.end_raw(name, wanted, sink);
                return i - 1;
            }
            let next = memchr::memchr(b'<', &self.tag[1..]).map_or(self.tag.len(), |k| k + 1);
            if wanted {
                sink.raw(&self.tag[..next]);
            }
            self.tag.drain(..next);
        }
        loop {
            let Some(off) = memchr::memchr(b'<', &input[i..]) else {
                if wanted {
                    sink.raw(&input[i..]);
                }
                return input.len();
            };
            let lt = i + off;
            if wanted && off > 0 {
                sink.raw(&input[i..lt]);
            }
            if input.len() - lt < need {
                self.tag.clear();
                self.tag.extend_from_slice(&input[lt..]);
                return input.len();
            }
            if closes(&input[lt..lt + need], close) {
                self.end_raw(name, wanted, sink);
                return lt + need - 1;
            }
            if wanted {
                sink.raw(b"<");
            }
            i = lt + 1;
        }
    }

    /// A raw-text element's end tag: what follows its name, up to `>`, is
    /// skipped as a bogus comment would be.
    fn end_raw(&mut self, name: usize, wanted: bool, sink: &mut impl Sink) {
        if wanted {
            sink.raw_end();
        }
        sink.end(RAW_TEXT[name]);
        self.state = State::Bogus;
    }
}

/// Whether `candidate` (`need` bytes from a `<`) is the end tag `</name`
/// followed by a space, `/` or `>`.
fn closes(candidate: &[u8], name: &[u8]) -> bool {
    candidate.len() == name.len() + 3
        && candidate.starts_with(b"</")
        && candidate[2..2 + name.len()].eq_ignore_ascii_case(name)
        && matches!(
            candidate[2 + name.len()],
            b'/' | b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'
        )
}

/// Whether what follows a `<` starts a tag name.
fn tag_starts(after: &[u8]) -> bool {
    after.first().is_some_and(u8::is_ascii_alphabetic)
}

/// Whether the end of a tag's text so far is inside a quoted value (its
/// quote) or not (0).
fn quote_state(tag: &[u8]) -> u8 {
    let mut quote = 0;
    for (i, &c) in tag.iter().enumerate() {
        match (quote, c) {
            (0, b'"' | b'\'') if opens_value(&tag[..i]) => quote = c,
            (q, c) if q != 0 && c == q => quote = 0,
            _ => {}
        }
    }
    quote
}

/// Whether a quote after the tag text `before` opens a value: it follows
/// `=` (spaces between allowed). Elsewhere a quote is part of a name, as
/// the HTML tokenizer reads it (`content="16" OLED"`).
fn opens_value(before: &[u8]) -> bool {
    before.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b'=')
}

#[cfg(test)]
mod tests {
    use super::tag::Attributes;
    use super::*;
    use proptest::prelude::*;

    /// Records what the tokenizer tells; wants tags while `all` is set or
    /// an `<x>` is open, text always.
    #[derive(Default, Debug, PartialEq)]
    struct Log {
        all: bool,
        open: usize,
        events: Vec<String>,
        raw: String,
    }

    impl Sink for Log {
        fn wants_tags(&self) -> bool {
            self.all || self.open > 0
        }
        fn wants_text(&self) -> bool {
            true
        }
        fn start(&mut self, tag: &Tag<'_>) -> bool {
            let name = String::from_utf8_lossy(tag.name).into_owned();
            let attrs: Vec<String> = Attributes { rest: tag.rest }
                .map(|(n, v)| {
                    format!(
                        "{}={}",
                        String::from_utf8_lossy(n),
                        String::from_utf8_lossy(v)
                    )
                })
                .collect();
            if tag.has(b"itemscope") {
                self.open += 1;
            }
            self.events.push(format!("<{name} {}>", attrs.join(" ")));
            name == "script"
        }
        fn end(&mut self, name: &[u8]) {
            if name == b"div" {
                self.open = self.open.saturating_sub(1);
            }
            self.events
                .push(format!("</{}>", String::from_utf8_lossy(name)));
        }
        fn text(&mut self, text: &[u8]) {
            // Pieces of one text run joined; bytes kept as escapes, so a
            // character cut by a piece's end compares equal.
            let text = text.escape_ascii().to_string();
            if self.wants_tags() {
                match self.events.last_mut() {
                    Some(last) if last.starts_with('"') => {
                        last.pop();
                        last.push_str(&text);
                        last.push('"');
                    }
                    _ => self.events.push(format!("\"{text}\"")),
                }
            }
        }
        fn raw(&mut self, text: &[u8]) {
            self.raw.push_str(&text.escape_ascii().to_string());
        }
        fn raw_end(&mut self) {
            self.raw.push('|');
        }
    }

    fn run(input: &[u8], pieces: &[usize], all: bool) -> Log {
        let mut t = Tokenizer::default();
        let mut log = Log {
            all,
            ..Log::default()
        };
        let mut at = 0;
        for &p in pieces {
            let end = (at + p).min(input.len());
            t.feed(&input[at..end], &mut log);
            at = end;
        }
        t.feed(&input[at..], &mut log);
        t.finish(&mut log);
        log
    }

    #[test]
    fn tags_comments_and_raw_text() {
        let page = b"<!doctype html><html lang=en><!-- <div itemscope> --><p class='a>b' x>t</p>\
            <script type=application/ld+json>{\"a\": \"</scri\"}</script ><style>p>q{}</style><br/>";
        let log = run(page, &[], true);
        assert_eq!(
            log.events,
            [
                "<html lang=en>",
                "<p class=a>b x=>",
                "\"t\"",
                "</p>",
                "<script type=application/ld+json>",
                "</script>",
                "<style >",
                "</style>",
                "<br >",
            ]
        );
        assert_eq!(log.raw, r#"{\"a\": \"</scri\"}|"#);
    }

    #[test]
    fn a_stray_quote_does_not_open_a_value() {
        let page = br#"<meta name="d" content="16" OLED"><meta name=n content=x>"#;
        let log = run(page, &[], true);
        assert_eq!(log.events.len(), 2, "{:?}", log.events);
        assert_eq!(log.events[1], "<meta name=n content=x>");
    }

    #[test]
    fn skipping_passes_comments_and_knows_react() {
        let page = b"<body><!-- <script type=application/ld+json>{}</script> --><p>            <div itemScope itemType=https://schema.org/Thing>x</div>";
        let log = run(page, &[], false);
        assert_eq!(
            log.events,
            [
                "<div itemScope= itemType=https://schema.org/Thing>",
                "\"x\"",
                "</div>"
            ]
        );
        assert_eq!(log.raw, "");
    }

    #[test]
    fn markup_in_a_script_string_is_not_the_page_s() {
        let page = br#"<body><script>var d = {"code": "<div itemscope=\"\">x</div>"};</script>
            <p itemscope>y</p>"#;
        let log = run(page, &[], false);
        assert_eq!(log.events[0], "<p itemscope=>");
    }

    #[test]
    fn skipping_finds_markers_inside_tags_only() {
        let page = b"<body><p>itemscope in text</p><script>var s = 'itemscope';</script>\
            <div class=x itemscope>in</div><p>out</p><script type=application/ld+json>{}</script>";
        let log = run(page, &[], false);
        assert_eq!(
            log.events,
            [
                "<div class=x itemscope=>",
                "\"in\"",
                "</div>",
                "<script type=application/ld+json>",
                "</script>",
            ]
        );
        assert_eq!(log.raw, "{}|");
    }

    fn soup() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"<div itemscope class='a>b'>".to_vec()),
            Just(b"</div>".to_vec()),
            Just(b"<p>".to_vec()),
            Just(b"<!-- x -->".to_vec()),
            Just(b"<!--".to_vec()),
            Just(b"-->".to_vec()),
            Just(b"<script type=application/ld+json>".to_vec()),
            Just(b"</script>".to_vec()),
            Just(b"</SCRIPT".to_vec()),
            Just(b"<meta name=a content=b>".to_vec()),
            Just(b"<style>".to_vec()),
            Just(b"</style>".to_vec()),
            Just(b"<!doctype html>".to_vec()),
            Just(b"< a".to_vec()),
            Just(b"itemscope".to_vec()),
            Just(b"ld+json".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..20),
            "[ a-z<>/='\"!-]{0,20}".prop_map(String::into_bytes),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn pieces_never_change_what_is_told(
            input in soup(),
            pieces in proptest::collection::vec(1usize..40, 0..20),
            all in any::<bool>(),
        ) {
            let whole = run(&input, &[], all);
            let cut = run(&input, &pieces, all);
            prop_assert_eq!(whole, cut);
        }
    }
}
