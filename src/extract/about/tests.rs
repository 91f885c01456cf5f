use dom_query::Document;
use serde_json::json;

use super::*;
use crate::extract::survey::Survey;

#[test]
fn metadata_before_what_readability_guessed() {
    let doc = Document::from(
        r#"<head><meta name="author" content="Meta Author">
        <meta property="article:published_time" content="2019-08-02T15:57:41Z">
        <meta property="og:site_name" content="The Site">
        <meta name="description" content="  A  page. "></head>
        <body><article><time datetime="2001-01-01">x</time></article></body>"#,
    );
    let mut survey = Survey::of(&doc);
    survey.json_ld = vec![
        json!({"@type": "NewsArticle", "author": [{"@type": "Person", "name": "Ada  Lovelace"}, "Bob"],
                          "dateModified": "2019-11-18"}),
    ];
    let about = About::read(&survey);
    assert_eq!(about.byline.as_deref(), Some("Ada Lovelace, Bob"));
    assert_eq!(
        about.published.as_deref(),
        Some("2019-08-02T15:57:41+00:00")
    );
    assert_eq!(about.modified.as_deref(), Some("2019-11-18"));
    assert_eq!(about.site_name.as_deref(), Some("The Site"));
    assert_eq!(about.excerpt.as_deref(), Some("A page."));
    let found = About {
        byline: Some("by Someone Else12 comments".into()),
        published: Some("March 5th, 2024".into()),
        ..About::default()
    };
    let none = About::read(&Survey::of(&Document::from("<p>x</p>"))).or_found(found);
    assert_eq!(none.byline.as_deref(), Some("Someone Else"));
    assert_eq!(none.published.as_deref(), Some("2024-03-05"));
}

#[test]
fn a_time_element_dates_an_article_without_metadata() {
    let doc =
        Document::from("<article><time datetime='2024-05-17T08:30:00+02:00'>May</time></article>");
    let about = About::read(&Survey::of(&doc));
    assert_eq!(
        about.published.as_deref(),
        Some("2024-05-17T08:30:00+02:00")
    );
}
