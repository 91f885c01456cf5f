//! One URL's path, top to bottom: what a worker does with each job.
//!
//! 1. `--since`: the earlier record of the URL, and the validators it
//!    allows ([`crate::since`]);
//! 2. the politeness gate admits the URL, the fetcher fetches it (redirects,
//!    retries, body), the gate releases its host — a panic anywhere in
//!    there becomes an `internal` record ([`fetch_guarded`]);
//! 3. `--warc`: the exchanges become compressed WARC records
//!    ([`crate::archive::encode`]), carried beside the record, never in it;
//! 4. the record ([`Record::fetched`]), marked against the earlier one
//!    (`--since`), with every key the run asks for;
//! 5. a crawl (`--follow`, `--sitemap`): the record gets its crawl keys and
//!    what the page led to goes to the frontier, before the record goes on
//!    ([`Crawler::after`]); a sitemap or site root is fetched and read by
//!    [`Crawler::sitemap`] instead of steps 1–4;
//! 6. `--text` / `--markdown`: the kept body goes to the extraction pool,
//!    which fills `content`; then — either way — [`Delivery::send`], the one
//!    route to the aggregator.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crossbeam_channel::Sender;
use url::Url;

use super::crawler::Crawler;
use crate::archive::{self, Blob};
use crate::crawl::{Kind, Lineage};
use crate::error::{ErrorKind, FetchError, panic_message};
use crate::extract::Page as ExtractPage;
use crate::extract::pool::Extractor;
use crate::fetch::validators::Conditional;
use crate::fetch::{Ask, Fetched, Fetcher, Guard};
use crate::flow::{Msg, Seq, Task};
use crate::html::page::Body;
use crate::input::Job;
use crate::politeness::Gate;
use crate::record::Record;
use crate::since::{self, Prev, Since};

/// What every worker shares.
pub struct Crew {
    /// The HTTP side.
    pub fetcher: Arc<Fetcher>,
    /// Politeness.
    pub gate: Arc<Gate<Task>>,
    /// Records go here.
    pub msgs: Sender<Msg>,
    /// With `--text` / `--markdown`: where pages are extracted before
    /// their records go on.
    pub extractor: Option<Arc<Extractor>>,
    /// Set when the run stops.
    pub cancel: Arc<AtomicBool>,
    /// `--since`: the earlier run's records.
    pub since: Option<Arc<Since>>,
    /// `--follow` / `--sitemap`: the crawl.
    pub crawler: Option<Arc<Crawler>>,
}

/// Handles one job; false when the run is over (the aggregator is gone).
pub fn handle(crew: &Crew, task: Task) -> bool {
    let Task { seq, job, lineage } = task;
    let crawl = crew.crawler.as_deref().zip(lineage.as_deref());
    if let Some((crawler, lineage)) = crawl
        && lineage.kind != Kind::Page
    {
        return sitemap(crew, seq, job, (crawler, lineage));
    }
    let plan = crew.fetcher.extraction();
    // A JSON line's method: `--since` only asks again with GET and HEAD.
    let method = job.request.as_ref().map(|r| r.method_name(plan));
    let safe = method
        .as_deref()
        .is_none_or(|m| matches!(m, "GET" | "HEAD"));
    let since = crew.since.as_ref().filter(|_| safe);
    let prev = since.map(|s| s.lookup(&job.url, plan).map(Box::new));
    let conditional = prev.as_ref().and_then(|p| p.as_ref()?.conditional.as_ref());
    let guard = crawl.and_then(|(crawler, lineage)| crawler.guard(lineage));
    let fetched = fetch(crew, &job, conditional, guard);
    crew.fetcher.sockets().finished(&job.url);
    finish(crew, (seq, job), fetched, method, prev, crawl)
}

/// The fetch of one job, through the gate. Out of line, with its result
/// on the heap: a worker waits for its response under this frame, and
/// 4 096 workers each keep the deepest stack they touched (issue 23: the
/// frame of `handle` was 11 KiB when all of it was inlined).
#[inline(never)]
fn fetch(
    crew: &Crew,
    job: &Job,
    conditional: Option<&Conditional>,
    guard: Option<Guard>,
) -> Result<Box<Fetched>, FetchError> {
    fetch_guarded(&job.url, &crew.gate, |url| {
        let ask = Ask {
            url,
            conditional,
            guard,
            request: job.request.as_deref(),
        };
        crew.fetcher.fetch(&ask, &*crew.gate)
    })
}

