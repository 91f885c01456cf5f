//! The command line (README "Options"): every option, its type, its default and the
//! doc comment that becomes `--help`.
//!
//! Values are parsed into their final types here (durations, byte counts,
//! header pairs), so a bad value is a usage error (exit 2) that names the
//! option before any request is sent. Cross-option checks live in
//! `config.rs`.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Arg, Parser};
use reqwest::header::{HeaderName, HeaderValue};

mod crawl;
mod examples;
mod requests;

pub use examples::EXAMPLES;

pub use crawl::CrawlArgs;
pub use requests::RequestArgs;

use crate::input::shard::ShardSpec;
use crate::output::progress::ProgressMode;
use crate::output::writer::Format;
use crate::plan::Select;

/// The most worker threads `--threads` accepts.
pub const MAX_THREADS: usize = 4096;

/// A concurrent web scraper: a list of URLs in, one JSON record per URL out.
#[derive(Parser, Debug, Clone)]
#[command(name = "scrape", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// URL lists, one URL a line, or a request as JSON: {"url", "method", "headers", "body"}
    /// (`-` is standard input). With none, standard input is read when it is not a terminal.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Worker threads, 1 to 4096: at most this many requests are in flight
    /// at once. 1 is the sequential baseline.
    #[arg(short = 't', long, value_name = "N", default_value = "16", value_parser = parse_threads, allow_negative_numbers = true)]
    pub threads: NonZeroUsize,

    /// Write records to PATH instead of standard output. A device, pipe or
    /// FIFO (/dev/null, >(gzip > out.gz)) is written as a stream: not
    /// truncated, locked or read back (so no --resume on it).
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Output format: JSON Lines (one record a line) or one JSON document
    /// `{"results":[...],"summary":{...}}`.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,

    /// Total deadline per attempt, covering connect, headers and the whole
    /// body (seconds, fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_secs, allow_negative_numbers = true)]
    pub timeout: Duration,

    /// Deadline for establishing the connection (seconds, fractions allowed).
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_secs, allow_negative_numbers = true)]
    pub connect_timeout: Duration,

    /// Extra attempts after a transient failure (connect error, timeout,
    /// reset before the response, HTTP 429/502/503/504), with exponential
    /// backoff and jitter, honouring Retry-After up to 60 s.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = parse_count, allow_negative_numbers = true)]
    pub retries: u32,

    /// Follow at most N redirects; more is a `redirect` error. 0 does not
    /// follow redirects at all: the 3xx response is the record.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_count, allow_negative_numbers = true)]
    pub max_redirects: u32,

    /// Stop reading a body after this many decoded bytes and mark the record
    /// `truncated`. A number with an optional K, M or G, all powers of 1024
    /// (a trailing B or iB changes nothing: 10K = 10KB = 10KiB = 10240);
    /// fractions allowed (1.5M).
    #[arg(long, value_name = "BYTES", default_value = "10M", value_parser = parse_size, allow_negative_numbers = true)]
    pub max_body: u64,

    /// Extra request header 'Name: value' (repeatable). Authorization and
    /// Cookie are not sent to another host after a redirect.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<Header>,

    /// The User-Agent header [default: scrape/VERSION].
    #[arg(short = 'A', long, value_name = "STR", value_parser = parse_user_agent)]
    pub user_agent: Option<HeaderValue>,

    /// Accept invalid TLS certificates (expired, self-signed, wrong host).
    #[arg(long)]
    pub insecure: bool,

    /// Also trust the CA certificates in FILE (PEM, one or more), for sites
    /// signed by a private or company CA; a server whose own certificate is
    /// in FILE (a self-signed one, as `openssl req -x509` makes) is trusted
    /// for the names in it, as curl does. The system's CAs are trusted too,
    /// and SSL_CERT_FILE and SSL_CERT_DIR are honoured.
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,

    /// Send every request through the proxy at URL (http://host:port, with
    /// user:password@ for its credentials), instead of what HTTP_PROXY,
    /// HTTPS_PROXY, ALL_PROXY and NO_PROXY say.
    #[arg(short = 'x', long, value_name = "URL", conflicts_with = "no_proxy", value_parser = parse_proxy)]
    pub proxy: Option<url::Url>,

    /// Connect directly, whatever HTTP_PROXY, HTTPS_PROXY and ALL_PROXY say.
    #[arg(long)]
    pub no_proxy: bool,

    /// With -o PATH: keep PATH's complete records (a torn last line is cut
    /// away), skip the lines they cover, and append the rest. Refused when
    /// this run's options would give records another shape (--select
    /// names, --links, --metadata, --headers, --text, --markdown, --tls,
    /// --warc, --since).
    #[arg(long, requires = "output")]
    pub resume: bool,

    /// With --resume: also fetch again the lines whose record has a
    /// transient error (dns, connect, timeout, body, http, internal); at the
    /// end, each line keeps only its last record.
    #[arg(long, requires = "resume")]
    pub retry_errors: bool,

    /// At most N requests in flight to one host (scheme, host and port).
    /// Other hosts' URLs go ahead while a host is busy.
    #[arg(long, value_name = "N", value_parser = parse_at_least_one, allow_negative_numbers = true)]
    pub per_host: Option<NonZeroUsize>,

    /// At least MS milliseconds between request starts to one host. A
    /// Retry-After from a host also pauses it for every worker.
    #[arg(long, value_name = "MS", value_parser = parse_ms, allow_negative_numbers = true)]
    pub delay: Option<u64>,

    /// After N attempts in a row to one host got no answer (its name did not
    /// resolve, the connection failed, or nothing came before the
    /// deadline), stop asking it: its other URLs get that error without
    /// being fetched. 0 tries every URL.
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = parse_count, allow_negative_numbers = true)]
    pub max_host_errors: u32,

    #[command(flatten)]
    pub requests: RequestArgs,

    /// Obey each host's robots.txt (fetched once per host): a disallowed URL
    /// gets a `robots` error record and is not fetched; Crawl-delay is
    /// honoured like --delay. Rules are matched by the product token of
    /// the User-Agent, as crawlers take it: the NAME of `compatible;
    /// NAME/1.0` (`Mozilla/5.0 (compatible; mybot/1.0; +http://…)` is
    /// mybot), else the first product (scrape/0.1.0 is scrape); see
    /// --robots-agent.
    #[arg(long)]
    pub robots: bool,

    /// With --robots (or a crawl, which obeys robots.txt): match robots.txt
    /// groups as NAME (letters, digits, `-` and `_`, as RFC 9309 says),
    /// whatever -A sends.
    #[arg(long, value_name = "NAME", value_parser = parse_robots_agent)]
    pub robots_agent: Option<String>,

    /// Write records in input order instead of completion order, through a
    /// reorder window (see --order-window): one slow URL holds back the
    /// output behind it.
    #[arg(long)]
    pub ordered: bool,

    /// With --ordered: how many lines may be in flight past the oldest one
    /// not yet written [default: 4 x threads, at least 64].
    #[arg(long, value_name = "N", requires = "ordered", value_parser = parse_window, allow_negative_numbers = true)]
    pub order_window: Option<u64>,

    /// Take only the lines whose host hashes to shard K of N (0 <= K < N),
    /// to split one list across machines: fnv1a64(host) mod N, the same on
    /// every machine and version. `auto` takes K and N from the engine: a
    /// Slurm array task (SLURM_ARRAY_TASK_ID of the array's task count) or
    /// a Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX of
    /// SCRAPE_SHARDS). A typed N that disagrees with the Slurm array's size
    /// or with SCRAPE_SHARDS is refused.
    #[arg(long, value_name = "K/N|auto", value_parser = ShardParser, hide_possible_values = true)]
    pub shard: Option<ShardSpec>,

    #[command(flatten)]
    pub crawl: CrawlArgs,

    /// Fetch duplicate URLs again. By default a URL seen before in this run
    /// is not fetched again: its line gets a short record whose
    /// `duplicate_of` is the line of the first, counted as `duplicates`.
    #[arg(long)]
    pub no_dedupe: bool,

    /// Run the list with 1 thread, then with --threads N, and print a timing
    /// table (threads, wall s, URLs/s, speedup, efficiency) on standard
    /// output. Records are kept only with -o (those of the N-thread run).
    #[arg(long)]
    pub compare: bool,

    /// Progress bar on standard error: auto shows it only when standard error
    /// is a terminal; always prints a status line each second otherwise.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,

    /// No summary on standard error.
    #[arg(short, long)]
    pub quiet: bool,

    /// Also write the run summary as JSON to PATH.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,

    /// Exit with code 3 when any record has an error (HTTP 4xx/5xx are not
    /// errors: filter on `.ok` for those).
    #[arg(long)]
    pub fail_on_error: bool,

    /// Extract the text of every element matching the CSS selector into
    /// `fields.NAME`, an array in document order (repeatable). NAME=CSS@ATTR
    /// takes that attribute instead (`img=img@src`); URL attributes (href,
    /// src, ...) come resolved against the page and its base href.
    #[arg(long = "select", value_name = "NAME=CSS[@ATTR]")]
    pub selects: Vec<Select>,

    /// Extract the target of every link (an `a` element's href) into
    /// `links`: absolute (resolved against the page and its base href),
    /// without #fragment, http(s) only, each once.
    #[arg(long)]
    pub links: bool,

    /// Add `metadata` to each HTML record: what the page publishes for
    /// machines — canonical URL, hreflang alternates, feeds, icons, <meta>
    /// values, OpenGraph and Twitter cards, every JSON-LD object (@graph
    /// flattened) and schema.org microdata — read while the body streams,
    /// at most 256 KiB a page. A JSON-LD block that cannot be read is
    /// listed in `metadata.errors`. Null for non-HTML or no response.
    #[arg(long)]
    pub metadata: bool,

    /// Add the final response's headers to each record as `headers`: names
    /// lower-cased, every value an array of strings (`["text/html"]`), so
    /// every reader of the output infers one type.
    #[arg(long = "headers")]
    pub keep_headers: bool,

    /// Archive every HTTP exchange in PATH as WARC/1.1 (ISO 28500), each
    /// record gzip-compressed on its own (name it .warc.gz): a request and
    /// a response record per exchange (each redirect hop and retry is
    /// one), the payload as received (still content-encoded), with sha1
    /// digests. Each JSON record gets `warc` {file, offset, length} of its
    /// response record. With --resume, a torn last record is cut and the
    /// archive appended to.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["compare", "demo"])]
    pub warc: Option<PathBuf>,

    /// With --warc: once a file would pass BYTES, go on in the next
    /// numbered file: PATH a.warc.gz is written as a-00000.warc.gz,
    /// a-00001.warc.gz, ... A URL's records stay in one file. A number with
    /// an optional K, M or G, all powers of 1024 (a trailing B or iB changes
    /// nothing: 10K = 10KB = 10KiB = 10240); fractions allowed (1.5G).
    #[arg(long, value_name = "BYTES", requires = "warc", value_parser = parse_size)]
    pub warc_size: Option<u64>,

    /// Re-run against an earlier run's records (its -o output, JSON Lines
    /// or --format json; lines that are not records are counted on stderr,
    /// a PREV with no record is refused):
    /// a URL whose earlier record has an ETag or Last-Modified is asked
    /// with If-None-Match / If-Modified-Since, and a 304 Not Modified
    /// yields a record carrying the earlier page data (title, fields,
    /// links, text, sha256, ...) with this run's status and timings. Every
    /// record gets `unchanged`: true (a 304, or the same status and
    /// sha256), false, or null (not in PREV, or no response).
    #[arg(long, value_name = "PREV.jsonl")]
    pub since: Option<PathBuf>,

    /// Add `tls` to each HTTPS record: the TLS version and cipher suite,
    /// and the server certificate's subject, issuer, not_after, days_left
    /// (negative once expired) and sans. Version and cipher come from one
    /// extra handshake per server address (reqwest does not expose the
    /// connection's); null through a proxy. A certificate that fails
    /// verification fails its request: add --insecure to list expired or
    /// self-signed ones too.
    #[arg(long)]
    pub tls: bool,

    /// Extract the readable main content of each HTML page — the article,
    /// without navigation, banners, footers, comments or ads — as plain
    /// text into `text` (paragraphs separated by a blank line). Adds
    /// `byline`, `published` (ISO 8601), `site_name`, `excerpt`, and
    /// `extract_note` saying why a page has no text. Bodies are read up to
    /// --max-body and extracted on one thread per core.
    #[arg(long)]
    pub text: bool,

    /// Like --text, as Markdown into `markdown`: headings, lists, links
    /// (absolute), emphasis, quotes, code blocks (every <pre> fenced) and
    /// tables. With --text, both come from the same extraction.
    #[arg(long)]
    pub markdown: bool,

    /// Log every request to standard error (method, URL, status or error,
    /// time, redirects and retries): for debugging one URL or a few. Turns
    /// the progress bar off unless --progress always.
    #[arg(short, long)]
    pub verbose: bool,

    /// Show what scrape does without a list or the internet: start a local
    /// site of generated pages (some slow, a few broken), read it with 1
    /// thread and then with --threads N, and print the two side by side
    /// with a few of the records.
    #[arg(long, conflicts_with_all = ["files", "compare", "output", "resume"])]
    pub demo: bool,

    /// Print a shell completion script for SHELL to standard output and exit.
    #[arg(long, value_name = "SHELL", exclusive = true)]
    pub completions: Option<clap_complete::Shell>,

    /// Print scrape's man page (roff) to standard output and exit:
    /// `scrape --man > scrape.1 && man ./scrape.1`.
    #[arg(long, exclusive = true)]
    pub man: bool,
}

