//! Readable text and Markdown (issue 13): `--text` and `--markdown` on
//! this repository's own fixture pages (`fixtures/readable/`), served from
//! 127.0.0.1 as `text/html` without a charset.
//!
//! The blog page has what real pages put around an article: a cookie
//! banner, a menu, a comment thread, a sidebar with a newsletter box, a
//! footer with a copyright line, a photo credit; and inside the article
//! nested lists, emphasis, a relative link, a quote, tables with and
//! without a header row, `<pre>` with and without `<code>`.

use crate::support::{Server, by_input, list, one, records, scrape};
use serde_json::Value;

const ARTICLE: [&str; 4] = [
    "Three square metres of concrete do not look like a vegetable garden",
    "Cherry tomatoes forgive almost everything",
    "A tomato plant in a pot drinks more than you think",
    "Next year we will try a self-watering box, and fewer, better plants.",
];

const BOILERPLATE: [&str; 12] = [
    "We use cookies",
    "Accept all cookies",
    "Seed shop",
    "About us",
    "3 comments",
    "my plants all died of blight",
    "Popular posts",
    "Subscribe to our newsletter",
    "All rights reserved",
    "Privacy policy",
    "Photo credit",
    "Jan Kowalski",
];

fn text_of<'a>(r: &'a Value, key: &str) -> &'a str {
    r[key].as_str().unwrap_or_else(|| panic!("no {key} in {r}"))
}