/// The rest of a fetched job's path: its record, with its crawl keys, its
/// `--since` mark and every key the run asks for, goes on (through the
/// extraction pool with `--text`). Out of line, beside [`fetch`], not
/// under it.
#[inline(never)]
fn finish(
    crew: &Crew,
    (seq, job): (Seq, Job),
    fetched: Result<Box<Fetched>, FetchError>,
    method: Option<String>,
    prev: Option<Option<Box<Prev>>>,
    crawl: Option<(&Crawler, &Lineage)>,
) -> bool {
    let plan = crew.fetcher.extraction();
    let (mut record, warc, body, outlinks) = match fetched {
        Ok(mut fetched) => {
            let warc = (!fetched.exchanges.is_empty())
                .then(|| Box::new(archive::encode(&fetched.exchanges)));
            let body = fetched.page.body.take();
            let outlinks = fetched.page.outlinks.take();
            (
                Box::new(Record::fetched(job, *fetched)),
                warc,
                body,
                outlinks,
            )
        }
        Err(error) => {
            let record = Record::failed(job.file, job.line, job.input, Some(&job.url), error);
            (Box::new(record), None, None, None)
        }
    };
    if method.is_some() {
        record.method = method;
    }
    if let Some((crawler, lineage)) = crawl {
        crawler.after(&crew.gate, lineage, &mut record, outlinks);
    }
    if let Some(prev) = prev {
        since::apply(prev.map(|p| *p), &mut record, plan);
    }
    // Every key the run asks for, null where nothing filled it (the
    // extractor replaces `content`).
    record.complete(plan);
    let delivery = Delivery { seq, warc };
    match (body, &crew.extractor) {
        (Some(body), Some(extractor)) => {
            extract_then_send(extractor, &crew.msgs, delivery, record, body);
            true
        }
        _ => delivery.send(&crew.msgs, record),
    }
}

/// A sitemap or site root of a crawl: fetched and read by the crawler.
#[inline(never)]
fn sitemap(crew: &Crew, seq: Seq, job: Job, (crawler, lineage): (&Crawler, &Lineage)) -> bool {
    let url = job.url.clone();
    let mut record = crawler.sitemap(&crew.gate, job, lineage);
    // The job came through the host queue and the connection budget as
    // any other.
    crew.gate.release(&url);
    crew.fetcher.sockets().finished(&url);
    record.complete(crew.fetcher.extraction());
    Delivery { seq, warc: None }.send(&crew.msgs, Box::new(record))
}

/// What goes to the aggregator with a finished record: its line's number
/// and its WARC records.
struct Delivery {
    seq: Seq,
    warc: Option<Box<Blob>>,
}

impl Delivery {
    /// Sends the record on to `msgs`; false when the aggregator is gone.
    fn send(self, msgs: &Sender<Msg>, record: Box<Record>) -> bool {
        let msg = Msg::Record(self.seq, record, self.warc);
        msgs.send(msg).is_ok()
    }
}

/// Hands the page to the extraction pool, which fills the record's
/// `content` and sends it on (waiting while the pool's queue is full).
fn extract_then_send(
    extractor: &Extractor,
    msgs: &Sender<Msg>,
    delivery: Delivery,
    mut record: Box<Record>,
    body: Body,
) {
    let page = ExtractPage {
        body,
        url: record.final_url.clone(),
        truncated: record.truncated,
    };
    let msgs = msgs.clone();
    extractor.submit(page, move |content| {
        record.content = Some(content);
        delivery.send(&msgs, record);
    });
}

/// One URL through the gate: admitted, fetched, its host's slot released.
/// A panic becomes an `internal` error.
fn fetch_guarded<T>(
    url: &Url,
    gate: &Gate<T>,
    fetch: impl FnOnce(&Url) -> Box<Fetched>,
) -> Result<Box<Fetched>, FetchError> {
    let fetched = catch_unwind(AssertUnwindSafe(|| match gate.admit(url) {
        Err(refused) => Box::new(Fetched::failed(0, refused)),
        Ok(()) => fetch(url),
    }));
    gate.release(url);
    fetched.map_err(|panic| {
        let message = format!("bug: the worker panicked: {}", panic_message(&*panic));
        FetchError::new(ErrorKind::Internal, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_fetch_is_an_internal_error_and_the_next_goes_on() {
        let gate: Gate<Task> = Gate::new(None, None, None);
        let fetch = |url: &Url| {
            if url.as_str().contains("boom") {
                panic!("injected bug");
            }
            Box::new(Fetched {
                status: Some(200),
                attempts: 1,
                ..Fetched::default()
            })
        };
        let boom = Url::parse("http://boom.example/").unwrap();
        let error = fetch_guarded(&boom, &gate, fetch).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Internal);
        assert!(error.message.contains("injected bug"));
        let fine = Url::parse("http://c.example/").unwrap();
        assert_eq!(
            fetch_guarded(&fine, &gate, fetch).unwrap().status,
            Some(200)
        );
    }
}
