use dom_query::Document;
use url::Url;

use super::*;
use crate::extract::survey::Survey;

fn kind_of(html: &str, url: &str) -> Kind {
    let doc = Document::from(html);
    let survey = Survey::of(&doc);
    classify(&Signals::read(&survey, Url::parse(url).ok().as_ref()))
}

#[test]
fn structured_data_and_url_shapes_decide() {
    let product =
        r#"<script type="application/ld+json">{"@type":"Product","name":"Desk"}</script>"#;
    assert_eq!(kind_of(product, "https://shop.example/desk"), Kind::Product);
    let forum = r#"<div itemscope itemtype="https://schema.org/DiscussionForumPosting"></div>"#;
    assert_eq!(kind_of(forum, "https://x.example/a/b"), Kind::Forum);
    assert_eq!(
        kind_of("", "https://community.example/t/help/1"),
        Kind::Forum
    );
    assert_eq!(
        kind_of("<pre>x</pre>", "https://docs.example/guide/install"),
        Kind::Documentation
    );
    assert_eq!(
        kind_of("", "https://shop.example/collections/desks"),
        Kind::Collection
    );
    assert_eq!(
        kind_of("", "https://news.example/2024/05/a-story"),
        Kind::Article
    );
    assert_eq!(kind_of("", "https://saas.example/pricing"), Kind::Service);
    assert_eq!(kind_of("", "https://saas.example/"), Kind::Service);
    let listing = "<h2><a href=a>A</a></h2>".repeat(8);
    assert_eq!(
        kind_of(&listing, "https://blog.example/all/posts"),
        Kind::Listing
    );
    // An article with a list of related stories under it is an article:
    // its path names one piece.
    assert_eq!(
        kind_of(
            &listing,
            "https://news.example/mac/meldung/1Password-fuer-Mac-generiert-2596987.html"
        ),
        Kind::Article
    );
}

#[test]
fn the_canonical_url_is_the_page_s_own() {
    let html = r#"<link rel="canonical" href="https://shop.example/products/desk">"#;
    assert_eq!(
        kind_of(html, "http://127.0.0.1:8080/files/0001.html"),
        Kind::Product
    );
    let html = r#"<meta property="og:url" content="/forum/t/topic/3">"#;
    assert_eq!(kind_of(html, "http://forum.example/x"), Kind::Forum);
}