/// One `-H 'Name: value'` pair, validated.
#[derive(Debug, Clone)]
pub struct Header {
    /// The header's name.
    pub name: HeaderName,
    /// The header's value.
    pub value: HeaderValue,
}

fn parse_threads(s: &str) -> Result<NonZeroUsize, String> {
    let n = parse_at_least_one(s)?;
    if n.get() > MAX_THREADS {
        return Err(format!("must be 1 to {MAX_THREADS}"));
    }
    Ok(n)
}

/// A whole number of 1 or more.
fn parse_at_least_one(s: &str) -> Result<NonZeroUsize, String> {
    let n = whole(s)?;
    let n = usize::try_from(n).map_err(|_| format!("'{s}' is too large"))?;
    NonZeroUsize::new(n).ok_or_else(|| "must be at least 1".to_string())
}

/// `--order-window`: a whole number of 1 or more.
fn parse_window(s: &str) -> Result<u64, String> {
    match whole(s)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

/// A count that may be 0 (`--retries`, `--max-redirects`).
fn parse_count(s: &str) -> Result<u32, String> {
    u32::try_from(whole(s)?).map_err(|_| format!("'{s}' is too large"))
}

/// `--delay`: whole milliseconds.
fn parse_ms(s: &str) -> Result<u64, String> {
    whole(s).map_err(|_| format!("'{s}' is not a whole number of milliseconds"))
}

/// A whole number of 0 or more, with a message a person can read.
fn whole(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') && t[1..].chars().all(|c| c.is_ascii_digit()) && t.len() > 1 {
        return Err(format!(
            "'{s}' is negative: give a whole number of 0 or more"
        ));
    }
    t.parse()
        .map_err(|_| format!("'{s}' is not a whole number"))
}

