//! The inline writer: text, spaces and emphasis as they go into one block
//! of the output.
//!
//! HTML collapses white space; so does this writer, lazily: a space is
//! only written between two visible things, never at a block's start or
//! end. Emphasis (`**`, `*`, `` ` ``) is opened lazily too, at the first
//! visible character inside it, and closed before any space that ends it,
//! so `<b> bold </b>` becomes ` **bold** ` and never `** bold **`, which
//! Markdown would not read as emphasis. A line break inside emphasis
//! closes it and opens it again on the next line.

/// What a Markdown writer marks around inline content: emphasis, and
/// links (by their place in [`Line::open_link`]'s list of targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Strong,
    Em,
    Link(usize),
}

impl Mark {
    fn opening(self) -> &'static str {
        match self {
            Mark::Strong => "**",
            Mark::Em => "*",
            Mark::Link(_) => "[",
        }
    }
}

/// One block's inline content, being written.
#[derive(Default)]
pub struct Line {
    /// Markdown (marks and escapes) or plain text.
    pub markdown: bool,
    /// The content so far.
    pub out: String,
    /// A space is due before the next visible character.
    space: bool,
    /// Marks the content is inside, outermost first.
    open: Vec<Mark>,
    /// Marks written (opened) so far, outermost first.
    written: Vec<Mark>,
    /// Where each written mark's content starts in `out`.
    starts: Vec<usize>,
    /// Link targets, for `Mark::Link`.
    targets: Vec<String>,
}

impl Line {
    pub fn new(markdown: bool) -> Line {
        Line {
            markdown,
            ..Line::default()
        }
    }

    /// Text from the page: white space collapsed, Markdown's specials
    /// escaped.
    pub fn text(&mut self, text: &str) {
        for (i, word) in text.split(is_space).enumerate() {
            if i > 0 {
                self.space = true;
            }
            if !word.is_empty() {
                self.visible();
                self.push_escaped(word);
            }
        }
    }

    /// Text written as it is (a link's URL, an image, a code span).
    pub fn raw(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.visible();
        self.out.push_str(text);
        self.space = false;
    }

    /// A space between two things, if anything visible follows.
    pub fn space(&mut self) {
        self.space = true;
    }

    /// Opens a mark (written with the next visible character).
    pub fn open(&mut self, mark: Mark) {
        if self.markdown {
            self.open.push(mark);
        }
    }

    /// Opens a link to `target` (written as `[…](target)` around what
    /// follows, up to [`Line::close`]; dropped when nothing visible is in
    /// it).
    pub fn open_link(&mut self, target: String) {
        if self.markdown {
            self.targets.push(target);
            self.open.push(Mark::Link(self.targets.len() - 1));
        }
    }

    /// Closes the innermost mark.
    pub fn close(&mut self) {
        if !self.markdown {
            return;
        }
        self.open.pop();
        if self.written.len() > self.open.len() {
            self.close_written(self.open.len());
        }
    }

    /// A hard line break (`<br>`): marks are closed before it and open
    /// again after.
    pub fn hard_break(&mut self) {
        if self.out.is_empty() {
            return;
        }
        self.close_written(0);
        self.out.push_str(if self.markdown { "\\\n" } else { "\n" });
        self.space = false;
    }

    /// The finished content, marks closed; the line is empty again.
    pub fn take(&mut self) -> String {
        self.close_written(0);
        self.space = false;
        self.open.clear();
        self.targets.clear();
        let mut out = std::mem::take(&mut self.out);
        // A trailing hard break ends nothing.
        while out.ends_with("\\\n") || out.ends_with('\n') {
            let cut = if out.ends_with("\\\n") { 2 } else { 1 };
            out.truncate(out.len() - cut);
        }
        out
    }

    /// Before a visible character: the due space, then the marks that are
    /// open but not written.
    fn visible(&mut self) {
        // Marks written but no longer open (closed, then reopened in
        // another order) are closed first.
        let keep = self
            .written
            .iter()
            .zip(&self.open)
            .take_while(|(w, o)| w == o)
            .count();
        if keep < self.written.len() {
            self.close_written(keep);
        }
        if self.space && !self.out.is_empty() && !self.out.ends_with('\n') {
            self.out.push(' ');
        }
        self.space = false;
        while self.written.len() < self.open.len() {
            let mark = self.open[self.written.len()];
            self.out.push_str(mark.opening());
            self.written.push(mark);
            self.starts.push(self.out.len());
        }
    }

