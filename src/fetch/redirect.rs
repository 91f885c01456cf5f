//! Redirects, followed by scrape itself (docs/options.md "Details worth knowing":
//! redirects): where a 3xx points, whether the hop is allowed, and which
//! `-H` headers may go along.

use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::error::{ErrorKind, FetchError};

/// The statuses that redirect.
pub fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect response points, if it is one to follow.
pub fn target(
    resp: &Response,
    current: &Url,
    max_redirects: u32,
) -> Option<Result<Url, FetchError>> {
    if max_redirects == 0 || !is_redirect(resp.status()) {
        return None;
    }
    let location = resp.headers().get(header::LOCATION)?;
    let target = current
        .join(location_text(location.as_bytes()).trim())
        .ok()
        .ok_or_else(|| {
            FetchError::new(
                ErrorKind::Redirect,
                format!(
                    "invalid Location header: {:?}",
                    String::from_utf8_lossy(location.as_bytes())
                ),
            )
        });
    Some(target)
}

/// Where a redirect response points, resolved against `current`, whether
/// it is followed or not (for the record's `location`).
pub fn location(resp: &Response, current: &Url) -> Option<Url> {
    if !is_redirect(resp.status()) {
        return None;
    }
    let location = resp.headers().get(header::LOCATION)?;
    current.join(location_text(location.as_bytes()).trim()).ok()
}

/// A `Location` as text. Servers send raw non-ASCII bytes there (RFC 9110
/// allows them as obs-text); as browsers and curl do, UTF-8 is taken as is
/// (the URL parser percent-encodes it) and any other byte above 0x7F is
/// percent-encoded.
fn location_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return text.into();
    }
    let mut text = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii() {
            text.push(char::from(b));
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    text.into()
}

/// The `-H` headers for a request to `current`, minus credentials when it
/// is not the origin the user asked for.
pub fn headers_for(headers: &HeaderMap, original: &Url, current: &Url) -> HeaderMap {
    let mut headers = headers.clone();
    if original.origin() != current.origin() {
        for name in [
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ] {
            headers.remove(name);
        }
    }
    headers
}

/// Validates the next redirect hop: an http(s) target, within
/// `--max-redirects`, and not a loop: a loop is a URL the chain has
/// requested before with the same `cookies` (what the chain's jar sends
/// it). A site that sets a cookie and redirects to itself (a consent or
/// session check) is followed, as browsers and curl do.
pub fn check_hop(
    next: Result<Url, FetchError>,
    cookies: &str,
    visited: &[(Url, String)],
    redirects: u32,
    max: u32,
) -> Result<Url, FetchError> {
    let next = next?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(FetchError::new(
            ErrorKind::Redirect,
            format!("refused redirect to a non-http(s) URL: {next}"),
        ));
    }
    if visited
        .iter()
        .any(|(url, sent)| *url == next && sent == cookies)
    {
        return Err(FetchError::new(
            ErrorKind::Redirect,
            format!(
                "redirect loop: {next} again after a chain of {} redirect(s)",
                redirects + 1
            ),
        ));
    }
    if redirects >= max {
        return Err(FetchError::new(
            ErrorKind::Redirect,
            format!("too many redirects: the chain is longer than {max} (--max-redirects)"),
        ));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_locations_are_percent_encoded() {
        let base = Url::parse("http://h.example/dir/").unwrap();
        let utf8 = location_text("/landing-é/✓".as_bytes());
        assert_eq!(
            base.join(&utf8).unwrap().as_str(),
            "http://h.example/landing-%C3%A9/%E2%9C%93"
        );
        let latin1 = location_text(b"caf\xe9?q=\xe9");
        assert_eq!(latin1, "caf%E9?q=%E9");
        assert_eq!(
            base.join(&latin1).unwrap().as_str(),
            "http://h.example/dir/caf%E9?q=%E9"
        );
    }

    #[test]
    fn hops_are_checked() {
        let a = Url::parse("http://a.example/").unwrap();
        let b = Url::parse("http://b.example/").unwrap();
        let none = String::new();
        let visited = [(a.clone(), none.clone()), (b.clone(), none.clone())];
        assert_eq!(
            check_hop(Ok(b.clone()), "", &visited[..1], 0, 10),
            Ok(b.clone())
        );
        let lp = check_hop(Ok(a.clone()), "", &visited, 1, 10).unwrap_err();
        assert_eq!(lp.kind, ErrorKind::Redirect);
        assert!(lp.message.contains("loop") && lp.message.contains("chain of 2"));
        // The same URL with a cookie it did not have: not a loop.
        assert_eq!(
            check_hop(Ok(a.clone()), "consent=1", &visited, 1, 10),
            Ok(a.clone())
        );
        let many = check_hop(Ok(b.clone()), "", &visited[..1], 3, 3).unwrap_err();
        assert!(many.message.contains("longer than 3"));
        let ftp = Url::parse("ftp://a.example/").unwrap();
        let refused = check_hop(Ok(ftp), "", &visited, 0, 10).unwrap_err();
        assert!(refused.message.contains("non-http"));
    }
}