/// Seconds as a positive decimal number: `10`, `0.5`.
pub fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(format!("'{s}' is not a positive number of seconds"));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| format!("'{s}' is too large"))
}

/// A byte count: a number with an optional K, M or G suffix, all powers of
/// 1024, a trailing `B` or `iB` changing nothing (`10K` = `10KB` = `10KiB`),
/// `--shard`: K/N or `auto`; `auto` is offered by shell completion.
#[derive(Clone)]
struct ShardParser;

impl clap::builder::TypedValueParser for ShardParser {
    type Value = ShardSpec;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<ShardSpec, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(clap::error::ErrorKind::InvalidUtf8, "--shard: not UTF-8\n")
        })?;
        text.parse::<ShardSpec>().map_err(|e| {
            let name = arg.map_or("--shard".to_string(), |a| a.to_string());
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value '{text}' for '{name}': {e}\n"),
            )
            .with_cmd(cmd)
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(std::iter::once(
            clap::builder::PossibleValue::new("auto"),
        )))
    }
}

/// A robots.txt product token: letters, digits, `-` and `_`.
fn parse_robots_agent(s: &str) -> Result<String, String> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if s.is_empty() || !s.chars().all(valid) {
        return Err(format!(
            "{s:?} is not a robots.txt agent name: letters, digits, - and _ only (mybot, not mybot/1.0)"
        ));
    }
    Ok(s.to_string())
}

