//! `scrape --man`: the manual page, complete without README.md (which
//! `cargo install` does not install): the options from the command line's
//! own doc comments, and the contract a script relies on — the record's
//! fields, the error kinds, the exit codes, the environment.

use std::io::{self, Write};

use clap::{Arg, ArgAction, CommandFactory};
use roff::{Roff, bold, roman};

use crate::cli::Cli;

/// The record's fields, in the order records write them, with what they
/// hold (a unit test checks them against the record).
pub const FIELDS: [(&str, &str); 42] = [
    (
        "url",
        "the URL fetched, absolute (a password shown as ***); null when the line is not a URL",
    ),
    ("input", "the line as written, trimmed"),
    (
        "file",
        "the list the line is in, as given (- for standard input)",
    ),
    ("line", "the line's number in its list, from 1"),
    (
        "duplicate_of",
        "a repeated URL: the line of its first record, which has the result; else null",
    ),
    (
        "final_url",
        "the URL of the final response, after redirects; null without a response",
    ),
    (
        "status",
        "the final response's status; null when no response came",
    ),
    (
        "ok",
        "true exactly when error is null and status is below 400",
    ),
    ("content_type", "the final response's Content-Type"),
    ("bytes", "decoded body bytes read"),
    ("truncated", "the body was cut at --max-body"),
    (
        "title",
        "the page's title (document.title); null for no title or not HTML",
    ),
    (
        "description",
        "the head's <meta name=description>; null when absent",
    ),
    ("lang", "the <html lang> attribute; null when absent"),
    ("redirects", "redirects followed"),
    (
        "location",
        "a redirect not followed (--max-redirects 0, a loop, the limit): its Location, absolute; else null",
    ),
    ("attempts", "attempts made; 0 when never fetched"),
    (
        "elapsed_ms",
        "milliseconds from the first attempt's start to the end",
    ),
    (
        "ttfb_ms",
        "milliseconds to the final response's headers; null without a response",
    ),
    (
        "http_version",
        "the final response's HTTP version (HTTP/1.1: scrape speaks HTTP/1.1 only; HTTP/1.0 from an old server); null without a response",
    ),
    ("ip", "the address that answered; null without a response"),
    ("etag", "the final response's ETag; null when absent"),
    (
        "last_modified",
        "the final response's Last-Modified; null when absent",
    ),
    (
        "sha256",
        "SHA-256 (hex) of the decoded body bytes read; null without a response",
    ),
    ("error", "null, or {\"kind\": KIND, \"message\": TEXT}"),
    ("fields", "with --select: NAME -> array of strings"),
    (
        "links",
        "with --links: the page's links, absolute, each once",
    ),
    (
        "metadata",
        "with --metadata: {canonical, alternates, feeds, icons, meta, opengraph, twitter, json_ld, microdata, errors} of an HTML page; null otherwise",
    ),
    (
        "headers",
        "with --headers: the final response's headers, names lower-cased, every value an array of strings",
    ),
    (
        "unchanged",
        "with --since: true when the page is as the earlier run saw it (a 304, or the same status and sha256), false when not, null when the earlier run has no record of it or no response came",
    ),
    (
        "tls",
        "with --tls: {version, cipher, subject, issuer, not_after, days_left, sans} of an HTTPS response; null otherwise",
    ),
    (
        "warc",
        "with --warc: {file, offset, length} of the response record in the archive; null without a response",
    ),
    (
        "page_type",
        "with --text or --markdown: article, forum, product, collection, listing, documentation or service; null for no HTML page",
    ),
    (
        "text",
        "with --text: the page's main content as plain text; null when none",
    ),
    (
        "markdown",
        "with --markdown: the same as Markdown; null when none",
    ),
    (
        "byline",
        "with --text or --markdown: the article's author line, or null",
    ),
    (
        "published",
        "with --text or --markdown: publication date, RFC 3339 (a date when only the date is known), or null",
    ),
    (
        "modified",
        "with --text or --markdown: last change, as published, or null",
    ),
    (
        "site_name",
        "with --text or --markdown: the site's name, or null",
    ),
    (
        "excerpt",
        "with --text or --markdown: the description or first paragraph, or null",
    ),
    (
        "language",
        "with --text or --markdown: the language of the text (ISO 639-1) by a detector; null when too short to tell",
    ),
    (
        "extract_note",
        "with --text or --markdown: why there is no text, or that it was cut; else null",
    ),
];

