//! The crawl's options (README "Crawling"), flattened into [`super::Cli`]
//! under their own heading.

use chrono::{DateTime, Utc};
use clap::Args;
use regex::Regex;

use crate::crawl::scope::Scope;

/// `--follow`, `--sitemap` and what bounds them.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Crawling")]
pub struct CrawlArgs {
    /// Follow links: the links of every fetched HTML page (what --links
    /// gives) become jobs, within --scope, --depth, --max-pages,
    /// --max-per-host, --include and --exclude. rel=nofollow links and
    /// pages with <meta name=robots content=nofollow> are not followed;
    /// robots.txt is obeyed (--no-robots to opt out). Each record gets
    /// `depth`, `parent`, `noindex`, `lastmod` and `sitemap`, and keeps
    /// its seed's `file` and `line`.
    #[arg(long)]
    pub follow: bool,

    /// Each list line is a sitemap (XML, gzipped or not, or text), or a
    /// site root (`https://shop.example/`) whose robots.txt Sitemap: lines
    /// name its sitemaps (else /sitemap.xml). Sitemap indexes are followed;
    /// every page listed becomes a job (depth 0, `parent` the sitemap,
    /// `lastmod` as listed). Each sitemap gets a record of its own with
    /// `sitemap` {urls, sitemaps, errors}.
    #[arg(long)]
    pub sitemap: bool,

    /// With --follow: where links may lead from the seed. host: the seed's
    /// host; domain: its registrable domain (public suffix list: blog.shop.test
    /// and www.shop.test are shop.test); prefix: the seed's scheme, host and
    /// directory (path up to its last /); any: anywhere.
    #[arg(long, value_enum, value_name = "SCOPE", default_value_t = Scope::Host)]
    pub scope: Scope,

    /// With --follow: the most links from a seed to a page (list lines and
    /// pages a sitemap lists are depth 0; --depth 0 fetches only them). A
    /// page's depth is its shortest distance from a seed.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub depth: u32,

    /// At most N pages fetched in all, seeds included (robots.txt and
    /// sitemaps are not counted). List lines are always fetched.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,

    /// At most N pages fetched per host (scheme, host and port).
    #[arg(long, value_name = "N")]
    pub max_per_host: Option<u64>,

    /// Follow only links whose normalised absolute URL matches REGEX
    /// (repeatable: any of them). Seeds are not filtered.
    #[arg(long, value_name = "REGEX")]
    pub include: Vec<Regex>,

    /// Never fetch a link whose normalised absolute URL matches REGEX
    /// (repeatable). Seeds are not filtered.
    #[arg(long, value_name = "REGEX")]
    pub exclude: Vec<Regex>,

    /// Let links lead to loopback, private, link-local and unique-local
    /// addresses. By default a link found on a page is refused when its
    /// host is or resolves to one (`dropped.private`), unless its seed is
    /// on such an address itself.
    #[arg(long)]
    pub allow_private: bool,

    /// With --follow or --sitemap: do not fetch or obey robots.txt (they
    /// obey it by default, as --robots does).
    #[arg(long, conflicts_with = "robots")]
    pub no_robots: bool,

    /// With --sitemap: keep only pages whose lastmod is after DATE
    /// (2026-01-31, or an RFC 3339 instant; UTC when no zone). Pages
    /// without lastmod are kept.
    #[arg(long, value_name = "DATE", value_parser = parse_since, requires = "sitemap")]
    pub sitemap_since: Option<DateTime<Utc>>,

    /// Jobs found and not yet fetched kept in memory; past it they spill to
    /// a file beside -o (OUT.frontier/, removed when the crawl ends whole,
    /// kept for --resume), or to a temporary directory. Sizes as
    /// --max-body.
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = super::parse_size)]
    pub frontier_memory: u64,
}

impl CrawlArgs {
    /// Whether the run crawls at all.
    pub fn any(&self) -> bool {
        self.follow || self.sitemap
    }
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, String> {
    crate::crawl::sitemap::parse_lastmod(s).ok_or_else(|| {
        format!("'{s}' is not a date (2026-01-31) or an RFC 3339 instant (2026-01-31T12:00:00Z)")
    })
}
