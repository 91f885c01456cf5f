//! Extraction (issue 6): `--select`, `--links`, description and lang, on
//! fixture pages with nested, repeated, malformed and non-UTF-8 markup,
//! served from 127.0.0.1.

use crate::support::{Server, by_input, list, one, records, scrape};
use serde_json::{Value, json};

/// `fields.NAME` of a record, as strings.
fn field(r: &Value, name: &str) -> Vec<String> {
    r["fields"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no fields.{name} in {r}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("not a string: {v}"))
                .to_string()
        })
        .collect()
}

fn select_args(specs: &[&str]) -> Vec<String> {
    specs
        .iter()
        .flat_map(|s| ["--select".to_string(), s.to_string()])
        .collect()
}

fn extract(url: &str, specs: &[&str]) -> Value {
    let args = select_args(specs);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    one(url, &args).0
}

#[test]
fn description_and_lang_come_by_default() {
    let server = Server::start();
    let (r, _) = one(&server.url("/fixtures/extract.html"), &[]);
    assert_eq!(r["title"], "Extraction & fixtures");
    assert_eq!(r["description"], "A page to test \"--select\"");
    assert_eq!(r["lang"], "en-GB");
    assert!(r.get("fields").is_none() && r.get("links").is_none(), "{r}");
    let (plain, _) = one(&server.url("/fixtures/basic.html"), &[]);
    assert!(
        plain["description"].is_null() && plain["lang"].is_null(),
        "{plain}"
    );
}

#[test]
fn tag_class_descendant_and_attribute_selectors() {
    let server = Server::start();
    let r = extract(
        &server.url("/fixtures/extract.html"),
        &[
            "h1=h1",
            "h2=div.card h2",
            "featured=div.featured",
            "price=p.price",
            "canonical=link[rel=canonical]@href",
            "cells=td",
            "none=h6",
            "foot=footer",
        ],
    );
    assert_eq!(
        field(&r, "h1"),
        ["Main heading"],
        "script text is not markup"
    );
    assert_eq!(
        field(&r, "h2"),
        ["First card", "Second card", "Nested card"]
    );
    assert_eq!(field(&r, "featured"), ["Second card € 20 Nested card"]);
    assert_eq!(field(&r, "price"), ["€ 10", "€ 20"]);
    assert_eq!(
        field(&r, "canonical"),
        ["https://cdn.example/canonical/page"],
        "resolved against <base href>"
    );
    assert_eq!(
        field(&r, "cells"),
        ["c1", "c2", "c3"],
        "cells without end tags"
    );
    assert!(field(&r, "none").is_empty());
    assert_eq!(field(&r, "foot"), ["Foot © 2026"]);
    let names: Vec<&String> = r["fields"].as_object().unwrap().keys().collect();
    assert_eq!(names.len(), 8, "every NAME present: {names:?}");
}

#[test]
fn child_and_nth_child_selectors() {
    let server = Server::start();
    let r = extract(
        &server.url("/fixtures/extract.html"),
        &[
            "steps=#steps > li",
            "second=#steps li:nth-child(2)",
            "first=ol li:first-child",
        ],
    );
    assert_eq!(
        field(&r, "steps"),
        ["first", "second step", "third third, a third, b"]
    );
    assert_eq!(field(&r, "second"), ["second step", "third, b"]);
    assert_eq!(field(&r, "first"), ["first", "third, a"]);
}

#[test]
fn repeated_and_implicitly_closed_elements() {
    let server = Server::start();
    let r = extract(
        &server.url("/fixtures/extract.html"),
        &["all=#list li", "paras=p", "lists=ul"],
    );
    assert_eq!(
        field(&r, "all"),
        [
            "one",
            "two bold",
            "three inner a inner b",
            "inner a",
            "inner b"
        ],
        "a <li> without </li> ends at the next <li> of its list, or at the list's end"
    );
    assert_eq!(
        field(&r, "paras"),
        [
            "€ 10",
            "€ 20",
            "para one",
            "para two",
            "Foot © 2026",
            "broken bold italic"
        ],
        "a <p> without </p> ends at the next <p> or block; </p> ends unclosed <b><i>"
    );
    assert_eq!(
        field(&r, "lists"),
        ["one two bold three inner a inner b", "inner a inner b"],
        "nested matches each get their value"
    );
}

