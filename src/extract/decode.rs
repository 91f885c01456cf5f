//! A kept body to text, for the DOM parser.
//!
//! The scanner decided the charset from the first 1024 bytes (byte order
//! mark, Content-Type, `<meta>`), as browsers do before parsing. When none
//! of them declared one, the scanner fell back to UTF-8; a page that then
//! is not UTF-8 is an old page in a legacy charset, and `chardetng` —
//! Firefox's detector — guesses which, from the whole body. A UTF-8 page
//! with a few stray bytes stays UTF-8. And a page whose `<meta>` names a
//! legacy charset but whose bytes are UTF-8 throughout (non-ASCII
//! included) is UTF-8: a page saved by a browser or converted by a tool
//! keeps its old `<meta>` (Readability's `qq.html` test page says gb2312
//! and is UTF-8); valid multi-byte UTF-8 by chance in a legacy charset is
//! vanishingly rare. A charset from the Content-Type header is kept.

use std::borrow::Cow;

use chardetng::EncodingDetector;
use encoding_rs::UTF_8;

use crate::html::page::{Body, Declared};

/// At most one invalid sequence per this many non-ASCII characters, and a
/// body still counts as UTF-8 with stray bytes.
const STRAY_RATIO: usize = 50;

/// The body as text.
pub fn html(body: &Body) -> Cow<'_, str> {
    let encoding = match body.declared {
        Declared::Header => body.encoding,
        Declared::Meta if body.encoding != UTF_8 && utf8_beyond_ascii(&body.bytes) => UTF_8,
        Declared::Meta => body.encoding,
        Declared::Nothing if mostly_utf8(&body.bytes) => UTF_8,
        Declared::Nothing => {
            let mut detector = EncodingDetector::new();
            detector.feed(&body.bytes, true);
            detector.guess(None, true)
        }
    };
    // `decode` lets a byte order mark override the charset, as the
    // scanner's decoder did.
    encoding.decode(&body.bytes).0
}

/// Whether the bytes are valid UTF-8 (a character cut at the end
/// allowed) with some non-ASCII in them.
fn utf8_beyond_ascii(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    !bytes[..valid].is_ascii()
}

/// Whether the bytes are UTF-8, but for a few stray bytes or a character
/// cut at the end.
fn mostly_utf8(bytes: &[u8]) -> bool {
    // Most pages are valid UTF-8 throughout: one fast check says so.
    if std::str::from_utf8(bytes).is_ok() {
        return true;
    }
    let (mut invalid, mut wide) = (0usize, 0usize);
    let mut chunks = bytes.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        wide += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        let cut_at_end = chunks.peek().is_none();
        if !chunk.invalid().is_empty() && !cut_at_end {
            invalid += 1;
        }
    }
    invalid == 0 || invalid * STRAY_RATIO <= wide
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{SHIFT_JIS, WINDOWS_1252};

    fn body(bytes: &[u8], declared: Declared) -> Body {
        Body {
            bytes: bytes.to_vec(),
            encoding: UTF_8,
            declared,
            held: None,
        }
    }

    #[test]
    fn an_undeclared_legacy_page_is_detected() {
        let (bytes, _, _) = WINDOWS_1252.encode("Ça coûte très cher, déjà à Noël. Où êtes-vous?");
        assert_eq!(
            html(&body(&bytes, Declared::Nothing)),
            "Ça coûte très cher, déjà à Noël. Où êtes-vous?"
        );
        let text = "日本語のテキストです。これは長い文章で、文字コードを推測します。";
        let (bytes, _, _) = SHIFT_JIS.encode(text);
        assert_eq!(html(&body(&bytes, Declared::Nothing)), text);
    }

    #[test]
    fn utf8_with_a_stray_byte_or_a_cut_character_stays_utf8() {
        let mut bytes = "déjà vu ".repeat(40).into_bytes();
        bytes.push(0xff);
        bytes.extend_from_slice("über".as_bytes());
        let b = body(&bytes, Declared::Nothing);
        let text = html(&b);
        assert!(text.starts_with("déjà vu") && text.ends_with("\u{fffd}über"));
        let cut = &"naïve café".as_bytes()[..11];
        assert_eq!(html(&body(cut, Declared::Nothing)), "naïve caf\u{fffd}");
    }

    #[test]
    fn a_declared_charset_is_kept_unless_a_meta_names_it_over_utf8() {
        let (bytes, _, _) = WINDOWS_1252.encode("déjà");
        for declared in [Declared::Meta, Declared::Header] {
            let b = Body {
                bytes: bytes.to_vec(),
                encoding: WINDOWS_1252,
                declared,
                held: None,
            };
            assert_eq!(html(&b), "déjà");
        }
        let utf8 = |declared| Body {
            bytes: "中文 déjà".as_bytes().to_vec(),
            encoding: encoding_rs::GBK,
            declared,
            held: None,
        };
        assert_eq!(html(&utf8(Declared::Meta)), "中文 déjà");
        assert_ne!(html(&utf8(Declared::Header)), "中文 déjà");
    }
}
