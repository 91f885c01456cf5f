//! The URL reader: input lists → [`Item`]s, one per non-blank, non-comment
//! line (README "Input").
//!
//! Lists are streamed a line at a time, never read whole. A line is raw bytes:
//! invalid UTF-8 is replaced, a byte order mark and CR endings are dropped,
//! surrounding whitespace is trimmed. Lines longer than [`MAX_LINE`] are not
//! kept whole (they are `invalid_url`). A line without a scheme gets
//! `https://`; a line that is not then a valid http(s) URL is an `invalid_url`
//! item with the reason, never an error of the run.
//!
//! A line that begins with `{` is a JSON request (`{"url": …, "method": …,
//! "headers": {…}, "body": …}`, [`request`]).
//!
//! Beside the reader: [`seen`] (dedupe), [`resume`] (`--resume`) and
//! [`shard`] (`--shard`), the three filters a line passes before it is
//! fetched. What a URL is (parsing, host keys, redaction) is
//! `crate::urls`.

pub mod request;
pub mod resume;
pub mod seen;
pub mod shard;

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use url::Url;

use crate::error::Fatal;
use request::LineRequest;
use shard::Shard;

/// The longest line kept whole, in bytes. No real URL comes close; a longer
/// line is an `invalid_url` record whose `input` is cut.
pub const MAX_LINE: usize = 64 * 1024;

/// How much of an over-long line its record repeats in `input`.
const OVERLONG_ECHO: usize = 256;

/// One input line that needs a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The list it is in, as given (`-` for standard input).
    pub file: Arc<str>,
    /// 1-based line number in its list.
    pub line: u64,
    /// The line as written (trimmed; cut if over-long).
    pub input: String,
    /// The URL to fetch, or why the line is not one.
    pub target: Result<Url, String>,
    /// A JSON line's method, headers and body.
    pub request: Option<Arc<LineRequest>>,
}

/// A URL to fetch: where it came from and what to fetch.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The list it is in, as given (`-` for standard input).
    pub file: Arc<str>,
    /// 1-based line number in its list.
    pub line: u64,
    /// The line as written.
    pub input: String,
    /// The parsed URL.
    pub url: Url,
    /// A JSON line's method, headers and body.
    pub request: Option<Arc<LineRequest>>,
}

#[cfg(test)]
impl Job {
    /// A job for `url` on line 1, for unit tests.
    pub(crate) fn for_test(url: &str) -> Job {
        Job {
            file: "-".into(),
            line: 1,
            input: url.into(),
            url: Url::parse(url).expect("a valid test URL"),
            request: None,
        }
    }
}

/// What one raw line is.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// Blank or a `#` comment: no record.
    Skip,
    /// Text that needs a record: the trimmed line, its URL (or why not),
    /// and what a JSON line asks beyond the URL ([`request`]).
    Entry(String, Result<Url, String>, Option<Arc<LineRequest>>),
}

/// Classifies one raw line (without its `\n`). After its ends are trimmed,
/// a line that is not valid UTF-8, or holds a control character (C0 or DEL)
/// anywhere, is not a URL: the `url` crate would drop a tab or keep a NUL
/// percent-encoded, fetching something other than what the line says.
pub fn parse_line(raw: &[u8]) -> Line {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() || text.starts_with('#') {
        return Line::Skip;
    }
    if request::is_json(text) && std::str::from_utf8(raw).is_ok() {
        let (target, request) = match request::parse(text) {
            Ok((url, request)) => (Ok(url), Some(Arc::new(request))),
            Err(why) => (Err(why), None),
        };
        return Line::Entry(text.to_string(), target, request);
    }
    let target = if std::str::from_utf8(raw).is_err() {
        Err("not a URL: the line is not valid UTF-8".to_string())
    } else if let Some(c) = text.chars().find(char::is_ascii_control) {
        Err(format!(
            "not a URL: control character U+{:04X} in the line",
            u32::from(c)
        ))
    } else {
        crate::urls::parse_url(text)
    };
    Line::Entry(text.to_string(), target, None)
}

