//! A product page's description from its structured data, when the page
//! does not show it: shops put it in a tab that scripts open, or only in
//! their JSON-LD.

use dom_query::NodeRef;
use serde_json::Value;

/// A description shorter than this many words is not added (a name, a
/// slogan).
const MIN_WORDS: usize = 8;

/// Below this share of the description's words in the text, the text is
/// taken not to show it.
const SHOWN: f64 = 0.5;

/// The element after the name with at most this many words is its price
/// (or its rating), which the description goes after.
const PRICE_WORDS: usize = 6;

/// Puts the product's JSON-LD `description` after its name and price in
/// `root` (else first) when the text under `root` does not hold it.
pub fn add_description(root: &NodeRef, json_ld: &[Value]) {
    let Some(description) = description(json_ld) else {
        return;
    };
    let words: Vec<String> = description
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    if words.len() < MIN_WORDS {
        return;
    }
    let text = root.text().to_lowercase();
    let shown: std::collections::HashSet<&str> = text.split_whitespace().collect();
    let found = words.iter().filter(|w| shown.contains(w.as_str())).count();
    if found as f64 >= SHOWN * words.len() as f64 {
        return;
    }
    // Shops write it as text or as HTML; what HTML holds that is not
    // content (scripts) is not rendered.
    let looks_html = ["<p", "<br", "<li", "</"]
        .iter()
        .any(|t| description.contains(t));
    let markup: String = if looks_html {
        format!("<div>{description}</div>")
    } else {
        description
            .split("\n\n")
            .map(|p| format!("<p>{}</p>", html_escape::encode_text(p.trim())))
            .collect()
    };
    // After the product's name and what stands beside it (the price), or
    // first.
    let h1 = root.descendants_it().find(|n| n.has_name("h1"));
    let anchor = h1.and_then(|h| {
        h.next_element_sibling()
            .filter(|n| n.text().split_whitespace().count() <= PRICE_WORDS)
            .or(Some(h))
    });
    match anchor {
        Some(anchor) => anchor.after_html(markup),
        None => root.prepend_html(markup),
    }
}

/// The `description` of the first `Product` (or `ProductGroup`) object.
fn description(json_ld: &[Value]) -> Option<String> {
    json_ld.iter().find_map(|o| {
        let is_product = match o.get("@type")? {
            Value::String(t) => t == "Product" || t == "ProductGroup",
            Value::Array(ts) => ts.iter().any(|t| {
                t.as_str()
                    .is_some_and(|t| t == "Product" || t == "ProductGroup")
            }),
            _ => false,
        };
        let text = o.get("description")?.as_str()?;
        is_product.then(|| text.trim().to_string())
    })
}
