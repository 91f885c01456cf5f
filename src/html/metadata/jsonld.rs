//! JSON-LD blocks (`<script type="application/ld+json">`) to JSON values,
//! leniently: real pages are sloppy, and a block that a browser's
//! `JSON.parse` would refuse is often still meant to be read.
//!
//! Before `serde_json` reads a block, [`sanitize`] undoes what pages get
//! wrong most often, in one pass that knows whether it is inside a string:
//! - an HTML comment or CDATA wrapper around the JSON (`<!-- … -->`,
//!   `<![CDATA[ … ]]>`, also behind `//`);
//! - `//` and `/* */` comments between values;
//! - trailing commas before `}` or `]`;
//! - raw control characters (a newline, a tab) inside strings, and `\'`
//!   (not a JSON escape);
//! - several top-level values one after another.
//!
//! A block still unreadable is skipped and said in `metadata.errors`, never
//! fatal. Nesting is checked before parsing: a block nested deeper than
//! [`MAX_DEPTH`] is refused at once (10 000 nested arrays would otherwise
//! recurse 10 000 deep).
//!
//! [`flatten`] turns a block into the objects it describes: the elements of
//! a top-level array, and the members of an `@graph`.

use serde_json::Value;

/// The deepest nesting of arrays and objects read.
pub const MAX_DEPTH: usize = 64;

/// The objects of one block, or why it cannot be read.
pub fn parse(raw: &str) -> Result<Vec<Value>, String> {
    let text = unwrap(raw);
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    // Most blocks are strict JSON: read as they are, without a copy. (A
    // block nested too deep for serde_json fails here, and then in
    // `sanitize`, before any recursion.)
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let mut values = Vec::new();
        flatten(value, &mut values);
        return Ok(values);
    }
    let clean = sanitize(text)?;
    let mut values = Vec::new();
    for value in serde_json::Deserializer::from_str(&clean).into_iter::<Value>() {
        let value = value.map_err(|e| e.to_string())?;
        flatten(value, &mut values);
    }
    Ok(values)
}

/// The block without an HTML comment or CDATA wrapper around it.
fn unwrap(raw: &str) -> &str {
    let mut text = raw.trim();
    loop {
        let before = text.len();
        for open in ["//<!--", "<!--", "//<![CDATA[", "<![CDATA["] {
            if let Some(rest) = text.strip_prefix(open) {
                text = rest.trim_start();
            }
        }
        for close in ["//-->", "-->", "//]]>", "]]>"] {
            if let Some(rest) = text.strip_suffix(close) {
                text = rest.trim_end();
            }
        }
        if text.len() == before {
            return text;
        }
    }
}

/// The objects a value describes, appended to `out`: an array's elements,
/// an `@graph`'s members (and the object holding it, when it says more
/// than `@context`), or the object itself. Values that are not objects are
/// left out.
pub fn flatten(value: Value, out: &mut Vec<Value>) {
    match value {
        Value::Array(items) => {
            for item in items.into_iter().filter(Value::is_object) {
                flatten(item, out);
            }
        }
        Value::Object(mut object) => match object.remove("@graph") {
            Some(graph) => {
                let graph = match graph {
                    Value::Array(items) => items,
                    other => vec![other],
                };
                let says_more = object.keys().any(|k| k != "@context");
                if says_more {
                    out.push(Value::Object(object));
                }
                out.extend(graph.into_iter().filter(Value::is_object));
            }
            None => out.push(Value::Object(object)),
        },
        _ => {}
    }
}