/// An input list: a name for messages and a reader.
pub struct Source {
    /// The path as given (`-` for standard input).
    pub path: PathBuf,
    reader: Box<dyn BufRead + Send>,
}

impl Source {
    /// Standard input.
    pub fn stdin() -> Source {
        Source {
            path: PathBuf::from("-"),
            reader: Box::new(BufReader::with_capacity(64 * 1024, io::stdin())),
        }
    }

    /// A reader of lines, for tests and for callers with data in hand.
    pub fn from_reader(path: impl Into<PathBuf>, reader: impl Read + Send + 'static) -> Source {
        Source {
            path: path.into(),
            reader: Box::new(BufReader::with_capacity(64 * 1024, reader)),
        }
    }

    /// Refuses a list that is binary ([`binary`]) from its first block,
    /// before any of it is read as lines (standard input: when it comes).
    fn check_text(&mut self) -> Result<(), Fatal> {
        let head = loop {
            match self.reader.fill_buf() {
                Ok(head) => break head,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Fatal::Input {
                        path: self.path.clone(),
                        source: e,
                    });
                }
            }
        };
        match binary(head) {
            Some(what) => Err(Fatal::NotAList {
                path: self.path.clone(),
                what: what.to_string(),
            }),
            None => Ok(()),
        }
    }

    /// Streams the list's items to `emit`, which returns false to stop early.
    /// A read error ends the list with [`Fatal::Input`]; a binary list
    /// (`check_text`) with [`Fatal::NotAList`], before its first item.
    pub fn for_each_item(&mut self, mut emit: impl FnMut(Item) -> bool) -> Result<(), Fatal> {
        self.check_text()?;
        let mut buf = Vec::with_capacity(256);
        let mut line_no = 0u64;
        let file: Arc<str> = self.path.to_string_lossy().into();
        loop {
            buf.clear();
            let read = read_line_capped(&mut self.reader, &mut buf, MAX_LINE).map_err(|e| {
                Fatal::Input {
                    path: self.path.clone(),
                    source: e,
                }
            })?;
            let Some(overlong) = read else {
                return Ok(());
            };
            line_no += 1;
            let item = if overlong {
                Some(overlong_item(&file, line_no, &buf))
            } else {
                match parse_line(&buf) {
                    Line::Skip => None,
                    Line::Entry(input, target, request) => Some(Item {
                        file: Arc::clone(&file),
                        line: line_no,
                        input,
                        target,
                        request,
                    }),
                }
            };
            if let Some(item) = item
                && !emit(item)
            {
                return Ok(());
            }
        }
    }
}

fn overlong_item(file: &Arc<str>, line: u64, buf: &[u8]) -> Item {
    let head = String::from_utf8_lossy(&buf[..buf.len().min(OVERLONG_ECHO)]);
    Item {
        file: Arc::clone(file),
        line,
        input: format!("{}…", head.trim()),
        target: Err(format!("line longer than {MAX_LINE} bytes")),
        request: None,
    }
}

