//! List lines that are JSON objects: one request each (README "Input",
//! docs/options.md "JSON list lines").
//!
//! ```text
//! {"url": "https://api.example/items", "method": "POST", "headers": {"X-Key": "k"}, "body": {"q": 1}}
//! ```
//!
//! - `url` (required): as a plain line would be (`https://` is added when
//!   it has no scheme);
//! - `method`: any HTTP method, upper-cased as `-X` does (`GET` unless a
//!   body makes it `POST`, as `--data` does); overrides `-X`;
//! - `headers`: name → value (or an array of values); they replace the
//!   same names of `-H`, and follow its rules on redirects (credentials
//!   are not sent to another origin);
//! - `body`: a string is sent as it is, as `--data` sends its text
//!   (`application/x-www-form-urlencoded` unless `headers` names a
//!   Content-Type); any other JSON value is sent as JSON, as `--json`
//!   does (`application/json`). It overrides `--data`/`--json`.
//!
//! Any other key, or a value of the wrong type, makes the line an
//! `invalid_url` record that names the problem: a typo (`"header"`) must
//! not quietly send a request without it.
//!
//! A line's request is identified by its method, URL and body
//! ([`identity`]): dedupe and `--resume` take two lines as the same only
//! when all three are.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use url::Url;

use crate::plan::Extraction;

/// What a JSON list line asks beyond its URL.
#[derive(Debug, Clone, PartialEq)]
pub struct LineRequest {
    /// The method, when the line names one or has a body.
    pub method: Option<Method>,
    /// Headers that replace the same names of `-H`.
    pub headers: HeaderMap,
    /// The body, when the line has one.
    pub body: Option<Arc<RequestBody>>,
}

impl LineRequest {
    /// The method the line asks for, as records write it: its own, else
    /// the run's (`-X`, POST with `--data`), else GET.
    pub fn method_name(&self, plan: &Extraction) -> String {
        match (&self.method, &plan.method) {
            (Some(m), _) => m.to_string(),
            (None, Some(run)) => run.clone(),
            (None, None) => "GET".to_string(),
        }
    }
}

/// A body sent with every request (`--data`, `--json`), or a JSON list
/// line's (here, where what is asked is read).
#[derive(Debug, PartialEq)]
pub struct RequestBody {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Its Content-Type, unless `-H` gives one (`--json`:
    /// `application/json`; `--data`: `application/x-www-form-urlencoded`,
    /// as curl's).
    pub content_type: HeaderValue,
}

/// A line as written: only these keys.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    url: String,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    body: Option<serde_json::Value>,
}

/// Whether a trimmed line is meant as a JSON request.
pub fn is_json(text: &str) -> bool {
    text.starts_with('{')
}

/// The URL and request of a JSON line, or why it is not one (the
/// `invalid_url` record's message).
pub fn parse(text: &str) -> Result<(Url, LineRequest), String> {
    let written: Written =
        serde_json::from_str(text).map_err(|e| format!("not a JSON request line: {e}"))?;
    let url = crate::urls::parse_url(written.url.trim())?;
    let body = written.body.filter(|b| !b.is_null()).map(body_of);
    let method = match written.method {
        Some(m) => Some(
            Method::from_bytes(m.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
                format!("not a JSON request line: \"method\" {m:?} is not an HTTP method")
            })?,
        ),
        None => body.as_ref().map(|_| Method::POST),
    };
    let headers = headers_of(written.headers.unwrap_or_default())?;
    let request = LineRequest {
        method,
        headers,
        body: body.map(Arc::new),
    };
    Ok((url, request))
}

/// A string as it is (`--data`), anything else as JSON (`--json`).
fn body_of(value: serde_json::Value) -> RequestBody {
    let (bytes, content_type) = match value {
        serde_json::Value::String(s) => (s.into_bytes(), "application/x-www-form-urlencoded"),
        other => (other.to_string().into_bytes(), "application/json"),
    };
    RequestBody {
        bytes,
        content_type: HeaderValue::from_static(content_type),
    }
}

/// A line's `headers`: each value a string, a number or a boolean (sent as
/// written), or a list of those (the header sent once for each).
fn headers_of(written: BTreeMap<String, serde_json::Value>) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for (name, values) in written {
        let key = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("not a JSON request line: {name:?} is not a header name"))?;
        let values = match values {
            serde_json::Value::Array(many) => many,
            one => vec![one],
        };
        for v in values {
            let v = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(_) | serde_json::Value::Bool(_) => v.to_string(),
                _ => {
                    return Err(format!(
                        "not a JSON request line: the value of header {name:?} is not a string, a number or a list of them"
                    ));
                }
            };
            let value = HeaderValue::from_str(v.trim()).map_err(|_| {
                format!("not a JSON request line: the value of header {name:?} has a line break or a control character")
            })?;
            headers.append(key.clone(), value);
        }
    }
    Ok(headers)
}