#[test]
fn attributes_are_decoded_and_url_attributes_resolved() {
    let server = Server::start();
    let r = extract(
        &server.url("/fixtures/extract.html"),
        &["alt=img@alt", "img=img@src", "body=body"],
    );
    assert_eq!(field(&r, "alt"), ["A & B", "B", "no src"]);
    assert_eq!(
        field(&r, "img"),
        [
            "https://cdn.example/assets/img/a.png",
            "https://cdn.example/img/b.png"
        ],
        "an element without the attribute is left out"
    );
    let body = &field(&r, "body")[0];
    assert!(body.starts_with("Main heading First card"), "{body}");
    assert!(
        !body.contains("color: red") && !body.contains("notText"),
        "{body}"
    );
}

#[test]
fn non_utf8_pages_are_decoded_before_extraction() {
    let server = Server::start();
    let r = extract(
        &server.url("/fixtures/extract-1252.html"),
        &["h1=h1", "price=p.x"],
    );
    assert_eq!(r["title"], "Café");
    assert_eq!(r["lang"], "fr");
    assert_eq!(field(&r, "h1"), ["Café crème"]);
    assert_eq!(field(&r, "price"), ["Prix € 5"]);
}

#[test]
fn links_resolve_against_the_base_and_drop_fragments_and_repeats() {
    let server = Server::start();
    let (r, _) = one(&server.url("/fixtures/links-base.html"), &["--links"]);
    let root = server.url("/");
    let want: Vec<String> = [
        "docs/guide/a.html",
        "docs/up.html",
        "abs",
        "docs/guide/b.html?x=1&y=2",
        "docs/guide/spaced.html",
    ]
    .iter()
    .map(|p| format!("{root}{p}"))
    .chain(["https://other.example/p".to_string()])
    .collect();
    assert_eq!(
        r["links"],
        json!(want),
        "mailto:, javascript:, tel: left out"
    );
}

#[test]
fn links_relative_protocol_relative_parent_query_and_fragment() {
    let server = Server::start();
    let page = server.url("/fixtures/links-relative.html");
    let (r, _) = one(&page, &["--links"]);
    let root = server.url("/");
    let want = json!([
        format!("{root}fixtures/sub/page.html"),
        "http://example.org/x?y=1",
        format!("{root}top.html"),
        format!("{root}beyond.html"),
        format!("{page}?q=2"),
        page.clone(),
    ]);
    assert_eq!(
        r["links"], want,
        "the empty href is the page again; the broken one is dropped"
    );
}

#[test]
fn a_body_cut_by_max_body_yields_what_arrived() {
    let server = Server::start();
    let url = server.url("/fixtures/big-early-title.html");
    let (full, _) = one(&url, &["--select", "p=p"]);
    let (cut, _) = one(&url, &["--select", "p=p", "--max-body", "4K"]);
    assert_eq!(full["truncated"], false);
    assert_eq!(field(&full, "p").len(), 2000);
    assert_eq!(cut["truncated"], true);
    let got = field(&cut, "p");
    assert!(
        got.len() > 50 && got.len() < 2000,
        "{} paragraphs",
        got.len()
    );
    assert!(
        got[..got.len() - 1]
            .iter()
            .all(|p| p == "filler paragraph to make the page long"),
        "whole paragraphs before the cut"
    );
}

#[test]
fn every_record_of_a_run_has_the_asked_keys() {
    let server = Server::start();
    let urls = [
        server.url("/fixtures/basic.html"),
        server.url("/fixtures/data.json"),
        server.url("/status/404"),
        "ftp://not.http/".to_string(),
        format!("http://{}/", crate::support::refused_addr()),
    ];
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--select", "h1=h1", "--links", "--retries", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), urls.len());
    for r in &recs {
        assert!(r["fields"]["h1"].is_array(), "{r}");
        assert!(r["links"].is_array(), "{r}");
    }
    assert_eq!(field(by_input(&recs, &urls[0]), "h1"), ["Example Domain"]);
    assert!(
        field(by_input(&recs, &urls[1]), "h1").is_empty(),
        "JSON is not HTML"
    );
}

#[test]
fn an_invalid_selector_is_a_usage_error_before_any_request() {
    let server = Server::start();
    let file = list(&[server.url("/fixtures/basic.html")]);
    for (spec, named) in [
        ("x=div >> p", "div >> p"),
        ("x=h1 + p", "h1 + p"),
        ("nothing", "NAME=CSS"),
        ("x=img@", "attribute"),
    ] {
        let out = scrape()
            .arg(file.path())
            .args(["--select", spec])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{spec}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("scrape: error: "), "{err}");
        assert!(err.contains(named), "{spec}: {err}");
    }
    let out = scrape()
        .arg(file.path())
        .args(["--select", "x=h1", "--select", "x=h2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'x'"));
    assert_eq!(server.total_hits(), 0, "no request was sent");
}

