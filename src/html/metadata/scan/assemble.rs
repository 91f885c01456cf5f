//! The scan's findings assembled into [`Metadata`]: links resolved and
//! sorted into canonical, alternates, feeds and icons; metas into `meta`,
//! `opengraph` and `twitter`; JSON-LD blocks parsed; microdata items
//! built; everything within the page's bound.

use std::collections::HashMap;

use encoding_rs::Encoding;
use url::Url;

use super::{Found, Link, MAX_JSONLD, Meta};
use crate::html::metadata::{Alternate, Feed, MAX_ERRORS, Metadata, json_bound, jsonld};
use crate::html::page::{collapse, decode, resolve};

/// Link relations that name an icon.
const ICONS: [&str; 4] = [
    "icon",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
];

/// Link types that are feeds.
const FEEDS: [&str; 4] = [
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/rdf+xml",
];

impl Found {
    /// [`Metadata`] of what was found: values decoded from `encoding`,
    /// URLs resolved against `base`.
    pub(super) fn into_metadata(self, base: Option<&Url>, encoding: &'static Encoding) -> Metadata {
        let chars = |bytes: &[u8]| encoding.decode_without_bom_handling(bytes).0.into_owned();
        let value = |bytes: &[u8]| decode(&chars(bytes)).into_owned();
        let mut m = Metadata::default();
        for link in &self.links {
            let url = resolve(base, &chars(&link.href));
            add_link(&mut m, link, url, &value);
        }
        let keep = standard_keys(&self.metas);
        for (meta, _) in self.metas.iter().zip(keep).filter(|(_, keep)| *keep) {
            let content = value(&meta.content).trim().to_string();
            if let Some(og) = meta.key.strip_prefix("og:") {
                m.opengraph.push(og.to_string(), content);
            } else if let Some(tw) = meta.key.strip_prefix("twitter:") {
                m.twitter.push(tw.to_string(), content);
            } else {
                m.meta.push(meta.key.clone(), content);
            }
        }
        for (i, block) in self.blocks.iter().enumerate() {
            let result = if block.cut {
                Err(format!("cut at {} MiB", MAX_JSONLD >> 20))
            } else {
                jsonld::parse(&encoding.decode_without_bom_handling(&block.text).0)
            };
            match result {
                Ok(objects) => m.json_ld.extend(objects),
                Err(why) => m.errors.push(format!("JSON-LD block {}: {why}", i + 1)),
            }
        }
        if self.items.dropped > 0 {
            m.errors.push(format!(
                "microdata: {} items or properties past the caps left out",
                self.items.dropped
            ));
        }
        if !self.items.is_empty() {
            m.microdata = self.items.finish(base, encoding);
        }
        m.errors.extend(self.cut);
        m.errors.truncate(MAX_ERRORS);
        let url_len = base.map_or(0, |b| b.as_str().len());
        m.bound(json_bound(self.kept, self.entries, url_len));
        m
    }
}

/// Which metas count: where a page gives a key both ways (`property` and
/// `name`), only the way its protocol says — `property` for OpenGraph,
/// `name` for Twitter cards (`<meta name=og:title>` beside a different
/// `<meta property=og:title>` is the page's own confusion).
fn standard_keys(metas: &[Meta]) -> Vec<bool> {
    let mut ways: HashMap<&str, (bool, bool)> = HashMap::new();
    for m in metas {
        let way = ways.entry(&m.key).or_default();
        if m.by_property {
            way.0 = true;
        } else {
            way.1 = true;
        }
    }
    metas
        .iter()
        .map(|m| {
            let both = ways.get(m.key.as_str()) == Some(&(true, true));
            let standard = if m.key.starts_with("og:") {
                m.by_property
            } else if m.key.starts_with("twitter:") {
                !m.by_property
            } else {
                true
            };
            !both || standard
        })
        .collect()
}

/// A `<link>` into `m`: `url` is its `href`, resolved.
fn add_link(m: &mut Metadata, link: &Link, url: String, value: &impl Fn(&[u8]) -> String) {
    let rels: Vec<&str> = link.rel.split_ascii_whitespace().collect();
    if rels.contains(&"canonical") && m.canonical.is_none() {
        m.canonical = Some(url.clone());
    }
    if rels.contains(&"alternate") {
        let kind = link.kind.as_deref().map(|t| t.trim().to_ascii_lowercase());
        if let Some(hreflang) = &link.hreflang {
            m.alternates.push(Alternate {
                hreflang: value(hreflang).trim().to_string(),
                url: url.clone(),
            });
        } else if let Some(kind) = kind.filter(|k| FEEDS.contains(&k.as_str())) {
            m.feeds.push(Feed {
                kind,
                url: url.clone(),
                title: link.title.as_deref().map(|t| collapse(&value(t))),
            });
        }
    }
    if rels.iter().any(|r| ICONS.contains(r)) && !m.icons.contains(&url) {
        m.icons.push(url);
    }
}
