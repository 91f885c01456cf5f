//! From a list to a site: `--follow` (the links of fetched pages become
//! jobs) and `--sitemap` (each line is a sitemap, or a site whose
//! robots.txt names its sitemaps). README "Crawling" is the contract;
//! docs/crawl.md says why it is built this way.
//!
//! ```text
//!  reader ──seeds──▶ pool ──▶ worker ──record──▶ aggregator
//!    ▲                          │
//!    └──── frontier ◀── links ──┘   (admit.rs: the rules; frontier/: the queue)
//! ```
//!
//! - [`admit`]: which links of a page become jobs, by the rules in the
//!   order README gives them, each refusal counted in [`Dropped`];
//! - [`frontier`]: the jobs found and not yet fetched, level by level (a
//!   level is a link distance from the seeds), spilled to a file past
//!   `--frontier-memory`, journalled for `--resume`;
//! - [`normalize`]: one spelling per page; [`scope`]: `--scope`;
//! - [`sitemap`]: reading sitemaps as a stream.
//!
//! Every job of a crawl carries its [`Lineage`]: its depth, the page that
//! led to it, and its seed (whose list line every record of the crawl
//! keeps).

pub mod admit;
pub mod frontier;
pub mod normalize;
pub mod scope;
pub mod sitemap;

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;
use url::Url;

use scope::Scope;

/// The crawl's rules, from the command line.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// `--follow`: links of fetched pages become jobs.
    pub follow: bool,
    /// `--sitemap`: list lines are sitemaps or site roots.
    pub sitemap: bool,
    /// `--scope`.
    pub scope: Scope,
    /// `--depth`: link distance from a seed at most.
    pub depth: u32,
    /// `--max-pages`: pages fetched at most, seeds included.
    pub max_pages: Option<u64>,
    /// `--max-per-host`: pages fetched per host at most.
    pub max_per_host: Option<u64>,
    /// `--include`: a followed link matches one of these (when any).
    pub include: Vec<Regex>,
    /// `--exclude`: a followed link matches none of these.
    pub exclude: Vec<Regex>,
    /// `--allow-private`: links may lead to internal addresses.
    pub allow_private: bool,
    /// `--sitemap-since`: pages whose `lastmod` is not after it are left out.
    pub sitemap_since: Option<DateTime<Utc>>,
    /// `--frontier-memory`: bytes of queued jobs kept in memory.
    pub frontier_memory: u64,
}

/// What a crawl job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A page: fetched, its links followed (`--follow`).
    Page,
    /// A sitemap or sitemap index: read, the pages it lists become jobs.
    Sitemap,
    /// A site root (`--sitemap`): its robots.txt names its sitemaps.
    Site,
}

/// The list line a crawl started from, shared by every job it led to.
#[derive(Debug)]
pub struct Seed {
    /// Its URL: what `--scope` is measured from.
    pub url: Url,
    /// Its place in the frontier's table of seeds (for the journal).
    pub index: u32,
    /// Its list line: file, number and text, which every record of its
    /// crawl keeps.
    pub origin: Origin,
    /// It answered from an internal address (or is one): its links may
    /// lead to internal addresses too.
    internal: AtomicBool,
    /// Where it landed after redirects (`http://shop.test/` →
    /// `https://www.shop.test/`): in scope as the seed itself is.
    landed: OnceLock<Url>,
}

/// Where a seed is in the lists.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// The list, as given.
    pub file: Arc<str>,
    /// The line's number.
    pub line: u64,
    /// The line as written.
    pub input: Arc<str>,
}

impl Seed {
    /// A seed, numbered `index`.
    pub fn new(url: Url, index: u32) -> Seed {
        Seed {
            url,
            index,
            origin: Origin::default(),
            internal: AtomicBool::new(false),
            landed: OnceLock::new(),
        }
    }

    /// The seed redirected to `url`: its links are measured from there too.
    pub fn landed_at(&self, url: Url) {
        if url != self.url {
            let _ = self.landed.set(url);
        }
    }

    /// Where it landed, when a redirect took it elsewhere.
    pub fn landed(&self) -> Option<&Url> {
        self.landed.get()
    }

    /// Whether `link` is within `scope` of this seed (or of where it
    /// landed).
    pub fn covers(&self, scope: Scope, link: &Url) -> bool {
        scope.contains(&self.url, link) || self.landed().is_some_and(|l| scope.contains(l, link))
    }

