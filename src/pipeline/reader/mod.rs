//! The reader thread: every list in turn, every line to a job for the pool
//! or a message for the aggregator.
//!
//! Before a line becomes a job it passes the filters of `input/`: its shard
//! (`--shard`: other shards' lines are only counted), an earlier run
//! (`--resume`: done lines are skipped) and dedupe (a repeated URL is not
//! fetched again). Every line handed on gets the next [`Seq`]; with
//! `--ordered` the reader waits for room in the [`Window`] first. Lines that
//! are not URLs get their `invalid_url` record here, repeated URLs their
//! `duplicate_of` record. The reader blocks when the
//! pool's queue is full, so memory never grows with the list.
//!
//! In a crawl (`--follow`, `--sitemap`) every list line that is a URL is
//! registered with the frontier as a seed, in list order (done lines too,
//! so a resumed run numbers them alike); once the lists are read, the
//! reader hands out the frontier's jobs until it has none and no job is in
//! flight ([`Frontier::next`]), then says what the rules dropped
//! ([`crawl`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_channel::Sender;
use url::Url;

mod crawl;

use super::pool::Pool;
use crate::crawl::Rules;
use crate::crawl::frontier::Frontier;
use crate::error::Fatal;
use crate::flow::window::Window;
use crate::flow::{Msg, Seq, Task};
use crate::input::request::LineRequest;
use crate::input::resume::{Done, Prior};
use crate::input::seen::Deduper;
use crate::input::shard::Shard;
use crate::input::{Item, Job, Source};
use crate::plan::Extraction;
use crate::record::Record;

/// What the reader leaves out or holds back.
pub struct Filter {
    /// Dedupe, unless `--no-dedupe`.
    pub seen: Option<Deduper>,
    /// Lines an earlier run did (`--resume`).
    pub done: Option<Done>,
    /// Only this shard's lines (`--shard`).
    pub shard: Option<Shard>,
    /// The reorder window (`--ordered`).
    pub window: Option<Arc<Window>>,
}

/// The reader and everything it feeds.
pub struct Reader {
    /// The lists, in order.
    pub sources: Vec<Source>,
    /// The filters.
    pub filter: Filter,
    /// Where jobs go.
    pub pool: Pool,
    /// Where records of invalid lines and skips go.
    pub msgs: Sender<Msg>,
    /// Set when the run stops.
    pub cancel: Arc<AtomicBool>,
    /// What records must carry (for invalid lines).
    pub extraction: Arc<Extraction>,
    /// A crawl: its frontier and rules.
    pub crawl: Option<(Arc<Frontier>, Arc<Rules>)>,
}

/// What the reader counts as it goes.
#[derive(Default)]
pub(super) struct Counts {
    next_seq: u64,
    other_shards: u64,
}

impl Reader {
    /// Starts the reader on its own thread.
    pub fn spawn(self) -> Result<(), Fatal> {
        std::thread::Builder::new()
            .name("scrape-reader".into())
            .spawn(move || self.run())
            .map(drop)
            .map_err(|e| Fatal::Setup(format!("cannot start the reader thread: {e}")))
    }

    fn run(mut self) {
        let mut counts = Counts::default();
        for mut source in std::mem::take(&mut self.sources) {
            let read = source.for_each_item(|item| {
                !self.cancel.load(Ordering::Relaxed) && self.dispatch(item, &mut counts)
            });
            if let Err(fatal) = read {
                let _ = self.msgs.send(Msg::Fatal(fatal));
                return;
            }
            if self.cancel.load(Ordering::Relaxed) {
                return;
            }
        }
        if let Some((frontier, _)) = self.crawl.clone() {
            self.crawl_on(&frontier, &mut counts);
            let _ = self.msgs.send(Msg::Dropped(frontier.dropped()));
        }
        if counts.other_shards > 0 {
            let _ = self.msgs.send(Msg::OtherShards(counts.other_shards));
        }
    }

    /// Queues a job; false when the run is over.
    pub(super) fn submit(&mut self, task: Task) -> bool {
        match self.pool.submit(task) {
            Ok(queued) => queued,
            Err(fatal) => {
                let _ = self.msgs.send(Msg::Fatal(fatal));
                false
            }
        }
    }

    /// Sends the record of a line that is not fetched, with every key the
    /// run asks for; false when the run is over.
    fn unfetched(&self, seq: Seq, mut record: Record) -> bool {
        record.complete(&self.extraction);
        let msg = Msg::Record(seq, Box::new(record), None);
        self.msgs.send(msg).is_ok()
    }

    /// Routes one item; false when the run is over (a channel closed).
    fn dispatch(&mut self, item: Item, counts: &mut Counts) -> bool {
        let Item {
            file,
            line,
            input,
            target,
            request,
        } = item;
        if let Some(shard) = self.filter.shard
            && !self.owned(shard, target.as_ref().ok(), &input)
        {
            counts.other_shards += 1;
            return true;
        }
        let seq = Seq(counts.next_seq);
        counts.next_seq += 1;
        if let Some(window) = &self.filter.window
            && !window.admit(seq, &self.cancel)
        {
            return false;
        }
        let url = target.as_ref().ok();
        let record = match self.filter.skip(line, (url, request.as_deref()), &input) {
            Some(Skip::Resumed) => {
                if let Some(url) = url {
                    self.seed((&file, line, &input), url, false);
                }
                return self.msgs.send(Msg::Resumed(seq)).is_ok();
            }
            Some(Skip::Duplicate(first)) => {
                let mut record = Record::duplicate(file.clone(), line, &input, url, first);
                record.method = request.as_ref().map(|r| r.method_name(&self.extraction));
                Some(record)
            }
            None => None,
        };
        if let Some(record) = record {
            return self.unfetched(seq, record);
        }
        match target {
            Err(reason) => self.unfetched(seq, Record::invalid(file, line, input, &reason)),
            Ok(url) => {
                let lineage = self.seed((&file, line, &input), &url, true).map(Box::new);
                let job = Job {
                    file,
                    line,
                    input,
                    url,
                    request,
                };
                self.submit(Task { seq, job, lineage })
            }
        }
    }
}

/// A line that is not fetched.
enum Skip {
    /// An earlier run has its record (`--resume`).
    Resumed,
    /// Its URL was on this line first (dedupe).
    Duplicate(u64),
}

impl Filter {
    /// Whether line `line` is done already or a repeat.
    fn skip(
        &mut self,
        line: u64,
        (url, request): (Option<&Url>, Option<&LineRequest>),
        input: &str,
    ) -> Option<Skip> {
        let prior = self
            .done
            .as_ref()
            .map(|d| d.prior(line, url, request, input));
        match prior {
            Some(Prior::Record) => return Some(Skip::Resumed),
            Some(Prior::SameUrl(first)) if self.seen.is_some() => {
                return Some(Skip::Duplicate(first));
            }
            _ => {}
        }
        let seen = self.seen.as_mut()?;
        url.and_then(|u| seen.first_line(u, request, line))
            .map(Skip::Duplicate)
    }
}