/// fractions allowed (`1.5M`): `4096`, `512K`, `10M`, `1GiB`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    let body = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (digits, shift) = match body.chars().last() {
        Some('K') => (&body[..body.len() - 1], 10),
        Some('M') => (&body[..body.len() - 1], 20),
        Some('G') => (&body[..body.len() - 1], 30),
        _ => (body, 0),
    };
    let digits = digits.trim();
    let bad = || format!("'{s}' is not a size (try 4096, 512K, 1.5M, 1G)");
    if !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad());
    }
    if let Ok(n) = digits.parse::<u64>() {
        return n
            .checked_mul(1u64 << shift)
            .ok_or_else(|| format!("'{s}' is too large"));
    }
    let n: f64 = digits.parse().map_err(|_| bad())?;
    let bytes = n * (1u64 << shift) as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("'{s}' is too large"));
    }
    Ok(bytes as u64)
}

fn parse_header(s: &str) -> Result<Header, String> {
    let (name, value) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}' is not of the form 'Name: value'"))?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("'{}' is not a valid header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of '{name}' has characters a header cannot carry"))?;
    Ok(Header { name, value })
}

fn parse_proxy(s: &str) -> Result<url::Url, String> {
    let with_scheme = if s.contains("://") {
        s.to_string()
    } else {
        format!("http://{s}")
    };
    let url =
        url::Url::parse(&with_scheme).map_err(|e| format!("'{s}' is not a proxy URL ({e})"))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        _ => Err(format!("'{s}' is not an http:// or https:// proxy")),
    }
}

