//! URLs as every stage sees them (a ground-floor module: it depends on
//! nothing of scrape's): a list line's text parsed into an http(s) URL
//! ([`parse_url`], hosts checked as DNS can carry them), the key a host is
//! counted by ([`host_key`], [`host_hash`]: politeness, the connection
//! budget, the breaker), and passwords masked wherever a URL is shown
//! ([`redact`]).

pub mod address;
pub mod redact;

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use url::Url;

/// A host as politeness and the connection budget count it: scheme, host
/// and port (`https://example.com:443`).
pub type HostKey = String;

/// The key of a URL's host.
pub fn host_key(url: &Url) -> HostKey {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

/// A host's key as a number (a hash of scheme, host and port), where a
/// collision costs nothing but a wrong guess: the connection budget, the
/// host breaker. Keyed once per process, so a list cannot be made to
/// collide hosts; foldhash, because every request takes it several times
/// (SipHash was 5 % of scrape's own instructions per URL).
pub fn host_hash(url: &Url) -> u64 {
    static KEYS: LazyLock<foldhash::fast::RandomState> = LazyLock::new(Default::default);
    KEYS.hash_one((url.scheme(), url.host_str(), url.port_or_known_default()))
}

/// A map keyed by [`host_hash`]: the key is a keyed hash already, so the
/// map takes it as it is rather than hashing it again.
pub type HostMap<V> = HashMap<u64, V, BuildHasherDefault<Prehashed>>;

/// The hasher of a [`HostMap`]: a `u64` key is its own hash.
#[derive(Default)]
pub struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    /// Not used by a `u64` key; folds bytes in, should anything else come.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

/// Parses a trimmed line into an http(s) URL, adding `https://` when the line
/// has no scheme (`example.com/a`, `localhost:8080`).
pub fn parse_url(text: &str) -> Result<Url, String> {
    let candidate = if has_scheme(text) {
        text.to_string()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&candidate).map_err(|e| not_a_url(&candidate, e))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "unsupported scheme '{other}' (only http and https)"
            ));
        }
    }
    match url.host() {
        Some(url::Host::Domain(name)) => check_host_name(name).map(|()| url),
        Some(_) => Ok(url),
        None => Err("not a URL: no host".into()),
    }
}

/// Why `candidate` is not a URL, in words: the `url` crate's reason, or
/// the space in its host.
fn not_a_url(candidate: &str, e: url::ParseError) -> String {
    let authority = candidate
        .split_once("://")
        .map_or(candidate, |(_, rest)| rest)
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    if authority.chars().any(char::is_whitespace) {
        return format!("not a URL: the host {authority:?} has a space in it");
    }
    format!("not a URL: {e}")
}

/// A host name as DNS can carry it (RFC 1123, after IDNA, which the URL
/// parser has done): at most 253 characters, labels of 1 to 63 letters,
/// digits, hyphens (not first or last) and underscores (real names have
/// them: `_dmarc`, `my_host`), a final dot allowed. `}`, `)`, `-x-`,
/// `foo..bar` pass the URL standard but name no host: `invalid_url`, not
/// a `connect` error retried as transient.
fn check_host_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("not a URL: the host {name:?} {why}"));
    let labels = name.strip_suffix('.').unwrap_or(name);
    if labels.len() > 253 {
        return bad("is longer than 253 characters");
    }
    for label in labels.split('.') {
        if label.is_empty() {
            return bad("has an empty label (two dots in a row, or a dot first)");
        }
        if label.len() > 63 {
            return bad("has a label longer than 63 characters");
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return bad(&format!("has {c:?} in it (letters, digits, - and _ only)"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("has a label that starts or ends with -");
        }
    }
    Ok(())
}

/// Whether `text` starts with `scheme:` rather than `host:port`.
fn has_scheme(text: &str) -> bool {
    let Some((head, rest)) = text.split_once(':') else {
        return false;
    };
    let is_scheme = head.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && head
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !is_scheme {
        return false;
    }
    // `host:8080` or `host:8080/path` is a port, not a scheme.
    let port: &str = rest.split(['/', '?', '#']).next().unwrap_or("");
    let looks_like_port =
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    !looks_like_port || rest.starts_with("//")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_keyed_by_scheme_host_and_port() {
        let a = Url::parse("https://Example.com/a").unwrap();
        let b = Url::parse("https://example.com:443/b").unwrap();
        let c = Url::parse("http://example.com/").unwrap();
        assert_eq!(host_key(&a), "https://example.com:443");
        assert_eq!(host_key(&a), host_key(&b));
        assert_ne!(host_key(&a), host_key(&c));
        assert_eq!(host_hash(&a), host_hash(&b));
        assert_ne!(host_hash(&a), host_hash(&c));
        let d = Url::parse("https://example.org/").unwrap();
        assert_ne!(host_hash(&a), host_hash(&d));
        assert_eq!(
            parse_url("example.com").unwrap().as_str(),
            "https://example.com/"
        );
    }

    #[test]
    fn a_host_map_finds_what_it_holds() {
        let urls: Vec<Url> = (0..1000)
            .map(|i| Url::parse(&format!("https://h{i}.example/")).unwrap())
            .collect();
        let map: HostMap<usize> = urls
            .iter()
            .enumerate()
            .map(|(i, u)| (host_hash(u), i))
            .collect();
        assert_eq!(map.len(), 1000);
        for (i, u) in urls.iter().enumerate() {
            assert_eq!(map.get(&host_hash(u)), Some(&i));
        }
    }
}
