//! Errors and exit codes.
//!
//! Two kinds of failure exist and they never mix:
//! - a failure of one URL is data: an [`ErrorKind`] in that URL's record
//!   (docs/record.md), and the run goes on;
//! - a failure of the run itself is a [`Fatal`] error: the input cannot be
//!   read, the output cannot be written, a usage error found after parsing.
//!   It ends the run with an exit code of docs/record.md "Summary and exit codes".

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

/// Why one URL has no usable response (the record's `error.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The input line is not an http(s) URL; it was never fetched.
    InvalidUrl,
    /// The host name could not be resolved.
    Dns,
    /// The connection could not be established.
    Connect,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// A deadline passed (`--timeout` or `--connect-timeout`).
    Timeout,
    /// Too many redirects, a loop, or a redirect to a non-http(s) target.
    Redirect,
    /// The connection broke while reading the response.
    Body,
    /// The server broke the HTTP protocol.
    Http,
    /// A bug in scrape; the run went on without it.
    Internal,
    /// The host's robots.txt forbids it (`--robots`); never fetched.
    Robots,
    /// A sitemap (`--sitemap`) could not be read whole: broken XML, an
    /// entity it defines, past the protocol's limits, or listing itself.
    Sitemap,
}

impl ErrorKind {
    /// Every kind.
    #[cfg(test)]
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::InvalidUrl,
        ErrorKind::Dns,
        ErrorKind::Connect,
        ErrorKind::Tls,
        ErrorKind::Timeout,
        ErrorKind::Redirect,
        ErrorKind::Body,
        ErrorKind::Http,
        ErrorKind::Internal,
        ErrorKind::Robots,
        ErrorKind::Sitemap,
    ];

    /// The name used in JSON and in the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::Dns => "dns",
            ErrorKind::Connect => "connect",
            ErrorKind::Tls => "tls",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Redirect => "redirect",
            ErrorKind::Body => "body",
            ErrorKind::Http => "http",
            ErrorKind::Internal => "internal",
            ErrorKind::Robots => "robots",
            ErrorKind::Sitemap => "sitemap",
        }
    }
}

/// A record's `error` object: a kind for programs, a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchError {
    /// What went wrong, as one of a fixed set of kinds.
    pub kind: ErrorKind,
    /// What went wrong, in words.
    pub message: String,
}

impl FetchError {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        FetchError {
            kind,
            message: message.into(),
        }
    }
}

/// A failure that ends the whole run.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    /// An input list cannot be opened or read.
    #[error("cannot read {}: {source}", .path.display())]
    Input {
        /// The list's path (`-` for standard input).
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An input list is not text (an executable, an image, a compressed
    /// file).
    #[error("{} is not a list of URLs: it looks like {what}", .path.display())]
    NotAList {
        /// The list's path (`-` for standard input).
        path: PathBuf,
        /// What it looks like.
        what: String,
    },
    /// The output (records or summary) cannot be written.
    #[error("cannot write {}: {source}", .path.display())]
    Output {
        /// Where the output goes (`-` for standard output).
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The options make no sense together (found after parsing).
    #[error("{0}")]
    Usage(String),
    /// Setting up the run failed (thread pool, TLS backend).
    #[error("{0}")]
    Setup(String),
    /// An output would clobber an input or another output, or another run
    /// holds it.
    #[error("{0}")]
    Clash(String),
    /// The open-files limit cannot hold what `--threads` needs.
    #[error("{}", open_files(*.threads, *.need, *.limit, *.hard))]
    OpenFiles {
        /// `--threads`.
        threads: usize,
        /// Files needed at most.
        need: u64,
        /// The soft limit, raised as far as it would go.
        limit: u64,
        /// The hard limit.
        hard: u64,
        /// The most threads that fit.
        fits: usize,
    },
}

fn open_files(threads: usize, need: u64, limit: u64, hard: u64) -> String {
    let own = need.saturating_sub(2 * threads as u64);
    let hard = if hard == limit {
        " (its hard limit too)".to_string()
    } else {
        format!(" (hard limit {hard})")
    };
    format!(
        "--threads {threads} needs up to {need} open files (two sockets a worker, {own} for \
         scrape itself and its lists), but this process may open only {limit}{hard}"
    )
}

impl Fatal {
    /// The exit code for this failure.
    pub fn exit_code(&self) -> Exit {
        match self {
            Fatal::Usage(_) => Exit::Usage,
            _ => Exit::Fatal,
        }
    }

    /// A hint that helps the user fix it, if there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Fatal::Usage(_) => Some("see 'scrape --help'".into()),
            Fatal::NotAList { what, .. } if what.contains("UTF-16") => Some(
                "save the list as UTF-8 (iconv -f UTF-16 -t UTF-8 list.txt > list-utf8.txt)".into(),
            ),
            Fatal::NotAList { what, .. } if what.contains("compressed") => Some(
                "this looks like a binary file: decompress it first (zcat list.gz | scrape -)"
                    .into(),
            ),
            Fatal::NotAList { .. } => {
                Some("this looks like a binary file: give a text file with one URL a line".into())
            }
            Fatal::OpenFiles { need, fits, .. } => Some(format!(
                "raise the limit first (`ulimit -n {need}`; past the hard limit it takes root), \
                 or use at most --threads {fits}"
            )),
            _ => None,
        }
    }
}

/// The process exit codes (docs/record.md "Summary and exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every input line has its record.
    Success = 0,
    /// An input or output could not be used.
    Fatal = 1,
    /// A usage error.
    Usage = 2,
    /// `--fail-on-error` and some record has an error.
    RecordErrors = 3,
    /// Interrupted by Ctrl-C or SIGTERM.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// What a caught panic said (`panic!` with a message), for the record
/// that reports it.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_messages_are_kept() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(&*p), "boom 1");
        let p = std::panic::catch_unwind(|| std::panic::panic_any(7u8)).unwrap_err();
        assert_eq!(panic_message(&*p), "unknown panic");
    }

    #[test]
    fn exit_codes_are_those_of_the_spec() {
        assert_eq!(Exit::Success as u8, 0);
        assert_eq!(Exit::Fatal as u8, 1);
        assert_eq!(Exit::Usage as u8, 2);
        assert_eq!(Exit::RecordErrors as u8, 3);
        assert_eq!(Exit::Interrupted as u8, 130);
        assert_eq!(Fatal::Usage("x".into()).exit_code(), Exit::Usage);
        let io = std::io::Error::other("x");
        let fatal = Fatal::Input {
            path: "a".into(),
            source: io,
        };
        assert_eq!(fatal.exit_code(), Exit::Fatal);
    }

    #[test]
    fn kinds_serialize_as_the_spec_names() {
        for kind in ErrorKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
    }
}
