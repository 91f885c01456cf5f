use super::*;
use std::io::Write;

fn base() -> Url {
    Url::parse("http://shop.test/sitemap.xml").unwrap()
}

fn all(body: &[u8]) -> (Vec<Found>, Reading) {
    let mut found = Vec::new();
    let reading = read(body, &base(), |f| {
        found.push(f);
        true
    });
    (found, reading)
}

#[test]
fn a_urlset_gives_pages_with_their_lastmod() {
    let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://shop.test/a?x=1&amp;y=2</loc><lastmod>2026-05-01</lastmod></url>
  <url><loc> /b </loc></url>
  <url><loc><![CDATA[http://shop.test/c]]></loc></url>
</urlset>"#;
    let (found, reading) = all(xml);
    assert!(reading.errors.is_empty(), "{:?}", reading.errors);
    assert_eq!(
        found,
        [
            Found::Page(
                Url::parse("http://shop.test/a?x=1&y=2").unwrap(),
                Some("2026-05-01".into())
            ),
            Found::Page(Url::parse("http://shop.test/b").unwrap(), None),
            Found::Page(Url::parse("http://shop.test/c").unwrap(), None),
        ]
    );
}

#[test]
fn an_index_gzipped_gives_sitemaps() {
    let xml = br#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>http://shop.test/s1.xml.gz</loc><lastmod>2026-01-01</lastmod></sitemap>
</sitemapindex>"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(xml).unwrap();
    let (found, reading) = all(&gz.finish().unwrap());
    assert!(reading.errors.is_empty());
    assert_eq!(
        found,
        [Found::Sitemap(
            Url::parse("http://shop.test/s1.xml.gz").unwrap()
        )]
    );
}

#[test]
fn hostile_sitemaps_end_in_an_error_not_in_memory() {
    let bomb = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<urlset><url><loc>http://shop.test/&lol2;</loc></url></urlset>"#;
    let (found, reading) = all(bomb);
    assert!(found.is_empty());
    assert!(reading.errors[0].contains("&lol2;"), "{:?}", reading.errors);

    let (found, reading) = all(b"<urlset><url><loc>http://shop.test/a</loc></url><url><loc>");
    assert_eq!(found.len(), 1);
    assert!(!reading.errors.is_empty(), "a torn document is said");

    let (_, reading) = all(b"<urlset><url><loc>http://shop.test/a</lo></url></urlset>");
    assert!(
        reading.errors[0].contains("broken XML"),
        "{:?}",
        reading.errors
    );

    let (found, reading) = all(b"<urlset><url><loc>javascript:alert(1)</loc></url></urlset>");
    assert!(found.is_empty());
    assert_eq!(reading.errors.len(), 1);
}

#[test]
fn limits_of_the_protocol_hold() {
    let mut xml = String::from("<urlset>");
    for i in 0..MAX_ENTRIES + 5 {
        xml.push_str(&format!("<url><loc>/p{i}</loc></url>"));
    }
    xml.push_str("</urlset>");
    let (found, reading) = all(xml.as_bytes());
    assert_eq!(found.len() as u64, MAX_ENTRIES);
    assert!(reading.errors[0].contains("50000"), "{:?}", reading.errors);

    let huge = std::iter::repeat_n(b' ', (MAX_BYTES + 100) as usize).collect::<Vec<u8>>();
    let mut doc = b"<urlset>".to_vec();
    doc.extend_from_slice(&huge);
    let (_, reading) = all(&doc);
    assert!(reading.bytes <= MAX_BYTES + 1);
    assert!(
        reading.errors.iter().any(|e| e.contains("limit")),
        "{:?}",
        reading.errors
    );
}

#[test]
fn text_sitemaps_and_robots_lines() {
    let (found, _) = all(b"http://shop.test/a\n\n/b\n");
    assert_eq!(found.len(), 2);
    let robots =
        "User-agent: *\nDisallow: /x\nSitemap: http://shop.test/s.xml\nsitemap:/t.xml # c\n";
    let got = robots_sitemaps(robots, &base());
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].as_str(), "http://shop.test/t.xml");
}

#[test]
fn lastmod_and_since_values_are_instants() {
    let day = |s| parse_lastmod(s).map(|t| t.to_rfc3339());
    assert_eq!(day("2026-05-01").unwrap(), "2026-05-01T00:00:00+00:00");
    assert_eq!(
        day("2026-05-01T10:00:00+02:00").unwrap(),
        "2026-05-01T08:00:00+00:00"
    );
    assert_eq!(
        day("2026-05-01T10:00+02:00").unwrap(),
        "2026-05-01T08:00:00+00:00"
    );
    assert_eq!(
        day("2026-05-01T10:00:00").unwrap(),
        "2026-05-01T10:00:00+00:00"
    );
    assert_eq!(day("2026-05").unwrap(), "2026-05-01T00:00:00+00:00");
    assert!(day("yesterday").is_none());
}
