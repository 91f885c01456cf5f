//! A worker's sitemap jobs (`--sitemap`): a sitemap or a site root's
//! robots.txt fetched (redirects followed, under `--timeout`), read as it
//! streams, its entries handed to the frontier; and the job's record.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use reqwest::blocking::Response;
use url::Url;

use super::Crawler;
use crate::crawl::admit::Candidate;
use crate::crawl::normalize::normalize;
use crate::crawl::sitemap::{self, Found};
use crate::crawl::{Dropped, Kind, Lineage, SitemapCounts};
use crate::error::{ErrorKind, FetchError};
use crate::fetch::Fetched;
use crate::flow::Task;
use crate::input::Job;
use crate::politeness::Gate;
use crate::record::Record;

impl Crawler {
    /// A sitemap or site root: fetched and read, its entries to the
    /// frontier; its record.
    pub fn sitemap(&self, gate: &Gate<Task>, job: Job, lineage: &Lineage) -> Record {
        let started = Instant::now();
        let mut counts = SitemapCounts::default();
        let mut found = Vec::new();
        let mut dropped = Dropped::default();
        let fetched = match self.get(&job.url, lineage) {
            Err(error) => Fetched::failed(0, error),
            Ok((response, redirects)) => {
                let mut fetched = response_fields(&response, redirects);
                let at = response.url().clone();
                let mut out = Out {
                    counts: &mut counts,
                    found: &mut found,
                    dropped: &mut dropped,
                };
                let bytes = match lineage.kind {
                    Kind::Site => self.read_robots(response, &at, lineage, &mut out),
                    _ => self.read_sitemap(gate, response, (&job.url, &at), lineage, &mut out),
                };
                fetched.bytes = bytes;
                fetched
            }
        };
        let mut fetched = fetched;
        fetched.elapsed = started.elapsed();
        if fetched.error.is_none()
            && let Some(first) = counts.errors.first()
        {
            let more = counts.errors.len() - 1;
            let message = match more {
                0 => first.clone(),
                n => format!("{first} (and {n} more: see sitemap.errors)"),
            };
            fetched.error = Some(FetchError::new(ErrorKind::Sitemap, message));
        }
        let ip = fetched.remote.map(|a| a.ip().to_string());
        let mut record = Record::fetched(job, fetched);
        record.ip = ip;
        record.crawl = Some(crate::crawl::Fields {
            sitemap: Some(counts),
            ..lineage.fields()
        });
        self.frontier.finished(lineage.depth, found, &dropped);
        record
    }

    /// A sitemap's entries, read as they stream: pages through the rules,
    /// sitemaps (an index's) as jobs; `(asked, at)` the sitemap's URL as
    /// asked and as answered. Returns the bytes read.
    fn read_sitemap(
        &self,
        gate: &Gate<Task>,
        response: Response,
        (asked, at): (&Url, &Url),
        lineage: &Lineage,
        out: &mut Out,
    ) -> u64 {
        self.with_judge(gate, |judge| {
            let parent: Arc<str> = Arc::from(normalize(asked).as_str());
            let reading = sitemap::read(response, at, |entry| {
                match entry {
                    Found::Page(url, lastmod) => {
                        out.counts.urls += 1;
                        let listed =
                            judge.listed(&url, lastmod.as_deref(), &parent, lineage, out.dropped);
                        out.found.extend(listed);
                    }
                    Found::Sitemap(url) => {
                        out.counts.sitemaps += 1;
                        let url = normalize(&url);
                        if *url.as_str() == *parent {
                            out.counts.errors.push("the sitemap lists itself".into());
                        } else {
                            out.found.push(child_sitemap(url, &parent, lineage));
                        }
                    }
                }
                true
            });
            out.counts.errors.extend(reading.errors);
            reading.bytes
        })
    }

    /// A site root's robots.txt: its `Sitemap:` lines (else /sitemap.xml)
    /// become sitemap jobs.
    fn read_robots(&self, response: Response, at: &Url, lineage: &Lineage, out: &mut Out) -> u64 {
        let mut body = Vec::new();
        let ok = response.status().is_success();
        let read = response.take(512 * 1024).read_to_end(&mut body);
        let text = String::from_utf8_lossy(&body);
        let mut named = match (ok, read) {
            (true, Ok(_)) => sitemap::robots_sitemaps(&text, at),
            _ => Vec::new(),
        };
        if named.is_empty() {
            named.extend(at.join("/sitemap.xml"));
        }
        let parent: Arc<str> = Arc::from(at.as_str());
        out.counts.sitemaps = named.len() as u64;
        for url in named {
            out.found
                .push(child_sitemap(normalize(&url), &parent, lineage));
        }
        body.len() as u64
    }

    /// GET `url` (a site root's robots.txt for [`Kind::Site`]), following
    /// redirects up to `--max-redirects`, under `--timeout`.
    fn get(&self, url: &Url, lineage: &Lineage) -> Result<(Response, u32), FetchError> {
        let mut at = match lineage.kind {
            Kind::Site => url
                .join("/robots.txt")
                .map_err(|e| FetchError::new(ErrorKind::InvalidUrl, e.to_string()))?,
            _ => url.clone(),
        };
        let deadline = Instant::now() + self.settings.timeout;
        for redirects in 0..=self.settings.max_redirects {
            let left = deadline.saturating_duration_since(Instant::now());
            let response = self
                .client
                .get(at.clone())
                .timeout(left)
                .send()
                .map_err(|e| crate::fetch::classify::classify(&e, &self.settings))?;
            let answered = response.remote_addr().map(|a| a.ip().to_string());
            if lineage.depth == 0
                && lineage.parent.is_none()
                && self.seed_is_internal(&lineage.seed.url, answered.as_deref())
            {
                self.frontier.mark_internal(&lineage.seed);
            }
            let next = response
                .status()
                .is_redirection()
                .then(|| response.headers().get(reqwest::header::LOCATION))
                .flatten()
                .and_then(|l| l.to_str().ok())
                .and_then(|l| at.join(l).ok());
            match next {
                Some(next) if redirects < self.settings.max_redirects => at = next,
                _ => return Ok((response, redirects)),
            }
        }
        Err(FetchError::new(ErrorKind::Redirect, "too many redirects"))
    }
}

/// The record's fields a sitemap's response gives.
fn response_fields(r: &Response, redirects: u32) -> Fetched {
    Fetched {
        final_url: Some(r.url().clone()),
        status: Some(r.status().as_u16()),
        content_type: r
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        redirects,
        attempts: 1,
        remote: r.remote_addr(),
        ..Fetched::default()
    }
}

/// What reading a sitemap (or a site's robots.txt) adds up.
struct Out<'a> {
    counts: &'a mut SitemapCounts,
    found: &'a mut Vec<Candidate>,
    dropped: &'a mut Dropped,
}

/// A sitemap job found by `parent` (an index, or a site's robots.txt).
fn child_sitemap(url: Url, parent: &Arc<str>, lineage: &Lineage) -> Candidate {
    Candidate {
        url,
        lineage: Lineage {
            kind: Kind::Sitemap,
            depth: lineage.depth,
            parent: Some(Arc::clone(parent)),
            seed: Arc::clone(&lineage.seed),
            lastmod: None,
        },
    }
}