    /// The seed, from this list line.
    pub fn from(mut self, origin: Origin) -> Seed {
        self.origin = origin;
        self
    }

    /// The seed answered from (or is) an internal address.
    pub fn mark_internal(&self) {
        self.internal.store(true, Ordering::Relaxed);
    }

    /// Whether its links may lead to internal addresses.
    pub fn is_internal(&self) -> bool {
        self.internal.load(Ordering::Relaxed)
    }
}

/// Where a crawl job came from.
#[derive(Debug, Clone)]
pub struct Lineage {
    /// What it is.
    pub kind: Kind,
    /// Link distance from its seed (list lines and the pages sitemaps list
    /// are 0).
    pub depth: u32,
    /// The page (or sitemap) that led to it; none for a list line.
    pub parent: Option<Arc<str>>,
    /// Its seed.
    pub seed: Arc<Seed>,
    /// The sitemap's `lastmod` for it.
    pub lastmod: Option<Box<str>>,
}

impl Lineage {
    /// The record's crawl keys for a job of this lineage.
    pub fn fields(&self) -> Fields {
        Fields {
            depth: self.depth,
            parent: self.parent.as_deref().map(str::to_string),
            noindex: false,
            lastmod: self.lastmod.as_deref().map(str::to_string),
            sitemap: None,
        }
    }
}

/// A record's crawl keys (with `--follow` or `--sitemap`, in every record).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Fields {
    /// Link distance from the seed.
    pub depth: u32,
    /// The page or sitemap that led here; null for a list line.
    pub parent: Option<String>,
    /// The page says `<meta name=robots content=noindex>`.
    pub noindex: bool,
    /// The sitemap's `lastmod` for the page.
    pub lastmod: Option<String>,
    /// A sitemap's own record: what it listed.
    pub sitemap: Option<SitemapCounts>,
}

/// What one sitemap (or a site's robots.txt) gave.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SitemapCounts {
    /// Pages listed (`<url>` entries).
    pub urls: u64,
    /// Sitemaps listed (index entries, or robots.txt `Sitemap:` lines).
    pub sitemaps: u64,
    /// What could not be read, in words.
    pub errors: Vec<String>,
}

/// Links not followed, by the rule that stopped them (the summary's
/// `dropped`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Dropped {
    /// Beyond `--depth`.
    pub depth: u64,
    /// Outside `--scope`.
    pub scope: u64,
    /// robots.txt disallows them.
    pub robots: u64,
    /// `rel=nofollow`, or the page says nofollow.
    pub nofollow: u64,
    /// `--exclude`, or no `--include` matched.
    pub excluded: u64,
    /// `--max-pages` was reached.
    pub max_pages: u64,
    /// `--max-per-host` was reached for their host.
    pub max_per_host: u64,
    /// Another shard's (`--shard`).
    pub shard: u64,
    /// They lead to an internal address.
    pub private: u64,
    /// Sitemap pages whose `lastmod` is not after `--sitemap-since`.
    pub since: u64,
    /// `--resume`: pages the earlier run wrote records of, not fetched
    /// again (from its journal, or met again as links).
    pub resumed: u64,
}

impl Dropped {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Dropped) {
        self.depth += other.depth;
        self.scope += other.scope;
        self.robots += other.robots;
        self.nofollow += other.nofollow;
        self.excluded += other.excluded;
        self.max_pages += other.max_pages;
        self.max_per_host += other.max_per_host;
        self.shard += other.shard;
        self.private += other.private;
        self.since += other.since;
        self.resumed += other.resumed;
    }

    /// The counts that are not zero, each with what it means in words.
    pub fn in_words(&self) -> Vec<(u64, &'static str)> {
        let all = [
            (self.depth, "beyond --depth"),
            (self.scope, "outside --scope"),
            (self.robots, "disallowed by robots.txt"),
            (self.nofollow, "nofollow"),
            (self.excluded, "excluded by --include/--exclude"),
            (self.max_pages, "past --max-pages"),
            (self.max_per_host, "past --max-per-host"),
            (self.shard, "other shards'"),
            (self.private, "to internal addresses"),
            (self.since, "not changed since --sitemap-since"),
            (
                self.resumed,
                "already with a record from the earlier run (--resume)",
            ),
        ];
        all.into_iter().filter(|(n, _)| *n > 0).collect()
    }
}