/// The error kinds and what each means.
pub const ERROR_KINDS: [(&str, &str); 10] = [
    (
        "invalid_url",
        "the line is not an http(s) URL; never fetched",
    ),
    ("dns", "the host name did not resolve"),
    ("connect", "the connection could not be made"),
    ("tls", "the TLS handshake failed (certificate, protocol)"),
    ("timeout", "--timeout or --connect-timeout passed"),
    (
        "redirect",
        "too many redirects, a loop, or a non-http(s) target",
    ),
    ("body", "the connection broke while the body was read"),
    (
        "http",
        "the server broke the protocol, or gave an empty reply, or a body scrape cannot decode",
    ),
    (
        "internal",
        "a bug in scrape: that URL failed, the run went on",
    ),
    (
        "robots",
        "with --robots: the host's robots.txt forbids the URL; never fetched",
    ),
];

const EXIT_STATUS: [(&str, &str); 5] = [
    (
        "0",
        "every input line has its record, whatever each record says",
    ),
    (
        "1",
        "fatal: an input cannot be read, an output cannot be written or is in use, or the open-files limit is too low",
    ),
    ("2", "usage error"),
    ("3", "--fail-on-error and at least one record has an error"),
    (
        "130",
        "interrupted (Ctrl-C, SIGTERM): finished records are written whole",
    ),
];

const ENVIRONMENT: [(&str, &str); 9] = [
    (
        "HTTP_PROXY, HTTPS_PROXY, ALL_PROXY",
        "the proxy for http, https, or both (lowercase names too); --proxy and --no-proxy override them",
    ),
    (
        "NO_PROXY",
        "hosts, domains (with their subdomains) and networks that go direct; * for all",
    ),
    (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "the CA certificates to trust instead of the system's (the bundled ones are trusted too)",
    ),
    (
        "SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT (or _MIN, _MAX)",
        "--shard auto in a Slurm array task: shard ID of COUNT; the task IDs must be 0..COUNT-1",
    ),
    (
        "JOB_COMPLETION_INDEX",
        "--shard auto in a Kubernetes Indexed Job pod: shard INDEX of SCRAPE_SHARDS",
    ),
    (
        "SCRAPE_SHARDS",
        "the shard count: required in Kubernetes (the Job's completions); in Slurm, it lets an array rerun some shards of N; a --shard K/N that disagrees is refused",
    ),
    ("NO_COLOR", "no color in --help"),
    (
        "RUST_BACKTRACE",
        "with a bug, where it happened (the record says internal)",
    ),
    (
        "MALLOC_MMAP_THRESHOLD_",
        "(glibc) 131072 trades some CPU for less memory with large pages and many threads",
    ),
];

/// Writes the manual page (roff) to `w`.
pub fn render(w: &mut dyn Write) -> io::Result<()> {
    let cmd = Cli::command()
        .override_usage(synopsis(&Cli::command()))
        .after_help("")
        .after_long_help("")
        .mut_args(|arg| {
            let help = arg
                .get_long_help()
                .or(arg.get_help())
                .map(|h| plain(&h.to_string()));
            match help {
                Some(help) => arg.help(help.clone()).long_help(help),
                None => arg,
            }
        });
    let man = clap_mangen::Man::new(cmd);
    man.render_title(w)?;
    man.render_name_section(w)?;
    man.render_synopsis_section(w)?;
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    let mut roff = Roff::default();
    section(
        &mut roff,
        "RECORD",
        "Every input line (a repeated URL too: duplicate_of) gets one JSON object with these fields, in this order:",
        &FIELDS,
    );
    section(
        &mut roff,
        "ERROR KINDS",
        "error.kind is one of:",
        &ERROR_KINDS,
    );
    section(&mut roff, "EXIT STATUS", "", &EXIT_STATUS);
    section(&mut roff, "ENVIRONMENT", "", &ENVIRONMENT);
    examples(&mut roff);
    roff.to_writer(w)?;
    man.render_version_section(w)
}

/// Help text for roff: Markdown's backticks out (`truncated` → truncated).
fn plain(help: &str) -> String {
    help.replace('`', "")
}