/// The block as strict JSON (see the module doc), or why it cannot be.
fn sanitize(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.char_indices().peekable();
    let mut depth = 0usize;
    while let Some((_, c)) = chars.next() {
        match c {
            '"' => copy_string(&mut chars, &mut out),
            '/' if chars.peek().is_some_and(|&(_, n)| n == '/') => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                out.push('\n');
            }
            '/' if chars.peek().is_some_and(|&(_, n)| n == '*') => {
                chars.next();
                let mut star = false;
                for (_, c) in chars.by_ref() {
                    if star && c == '/' {
                        break;
                    }
                    star = c == '*';
                }
                out.push(' ');
            }
            ',' => {
                let rest = chars.peek().map_or(text.len(), |&(i, _)| i);
                if !closes_next(&text[rest..]) {
                    out.push(',');
                }
            }
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("nested more than {MAX_DEPTH} deep"));
                }
                out.push(c);
            }
            ']' | '}' => {
                depth = depth.saturating_sub(1);
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Whether the next thing after a comma (whitespace and comments skipped)
/// closes an array or object: the comma is a trailing one.
fn closes_next(rest: &str) -> bool {
    let mut rest = rest.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            return rest.starts_with(['}', ']']);
        }
    }
}

/// Copies a string whose opening quote was just read, to its closing
/// quote: raw control characters escaped, `\'` made `'`.
fn copy_string(chars: &mut impl Iterator<Item = (usize, char)>, out: &mut String) {
    out.push('"');
    let mut escaped = false;
    for (_, c) in chars {
        if escaped {
            escaped = false;
            if c == '\'' {
                out.push('\'');
            } else {
                out.push('\\');
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => {
                out.push('"');
                return;
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    if escaped {
        out.push('\\');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_objects_arrays_and_graphs() {
        assert_eq!(
            parse(r#"{"@type":"Product","name":"Desk"}"#).unwrap(),
            vec![json!({"@type":"Product","name":"Desk"})]
        );
        assert_eq!(
            parse(r#"[{"@type":"A"},{"@type":"B"},"junk"]"#).unwrap(),
            vec![json!({"@type":"A"}), json!({"@type":"B"})]
        );
        let graph = r#"{"@context":"https://schema.org","@graph":[{"@type":"WebPage"},{"@type":"Article"}]}"#;
        assert_eq!(
            parse(graph).unwrap(),
            vec![json!({"@type":"WebPage"}), json!({"@type":"Article"})]
        );
        let both = r#"{"@context":"x","@type":"WebSite","@graph":[{"@type":"A"}]}"#;
        assert_eq!(parse(both).unwrap().len(), 2);
        assert!(parse("  ").unwrap().is_empty());
        let in_array = r#"[{"@graph":[{"@type":"A"}]},{"@type":"B"}]"#;
        assert_eq!(
            parse(in_array).unwrap(),
            vec![json!({"@type":"A"}), json!({"@type":"B"})]
        );
    }

    #[test]
    fn sloppy_blocks_are_read() {
        let cases = [
            "<!-- {\"a\": 1} -->",
            "<![CDATA[{\"a\": 1}]]>",
            "//<![CDATA[\n{\"a\": 1}\n//]]>",
            "{\"a\": 1,}",
            "{\"a\": 1, // a comment\n}",
            "{\"a\": /* why */ 1}",
        ];
        for case in cases {
            assert_eq!(parse(case).unwrap(), vec![json!({"a": 1})], "{case}");
        }
        assert_eq!(
            parse("{\"a\": \"line\none\ttab\u{1}\", \"b\": [1, 2, ], }").unwrap(),
            vec![json!({"a": "line\none\ttab\u{1}", "b": [1, 2]})]
        );
        assert_eq!(
            parse(r#"{"a": "it\'s", "u": "http://x/y", "q": "\"q\\"}"#).unwrap(),
            vec![json!({"a": "it's", "u": "http://x/y", "q": "\"q\\"})]
        );
        assert_eq!(
            parse(r#"{"a":1} {"b":2}"#).unwrap(),
            vec![json!({"a":1}), json!({"b":2})]
        );
        // A comma or slash inside a string is text.
        assert_eq!(
            parse(r#"{"a": ", }", "b": "//not a comment"}"#).unwrap(),
            vec![json!({"a": ", }", "b": "//not a comment"})]
        );
    }

    #[test]
    fn broken_and_hostile_blocks_are_errors() {
        assert!(parse("{\"a\": ").is_err());
        assert!(parse("not json").is_err());
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let started = std::time::Instant::now();
        let err = parse(&deep).unwrap_err();
        assert!(err.contains("nested"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // Deep, but within the limit.
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&ok).is_ok());
    }
}
