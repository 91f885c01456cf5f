//! From parsed options to a validated run configuration, built once: the
//! checks that involve several options, and the one shared HTTP client.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::cli::Cli;
use crate::crawl::Rules;
use crate::error::Fatal;
use crate::fetch::FetchSettings;
use crate::fetch::client::ClientSettings;
use crate::fetch::proxy::Proxies;
use crate::files;
use crate::input::request::RequestBody;
use crate::input::shard::{Shard, engine};
use crate::output::progress::ProgressMode;
use crate::output::writer::Format;
use crate::plan::Extraction;
use crate::plan::Wanted;
use crate::politeness::Politeness;
use crate::politeness::robots;

/// Everything a run needs, validated.
pub struct Config {
    /// The input lists (empty: standard input).
    pub files: Vec<PathBuf>,
    /// Worker threads.
    pub threads: usize,
    /// Where records go (None: standard output).
    pub output: Option<PathBuf>,
    /// How records are written.
    pub format: Format,
    /// When to draw progress.
    pub progress: ProgressMode,
    /// No summary on stderr.
    pub quiet: bool,
    /// Where to write the summary as JSON.
    pub summary_json: Option<PathBuf>,
    /// Exit 3 when a record has an error.
    pub fail_on_error: bool,
    /// Skip URLs seen before.
    pub dedupe: bool,
    /// Keep the output's records and fetch only the rest.
    pub resume: bool,
    /// With `resume`: fetch lines with transient errors again.
    pub retry_errors: bool,
    /// Only this shard of the lines.
    pub shard: Option<Shard>,
    /// `--ordered`: the reorder window's size.
    pub order_window: Option<u64>,
    /// `--per-host`, `--delay`: per-host rules, when any is given (or
    /// `--robots`, whose Crawl-delay needs them).
    pub politeness: Option<Politeness>,
    /// `--robots`: obey robots.txt.
    pub robots: bool,
    /// The name robots.txt groups are matched by: `--robots-agent`, else
    /// the User-Agent's product token.
    pub robots_agent: String,
    /// `--max-host-errors`: unanswered attempts in a row before a host is
    /// no longer asked (0: never).
    pub max_host_errors: u32,
    /// Run with 1 thread, then N, and compare.
    pub compare: bool,
    /// `--demo`: the same, on a local made-up site.
    pub demo: bool,
    /// `--since`: the earlier run's records.
    pub since: Option<PathBuf>,
    /// `--warc` and `--warc-size`: the archive, and where files roll over.
    pub warc: Option<(PathBuf, Option<u64>)>,
    /// What each fetch needs.
    pub fetch: FetchSettings,
    /// How to build the HTTP clients.
    pub client: ClientSettings,
    /// `--follow` / `--sitemap`: the crawl's rules.
    pub crawl: Option<Arc<Rules>>,
    /// `--rate`: requests a second, all hosts together.
    pub rate: Option<f64>,
    /// `--auto-throttle`: the target requests in flight per host.
    pub auto_throttle: Option<f64>,
}

/// The smallest `--warc-size`: below it, a file would hold little more
/// than its `warcinfo` record.
const MIN_WARC_SIZE: u64 = 1024;

impl Config {
    /// Validates `cli` once, into what the run needs.
    pub fn from_cli(cli: &Cli) -> Result<Config, Fatal> {
        check_combinations(cli)?;
        Ok(Config {
            files: cli.files.clone(),
            threads: cli.threads.get(),
            output: cli.output.clone(),
            format: cli.format,
            // -v writes lines to stderr; a bar redrawn over them would
            // garble both.
            progress: match cli.progress {
                ProgressMode::Auto if cli.verbose => ProgressMode::Never,
                mode => mode,
            },
            quiet: cli.quiet,
            summary_json: cli.summary_json.clone(),
            fail_on_error: cli.fail_on_error,
            dedupe: !cli.no_dedupe,
            resume: cli.resume,
            retry_errors: cli.retry_errors,
            shard: cli
                .shard
                .map(|spec| engine::resolve(spec, &|name| std::env::var(name).ok()))
                .transpose()
                .map_err(Fatal::Usage)?,
            robots: cli.robots || (cli.crawl.any() && !cli.crawl.no_robots),
            robots_agent: match &cli.robots_agent {
                Some(name) => name.clone(),
                None => robots::product_token(user_agent(cli).to_str().unwrap_or("scrape")),
            },
            max_host_errors: cli.max_host_errors,
            politeness: politeness(cli),
            order_window: cli.ordered.then(|| {
                cli.order_window
                    .unwrap_or((4 * cli.threads.get() as u64).max(64))
            }),
            compare: cli.compare,
            demo: cli.demo,
            warc: cli.warc.clone().map(|path| (path, cli.warc_size)),
            since: cli.since.clone(),
            fetch: fetch_settings(cli)?,
            client: client_settings(cli)?,
            crawl: crawl_rules(cli),
            rate: cli.requests.rate,
            auto_throttle: cli
                .requests
                .auto_throttle
                .then(|| cli.per_host.map_or(1.0, |n| n.get() as f64)),
        })
    }
}