/// EXAMPLES: the command lines of `--help`'s examples, each with what it
/// does.
fn examples(roff: &mut Roff) {
    roff.control("SH", ["EXAMPLES"]);
    for line in crate::cli::EXAMPLES.lines().filter(|l| l.starts_with("  ")) {
        let (command, comment) = match line.split_once("  # ") {
            Some((command, comment)) => (command.trim(), Some(comment.trim())),
            None => (line.trim(), None),
        };
        roff.control("TP", []);
        roff.text([bold(command)]);
        roff.text([roman(comment.unwrap_or(""))]);
    }
}

fn section(roff: &mut Roff, title: &str, intro: &str, items: &[(&str, &str)]) {
    roff.control("SH", [title]);
    if !intro.is_empty() {
        roff.text([roman(intro)]);
    }
    for (name, meaning) in items {
        roff.control("TP", []);
        roff.text([bold(*name)]);
        roff.text([roman(*meaning)]);
    }
}

/// `scrape [-t N] [-o PATH] … [FILE]...`: every option with its value.
fn synopsis(cmd: &clap::Command) -> String {
    let mut parts = vec![cmd.get_name().to_string()];
    let (files, options): (Vec<&Arg>, Vec<&Arg>) = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .partition(|a| a.is_positional());
    parts.extend(options.into_iter().chain(files).map(option_usage));
    parts.join(" ")
}

fn option_usage(arg: &Arg) -> String {
    let value = arg.get_value_names().map(|names| {
        names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    });
    if arg.is_positional() {
        return format!(
            "[{}]...",
            value.unwrap_or_else(|| arg.get_id().as_str().to_uppercase())
        );
    }
    let flag = match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("-{s}|--{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, Some(l)) => format!("--{l}"),
        (None, None) => arg.get_id().to_string(),
    };
    let takes_value = matches!(arg.get_action(), ArgAction::Set | ArgAction::Append);
    match value.filter(|_| takes_value) {
        Some(v) => format!("[{flag} {v}]"),
        None => format!("[{flag}]"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_under_examples_and_roff_has_no_markdown() {
        let mut page = Vec::new();
        render(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        let examples = page.find(".SH EXAMPLES").expect("an EXAMPLES section");
        assert!(
            page[examples..].contains("scrape urls.txt \\-\\-compare \\-\\-threads 16"),
            "{}",
            &page[examples..]
        );
        assert!(!page.contains('`'), "Markdown backticks in roff");
        assert!(
            !page.contains("scrape \\-\\-man lists"),
            "no sentence about itself"
        );
        assert_eq!(page.matches("Examples:").count(), 0);
    }

    #[test]
    fn the_page_has_the_contract_and_placeholders() {
        let mut page = Vec::new();
        render(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        for needle in [
            ".SH RECORD",
            "ERROR KINDS",
            "EXIT STATUS",
            ".SH ENVIRONMENT",
            "HTTPS_PROXY",
            "invalid_url",
            "130",
        ] {
            assert!(page.contains(needle), "no {needle}");
        }
        let usage = synopsis(&Cli::command());
        assert!(usage.contains("[-t|--threads N]"), "{usage}");
        assert!(usage.contains("[--max-body BYTES]"), "{usage}");
        assert!(usage.contains("[--insecure]"), "{usage}");
        assert!(usage.ends_with("[FILE]..."), "{usage}");
        assert!(!page.contains("README"), "the page must stand alone");
    }

    #[test]
    fn the_documented_fields_are_the_record_s() {
        let f = crate::fetch::Fetched {
            headers: Some(Default::default()),
            ..Default::default()
        };
        let job = crate::input::Job::for_test("http://a.example/");
        let mut record = crate::record::Record::fetched(job, f);
        let mut extraction =
            crate::plan::Extraction::new(vec!["h=h1".parse().unwrap()], true).unwrap();
        extraction.content = crate::plan::Wanted {
            text: true,
            markdown: true,
        };
        extraction.metadata = true;
        record.complete(&extraction);
        record.warc = Some(None);
        record.unchanged = Some(None);
        record.tls = Some(None);
        let value = serde_json::to_value(&record).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let documented: Vec<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
        let mut sorted_keys = keys.clone();
        sorted_keys.sort();
        let mut sorted_doc = documented.clone();
        sorted_doc.sort();
        assert_eq!(sorted_keys, sorted_doc);
    }

    #[test]
    fn every_error_kind_is_documented() {
        for kind in crate::error::ErrorKind::ALL {
            assert!(
                ERROR_KINDS.iter().any(|(k, _)| *k == kind.as_str()),
                "{kind:?}"
            );
        }
    }
}