#[test]
fn text_is_the_article_without_what_surrounds_it() {
    let server = Server::start();
    let (r, _) = one(&server.url("/readable/blog.html"), &["--text"]);
    let text = text_of(&r, "text");
    for want in ARTICLE {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    for unwanted in BOILERPLATE {
        assert!(!text.contains(unwanted), "kept {unwanted:?} in:\n{text}");
    }
    assert!(r.get("markdown").is_none(), "markdown was not asked for");
    assert!(r["extract_note"].is_null(), "{r}");
    // The lead above the article's container, which the description
    // repeats, comes first.
    assert!(
        text.starts_with("How a three-square-metre balcony fed a family of four"),
        "{text}"
    );
    // Paragraphs are separated by one blank line, words are not glued
    // across inline elements, whitespace is collapsed outside <pre>.
    assert!(
        text.contains(
            "what we would change next year.\n\nChoosing the varieties\n\nCherry tomatoes"
        )
    );
    assert!(text.contains("one larger beefsteak variety"));
    assert!(text.contains("The cherry plants"));
    assert!(!text.contains("  ") || text.contains(" 5 l rain water"));
    assert!(!text.contains("\n\n\n"));
    assert!(
        text.contains("10 g tomato feed\n 5 l rain water\nstir, then water at the base"),
        "a <pre> keeps its lines and indentation:\n{text}"
    );
    assert!(text.contains("if hour == 19:\n    remind(\"water the tomatoes\")"));
}

#[test]
fn markdown_keeps_the_structure() {
    let server = Server::start();
    let base = server.url("");
    let (r, _) = one(&server.url("/readable/blog.html"), &["--markdown"]);
    let md = text_of(&r, "markdown");
    assert!(r.get("text").is_none(), "text was not asked for");
    for unwanted in BOILERPLATE {
        assert!(!md.contains(unwanted), "kept {unwanted:?} in:\n{md}");
    }
    let has = |want: &str| assert!(md.contains(want), "missing {want:?} in:\n{md}");
    has("## Choosing the varieties");
    has("*beefsteak*");
    has("**cherry**");
    // Links absolute, resolved against the page.
    has(&format!(
        "[Sungold packet]({}/shop/seeds/sungold)",
        base.trim_end_matches('/')
    ));
    // Nested lists stay nested.
    has("- Sun for at least six hours a day\n  - south or west facing is best");
    has("> A tomato plant in a pot drinks more than you think");
    // A table with a header row, and one without (given an empty one).
    has("| Month | Harvest (kg) |\n| --- | --- |\n| July | 2.5 |");
    has("| Monday | two litres |\n| Thursday | three litres |");
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(rows.len(), 5 + 4, "every row is a table row:\n{md}");
    // Every <pre> is fenced, with or without <code>, the language kept.
    has("```\n10 g tomato feed\n 5 l rain water\nstir, then water at the base\n```");
    has("```python\nif hour == 19:\n    remind(\"water the tomatoes\")\n```");
    assert_eq!(md.matches("```").count(), 4, "two fenced blocks:\n{md}");
}

#[test]
fn article_metadata_comes_beside_the_text() {
    let server = Server::start();
    let (r, _) = one(&server.url("/readable/blog.html"), &["--text"]);
    assert_eq!(r["byline"], "Ada Greenfield");
    assert_eq!(r["published"], "2024-05-17T08:30:00+02:00");
    assert_eq!(r["site_name"], "The Small Garden");
    assert_eq!(
        r["excerpt"],
        "How a three-square-metre balcony fed a family of four with tomatoes all summer."
    );
}

#[test]
fn a_page_in_an_undeclared_legacy_charset_is_read_right() {
    let server = Server::start();
    let (r, _) = one(&server.url("/readable/legacy-1252.html"), &["--text"]);
    let text = text_of(&r, "text");
    assert!(
        text.contains("la vallée de Montmorency était célèbre pour ses cerises acidulées"),
        "{text}"
    );
    assert!(text.contains("près d'Écouen"));
    assert!(!text.contains('\u{fffd}'));
    assert!(!text.contains("Accueil") && !text.contains("Tous droits"));
}

#[test]
fn a_body_cut_by_max_body_gives_the_text_of_what_arrived_and_says_so() {
    let server = Server::start();
    let (r, _) = one(
        &server.url("/readable/blog.html"),
        &["--text", "--max-body", "2500"],
    );
    assert_eq!(r["truncated"], true);
    assert_eq!(r["bytes"], 2500);
    let text = text_of(&r, "text");
    assert!(text.contains(ARTICLE[0]), "{text}");
    assert!(!text.contains("Next year"), "{text}");
    let note = text_of(&r, "extract_note");
    assert!(
        note.contains("--max-body") && note.contains("2500 bytes"),
        "{note}"
    );
}

#[test]
fn pages_without_an_article_and_failures_have_null_text_and_say_why() {
    let server = Server::start();
    let urls = [
        server.url("/readable/no-article.html"),
        server.url("/fixtures/data.json"),
        format!("http://{}/", crate::support::refused_addr()),
    ];
    let input = list(&urls);
    let out = scrape()
        .arg(input.path())
        .args(["--text", "--markdown", "-q"])
        .output()
        .unwrap();
    let rs = records(&out.stdout);
    assert_eq!(rs.len(), 3);
    let login = by_input(&rs, &urls[0]);
    assert!(
        login["text"].is_null() && login["markdown"].is_null(),
        "{login}"
    );
    assert_eq!(login["extract_note"], "no article found on the page");
    assert_eq!(login["ok"], true, "no article is not a fetch error");
    let json = by_input(&rs, &urls[1]);
    assert!(json["text"].is_null(), "{json}");
    assert_eq!(json["extract_note"], "not an HTML page");
    let refused = by_input(&rs, &urls[2]);
    assert!(refused["text"].is_null() && refused["extract_note"].is_null());
    assert_eq!(refused["error"]["kind"], "connect");
    for r in &rs {
        for key in ["byline", "published", "site_name", "excerpt"] {
            assert!(r.get(key).is_some(), "{key} missing from {r}");
        }
    }
}

#[test]
fn without_text_or_markdown_records_have_none_of_their_fields() {
    let server = Server::start();
    let (r, _) = one(&server.url("/readable/blog.html"), &[]);
    for key in [
        "text",
        "markdown",
        "byline",
        "published",
        "site_name",
        "excerpt",
        "extract_note",
    ] {
        assert!(r.get(key).is_none(), "{key} in {r}");
    }
    assert_eq!(
        r["title"],
        "Growing tomatoes on a balcony | The Small Garden"
    );
}

#[test]
fn two_hundred_workers_lose_no_page_to_the_extraction_queue() {
    let server = Server::start();
    let urls: Vec<String> = (0..400)
        .map(|i| server.url(&format!("/readable/blog.html?copy={i}")))
        .collect();
    let input = list(&urls);
    let out = scrape()
        .arg(input.path())
        .args(["--text", "--threads", "200", "-q"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(out.status.success());
    let rs = records(&out.stdout);
    assert_eq!(rs.len(), 400);
    for r in &rs {
        let text = r["text"].as_str().unwrap_or_else(|| panic!("no text: {r}"));
        assert!(text.contains(ARTICLE[3]), "{r}");
    }
}

/// `page_type` and what each kind of page yields (issue 19): the posts of
/// a thread with their authors, a product's name, price, hidden
/// description and specifications, the items of a collection or a
/// listing, the prose, tables and code of documentation, the plans of a
/// pricing page — and none of their chrome.
#[test]
fn each_kind_of_page_yields_its_content() {
    let server = Server::start();
    let cases: [(&str, &str, &[&str], &[&str]); 7] = [
        (
            "blog.html",
            "article",
            &["Cherry tomatoes forgive almost everything"],
            &["Subscribe"],
        ),
        (
            "kind-forum.html",
            "forum",
            &[
                "ada_green",
                "lower leaves curl upwards",
                "ben_allotment",
                "almost always stress",
                "Marking this as solved",
            ],
            &["Related topics", "Privacy", "Log in"],
        ),
        (
            "kind-product.html",
            "product",
            &[
                "Oak Standing Desk 160 × 80",
                "€899.00",
                "twin-motor frame",
                "Height range 62–128 cm",
                "Cable tray included",
            ],
            &[
                "You may also like",
                "Walnut Desk",
                "Free delivery",
                "Add to cart",
            ],
        ),
        (
            "kind-collection.html",
            "collection",
            &[
                "Walnut Standing Desk 140 × 70",
                "€1,199",
                "Desks that rise with you",
            ],
            &["Filter", "Next", "Help"],
        ),
        (
            "kind-listing.html",
            "listing",
            &[
                "Tomatoes on a balcony",
                "Potatoes in bags",
                "surprising amount of soil",
            ],
            &["RSS"],
        ),
        (
            "kind-documentation.html",
            "documentation",
            &[
                "spadework.toml",
                "Rotate crops between beds",
                "rotation = false",
            ],
            &["Plugins", "Edit this page", "On this page"],
        ),
        (
            "kind-service.html",
            "service",
            &[
                "Plan every bed, all season",
                "€4 a month",
                "Crop rotation planner",
                "cancel any time",
            ],
            &["Subscribe", "Privacy"],
        ),
    ];
    let urls: Vec<String> = cases
        .iter()
        .map(|(name, ..)| server.url(&format!("/readable/{name}")))
        .collect();
    let input = list(&urls);
    let out = scrape()
        .arg(input.path())
        .args(["--text", "--markdown", "-q"])
        .output()
        .unwrap();
    let rs = records(&out.stdout);
    for ((name, kind, wanted, unwanted), url) in cases.iter().zip(&urls) {
        let r = by_input(&rs, url);
        assert_eq!(r["page_type"], *kind, "{name}: {r}");
        let text = text_of(r, "text");
        for want in *wanted {
            assert!(text.contains(want), "{name}: no {want:?} in:\n{text}");
        }
        for not in *unwanted {
            assert!(!text.contains(not), "{name}: kept {not:?} in:\n{text}");
        }
        assert_eq!(r["language"], "en", "{name}");
        assert!(!text_of(r, "markdown").is_empty(), "{name}");
    }
    let docs = text_of(by_input(&rs, &urls[5]), "markdown");
    assert!(
        docs.contains("```toml\nbeds = 6\nrotation = false\n```"),
        "{docs}"
    );
    assert!(
        docs.contains("| Key | Default | Meaning |\n| --- | --- | --- |"),
        "{docs}"
    );
}

/// Text a reader can trust (issue 19): emphasis with its spaces outside,
/// `<br>` as a line break, source line wrapping as spaces, URLs as
/// `links` gives them (`&`, absolute anchors), breadcrumbs not glued, a
/// byline that is a name and dates in one format.
#[test]
fn text_and_markdown_are_what_the_page_shows() {
    let server = Server::start();
    let (r, _) = one(
        &server.url("/readable/trust.html"),
        &["--text", "--markdown"],
    );
    let text = text_of(&r, "text");
    let md = text_of(&r, "markdown");
    assert!(
        text.contains("So every spring we run the same three checks before the first"),
        "source line breaks are spaces:\n{text}"
    );
    assert!(
        text.contains("more than ten seconds\nmeans a leak"),
        "{text}"
    );
    assert!(text.contains("Drip & Co\n12 Tap Street\nLeeds"), "{text}");
    assert!(
        !text.contains("Greenfield17"),
        "the author line is not text:\n{text}"
    );
    assert!(md.contains("the same **three checks** before"), "{md}");
    assert!(
        md.contains("*more than ten seconds*\\\n*means a leak*"),
        "{md}"
    );
    assert!(
        md.contains("[watering log](https://garden.example/log?year=2024&month=5)"),
        "{md}"
    );
    assert!(
        md.contains("[section on emitters](https://garden.example/guides/#emitters)"),
        "{md}"
    );
    assert!(md.contains("## The emitters"), "{md}");
    assert_eq!(r["byline"], "Ada Greenfield");
    assert_eq!(r["published"], "2024-05-17T08:30:00+02:00");
    assert_eq!(r["modified"], "2024-06-01");
    assert_eq!(r["page_type"], "article");
}