/// `--select` on a `<script>` or `<style>` takes its raw text as written
/// (issue 19): JSON-LD and inline data such as `script#__NEXT_DATA__`.
#[test]
fn select_takes_script_and_style_text_as_written() {
    let server = Server::start();
    let r = extract(
        &server.url("/fixtures/metadata.html"),
        &[
            "next=script#__NEXT_DATA__",
            "ld=script[type=\"application/ld+json\"]",
            "css=style",
            "h1=h1",
        ],
    );
    assert_eq!(
        field(&r, "next"),
        [r#"{"props": {"page": "a  b &amp; c"}}"#],
        "raw: whitespace and entities as written"
    );
    // The first block's type is written with a character reference
    // (`ld&#x2B;json`), which attribute selectors do not decode.
    assert_eq!(
        field(&r, "ld"),
        [r#"{"@context": "https://schema.org", "@type": "Organization", "name": "#]
    );
    assert_eq!(field(&r, "css"), ["h1 { color: red }"]);
    assert_eq!(
        field(&r, "h1"),
        ["Oak standing desk"],
        "other elements' text is still collapsed"
    );
}

/// `--metadata` (issue 19): links, meta, cards, JSON-LD and microdata of a
/// page, resolved and typed as docs/extraction.md says.
#[test]
fn metadata_reads_links_meta_cards_json_ld_and_microdata() {
    let server = Server::start();
    let (r, _) = one(&server.url("/fixtures/metadata.html"), &["--metadata"]);
    let m = &r["metadata"];
    assert_eq!(
        m["canonical"],
        "https://shop.example/products/oak-desk?ref=1&x=2"
    );
    assert_eq!(
        m["alternates"],
        json!([
            {"hreflang": "de", "url": "https://shop.example/de/produkte/eichentisch"},
            {"hreflang": "x-default", "url": "https://shop.example/products/oak-desk"}
        ])
    );
    assert_eq!(
        m["feeds"],
        json!([
            {"type": "application/rss+xml", "url": "https://shop.example/feed.rss", "title": "New products"},
            {"type": "application/atom+xml", "url": "https://shop.example/feed.atom", "title": null}
        ])
    );
    assert_eq!(
        m["icons"],
        json!([
            "https://shop.example/favicon.ico",
            "https://shop.example/touch.png"
        ])
    );
    assert_eq!(m["meta"]["description"], "A solid oak desk & a quiet motor");
    assert_eq!(m["meta"]["keywords"], "desk, oak", "keys lower-cased");
    assert_eq!(
        m["meta"]["article:modified_time"],
        "2025-03-04T05:06:07+01:00"
    );
    assert_eq!(m["opengraph"]["title"], "Oak standing desk");
    assert_eq!(
        m["opengraph"]["image"],
        json!([
            "https://cdn.example/desk-1.jpg",
            "https://cdn.example/desk-2.jpg"
        ])
    );
    assert_eq!(m["twitter"]["card"], "summary_large_image");
    let ld = m["json_ld"].as_array().unwrap();
    let types: Vec<&str> = ld.iter().map(|o| o["@type"].as_str().unwrap()).collect();
    assert_eq!(types, ["Product", "BreadcrumbList", "WebPage"]);
    assert_eq!(ld[0]["description"], "Line one\nline two");
    assert_eq!(ld[0]["offers"]["price"], "499.00");
    let errors = m["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].as_str().unwrap().starts_with("JSON-LD block 2:"));
    let md = m["microdata"].as_array().unwrap();
    assert_eq!(
        md[0],
        json!({
            "@context": "https://schema.org",
            "@type": "Product",
            "@id": "#desk",
            "name": "Oak standing desk",
            "image": "https://shop.example/products/img/oak.jpg",
            "url": "https://shop.example/products/oak-desk",
            "offers": {"@type": "Offer", "price": "499.00", "priceCurrency": "EUR",
                       "priceValidUntil": "2026-01-01"},
            "color": ["Oak", "Walnut"],
            "description": "Solid oak, quiet motor."
        })
    );
    assert_eq!(md[1]["author"], "Ann", "markup inside <noscript> counts");
}

#[test]
fn metadata_is_null_without_html_and_absent_unless_asked() {
    let server = Server::start();
    let urls = [
        server.url("/fixtures/data.json"),
        format!("http://{}/", crate::support::refused_addr()),
    ];
    let file = list(&urls);
    let out = scrape()
        .arg(file.path())
        .args(["--metadata", "--retries", "0"])
        .output()
        .unwrap();
    let recs = records(&out.stdout);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert!(r["metadata"].is_null(), "{r}");
    }
    let (plain, _) = one(&server.url("/fixtures/metadata.html"), &[]);
    assert!(plain.get("metadata").is_none(), "{plain}");
}
