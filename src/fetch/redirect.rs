//! Redirects, followed by scrape itself (README "Details worth knowing":
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
    let target = location
        .to_str()
        .ok()
        .and_then(|l| current.join(l.trim()).ok())
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

/// Validates the next redirect hop: an http(s) target, not seen before in
/// this chain, within `--max-redirects`.
pub fn check_hop(
    next: Result<Url, FetchError>,
    visited: &[Url],
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
    if visited.contains(&next) {
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
    fn hops_are_checked() {
        let a = Url::parse("http://a.example/").unwrap();
        let b = Url::parse("http://b.example/").unwrap();
        assert_eq!(
            check_hop(Ok(b.clone()), std::slice::from_ref(&a), 0, 10),
            Ok(b.clone())
        );
        let lp = check_hop(Ok(a.clone()), &[a.clone(), b.clone()], 1, 10).unwrap_err();
        assert_eq!(lp.kind, ErrorKind::Redirect);
        assert!(lp.message.contains("loop") && lp.message.contains("chain of 2"));
        let many = check_hop(Ok(b.clone()), std::slice::from_ref(&a), 3, 3).unwrap_err();
        assert!(many.message.contains("longer than 3"));
        let ftp = Url::parse("ftp://a.example/").unwrap();
        let refused = check_hop(Ok(ftp), &[a], 0, 10).unwrap_err();
        assert!(refused.message.contains("non-http"));
    }
}
