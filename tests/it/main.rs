//! The integration tests, in one binary (as ripgrep and cargo do): the
//! support code (`support/`: local servers, the binary as a command) is
//! compiled and linked once, not once per file. Each module is one area;
//! `cargo test --test it cli::` runs one of them.
//!
//! The peak-memory cases stay in a binary of their own, `tests/memory.rs`:
//! they bound the child's peak RSS from `wait4`, which on Linux also covers
//! the test process's own peak at the moment of spawning; alone in a
//! binary and run one at a time, that share stays small.

mod support;

mod cli;
mod cookbook;
mod crawl;
mod deploy;
mod extract;
mod faults;
mod fingerprints;
mod readable;
mod requests;
mod safety;
mod scale;
mod since;
mod structure;
mod timings;
mod tls;
mod warc;
mod workers;
