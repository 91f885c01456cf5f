//! A worker's crawl steps (`--follow`, `--sitemap`): what a fetched page
//! leads to goes to the frontier before its record goes on (so the journal
//! has it first); sitemaps and site roots are fetched and read in
//! [`sitemap`].
//!
//! Every job a crawl hands out comes back through [`Crawler::after`] once,
//! whatever became of it: the frontier counts the jobs in flight per level.

mod sitemap;

use std::net::IpAddr;
use std::sync::Arc;

use reqwest::blocking::Client;
use url::Url;

use crate::crawl::admit::Judge;
use crate::crawl::frontier::Frontier;
use crate::crawl::normalize::normalize;
use crate::crawl::{Dropped, Lineage, Rules};
use crate::fetch::{FetchSettings, Guard};
use crate::flow::Task;
use crate::html::page::Outlinks;
use crate::input::shard::Shard;
use crate::politeness::Gate;
use crate::record::Record;
use crate::urls::address::{Addresses, is_internal};

/// What the workers of a crawl share.
pub struct Crawler {
    /// The jobs found and not fetched.
    pub frontier: Arc<Frontier>,
    /// The rules.
    pub rules: Arc<Rules>,
    /// `--shard`.
    pub shard: Option<Shard>,
    /// Where hosts resolve to.
    pub addresses: Addresses,
    /// Fetches sitemaps and robots.txt for their `Sitemap:` lines.
    pub client: Client,
    /// Deadlines and redirects, as for pages.
    pub settings: FetchSettings,
}

impl Crawler {
    /// After a page: the record gets its crawl keys, and (with `--follow`)
    /// the links the rules let through go to the frontier. `outlinks` is
    /// `None` for a page that is not HTML or did not come.
    pub fn after(
        &self,
        gate: &Gate<Task>,
        lineage: &Lineage,
        record: &mut Record,
        outlinks: Option<Outlinks>,
    ) {
        let mut fields = lineage.fields();
        fields.noindex = outlinks.as_ref().is_some_and(|o| o.noindex);
        record.crawl = Some(fields);
        let is_seed = lineage.depth == 0 && lineage.parent.is_none();
        if is_seed && let Some(Ok(landed)) = record.final_url.as_deref().map(Url::parse) {
            lineage.seed.landed_at(normalize(&landed));
        }
        if is_seed && self.seed_is_internal(&lineage.seed.url, record.ip.as_deref()) {
            self.frontier.mark_internal(&lineage.seed);
        }
        let mut dropped = Dropped::default();
        let page = record.final_url.as_deref().and_then(|u| Url::parse(u).ok());
        let found = match (self.rules.follow, outlinks, page) {
            (true, Some(outlinks), Some(page)) => self.with_judge(gate, |judge| {
                judge.links(&normalize(&page), lineage, &outlinks, &mut dropped)
            }),
            _ => Vec::new(),
        };
        self.frontier.finished(lineage.depth, found, &dropped);
    }

    /// For a link found on a page (not a list line, not a page a sitemap
    /// lists): what its redirects may not lead to.
    pub fn guard(&self, lineage: &Lineage) -> Option<Guard<'_>> {
        let found = lineage.depth > 0;
        (found && !self.rules.allow_private && !lineage.seed.is_internal())
            .then_some(Guard(&self.addresses))
    }

    /// Whether a seed is on an internal address: its host is (or resolves
    /// to) one, or it answered from one — unless through a proxy, whose
    /// own address that is.
    fn seed_is_internal(&self, seed: &Url, answered: Option<&str>) -> bool {
        let answered = answered
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .is_some_and(is_internal);
        (answered && !self.addresses.proxied()) || self.addresses.internal(seed).is_some()
    }

    /// Runs `f` with the rules' judge, robots.txt asked through `gate`.
    fn with_judge<R>(&self, gate: &Gate<Task>, f: impl FnOnce(&Judge) -> R) -> R {
        let robots = |url: &Url| gate.robots_allow(url);
        let seen = |url: &Url| self.frontier.has_seen(url);
        f(&Judge {
            rules: &self.rules,
            shard: self.shard,
            addresses: &self.addresses,
            robots: &robots,
            seen: &seen,
        })
    }
}