/// The options that make no sense together.
fn check_combinations(cli: &Cli) -> Result<(), Fatal> {
    if cli.compare && reads_stdin(&cli.files) {
        return Err(Fatal::Usage(
            "--compare reads the list twice, so it needs a FILE, not standard input".into(),
        ));
    }
    if cli.resume && (cli.format != Format::Jsonl || cli.compare) {
        return Err(Fatal::Usage(
            "--resume appends JSON Lines to -o PATH: it cannot go with --format json or --compare"
                .into(),
        ));
    }
    if cli.output.as_deref() == Some(Path::new("-")) {
        return Err(Fatal::Usage(
            "-o - is standard output, which is the default: leave -o out".into(),
        ));
    }
    if cli.warc.as_deref() == Some(Path::new("-")) {
        return Err(Fatal::Usage(
            "--warc needs a file: the archive is appended to and read back by --resume".into(),
        ));
    }
    let streams = [("-o", &cli.output), ("--warc", &cli.warc)];
    for (option, path) in streams {
        let Some(path) = path.as_deref().filter(|p| files::is_stream(p)) else {
            continue;
        };
        if cli.resume {
            return Err(Fatal::Usage(format!(
                "--resume reads back and appends to {option} {}, which is a stream (a device \
                 or a pipe): resume needs {option} to be a regular file",
                path.display()
            )));
        }
        if option == "--warc" && cli.warc_size.is_some() {
            return Err(Fatal::Usage(format!(
                "--warc-size rolls over to numbered files beside --warc {}, which is a \
                 stream (a device or a pipe): give --warc a file, or leave --warc-size out",
                path.display()
            )));
        }
    }
    check_requests(cli)
}

/// The checks of what requests are sent: `--since` needs GET or HEAD,
/// `--robots-agent` a run that reads robots.txt, `--warc-size` a sane size.
fn check_requests(cli: &Cli) -> Result<(), Fatal> {
    let robots = cli.robots || (cli.crawl.any() && !cli.crawl.no_robots);
    let safe = matches!(method(cli), reqwest::Method::GET | reqwest::Method::HEAD);
    if cli.since.is_some() && !safe {
        return Err(Fatal::Usage(format!(
            "--since re-asks pages with If-None-Match / If-Modified-Since, which only \
             GET and HEAD can be: not {}",
            method(cli)
        )));
    }
    if cli.robots_agent.is_some() && !robots {
        return Err(Fatal::Usage(
            "--robots-agent names the crawler robots.txt is read as: it needs --robots, \
             or --follow / --sitemap without --no-robots"
                .into(),
        ));
    }
    if cli.warc_size.is_some_and(|size| size < MIN_WARC_SIZE) {
        return Err(Fatal::Usage(format!(
            "--warc-size is the size at which a file rolls over: at least {} KiB",
            MIN_WARC_SIZE / 1024
        )));
    }
    Ok(())
}

/// The crawl's rules, when the run crawls.
fn crawl_rules(cli: &Cli) -> Option<Arc<Rules>> {
    let c = &cli.crawl;
    c.any().then(|| {
        Arc::new(Rules {
            follow: c.follow,
            sitemap: c.sitemap,
            scope: c.scope,
            depth: c.depth,
            max_pages: c.max_pages,
            max_per_host: c.max_per_host,
            include: c.include.clone(),
            exclude: c.exclude.clone(),
            allow_private: c.allow_private,
            sitemap_since: c.sitemap_since,
            frontier_memory: c.frontier_memory,
        })
    })
}

/// Per-host rules, when any is asked (`--robots` too: its Crawl-delay
/// needs them, and a crawl obeys robots.txt unless `--no-robots`).
fn politeness(cli: &Cli) -> Option<Politeness> {
    let robots = cli.robots || (cli.crawl.any() && !cli.crawl.no_robots);
    (cli.per_host.is_some() || cli.delay.is_some() || robots).then(|| Politeness {
        per_host: cli.per_host.map_or(usize::MAX, |n| n.get()),
        delay: Duration::from_millis(cli.delay.unwrap_or(0)),
    })
}

/// Which proxy requests go through.
fn proxies(cli: &Cli) -> Proxies {
    match (&cli.proxy, cli.no_proxy) {
        (_, true) => Proxies::Direct,
        (Some(url), false) => Proxies::All(url.clone()),
        (None, false) => Proxies::from_env(),
    }
}

