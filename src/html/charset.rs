//! Which charset a body is in, and whether it is HTML at all (docs/record.md: title charsets are decided as the HTML standard does).
//!
//! In order: a byte order mark (left to the decoder), the Content-Type
//! header's `charset`, a `<meta charset>` or `http-equiv=content-type`
//! declaration in the first [`SNIFF_LEN`](super::SNIFF_LEN) bytes (the
//! standard's prescan), else UTF-8. A body without a Content-Type is HTML
//! only if it starts like HTML (the WHATWG sniffing patterns). Pure
//! functions, no I/O.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use lol_html::html_content::Element;
use lol_html::{AsciiCompatibleEncoding, ElementContentHandlers, HtmlRewriter, Selector, Settings};

use super::SNIFF_LEN;
use super::collector::STOP_PARSING;

thread_local! {
    /// The `meta` selector, parsed once per thread (lol_html's selectors
    /// are not `Sync`).
    static META: Option<Selector> = "meta".parse().ok();
}

/// The media type of a Content-Type, lowercased, without parameters.
pub fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The encoding named by a Content-Type's `charset` parameter, if known.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
        Encoding::for_label(value.as_bytes())
    })
}

/// Whether `<meta` (any case) is in `head`.
fn has_meta_tag(head: &[u8]) -> bool {
    memchr::memchr_iter(b'<', head).any(|at| {
        head.get(at + 1..at + 5)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"meta"))
    })
}

/// The encoding a `<meta>` declares in the first bytes of a page (the HTML
/// standard's prescan: `<meta charset>` or `http-equiv=content-type`).
// Out of line: the prescan builds a parser of its own, whose frame must not
// sit under the page's parser on every worker's stack.
#[inline(never)]
pub fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let head = &head[..head.len().min(SNIFF_LEN)];
    if !has_meta_tag(head) {
        // No `<meta` at all: nothing to find, and no parser to build (on
        // small pages that parser was a tenth of scrape's CPU a URL).
        return None;
    }
    let found: Rc<RefCell<Option<&'static Encoding>>> = Rc::new(RefCell::new(None));
    let sink = Rc::clone(&found);
    let on_meta = move |el: &mut Element| {
        if sink.borrow().is_some() {
            return Ok(());
        }
        let declared = match el.get_attribute("charset") {
            Some(label) => Encoding::for_label(label.trim().as_bytes()),
            None => {
                let is_content_type = el
                    .get_attribute("http-equiv")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("content-type"));
                el.get_attribute("content")
                    .filter(|_| is_content_type)
                    .and_then(|c| charset_in_meta_content(&c))
            }
        };
        *sink.borrow_mut() = declared.map(fix_meta_encoding);
        if declared.is_some() {
            // The first declaration decides: stop parsing.
            return Err(STOP_PARSING.into());
        }
        Ok(())
    };
    let encoding = AsciiCompatibleEncoding::new(WINDOWS_1252)?;
    let mut rewriter = META.with(|meta| {
        let settings = Settings::new()
            .with_strict(false)
            .with_encoding(encoding)
            .append_element_content_handler((
                Cow::Borrowed(meta.as_ref()?),
                ElementContentHandlers::default().element(on_meta),
            ));
        Some(HtmlRewriter::new(settings, |_: &[u8]| {}))
    })?;
    if rewriter.write(head).is_ok() {
        let _ = rewriter.end();
    }
    found.take()
}

/// A meta declaration of UTF-16 means UTF-8 (the bytes were readable as
/// ASCII), and x-user-defined means windows-1252, per the HTML standard.
fn fix_meta_encoding(e: &'static Encoding) -> &'static Encoding {
    if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
        UTF_8
    } else if e == encoding_rs::X_USER_DEFINED {
        WINDOWS_1252
    } else {
        e
    }
}

/// The HTML standard's "extract a character encoding from a meta element":
/// `text/html; charset=Shift_JIS` → Shift_JIS.
pub fn charset_in_meta_content(content: &str) -> Option<&'static Encoding> {
    let lower = content.to_ascii_lowercase();
    let mut from = 0;
    while let Some(pos) = lower[from..].find("charset") {
        let rest = lower[from + pos + "charset".len()..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            let label = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].split(q).next()?,
                Some(_) => value
                    .split(|c: char| c.is_ascii_whitespace() || c == ';')
                    .next()?,
                None => return None,
            };
            return Encoding::for_label(label.as_bytes());
        }
        from += pos + "charset".len();
    }
    None
}

/// Whether a body without a Content-Type starts like HTML (the WHATWG MIME
/// sniffing patterns for text/html).
pub fn looks_like_html(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C'))
        .unwrap_or(head.len());
    let head = &head[start..];
    if head.starts_with(b"<!--") {
        return true;
    }
    const TAGS: [&[u8]; 16] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
    ];
    TAGS.iter().any(|tag| {
        head.len() > tag.len()
            && head[..tag.len()].eq_ignore_ascii_case(tag)
            && matches!(head[tag.len()], b' ' | b'>')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_content_charset_forms() {
        let sjis = Some(encoding_rs::SHIFT_JIS);
        assert_eq!(
            charset_in_meta_content("text/html; charset=Shift_JIS"),
            sjis
        );
        assert_eq!(
            charset_in_meta_content("text/html;charset = 'shift_jis'"),
            sjis
        );
        assert_eq!(
            charset_in_meta_content("text/html; CHARSET=\"Shift_JIS\""),
            sjis
        );
        assert_eq!(charset_in_meta_content("text/html"), None);
        assert_eq!(charset_in_meta_content("charset"), None);
        assert_eq!(charset_in_meta_content("charset=nonsense"), None);
    }

    #[test]
    fn content_type_charset_forms() {
        assert_eq!(
            charset_from_content_type("text/html; charset=\"ISO-8859-1\""),
            Some(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(charset_from_content_type("text/html"), None);
        assert_eq!(charset_from_content_type("text/html; charset=bogus"), None);
    }

    #[test]
    fn the_prescan_finds_meta_in_any_case_and_skips_pages_without() {
        let upper =
            b"<title>x</title><META HTTP-EQUIV=Content-Type CONTENT='text/html; charset=koi8-r'>";
        assert_eq!(meta_charset(upper), Some(encoding_rs::KOI8_R));
        assert_eq!(meta_charset(b"<title>no meta</title><p>metadata<"), None);
        assert!(!has_meta_tag(b"<p>meta</p> <"));
        assert!(has_meta_tag(b"<Meta"));
    }

    #[test]
    fn meta_utf16_means_utf8() {
        assert_eq!(meta_charset(b"<meta charset=utf-16>"), Some(UTF_8));
    }

    #[test]
    fn html_sniffing() {
        assert!(looks_like_html(b"  <HTML>"));
        assert!(looks_like_html(b"<!-- c -->"));
        assert!(looks_like_html(b"\xEF\xBB\xBF<p>x"));
        assert!(!looks_like_html(b"<pre>"));
        assert!(!looks_like_html(b"{\"a\": 1}"));
        assert!(!looks_like_html(b""));
    }
}
