//! Which links of a page may become jobs, by the rules of README
//! "Crawling", in this order (the first rule a link breaks is the one it
//! is counted under in [`Dropped`]):
//!
//! 1. `nofollow`: the page says `<meta name=robots content=nofollow>`, or
//!    the link has `rel=nofollow`;
//! 2. `depth`: the link would be beyond `--depth`;
//! 3. `scope`: outside `--scope` of the seed, or of where the seed's
//!    redirects landed (after [`normalize`]);
//! 4. `excluded`: matches an `--exclude`, or no `--include`;
//! 5. `shard`: another shard's (`--shard`);
//! 6. `private`: leads to an internal address (unless the seed is on
//!    one, or `--allow-private`);
//! 7. `robots`: the host's robots.txt disallows it.
//!
//! A link to a page already admitted is left out silently before rules 6
//! and 7 (they cost a lookup each). What passes goes to the frontier,
//! which drops repeats (found meanwhile) silently and
//! counts `max_pages` and `max_per_host` (they depend on what was admitted
//! before, so they are decided under its lock).
//!
//! Pages a sitemap lists are the user's intent, as list lines are: only
//! `--sitemap-since`, `--include`/`--exclude`, the shard and robots.txt
//! apply to them.

use std::sync::Arc;

use url::Url;

use super::normalize::normalize;
use super::{Dropped, Kind, Lineage, Rules};
use crate::html::page::Outlinks;
use crate::input::shard::Shard;
use crate::urls::address::Addresses;

/// What the rules need beyond themselves.
pub struct Judge<'a> {
    /// The crawl's rules.
    pub rules: &'a Rules,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// Where hosts resolve to.
    pub addresses: &'a Addresses,
    /// robots.txt: may this URL be fetched? (always yes with `--no-robots`)
    pub robots: &'a dyn Fn(&Url) -> bool,
    /// Was this URL admitted already? A link to a page already seen is
    /// left out silently, before the costlier rules 6 and 7.
    pub seen: &'a dyn Fn(&Url) -> bool,
}

/// A link that passed the rules, with the lineage its job will have.
#[derive(Debug)]
pub struct Candidate {
    /// Normalised.
    pub url: Url,
    /// Its job's lineage.
    pub lineage: Lineage,
}

