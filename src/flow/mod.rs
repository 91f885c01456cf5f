//! What flows between the stages, and how: the protocol the pipeline
//! (`crate::pipeline`: reader, pool, workers) and the aggregator
//! (`crate::output`) both speak, owned by neither.
//!
//! ```text
//!  pipeline/reader.rs       pipeline/pool.rs                   output/
//!  lists ──Task──▶ (job channel, or politeness::HostQueue) ──▶ N workers ──Msg──▶ aggregator
//!    │                                                                        ▲
//!    └───────────── invalid lines, duplicate URLs, resumed lines ────────────┘
//! ```
//!
//! - [`Seq`]: the number the reader gives every line it hands on, so that
//!   `--ordered` can put results back in input order ([`window`] holds the
//!   reader back when the aggregator's reorder buffer is full);
//! - [`Task`]: a job with its number, as workers receive it;
//! - [`Msg`]: what the aggregator receives;
//! - [`Pacer`]: how both ends of a busy channel wait — napping a
//!   millisecond and taking a batch rather than one wake-up per item.

pub mod window;

use std::time::{Duration, Instant};

use crate::archive::Blob;
use crate::crawl::{Dropped, Lineage};
use crate::error::Fatal;
use crate::input::Job;
use crate::record::Record;

/// A line's place among all lines the reader handed on (records and
/// resumed lines alike), counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seq(pub u64);

/// A URL to fetch, numbered.
#[derive(Debug)]
pub struct Task {
    /// Its place in the input.
    pub seq: Seq,
    /// What to fetch.
    pub job: Job,
    /// In a crawl: where the job came from (`crate::crawl`).
    pub lineage: Option<Box<Lineage>>,
}

/// What the aggregator receives.
pub enum Msg {
    /// A finished record for line `Seq`, and beside it (`--warc`) its
    /// WARC records, compressed, which the aggregator appends to the
    /// archive before the record.
    Record(Seq, Box<Record>, Option<Box<Blob>>),
    /// A line the resumed output already has was skipped.
    Resumed(Seq),
    /// This many lines belong to other shards (`--shard`), sent at the end.
    OtherShards(u64),
    /// A crawl's links not followed, by rule, sent at the end.
    Dropped(Dropped),
    /// Reading an input list failed: the run must end.
    Fatal(Fatal),
}

/// When items come faster than one per this, an end that would block naps
/// this long first and then takes what has gathered: a blocked receiver
/// costs the sender a wake-up call per item, a napping one one wake-up per
/// batch.
pub const NAP: Duration = Duration::from_millis(1);

/// The napping policy of one end of a channel: after a wait that ended
/// within [`NAP`] (items are coming fast), the next wait starts with a nap.
#[derive(Debug, Default)]
pub struct Pacer {
    busy: bool,
}

impl Pacer {
    /// Runs `wait` (a blocking send or receive), napping first when items
    /// have been coming fast; `at_most` caps the nap (a deadline is near).
    pub fn wait<T>(&mut self, at_most: Duration, wait: impl FnOnce() -> T) -> T {
        if self.busy {
            std::thread::sleep(NAP.min(at_most));
        }
        let started = Instant::now();
        let result = wait();
        self.busy = started.elapsed() < NAP;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_wait_makes_the_next_one_nap() {
        let mut pacer = Pacer::default();
        let first = Instant::now();
        pacer.wait(NAP, || ());
        assert!(pacer.busy, "an instant wait means items come fast");
        pacer.wait(NAP, || ());
        assert!(first.elapsed() >= NAP, "the second wait napped first");
        pacer.wait(NAP, || std::thread::sleep(2 * NAP));
        assert!(!pacer.busy, "a long wait means items come slowly");
    }
}