    /// Closes written marks down to `keep` of them: the white space before
    /// a closing delimiter goes after it; a mark around nothing is taken
    /// out whole.
    fn close_written(&mut self, keep: usize) {
        while self.written.len() > keep {
            let (Some(mark), Some(start)) = (self.written.pop(), self.starts.pop()) else {
                break;
            };
            let trimmed = self.out.trim_end_matches(' ').len();
            let spaces = self.out.len() - trimmed;
            if trimmed <= start {
                // Nothing inside: drop the opening delimiter.
                self.out.truncate(start - mark.opening().len());
                continue;
            }
            self.out.truncate(trimmed);
            match mark {
                Mark::Link(i) => {
                    self.out.push_str("](");
                    self.out
                        .push_str(self.targets.get(i).map_or("", String::as_str));
                    self.out.push(')');
                }
                _ => self.out.push_str(mark.opening()),
            }
            if spaces > 0 {
                self.space = true;
            }
        }
    }

    /// A word of page text, with Markdown's specials escaped.
    fn push_escaped(&mut self, word: &str) {
        if !self.markdown {
            self.out.push_str(word);
            return;
        }
        let at_start = self.out.is_empty() || self.out.ends_with('\n');
        for (i, c) in word.char_indices() {
            let next = word[i + c.len_utf8()..].chars().next();
            let escape = match c {
                '\\' | '*' | '`' | '[' | ']' => true,
                '_' => {
                    let before = self.out.chars().next_back();
                    !before.is_some_and(char::is_alphanumeric)
                        || !next.is_some_and(char::is_alphanumeric)
                }
                '<' => next.is_some_and(|n| n.is_ascii_alphabetic() || n == '/' || n == '!'),
                '&' => next.is_some_and(|n| n.is_ascii_alphanumeric() || n == '#'),
                '#' | '>' | '+' | '-' | '=' if at_start && i == 0 => true,
                '|' => true,
                _ => false,
            };
            if escape {
                self.out.push('\\');
            }
            self.out.push(c);
        }
        // `1.` at a line's start would start a list.
        if at_start {
            escape_list_number(&mut self.out);
        }
    }
}

/// White space as HTML collapses it, and the no-break space, which reads
/// as a space (`10&nbsp;kg`).
pub fn is_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{a0}'
}

/// `2024. A year` at a line's start: the dot escaped (`2024\.`), or it
/// would be read as a numbered list.
fn escape_list_number(out: &mut String) {
    let line_start = out.rfind('\n').map_or(0, |i| i + 1);
    let line = &out[line_start..];
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    // Only a dot that ends the word: `2.5` starts no list.
    let dot = matches!(&line[digits..], "." | ")");
    if digits > 0 && digits <= 9 && dot {
        out.insert(line_start + digits, '\\');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md() -> Line {
        Line::new(true)
    }

    #[test]
    fn spaces_collapse_and_never_start_or_end() {
        let mut l = Line::new(false);
        l.text("  Hello \n\t  world\u{a0}\u{a0}again  ");
        assert_eq!(l.take(), "Hello world again");
    }

    #[test]
    fn emphasis_keeps_its_spaces_outside() {
        let mut l = md();
        l.text("a");
        l.open(Mark::Strong);
        l.text(" bold\u{a0}");
        l.close();
        l.text("b");
        assert_eq!(l.take(), "a **bold** b");
    }

    #[test]
    fn empty_emphasis_is_dropped_and_a_break_reopens_it() {
        let mut l = md();
        l.open(Mark::Em);
        l.text("  ");
        l.close();
        l.text("x");
        l.open(Mark::Strong);
        l.text("one");
        l.hard_break();
        l.text("two");
        l.close();
        assert_eq!(l.take(), "x**one**\\\n**two**");
    }

    #[test]
    fn links_wrap_what_is_visible_in_them() {
        let mut l = md();
        l.text("see");
        l.open_link("https://x/?a=1&b=2".into());
        l.text(" the ");
        l.open(Mark::Strong);
        l.text("docs ");
        l.close();
        l.close();
        l.text(", or");
        l.open_link("https://y/".into());
        l.text("  ");
        l.close();
        l.text("not.");
        assert_eq!(l.take(), "see [the **docs**](https://x/?a=1&b=2) , or not.");
    }

    #[test]
    fn markdown_specials_are_escaped() {
        let mut l = md();
        l.text("*x* [y] snake_case _z a<b <br> a&amp; |");
        assert_eq!(
            l.take(),
            "\\*x\\* \\[y\\] snake_case \\_z a\\<b \\<br> a\\&amp; \\|"
        );
        let mut l = md();
        l.text("2024. A year");
        assert_eq!(l.take(), "2024\\. A year");
        let mut l = md();
        l.text("2.5 kg");
        assert_eq!(l.take(), "2.5 kg");
        let mut l = md();
        l.text("# not a heading");
        assert_eq!(l.take(), "\\# not a heading");
    }
}