/// Reads one line into `buf` without its `\n`, keeping at most `cap` bytes.
/// Returns `None` at end of input, else whether the line was longer than
/// `cap` (the rest of it is read and dropped).
pub fn read_line_capped(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<bool>> {
    let mut any = false;
    let mut overlong = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(any.then_some(overlong));
        }
        any = true;
        let (chunk, done) = match memchr_newline(available) {
            Some(i) => (&available[..i], Some(i + 1)),
            None => (available, None),
        };
        let room = cap.saturating_sub(buf.len());
        if chunk.len() > room {
            overlong = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = done.unwrap_or(available.len());
        reader.consume(used);
        if done.is_some() {
            return Ok(Some(overlong));
        }
    }
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// What a list's first block says it is when it is not text: a known
/// binary format by its magic number, else more than one byte in ten
/// that is NUL, or neither text nor UTF-8 (as `file` and `grep` tell binary
/// files; a stray NUL on one line is that line's problem). A text list with a few bad lines is text: each bad
/// line gets its `invalid_url` record.
pub fn binary(head: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
        (b"BZh", "bzip2-compressed data"),
        (b"\xfd7zXZ\x00", "xz-compressed data"),
        (b"PK\x03\x04", "a zip archive"),
        (b"\x7fELF", "an executable (ELF)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"%PDF-", "a PDF document"),
        (b"\xff\xfe", "UTF-16 text"),
        (b"\xfe\xff", "UTF-16 text"),
    ];
    let head = &head[..head.len().min(8192)];
    if let Some((_, what)) = MAGIC.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Some(what);
    }
    let nul = head.iter().filter(|&&b| b == 0).count();
    if nul * 10 > head.len() {
        return Some("binary data (NUL bytes)");
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x1b))
        .count();
    let mut invalid = 0;
    let mut rest = head;
    while let Err(e) = std::str::from_utf8(rest) {
        let skip = e.valid_up_to() + e.error_len().unwrap_or(rest.len() - e.valid_up_to());
        if e.error_len().is_some() {
            invalid += skip - e.valid_up_to();
        }
        rest = &rest[skip..];
    }
    ((control + invalid) * 10 > head.len()).then_some("binary data")
}

/// Opens the lists named on the command line, all before any request is
/// sent, so an unreadable file fails the run at once (exit 1). No names means
/// standard input, unless it is a terminal (a usage error).
pub fn open_sources(files: &[PathBuf]) -> Result<Vec<Source>, Fatal> {
    if files.is_empty() {
        if io::stdin().is_terminal() {
            return Err(Fatal::Usage(
                "no input: give a FILE of URLs, or pipe URLs on standard input".into(),
            ));
        }
        return Ok(vec![Source::stdin()]);
    }
    files
        .iter()
        .map(|path| {
            if path == Path::new("-") {
                return Ok(Source::stdin());
            }
            let file = File::open(path).map_err(|e| Fatal::Input {
                path: path.clone(),
                source: e,
            })?;
            if file.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(Fatal::Input {
                    path: path.clone(),
                    source: io::Error::other("is a directory"),
                });
            }
            let mut source = Source::from_reader(path.clone(), file);
            source.check_text()?;
            Ok(source)
        })
        .collect()
}

