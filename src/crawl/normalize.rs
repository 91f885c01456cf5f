//! One spelling per page, so the same page reached twice is fetched once
//! (`--follow`): the fragment dropped, scheme and host lower-cased, the
//! default port dropped and `.`/`..` segments resolved (the `url` crate
//! does those three when it parses), and percent-encoding made canonical
//! as RFC 3986 §6.2.2 says: escapes of unreserved characters decoded
//! (`%7E` → `~`, `%41` → `A`), the others in upper case (`%2f` → `%2F`).

use url::Url;

/// `url` in its normal form.
pub fn normalize(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    if !url.as_str().contains('%') {
        return url;
    }
    let path = canonical_escapes(url.path());
    if path != url.path() {
        url.set_path(&path);
    }
    if let Some(query) = url.query() {
        let canonical = canonical_escapes(query);
        if canonical != query {
            url.set_query(Some(&canonical));
        }
    }
    url
}

/// `text` with every `%XX` escape canonical.
fn canonical_escapes(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escape {
            Some(b) if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => {
                out.push(char::from(b));
                i += 3;
            }
            Some(b) => {
                out.push_str(&format!("%{b:02X}"));
                i += 3;
            }
            None => {
                let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push_str(&text[i..i + ch_len]);
                i += ch_len;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        normalize(&Url::parse(s).unwrap()).to_string()
    }

    #[test]
    fn spellings_of_one_page_become_one() {
        let one = "http://shop.test/a/b~c?q=%2F";
        for spelling in [
            "HTTP://Shop.TEST:80/a/b~c?q=%2F",
            "http://shop.test/a/x/../b%7Ec?q=%2f",
            "http://shop.test/a/./b%7ec?q=%2f#top",
            "http://shop.test:80/a/b%7Ec?q=%2F#",
        ] {
            assert_eq!(n(spelling), one, "{spelling}");
        }
        assert_eq!(n("https://shop.test"), "https://shop.test/");
        assert_eq!(n("https://shop.test:443/%41%42"), "https://shop.test/AB");
        assert_ne!(n("http://shop.test/a?x=1"), n("http://shop.test/a?x=2"));
        assert_eq!(n("http://shop.test/%zz%"), "http://shop.test/%zz%");
    }
}