impl Judge<'_> {
    /// The links of the page `parent` (a job of lineage `from`) that may be
    /// followed; the others counted in `dropped`.
    pub fn links(
        &self,
        parent: &Url,
        from: &Lineage,
        outlinks: &Outlinks,
        dropped: &mut Dropped,
    ) -> Vec<Candidate> {
        let parent: Arc<str> = Arc::from(parent.as_str());
        let mut out = Vec::new();
        for (link, nofollow) in &outlinks.links {
            if outlinks.nofollow || *nofollow {
                dropped.nofollow += 1;
                continue;
            }
            if from.depth >= self.rules.depth {
                dropped.depth += 1;
                continue;
            }
            let url = normalize(link);
            if !from.seed.covers(self.rules.scope, &url) {
                dropped.scope += 1;
                continue;
            }
            if self.passes(&url, dropped, !from.seed.is_internal()) {
                let lineage = Lineage {
                    kind: Kind::Page,
                    depth: from.depth + 1,
                    parent: Some(Arc::clone(&parent)),
                    seed: Arc::clone(&from.seed),
                    lastmod: None,
                };
                out.push(Candidate { url, lineage });
            }
        }
        out
    }

    /// A page a sitemap lists (with its `lastmod`), when it may be fetched.
    pub fn listed(
        &self,
        url: &Url,
        lastmod: Option<&str>,
        sitemap: &Arc<str>,
        from: &Lineage,
        dropped: &mut Dropped,
    ) -> Option<Candidate> {
        if let Some(since) = self.rules.sitemap_since
            && lastmod
                .and_then(super::sitemap::parse_lastmod)
                .is_some_and(|at| at <= since)
        {
            dropped.since += 1;
            return None;
        }
        let url = normalize(url);
        self.passes(&url, dropped, false).then(|| Candidate {
            url,
            lineage: Lineage {
                kind: Kind::Page,
                depth: 0,
                parent: Some(Arc::clone(sitemap)),
                seed: Arc::clone(&from.seed),
                lastmod: lastmod.map(Box::from),
            },
        })
    }

    /// Rules 4 to 7; `guard` asks for the internal-address check.
    fn passes(&self, url: &Url, dropped: &mut Dropped, guard: bool) -> bool {
        let rules = self.rules;
        let text = url.as_str();
        let included = rules.include.is_empty() || rules.include.iter().any(|r| r.is_match(text));
        if !included || rules.exclude.iter().any(|r| r.is_match(text)) {
            dropped.excluded += 1;
            return false;
        }
        if let Some(shard) = self.shard
            && !shard.owns_key(&rules.scope.shard_key(url))
        {
            dropped.shard += 1;
            return false;
        }
        if (self.seen)(url) {
            return false;
        }
        if guard && !rules.allow_private && self.addresses.internal(url).is_some() {
            dropped.private += 1;
            return false;
        }
        if !(self.robots)(url) {
            dropped.robots += 1;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::Seed;
    use super::*;
    use regex::Regex;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    /// A page of depth `depth` from a seed at `seed`.
    fn from(seed: &str, depth: u32) -> Lineage {
        Lineage {
            kind: Kind::Page,
            depth,
            parent: None,
            seed: Arc::new(Seed::new(u(seed), 0)),
            lastmod: None,
        }
    }

    fn links(urls: &[(&str, bool)]) -> Outlinks {
        Outlinks {
            links: urls.iter().map(|(l, n)| (u(l), *n)).collect(),
            ..Outlinks::default()
        }
    }

    #[test]
    fn each_rule_counts_what_it_stops() {
        let rules = Rules {
            follow: true,
            depth: 2,
            exclude: vec![Regex::new("/private/").unwrap()],
            ..Rules::default()
        };
        let addresses = Addresses::new(true);
        let robots = |url: &Url| !url.path().starts_with("/secret");
        let judge = Judge {
            rules: &rules,
            shard: None,
            addresses: &addresses,
            robots: &robots,
            seen: &|_| false,
        };
        let from = from("http://shop.test/", 1);
        let outlinks = links(&[
            ("http://shop.test/a#x", false),
            ("http://shop.test/b", true),
            ("http://other.test/", false),
            ("http://shop.test/private/x", false),
            ("http://shop.test/secret/x", false),
            ("http://169.254.169.254/", false),
        ]);
        let mut dropped = Dropped::default();
        let page = u("http://shop.test/p");
        let got = judge.links(&page, &from, &outlinks, &mut dropped);
        let urls: Vec<_> = got.iter().map(|c| c.url.as_str()).collect();
        assert_eq!(urls, ["http://shop.test/a"]);
        assert_eq!(got[0].lineage.depth, 2);
        assert_eq!(got[0].lineage.parent.as_deref(), Some("http://shop.test/p"));
        let want = Dropped {
            nofollow: 1,
            scope: 2,
            excluded: 1,
            robots: 1,
            ..Dropped::default()
        };
        assert_eq!(
            dropped, want,
            "169.254.169.254 is outside the host scope first"
        );

        let deeper = Lineage { depth: 2, ..from };
        let mut dropped = Dropped::default();
        assert!(
            judge
                .links(&page, &deeper, &outlinks, &mut dropped)
                .is_empty()
        );
        assert_eq!(
            dropped.depth, 5,
            "every followable link is beyond --depth 2"
        );
    }

    #[test]
    fn internal_addresses_are_refused_unless_the_seed_is_internal() {
        let rules = Rules {
            scope: super::super::scope::Scope::Any,
            depth: 5,
            ..Rules::default()
        };
        let addresses = Addresses::new(true);
        let robots = |_: &Url| true;
        let judge = Judge {
            rules: &rules,
            shard: None,
            addresses: &addresses,
            robots: &robots,
            seen: &|_| false,
        };
        let seed = Arc::new(Seed::new(u("http://93.184.216.34/"), 0));
        let from = Lineage {
            kind: Kind::Page,
            depth: 0,
            parent: None,
            seed: Arc::clone(&seed),
            lastmod: None,
        };
        let outlinks = Outlinks {
            links: vec![
                (u("http://10.0.0.5/"), false),
                (u("http://[fe80::1]/"), false),
            ],
            ..Outlinks::default()
        };
        let page = u("http://93.184.216.34/");
        let mut dropped = Dropped::default();
        assert!(
            judge
                .links(&page, &from, &outlinks, &mut dropped)
                .is_empty()
        );
        assert_eq!(dropped.private, 2);
        from.seed.mark_internal();
        assert_eq!(judge.links(&page, &from, &outlinks, &mut dropped).len(), 2);
    }
}