/// Counts the lines of the files that will need a record (in `shard`, if
/// given), for the progress bar's total. `None` when a list is standard
/// input (unknown length).
pub fn count_entries(files: &[PathBuf], shard: Option<Shard>) -> Option<u64> {
    if files.is_empty() || files.iter().any(|p| p == Path::new("-")) {
        return None;
    }
    let mut total = 0;
    for path in files {
        let mut source = Source::from_reader(path.clone(), File::open(path).ok()?);
        source
            .for_each_item(|item| {
                let ours = shard.is_none_or(|s| s.owns(item.target.as_ref().ok(), &item.input));
                total += u64::from(ours);
                true
            })
            .ok()?;
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::urls::{host_key, parse_url};

    fn url(line: &str) -> Result<String, String> {
        match parse_line(line.as_bytes()) {
            Line::Skip => Err("skip".into()),
            Line::Entry(_, r, _) => r.map(|u| u.to_string()),
        }
    }

    #[test]
    fn blank_and_comment_lines_are_skipped() {
        for line in [
            "",
            "   ",
            "\t",
            "# comment",
            "  # indented comment",
            "\u{feff}",
            "\r",
        ] {
            assert_eq!(parse_line(line.as_bytes()), Line::Skip, "{line:?}");
        }
    }

    #[test]
    fn bom_cr_and_whitespace_are_ignored() {
        assert_eq!(
            url("\u{feff}https://a.example/\r").unwrap(),
            "https://a.example/"
        );
        assert_eq!(url("  http://a.example/x  ").unwrap(), "http://a.example/x");
        match parse_line(b"  example.com \r") {
            Line::Entry(input, _, _) => assert_eq!(input, "example.com"),
            Line::Skip => panic!("skipped"),
        }
    }

    #[test]
    fn bare_hosts_get_https() {
        assert_eq!(url("example.com").unwrap(), "https://example.com/");
        assert_eq!(
            url("example.com/a?b=1").unwrap(),
            "https://example.com/a?b=1"
        );
        assert_eq!(url("localhost:8080").unwrap(), "https://localhost:8080/");
        assert_eq!(
            url("example.com:8443/x").unwrap(),
            "https://example.com:8443/x"
        );
    }

    #[test]
    fn non_http_schemes_are_invalid() {
        for line in [
            "javascript:alert(1)",
            "mailto:a@example.com",
            "ftp://example.com/",
            "file:///etc/passwd",
            "data:text/html,hi",
        ] {
            let err = url(line).unwrap_err();
            assert!(err.contains("unsupported scheme"), "{line}: {err}");
        }
    }

    #[test]
    fn garbage_is_invalid_not_a_panic() {
        for line in [
            "http://",
            "https://exa mple.com/",
            "http://[::1",
            "://x",
            "\0\0\0",
        ] {
            assert!(url(line).is_err(), "{line:?}");
        }
        let lossy = parse_line(b"\xff\xfe\x00garbage");
        assert!(matches!(lossy, Line::Entry(_, Err(_), _)));
    }

    #[test]
    fn hosts_that_name_no_host_are_invalid_with_the_reason() {
        for (line, why) in [
            ("}", "'}'"),
            (")", "')'"),
            ("http://-x-/", "starts or ends with -"),
            ("foo..bar", "empty label"),
            ("https://a.b$c.example/", "'$'"),
            ("exa mple.com", "space"),
            ("https://exa mple.com/x", "space"),
        ] {
            let err = url(line).unwrap_err();
            assert!(err.contains(why), "{line}: {err}");
        }
        let long = format!("{}.example", "a".repeat(64));
        assert!(url(&long).unwrap_err().contains("63"));
        for fine in [
            "example.com.",
            "_dmarc.example.com",
            "my_host.example.com",
            "xn--bcher-kva.example",
            "a-b.c-d.example",
            "localhost:8080",
            "http://[::1]/",
            "http://10.0.0.1/",
        ] {
            assert!(url(fine).is_ok(), "{fine}");
        }
    }

    #[test]
    fn binary_lists_are_told_from_text_with_a_few_bad_lines() {
        assert_eq!(
            binary(b"\x7fELF\x02\x01\x01\0\0"),
            Some("an executable (ELF)")
        );
        assert_eq!(binary(b"\x1f\x8b\x08\0"), Some("gzip-compressed data"));
        assert_eq!(
            binary(b"example.com\n\0\0\0"),
            Some("binary data (NUL bytes)")
        );
        let mut stray = b"http://exa\0mple.com/\n".to_vec();
        stray.extend(b"example.com\n".repeat(20));
        assert_eq!(binary(&stray), None, "one bad line is that line's record");
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80)
            .collect();
        assert_eq!(binary(&noise), Some("binary data"));
        let mut list = b"example.com\n".repeat(200);
        list.extend_from_slice(b"caf\xe9.example\n\x01bad\n");
        assert_eq!(binary(&list), None);
        assert_eq!(binary("bücher.example\n日本.example\n".as_bytes()), None);
        assert_eq!(binary(b""), None);
        assert_eq!(binary(b"\xff\xfee\0x\0"), Some("UTF-16 text"));
        let mut src =
            Source::from_reader("bin", io::Cursor::new(b"\x7fELF\nexample.com\n".to_vec()));
        let mut items = 0;
        let err = src.for_each_item(|_| {
            items += 1;
            true
        });
        assert!(matches!(err, Err(Fatal::NotAList { .. })));
        assert_eq!(items, 0, "not a line read");
    }

    #[test]
    fn idn_and_ipv6_hosts_parse() {
        assert_eq!(
            url("http://bücher.example/").unwrap(),
            "http://xn--bcher-kva.example/"
        );
        assert_eq!(url("http://[::1]:8080/").unwrap(), "http://[::1]:8080/");
        assert_eq!(url("http://127.0.0.1/").unwrap(), "http://127.0.0.1/");
    }

    #[test]
    fn items_carry_their_line_numbers() {
        let data = "# list\nexample.com\n\n\u{fffd}not a url\r\nhttps://b.example/\n";
        let mut src = Source::from_reader("t", io::Cursor::new(data.as_bytes().to_vec()));
        let mut items = vec![];
        src.for_each_item(|i| {
            items.push(i);
            true
        })
        .unwrap();
        let lines: Vec<u64> = items.iter().map(|i| i.line).collect();
        assert_eq!(lines, [2, 4, 5]);
        assert!(items[1].target.is_err());
        assert_eq!(items[2].input, "https://b.example/");
    }

    #[test]
    fn overlong_lines_are_cut_and_invalid() {
        let mut data = vec![b'a'; MAX_LINE + 10];
        data.extend_from_slice(b"\nexample.com\n");
        let mut src = Source::from_reader("t", io::Cursor::new(data));
        let mut items = vec![];
        src.for_each_item(|i| {
            items.push(i);
            true
        })
        .unwrap();
        assert_eq!(items.len(), 2);
        assert!(
            items[0]
                .target
                .as_ref()
                .unwrap_err()
                .contains("longer than")
        );
        assert!(items[0].input.len() < 300);
        assert_eq!(items[1].line, 2);
    }

    #[test]
    fn last_line_without_newline_counts() {
        let mut r = io::Cursor::new(b"a\nb".to_vec());
        let mut buf = vec![];
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), Some(false));
        assert_eq!(buf, b"a");
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), Some(false));
        assert_eq!(buf, b"b");
        buf.clear();
        assert_eq!(read_line_capped(&mut r, &mut buf, 10).unwrap(), None);
    }

    #[test]
    fn host_keys_include_scheme_and_port() {
        let k = |u: &str| host_key(&Url::parse(u).unwrap());
        assert_eq!(k("http://a.example/x"), "http://a.example:80");
        assert_eq!(k("https://a.example/x"), "https://a.example:443");
        assert_eq!(k("http://a.example:8080/"), "http://a.example:8080");
        assert_ne!(k("http://a.example/"), k("http://b.example/"));
    }

    mod fuzz {
        //! Property tests (run longer with PROPTEST_CASES=200000).
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_bytes_make_a_skip_or_a_checked_entry(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
                match parse_line(&raw) {
                    Line::Skip => {}
                    Line::Entry(input, target, _) => {
                        prop_assert!(!input.is_empty());
                        prop_assert_eq!(input.trim(), input.as_str());
                        if let Ok(url) = target {
                            prop_assert!(matches!(url.scheme(), "http" | "https"));
                            prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
                        }
                    }
                }
            }

            #[test]
            fn url_like_text_never_panics(text in "[a-zA-Z0-9:/?#\\[\\]@!$&'()*+,;=%. \t\u{80}-\u{10ffff}-]{0,80}") {
                if let Ok(url) = parse_url(&text) {
                    prop_assert!(matches!(url.scheme(), "http" | "https"));
                }
            }

            #[test]
            fn lines_split_exactly_at_newlines(
                data in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..400),
                cap in 1usize..50,
            ) {
                let mut reader = io::Cursor::new(data.clone());
                let mut buf = Vec::new();
                let mut lines = 0;
                while let Some(overlong) = read_line_capped(&mut reader, &mut buf, cap).unwrap() {
                    prop_assert!(buf.len() <= cap);
                    prop_assert!(!buf.contains(&b'\n'));
                    prop_assert_eq!(overlong, buf.len() == cap && overlong);
                    buf.clear();
                    lines += 1;
                }
                let newlines = data.iter().filter(|&&b| b == b'\n').count();
                let tail = usize::from(data.last().is_some_and(|&b| b != b'\n'));
                prop_assert_eq!(lines, newlines + tail);
            }
        }
    }
}
