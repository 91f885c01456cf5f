//! `--scope`: which links a crawl may follow from a seed, exactly as README
//! "Crawling" says.
//!
//! - `host`: the seed's host (any scheme or port);
//! - `domain`: the seed's registrable domain by the public suffix list's
//!   algorithm (the `psl` crate), its default rule `*` included, so that
//!   `blog.shop.test` and `www.shop.test` are one domain, `shop.test`; an
//!   IP address or a name of one label is its own domain;
//! - `prefix`: the seed's scheme and host, and a path that starts with the
//!   seed's directory (its path up to and including the last `/`);
//! - `any`: anywhere.

use std::borrow::Cow;

use clap::ValueEnum;
use url::{Host, Url};

/// Where a crawl may go from its seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Scope {
    /// The seed's host.
    #[default]
    Host,
    /// The seed's registrable domain (public suffix list).
    Domain,
    /// The seed's scheme, host and directory.
    Prefix,
    /// Anywhere.
    Any,
}

impl Scope {
    /// Whether `link` is within this scope of `seed`.
    pub fn contains(self, seed: &Url, link: &Url) -> bool {
        match self {
            Scope::Any => true,
            Scope::Host => seed.host_str() == link.host_str(),
            Scope::Domain => domain(seed) == domain(link),
            Scope::Prefix => {
                seed.scheme() == link.scheme()
                    && seed.host_str() == link.host_str()
                    && seed.port_or_known_default() == link.port_or_known_default()
                    && link.path().starts_with(directory(seed.path()))
            }
        }
    }

    /// What `--shard` hashes to place a URL's crawl on one shard: its
    /// registrable domain with `domain`, so a site's subdomains stay
    /// together; else its host.
    pub fn shard_key(self, url: &Url) -> Cow<'_, str> {
        match self {
            Scope::Domain => domain(url),
            _ => Cow::Borrowed(url.host_str().unwrap_or("")),
        }
    }
}

/// A path's directory: up to and including its last `/`.
fn directory(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..=i],
        None => "/",
    }
}

/// The registrable domain of `url`'s host (the host itself for an address
/// or a name the list gives no domain for, such as `localhost`).
pub fn domain(url: &Url) -> Cow<'_, str> {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            match psl::domain_str(name) {
                Some(d) => Cow::Owned(d.to_ascii_lowercase()),
                None => Cow::Owned(name.to_ascii_lowercase()),
            }
        }
        _ => Cow::Borrowed(url.host_str().unwrap_or("")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn each_scope_is_exactly_what_it_says() {
        let seed = u("http://www.shop.test/docs/guide/index.html");
        let cases = [
            ("http://www.shop.test/other", [true, true, false, true]),
            (
                "https://www.shop.test/docs/guide/b",
                [true, true, false, true],
            ),
            (
                "http://www.shop.test/docs/guide/b",
                [true, true, true, true],
            ),
            (
                "http://www.shop.test/docs/guidebook",
                [true, true, false, true],
            ),
            ("http://blog.shop.test/", [false, true, false, true]),
            ("http://shop.test/", [false, true, false, true]),
            ("http://other.test/", [false, false, false, true]),
            (
                "http://www.shop.test:8080/docs/guide/x",
                [true, true, false, true],
            ),
        ];
        for (link, want) in cases {
            let got = [Scope::Host, Scope::Domain, Scope::Prefix, Scope::Any]
                .map(|s| s.contains(&seed, &u(link)));
            assert_eq!(got, want, "{link}");
        }
    }

    #[test]
    fn domains_follow_the_public_suffix_list() {
        assert_eq!(domain(&u("http://a.b.example.co.uk/")), "example.co.uk");
        assert_eq!(domain(&u("http://x.github.io/")), "x.github.io");
        assert_eq!(domain(&u("http://blog.shop.test/")), "shop.test");
        assert_eq!(domain(&u("http://127.0.0.1:80/")), "127.0.0.1");
        assert_eq!(domain(&u("http://localhost/")), "localhost");
        assert_eq!(domain(&u("http://[::1]/")), "[::1]");
    }
}
