//! What a response says about itself, for telling runs apart (docs/record.md): the validators `etag` and `last_modified`, the HTTP version,
//! the address that answered, the `sha256` of the body read, and with
//! `--headers` every response header.

use reqwest::blocking::Response;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::ser::{Serialize, SerializeMap, Serializer};
use sha2::{Digest, Sha256};
use url::Url;

/// The final response's headers (`--headers`): names lower-cased, in the
/// order they first came; every value an array of strings (a header sent
/// once too), so readers of the output infer one type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headers(pub Vec<(String, Vec<String>)>);

impl Headers {
    /// The headers of `map`.
    pub fn of(map: &HeaderMap) -> Headers {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (name, value) in map {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            match out.iter_mut().find(|(n, _)| n == name.as_str()) {
                Some((_, values)) => values.push(value),
                None => out.push((name.as_str().to_string(), vec![value])),
            }
        }
        Headers(out)
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            map.serialize_entry(name, values)?;
        }
        map.end()
    }
}

/// The response's validators, version and peer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Validators {
    /// `ETag`, as sent.
    pub etag: Option<String>,
    /// `Last-Modified`, as sent.
    pub last_modified: Option<String>,
    /// `HTTP/1.1` (`HTTP/1.0` from an old server).
    pub http_version: Option<String>,
    /// The address that answered.
    pub ip: Option<String>,
}

impl Validators {
    /// Those of `resp`.
    pub fn of(resp: &Response) -> Validators {
        let text = |name| {
            resp.headers()
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
        };
        Validators {
            etag: text(header::ETAG),
            last_modified: text(header::LAST_MODIFIED),
            http_version: Some(version_name(resp.version()).to_string()),
            ip: resp.remote_addr().map(|a| a.ip().to_string()),
        }
    }
}

/// `--since`: the validators of an earlier response, sent back as
/// `If-None-Match` / `If-Modified-Since` to the URL that gave them.
#[derive(Debug, Clone, PartialEq)]
pub struct Conditional {
    /// The URL whose response had the validators (the earlier run's final
    /// URL): only a request to it carries them.
    pub url: Url,
    /// The conditional headers.
    pub headers: HeaderMap,
}

impl Conditional {
    /// The conditional request for `url` from an earlier `etag` and
    /// `last_modified`; `None` when neither can be sent.
    pub fn new(url: Url, etag: Option<&str>, last_modified: Option<&str>) -> Option<Conditional> {
        let mut headers = HeaderMap::new();
        let value = |v: Option<&str>| v.and_then(|v| HeaderValue::from_str(v).ok());
        if let Some(etag) = value(etag) {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(date) = value(last_modified) {
            headers.insert(header::IF_MODIFIED_SINCE, date);
        }
        (!headers.is_empty()).then_some(Conditional { url, headers })
    }
}

/// How a record names an HTTP version.
fn version_name(v: reqwest::Version) -> &'static str {
    match v {
        reqwest::Version::HTTP_09 => "HTTP/0.9",
        reqwest::Version::HTTP_10 => "HTTP/1.0",
        reqwest::Version::HTTP_2 => "HTTP/2",
        reqwest::Version::HTTP_3 => "HTTP/3",
        _ => "HTTP/1.1",
    }
}

/// The SHA-256 of a body, fed as it is read.
#[derive(Default)]
pub struct BodyHash(Sha256);

impl BodyHash {
    /// Adds the next bytes of the body.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The digest, in lower-case hex (one allocation: this runs for every
    /// URL).
    pub fn hex(self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let digest = self.0.finalize();
        let mut out = String::with_capacity(2 * digest.len());
        for b in digest {
            out.push(char::from(DIGITS[usize::from(b >> 4)]));
            out.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn repeated_headers_become_arrays_and_names_lower_case() {
        let mut map = HeaderMap::new();
        map.append("Set-Cookie", HeaderValue::from_static("a=1"));
        map.append("content-type", HeaderValue::from_static("text/html"));
        map.append("set-cookie", HeaderValue::from_static("b=2"));
        map.append("X-Raw", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let json = serde_json::to_value(Headers::of(&map)).unwrap();
        assert_eq!(json["set-cookie"], serde_json::json!(["a=1", "b=2"]));
        assert_eq!(json["content-type"], serde_json::json!(["text/html"]));
        assert_eq!(json["x-raw"], serde_json::json!(["caf\u{fffd}"]));
    }

    #[test]
    fn the_hash_is_sha256_in_hex() {
        let mut h = BodyHash::default();
        h.update(b"ab");
        h.update(b"c");
        assert_eq!(
            h.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            BodyHash::default().hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