/// What every fetch needs: deadlines, retries, headers, what to extract.
fn fetch_settings(cli: &Cli) -> Result<FetchSettings, Fatal> {
    let mut extraction = Extraction::new(cli.selects.clone(), cli.links).map_err(Fatal::Usage)?;
    extraction.tls = cli.tls;
    extraction.metadata = cli.metadata;
    extraction.since = cli.since.is_some();
    extraction.follow = cli.crawl.follow;
    extraction.method = (cli.requests.method.is_some()
        || cli.requests.data.is_some()
        || cli.requests.json.is_some())
    .then(|| method(cli).to_string());
    extraction.crawl = cli.crawl.any();
    extraction.content = Wanted {
        text: cli.text,
        markdown: cli.markdown,
    };
    let mut headers = HeaderMap::new();
    for h in &cli.headers {
        headers.append(h.name.clone(), h.value.clone());
    }
    if cli.requests.json.is_some() && !headers.contains_key(reqwest::header::ACCEPT) {
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok(FetchSettings {
        timeout: cli.timeout,
        connect_timeout: cli.connect_timeout,
        retries: cli.retries,
        max_redirects: cli.max_redirects,
        max_body: cli.max_body,
        headers,
        extraction: Arc::new(extraction),
        verbose: cli.verbose,
        keep_headers: cli.keep_headers,
        proxies: proxies(cli),
        warc: cli.warc.is_some(),
        user_agent: user_agent(cli),
        tls: cli.tls,
        method: method(cli),
        body: request_body(cli)?.map(Arc::new),
    })
}

/// The request method: `-X`, else POST with a body, else GET.
fn method(cli: &Cli) -> reqwest::Method {
    match (
        &cli.requests.method,
        cli.requests.data.is_some() || cli.requests.json.is_some(),
    ) {
        (Some(m), _) => m.clone(),
        (None, true) => reqwest::Method::POST,
        (None, false) => reqwest::Method::GET,
    }
}

/// `--data` or `--json`: the body, read from @FILE when so given.
fn request_body(cli: &Cli) -> Result<Option<RequestBody>, Fatal> {
    let (text, json) = match (&cli.requests.data, &cli.requests.json) {
        (Some(d), _) => (d, false),
        (None, Some(j)) => (j, true),
        (None, None) => return Ok(None),
    };
    let option = if json { "--json" } else { "--data" };
    let bytes = match text.strip_prefix('@') {
        Some(path) => std::fs::read(path)
            .map_err(|e| Fatal::Setup(format!("{option} {text}: cannot read {path}: {e}")))?,
        None => text.clone().into_bytes(),
    };
    if json && let Err(e) = serde_json::from_slice::<serde_json::Value>(&bytes) {
        return Err(Fatal::Usage(format!("--json: the body is not JSON ({e})")));
    }
    let content_type = match json {
        true => "application/json",
        false => "application/x-www-form-urlencoded",
    };
    Ok(Some(RequestBody {
        bytes,
        content_type: HeaderValue::from_static(content_type),
    }))
}

/// The User-Agent requests go out with: `-A`, or scrape's own.
fn user_agent(cli: &Cli) -> HeaderValue {
    cli.user_agent
        .clone()
        .unwrap_or_else(|| HeaderValue::from_static(concat!("scrape/", env!("CARGO_PKG_VERSION"))))
}

/// What the HTTP clients are built from.
fn client_settings(cli: &Cli) -> Result<ClientSettings, Fatal> {
    Ok(ClientSettings {
        user_agent: user_agent(cli),
        connect_timeout: cli.connect_timeout,
        timeout: cli.timeout,
        insecure: cli.insecure,
        extra_roots: match &cli.cacert {
            Some(path) => read_roots(path)?,
            None => Vec::new(),
        },
        proxies: proxies(cli),
        tls_info: cli.tls,
        http2: cli.requests.http2,
        resolve: cli.requests.resolve.clone(),
    })
}

/// The certificates of a `--cacert` PEM file: unreadable is an input
/// error (exit 1), no certificate in it a usage error (exit 2).
fn read_roots(path: &Path) -> Result<Vec<CertificateDer<'static>>, Fatal> {
    let pem = std::fs::read(path).map_err(|e| Fatal::Input {
        path: path.to_path_buf(),
        source: e,
    })?;
    let roots: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .filter_map(Result::ok)
        .collect();
    if roots.is_empty() {
        return Err(Fatal::Usage(format!(
            "--cacert {}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(roots)
}

fn reads_stdin(files: &[PathBuf]) -> bool {
    files.is_empty() || files.iter().any(|f| f == Path::new("-"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config, Fatal> {
        let cli = Cli::try_parse_from(std::iter::once("scrape").chain(args.iter().copied()))
            .map_err(|e| Fatal::Usage(e.to_string()))?;
        Config::from_cli(&cli)
    }

    #[test]
    fn compare_needs_a_file() {
        assert!(matches!(config(&["--compare"]), Err(Fatal::Usage(_))));
        assert!(matches!(config(&["--compare", "-"]), Err(Fatal::Usage(_))));
        assert!(config(&["--compare", "urls.txt"]).is_ok());
    }

    #[test]
    fn resume_needs_an_output_file_in_json_lines() {
        assert!(config(&["a", "--resume"]).is_err());
        assert!(matches!(
            config(&["a", "--resume", "-o", "o", "--format", "json"]),
            Err(Fatal::Usage(_))
        ));
        assert!(config(&["a", "--resume", "-o", "o"]).is_ok_and(|c| c.resume));
    }

    #[test]
    fn headers_are_kept_in_order() {
        let c = config(&["a", "-H", "X-A: 1", "-H", "X-A: 2", "--no-dedupe"]).unwrap();
        let values: Vec<_> = c.fetch.headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert!(!c.dedupe);
    }
}