fn parse_user_agent(s: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(s).map_err(|_| "has characters a header cannot carry".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("scrape").chain(args.iter().copied()))
    }

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_match_the_spec() {
        let cli = parse(&["urls.txt"]).unwrap();
        assert_eq!(cli.threads.get(), 16);
        assert_eq!(cli.timeout, Duration::from_secs(10));
        assert_eq!(cli.connect_timeout, Duration::from_secs(5));
        assert_eq!(cli.retries, 2);
        assert_eq!(cli.max_redirects, 10);
        assert_eq!(cli.max_body, 10 << 20);
        assert_eq!(cli.format, Format::Jsonl);
        assert_eq!(cli.progress, ProgressMode::Auto);
        assert!(!cli.no_dedupe && !cli.compare && !cli.quiet && !cli.fail_on_error);
    }

    #[test]
    fn threads_must_be_between_1_and_the_maximum() {
        assert!(parse(&["-t", "0"]).is_err());
        assert!(parse(&["-t", "x"]).is_err());
        assert!(parse(&["-t", "5000"]).is_err());
        assert_eq!(parse(&["-t", "64"]).unwrap().threads.get(), 64);
    }

    /// The message clap gives for a bad value of `option`.
    fn message(args: &[&str]) -> String {
        parse(args).unwrap_err().to_string()
    }

    #[test]
    fn bad_numbers_are_said_in_words() {
        for (args, says) in [
            (&["--per-host", "0"][..], "must be at least 1"),
            (&["--order-window", "0", "--ordered"], "must be at least 1"),
            (
                &["--timeout", "-1"],
                "'-1' is not a positive number of seconds",
            ),
            (
                &["--connect-timeout", "0"],
                "'0' is not a positive number of seconds",
            ),
            (&["--retries", "-1"], "'-1' is negative"),
            (&["--max-redirects", "x"], "'x' is not a whole number"),
            (
                &["--delay", "-5"],
                "'-5' is not a whole number of milliseconds",
            ),
            (&["-t", "-2"], "'-2' is negative"),
            (&["-t", "9999"], "must be 1 to 4096"),
        ] {
            let text = message(args);
            assert!(text.contains(says), "{args:?}: {text}");
            assert!(
                !text.contains("non-zero type") && !text.contains("18446744073709551615"),
                "{text}"
            );
            assert!(
                !text.contains("-- -"),
                "no hint to pass the value after --: {text}"
            );
        }
    }

    #[test]
    fn help_gives_the_range_of_threads() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("1 to 4096"), "{help}");
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("10m"), Ok(10 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2KB"), Ok(2048));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("-1K").is_err());
        assert!(parse_size("99999999999999G").is_err());
        assert_eq!(parse_size("1.5M"), Ok(1_572_864));
        assert_eq!(parse_size("10KiB"), parse_size("10K"));
        assert_eq!(parse_size("0.5k"), Ok(512));
        assert!(parse_size(".5K").is_err());
        assert!(parse_size("NaNK").is_err());
    }

    #[test]
    fn seconds_are_positive_and_may_be_fractional() {
        assert_eq!(parse_secs("0.5"), Ok(Duration::from_millis(500)));
        assert!(parse_secs("0").is_err());
        assert!(parse_secs("-3").is_err());
        assert!(parse_secs("NaN").is_err());
        assert!(parse_secs("soon").is_err());
    }

    #[test]
    fn headers_are_validated() {
        let h = parse_header("Authorization: Bearer x").unwrap();
        assert_eq!(h.name, "authorization");
        assert_eq!(h.value, "Bearer x");
        assert!(parse_header("no colon").is_err());
        assert!(parse_header("bad name: v").is_err());
        assert!(parse(&["-H", "X-Ok: 1", "-H", "X-Two: 2"]).is_ok());
    }

    #[test]
    fn selects_links_and_verbose_parse() {
        let cli = parse(&["--select", "h=h1", "--select", "i=img@src", "--links", "-v"]).unwrap();
        assert_eq!(cli.selects.len(), 2);
        assert_eq!(cli.selects[1].attr.as_deref(), Some("src"));
        assert!(cli.links && cli.verbose);
        let e = parse(&["--select", "x=div >> p"]).unwrap_err().to_string();
        assert!(e.contains("div >> p"), "{e}");
    }

    #[test]
    fn completions_and_man_stand_alone() {
        assert!(
            parse(&["--completions", "zsh"])
                .unwrap()
                .completions
                .is_some()
        );
        assert!(parse(&["--man"]).unwrap().man);
        assert!(parse(&["--completions", "bash", "urls.txt"]).is_err());
        assert!(parse(&["--completions", "tcsh"]).is_err());
    }

    #[test]
    fn shard_completes_auto_and_sizes_are_documented_alike() {
        let mut script = Vec::new();
        let mut cmd = Cli::command();
        clap_complete::generate(clap_complete::Shell::Bash, &mut cmd, "scrape", &mut script);
        let script = String::from_utf8(script).unwrap();
        let at = script.find("--shard)").expect("a --shard case");
        assert!(
            script[at..].lines().nth(1).unwrap().contains("\"auto\""),
            "{}",
            &script[at..at + 200]
        );
        assert!(matches!(
            parse(&["a", "--shard", "auto"]).unwrap().shard,
            Some(ShardSpec::Auto)
        ));
        assert!(parse(&["a", "--shard", "1/4"]).is_ok());
        assert!(parse(&["a", "--shard", "4/4"]).is_err());
        let cmd = Cli::command();
        let help = |name: &str| {
            let arg = cmd.get_arguments().find(|a| a.get_id() == name).unwrap();
            arg.get_help().unwrap().to_string()
        };
        let suffixes = "A number with an optional K, M or G, all powers of 1024";
        assert!(help("max_body").contains(suffixes));
        assert!(help("warc_size").contains(suffixes));
    }

    #[test]
    fn formats_and_progress_modes_parse() {
        assert_eq!(parse(&["--format", "json"]).unwrap().format, Format::Json);
        assert!(parse(&["--format", "xml"]).is_err());
        assert_eq!(
            parse(&["--progress", "never"]).unwrap().progress,
            ProgressMode::Never
        );
    }
}
