//! Cookies within one URL's redirect chain.
//!
//! Sites that set a cookie and redirect (a consent check, a session
//! bootstrap) expect it back on the next hop, or answer 403 or loop. Each
//! fetch keeps a jar of its own for the hops of its chain, as a browser
//! would for one navigation; it is never shared between lines of the list,
//! so one page's cookies never reach another's. `-H Cookie` still goes to
//! the origin it was given for, beside what the jar holds.

use cookie_store::{CookieStore, RawCookie};
use reqwest::blocking::Response;
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

/// The cookies one redirect chain has been given.
#[derive(Default)]
pub struct Jar(CookieStore);

impl Jar {
    /// Keeps the cookies `resp` sets, as `url` set them.
    pub fn remember(&mut self, resp: &Response, url: &Url) {
        let set = resp.headers().get_all(header::SET_COOKIE);
        let cookies = set
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| RawCookie::parse(v.to_string()).ok());
        self.0.store_response_cookies(cookies, url);
    }

    /// The cookies the jar would send to `url`, in one canonical order
    /// (`a=1; b=2`): what tells a redirect to the same URL with a new
    /// cookie from a loop.
    pub fn sent_to(&self, url: &Url) -> String {
        let mut pairs: Vec<String> = self
            .0
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        pairs.sort_unstable();
        pairs.join("; ")
    }

    /// Adds to `headers` the cookies of the jar that `url` may have,
    /// after any `Cookie` header already there.
    pub fn add_to(&self, headers: &mut HeaderMap, url: &Url) {
        let ours: Vec<String> = self
            .0
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        if ours.is_empty() {
            return;
        }
        let mut all: Vec<String> = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect();
        all.extend(ours);
        if let Ok(value) = HeaderValue::from_str(&all.join("; ")) {
            headers.insert(header::COOKIE, value);
        }
    }
}