/// What identifies a request for dedupe and `--resume`: the URL as
/// records show it, without its fragment (`shown`), and — when the line
/// asks for more than a GET — its method and body.
pub fn identity<'a>(
    shown: &'a str,
    request: Option<&'a LineRequest>,
) -> (&'a str, Option<(&'a str, &'a [u8])>) {
    let more = request.and_then(|r| {
        let body = r.body.as_deref().map_or(&[][..], |b| b.bytes.as_slice());
        let method = r.method.as_ref().map_or("GET", Method::as_str);
        (method != "GET" || r.body.is_some()).then_some((method, body))
    });
    (shown, more)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_line_becomes_its_request() {
        let line = r#"{"url": "api.example/items", "method": "put", "headers": {"X-Key": "k", "Accept": ["a/b", "c/d"]}, "body": {"q": [1, "two"]}}"#;
        let (url, r) = parse(line).unwrap();
        assert_eq!(url.as_str(), "https://api.example/items");
        assert_eq!(r.method, Some(Method::PUT));
        assert_eq!(r.headers["x-key"], "k");
        assert_eq!(r.headers.get_all("accept").iter().count(), 2);
        let body = r.body.unwrap();
        assert_eq!(body.bytes, br#"{"q":[1,"two"]}"#);
        assert_eq!(body.content_type, "application/json");
    }

    #[test]
    fn numbers_and_booleans_are_header_values_as_written() {
        let line =
            r#"{"url": "http://a.example/", "headers": {"X-Count": 5, "X-On": [true, "also"]}}"#;
        let (_, r) = parse(line).unwrap();
        assert_eq!(r.headers["x-count"], "5");
        let on: Vec<_> = r.headers.get_all("x-on").iter().collect();
        assert_eq!(on, ["true", "also"]);
    }

    #[test]
    fn a_string_body_is_sent_as_written_and_makes_a_post() {
        let (_, r) = parse(r#"{"url": "http://a.example/", "body": "a=1&b=2"}"#).unwrap();
        assert_eq!(r.method, Some(Method::POST));
        let body = r.body.unwrap();
        assert_eq!(body.bytes, b"a=1&b=2");
        assert_eq!(body.content_type, "application/x-www-form-urlencoded");
        let (_, r) = parse(r#"{"url": "http://a.example/", "body": null}"#).unwrap();
        assert_eq!((r.method, r.body), (None, None));
    }

    #[test]
    fn each_mistake_is_named() {
        let cases = [
            (r#"{"url": "http://a.example/""#, "EOF"),
            (r#"{"method": "GET"}"#, "missing field `url`"),
            (
                r#"{"url": "http://a.example/", "header": {}}"#,
                "unknown field `header`",
            ),
            (r#"{"url": 5}"#, "invalid type"),
            (r#"{"url": "ftp://a.example/"}"#, "unsupported scheme"),
            (
                r#"{"url": "http://a.example/", "method": "GE T"}"#,
                "not an HTTP method",
            ),
            (
                r#"{"url": "http://a.example/", "headers": {"a b": "c"}}"#,
                "not a header name",
            ),
            (
                r#"{"url": "http://a.example/", "headers": {"a": "c\nd"}}"#,
                "line break",
            ),
            (
                r#"{"url": "http://a.example/", "headers": {"a": null}}"#,
                "not a string, a number or a list of them",
            ),
            (
                r#"{"url": "http://a.example/", "headers": {"a": [{"b": 1}]}}"#,
                "not a string, a number or a list of them",
            ),
        ];
        for (line, says) in cases {
            let why = parse(line).unwrap_err();
            assert!(why.contains(says), "{line}: {why}");
        }
    }

    #[test]
    fn identity_tells_methods_and_bodies_apart_and_a_plain_get_is_its_url() {
        let parsed = |l: &str| parse(l).unwrap().1;
        let get = parsed(r#"{"url": "http://a.example/"}"#);
        let post1 = parsed(r#"{"url": "http://a.example/", "body": "1"}"#);
        let post2 = parsed(r#"{"url": "http://a.example/", "body": "2"}"#);
        let put1 = parsed(r#"{"url": "http://a.example/", "method": "PUT", "body": "1"}"#);
        let url = "http://a.example/";
        assert_eq!(identity(url, Some(&get)), identity(url, None));
        let ids = [&post1, &post2, &put1].map(|r| identity(url, Some(r)));
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_ne!(ids[0], identity(url, None));
        assert_eq!(ids[0], identity(url, Some(&post1.clone())));
    }
}
