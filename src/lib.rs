//! `scrape`: a concurrent web scraper — a list of URLs in, one JSON record
//! per URL out.
//!
//! ```text
//!  input/            pipeline/reader.rs   pipeline/pool.rs          fetch/ + html/          output/
//!  lists ──lines──▶  reader ──(bounded)──▶ N worker threads ──────▶ request, redirects, ──▶ aggregator ──▶ JSON
//!  (dedupe, resume,  (numbers lines,      (ask politeness/ before   retries, body streamed  (one thread: writes
//!   shards)           invalid lines)       and after each fetch)     through the parser)     every record whole,
//!                                                                                            progress, summary)
//! ```
//!
//! - [`cli`] parses the command line; [`config`] validates it once;
//!   [`limits`] checks the open-files limit; [`run`] builds a pipeline per
//!   pass and runs it.
//! - [`input`] reads the lists and holds the line filters; [`pipeline`] is
//!   the protocol between the stages (messages, sequence numbers, pacing)
//!   with the reader and the worker pool; [`politeness`] is the gate
//!   workers ask (robots.txt, per-host slots, Retry-After).
//! - [`fetch`] turns one URL into a result, within the connection budget;
//!   [`html`] decodes and parses the body as it streams; [`record`] is the
//!   output schema.
//! - [`extract`] (`--text`, `--markdown`): the page's readable main content,
//!   built on a pool of one thread per core that workers hand kept bodies
//!   to; the pool sends the records on to the aggregator.
//! - [`output`] is the aggregator, with the writer, statistics, progress
//!   and reordering; [`signals`] handles Ctrl-C; [`error`] has the error
//!   kinds and exit codes.
//!
//! The contract (options, record, exit codes, guarantees) is README.md.
//! Modules are private: the binary uses [`run()`] and the types it returns.

mod archive;
mod budget;
mod cli;
mod config;
mod crawl;
mod demo;
mod error;
mod extract;
mod fetch;
mod files;
mod flow;
mod html;
mod input;
mod limits;
mod log;
mod manual;
mod output;
mod pipeline;
mod plan;
mod politeness;
mod record;
mod run;
mod signals;
mod since;
mod urls;

pub use cli::Cli;
pub use error::{Exit, Fatal};
pub use manual::render as manual;
pub use run::run;
