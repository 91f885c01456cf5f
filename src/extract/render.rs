//! The article block as plain text and as Markdown, each bounded.
//!
//! Both come from dom_query's serializers over the same cleaned block:
//! - text: its formatted text — a block element starts a new line,
//!   paragraphs are separated by a blank line, `<br>` breaks a line, words
//!   in adjacent inline elements are not glued — then each line's
//!   whitespace collapsed to single spaces and runs of blank lines to one,
//!   except in `<pre>`, whose lines and indentation are kept;
//! - Markdown: headings, lists (nested), links and images (absolute:
//!   Readability resolved them against the page's URL and `<base href>`),
//!   emphasis, block quotes, `<pre>` always fenced (with or without
//!   `<code>`), tables as pipe tables, a table without a header row given
//!   an empty one. A layout table (one holding another) is written as
//!   its text.
//!
//! Output is bounded ([`cap`]): a page never yields more than twice its
//! own size plus 64 KiB of either.

use super::article::Article;

/// The most bytes of text or Markdown one page of `body_len` bytes yields.
pub fn cap(body_len: usize) -> usize {
    body_len.saturating_mul(2).saturating_add(64 * 1024)
}

/// `out` cut to at most `cap` bytes at a character boundary; whether it
/// was cut.
pub fn bounded(mut out: String, cap: usize) -> (String, bool) {
    if out.len() <= cap {
        return (out, false);
    }
    let mut end = cap;
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    (out, true)
}

/// Stands for the `i`-th `<pre>` while the text is formatted: private-use
/// characters, which no text means.
fn placeholder(i: usize) -> String {
    format!("\u{e000}{i}\u{e001}")
}

/// The block as plain text. Each `<pre>` keeps its lines and indentation:
/// its text is set aside, a placeholder formatted in its place, and put
/// back after the whitespace is collapsed. This changes the document, so
/// it runs after [`markdown`].
pub fn text(article: &Article) -> String {
    let block = article.root();
    let pres = block.select("pre");
    let mut kept = Vec::new();
    for (i, pre) in pres.nodes().iter().enumerate() {
        kept.push(pre.text().trim_end().to_string());
        pre.set_text(placeholder(i));
    }
    let raw = block.formatted_text();
    let mut out = normalize_text(&raw);
    for (i, pre) in kept.iter().enumerate() {
        out = out.replacen(&placeholder(i), pre, 1);
    }
    out
}

/// The block as Markdown, with at most one blank line between blocks
/// (outside code blocks, whose lines are as they were).
pub fn markdown(article: &Article) -> String {
    let md = match article.root().nodes().first() {
        Some(root) => root.md(None),
        None => return String::new(),
    };
    let mut out = String::with_capacity(md.len());
    let (mut fence, mut blanks) = (None::<String>, 0);
    for line in md.trim_matches('\n').lines() {
        let marker: String = line
            .trim_start()
            .chars()
            .take_while(|&c| c == '`')
            .collect();
        match &fence {
            Some(open) if line.trim() == open.as_str() => fence = None,
            None if marker.len() >= 3 => fence = Some(marker),
            _ => {}
        }
        if fence.is_none() && line.trim().is_empty() {
            blanks += 1;
            if blanks > 1 {
                continue;
            }
        } else {
            blanks = 0;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

/// Each line's whitespace collapsed and trimmed; at most one blank line
/// between paragraphs; none at either end.
fn normalize_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut blank = false;
    for line in raw.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        for (i, word) in words.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_collapsed_and_paragraphs_kept() {
        let raw = "\n\n  Hello   \t world \n\n\n\n Second\u{a0} para \nline two\n\n";
        assert_eq!(normalize_text(raw), "Hello world\n\nSecond para\nline two");
    }

    #[test]
    fn output_is_cut_at_a_character_boundary() {
        assert_eq!(bounded("héllo".into(), 2), ("h".into(), true));
        assert_eq!(bounded("héllo".into(), 3), ("hé".into(), true));
        assert_eq!(bounded("abc".into(), 3), ("abc".into(), false));
        assert_eq!(cap(0), 65536);
        assert_eq!(cap(usize::MAX), usize::MAX);
    }
}
