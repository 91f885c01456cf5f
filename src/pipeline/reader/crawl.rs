//! The reader's crawl steps: list lines registered as seeds, a crawl's
//! lines sharded by what `--scope` keeps together, and the frontier's jobs
//! handed to the pool once the lists are read.

use std::sync::Arc;

use url::Url;

use super::{Counts, Reader};
use crate::crawl::frontier::Frontier;
use crate::crawl::{Kind, Lineage, Origin};
use crate::flow::{Seq, Task};
use crate::input::Job;
use crate::input::shard::Shard;

impl Reader {
    /// Whether a line is this shard's: by its host, or in a crawl with
    /// `--scope domain` by its registrable domain (so that a site's
    /// subdomains, which its links lead to, are crawled on one shard).
    pub(super) fn owned(&self, shard: Shard, url: Option<&Url>, input: &str) -> bool {
        match (&self.crawl, url) {
            (Some((_, rules)), Some(url)) => shard.owns_key(&rules.scope.shard_key(url)),
            _ => shard.owns(url, input),
        }
    }

    /// Hands out the frontier's jobs until the crawl is over.
    pub(super) fn crawl_on(&mut self, frontier: &Frontier, counts: &mut Counts) {
        while let Some((url, lineage)) = frontier.next(&self.cancel) {
            let seq = Seq(counts.next_seq);
            counts.next_seq += 1;
            if let Some(window) = &self.filter.window
                && !window.admit(seq, &self.cancel)
            {
                return;
            }
            let origin = &lineage.seed.origin;
            let job = Job {
                file: Arc::clone(&origin.file),
                line: origin.line,
                input: origin.input.to_string(),
                url,
                request: None,
            };
            if !self.submit(Task {
                seq,
                job,
                lineage: Some(Box::new(lineage)),
            }) {
                return;
            }
        }
    }

    /// A list line that is a URL, as a crawl's seed: registered with the
    /// frontier (`fetching` when it is fetched now), and its lineage.
    pub(super) fn seed(
        &self,
        item: (&Arc<str>, u64, &str),
        url: &Url,
        fetching: bool,
    ) -> Option<Lineage> {
        let (frontier, rules) = self.crawl.as_ref()?;
        let origin = Origin {
            file: Arc::clone(item.0),
            line: item.1,
            input: Arc::from(item.2),
        };
        let kind = match rules.sitemap {
            false => Kind::Page,
            true if url.path() == "/" && url.query().is_none() => Kind::Site,
            true => Kind::Sitemap,
        };
        let seed = frontier.seed(url, origin, kind == Kind::Page, fetching);
        Some(Lineage {
            kind,
            depth: 0,
            parent: None,
            seed,
            lastmod: None,
        })
    }
}
