//! Passwords in URLs (`http://user:secret@host/`) are sent, never shown:
//! wherever scrape writes a URL, a line or a message — records (`url`,
//! `final_url`, `input`, `error.message`), `-v` lines — the password reads
//! `***`. The user name stays. `--resume` keys lines by the URL as written
//! in records, so it recognises them again.
//!
//! A JSON list line (`{"url": …, "headers": {…}, …}`) shows its URL's
//! password masked too, and the values of headers that carry credentials
//! ([`secret_header`]: `Authorization`, `Cookie`, names with `key`,
//! `token`, `secret`, `auth` or `password`); such a line is then written
//! back compactly, in its own key order. Masking is idempotent, so a
//! record's `input` keys its line for `--resume` as the line itself does.

use std::borrow::Cow;

use url::Url;

/// What a password is replaced with.
pub const MASK: &str = "***";

/// The URL as scrape writes it.
pub fn url(url: &Url) -> Cow<'_, str> {
    if url.password().is_none() {
        return Cow::Borrowed(url.as_str());
    }
    let mut shown = url.clone();
    // Setting a password fails only on URLs that cannot have one, and this
    // one has one.
    let _ = shown.set_password(Some(MASK));
    Cow::Owned(shown.into())
}

/// A line as written, with the password of its `user:password@` part
/// masked, whether or not the line is an http(s) URL, with a scheme or
/// without (`user:pw@host` is taken for userinfo); a URI without an
/// authority (`mailto:a@b`, `tel:`, `data:`…) has no password.
pub fn line(text: &str) -> Cow<'_, str> {
    if text.starts_with('{') {
        return json_line(text);
    }
    if !text.contains('@') {
        return Cow::Borrowed(text);
    }
    const OPAQUE: [&str; 9] = [
        "mailto:",
        "tel:",
        "sms:",
        "javascript:",
        "data:",
        "urn:",
        "news:",
        "about:",
        "magnet:",
    ];
    let lower = text.to_ascii_lowercase();
    if OPAQUE.iter().any(|scheme| lower.starts_with(scheme)) {
        return Cow::Borrowed(text);
    }
    let with_scheme = if text.contains("://") {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(format!("https://{text}"))
    };
    if !Url::parse(&with_scheme).is_ok_and(|u| u.password().is_some()) {
        return Cow::Borrowed(text);
    }
    let start = text.find("://").map_or(0, |i| i + 3);
    let authority_end = text[start..]
        .find(['/', '?', '#'])
        .map_or(text.len(), |i| start + i);
    let authority = &text[start..authority_end];
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(text);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(text);
    };
    let (from, to) = (start + colon + 1, start + at);
    if from == to {
        return Cow::Borrowed(text);
    }
    Cow::Owned(format!("{}{MASK}{}", &text[..from], &text[to..]))
}

/// `message` with every `:password@` of `urls` masked.
pub fn message(message: String, urls: &[Option<&Url>]) -> String {
    let mut message = message;
    for url in urls.iter().flatten() {
        let Some(password) = url.password() else {
            continue;
        };
        let decoded = percent_encoding_decode(password);
        for form in [password, decoded.as_str()] {
            let secret = format!(":{form}@");
            if message.contains(&secret) {
                message = message.replace(&secret, &format!(":{MASK}@"));
            }
        }
    }
    message
}

/// A percent-encoded string decoded (lossily), as a URL crate user would
/// type it.
fn percent_encoding_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON request line with its URL's password and its credential
/// headers masked (unchanged when it has neither, or is not JSON).
fn json_line(text: &str) -> Cow<'_, str> {
    let Ok(serde_json::Value::Object(mut line)) = serde_json::from_str(text) else {
        return Cow::Borrowed(text);
    };
    let mut masked = false;
    if let Some(serde_json::Value::String(url)) = line.get_mut("url")
        && let Cow::Owned(shown) = self::line(url)
    {
        *url = shown;
        masked = true;
    }
    if let Some(serde_json::Value::Object(headers)) = line.get_mut("headers") {
        for (name, value) in headers.iter_mut() {
            if secret_header(name) && value.as_str() != Some(MASK) {
                *value = serde_json::Value::from(MASK);
                masked = true;
            }
        }
    }
    match masked {
        true => Cow::Owned(serde_json::Value::Object(line).to_string()),
        false => Cow::Borrowed(text),
    }
}

/// Whether a header's value is a credential, by its name.
fn secret_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || ["key", "token", "secret", "auth", "password"]
        .iter()
        .any(|part| name.contains(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_user_and_lose_the_password() {
        let u = Url::parse("http://ann:s3cr%40t@host.example:8080/p?q#f").unwrap();
        assert_eq!(url(&u), "http://ann:***@host.example:8080/p?q#f");
        let plain = Url::parse("http://ann@host.example/").unwrap();
        assert_eq!(url(&plain), "http://ann@host.example/");
    }

    #[test]
    fn lines_are_masked_as_written() {
        assert_eq!(line("http://ann:pw@h/x"), "http://ann:***@h/x");
        assert_eq!(line("ann:pw@h.example/x@y"), "ann:***@h.example/x@y");
        assert_eq!(line("ftp://u:p:q@h/"), "ftp://u:***@h/");
        assert_eq!(line("http://h.example/a:b@c"), "http://h.example/a:b@c");
        assert_eq!(line("http://ann@h/"), "http://ann@h/");
        assert_eq!(line("mailto:a@b"), "mailto:a@b");
    }

    #[test]
    fn messages_lose_passwords_in_either_form() {
        let u = Url::parse("http://ann:s%20t@h/").unwrap();
        let text = message(
            "redirect loop: http://ann:s%20t@h/ then http://ann:s t@h/ a".to_string(),
            &[Some(&u)],
        );
        assert_eq!(
            text,
            "redirect loop: http://ann:***@h/ then http://ann:***@h/ a"
        );
    }

    #[test]
    fn json_lines_hide_credentials_and_masking_twice_changes_nothing() {
        let raw = r#"{"url": "https://u:pw@api.example/x", "headers": {"Authorization": "Bearer abc", "X-Api-Key": ["k1"], "Accept": "a/b"}, "body": "q=1"}"#;
        let shown = line(raw).into_owned();
        assert!(
            !shown.contains("pw@") && !shown.contains("abc") && !shown.contains("k1"),
            "{shown}"
        );
        assert!(
            shown.contains("u:***@") && shown.contains(r#""Accept":"a/b""#),
            "{shown}"
        );
        assert!(shown.contains(r#""body":"q=1""#), "{shown}");
        assert_eq!(line(&shown), shown.as_str(), "idempotent");
        let plain = r#"{"url": "https://api.example/", "headers": {"Accept": "a/b"}}"#;
        assert_eq!(line(plain), plain, "nothing to hide: as written");
        assert_eq!(line("{not json"), "{not json");
    }
}
