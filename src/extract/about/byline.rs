//! A byline as a name: what pages and Readability give as the author line
//! often carries a prefix ("By", "Von"), a date, a comment count or a
//! role glued to it ("by Lucas Nolan22 Dec 2016651").

/// Prefixes before a name, lower-cased, each followed by a space or `:`.
const PREFIXES: [&str; 9] = [
    "written by",
    "posted by",
    "published by",
    "by",
    "von",
    "par",
    "por",
    "di",
    "door",
];

/// A byline longer than this is a sentence, not a name.
const MAX_LEN: usize = 100;

/// The name in a byline; `None` when none is left.
pub fn clean(byline: &str) -> Option<String> {
    // Structured data sometimes carries the page's escaping (`&amp;`).
    let byline = html_escape::decode_html_entities(byline);
    let mut text = byline.split_whitespace().collect::<Vec<_>>().join(" ");
    text = text
        .trim_start_matches([',', ';', ':', '-', '|', ' '])
        .to_string();
    loop {
        let lower = text.to_lowercase();
        let prefix = PREFIXES.iter().find(|p| {
            lower.starts_with(*p)
                && (lower.len() == p.len() || lower[p.len()..].starts_with([' ', ':']))
        });
        match prefix {
            Some(p) => text = text[p.len()..].trim_start_matches([' ', ':']).to_string(),
            None => break,
        }
    }
    // What follows the name: a date or a count (from the first digit), a
    // separator and what is after it.
    let end = text
        .find(|c: char| c.is_ascii_digit() || matches!(c, '|' | '•' | '·' | '\n'))
        .unwrap_or(text.len());
    let name = text[..end]
        .trim()
        .trim_end_matches([',', '-', '–', '—', ':', '/'])
        .trim();
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    (letters >= 2 && name.len() <= MAX_LEN).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn a_byline_is_a_name() {
        let cases = [
            ("by Lucas Nolan22 Dec 2016651", Some("Lucas Nolan")),
            ("By: Ada Greenfield", Some("Ada Greenfield")),
            ("Von  Max Mustermann | Redaktion", Some("Max Mustermann")),
            ("Jane Doe, 12 March 2024", Some("Jane Doe")),
            ("Posted by admin", Some("admin")),
            ("Maria &amp; Katerina", Some("Maria & Katerina")),
            (", USA TODAY", Some("USA TODAY")),
            ("2024-03-05", None),
            ("By", None),
        ];
        for (given, want) in cases {
            assert_eq!(clean(given).as_deref(), want, "{given}");
        }
    }
}
