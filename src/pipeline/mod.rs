//! One pass over the lists: the reader, the pool of workers, and the
//! aggregator they feed (docs/architecture.md).
//!
//! - [`pass`]: what a run shares ([`pass::Run`]), one pass
//!   ([`pass::Pipeline`]) and two passes, 1 thread then N, for `--compare`
//!   and `--demo` ([`pass::twice`]);
//! - [`reader`]: lists in, jobs (or records of lines that need no request)
//!   out;
//! - [`pool`]: the worker threads, their idle count and the job queue;
//! - `crew`: what the workers share, built from the configuration;
//! - `worker`: one URL's path, top to bottom.
//!
//! What flows between them is `crate::flow`.

mod crawler;
mod crew;
pub mod pass;
pub mod pool;
pub mod reader;
mod worker;
