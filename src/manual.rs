//! `scrape --man`: the manual page, complete without README.md (which
//! `cargo install` does not install): the options from the command line's
//! own doc comments, and the contract a script relies on — the record's
//! fields, the error kinds, the exit codes, the environment.

use std::io::{self, Write};

use clap::{Arg, ArgAction, CommandFactory};
use roff::{Roff, bold, roman};

use crate::cli::Cli;
use crate::record::{BASE, FIELDS};

/// The error kinds and what each means.
pub const ERROR_KINDS: [(&str, &str); 11] = [
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
    (
        "sitemap",
        "with --sitemap: the sitemap could not be read whole (broken XML, an entity it defines, past the protocol's limits, listing itself); what was read is followed, sitemap.errors says each problem",
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
    let intro = format!(
        "Every input line (a repeated URL too: duplicate_of) gets one JSON object with these \
         fields, in this order; the first {BASE} are in every record, the others when the \
         option named asks for them:"
    );
    section(&mut roff, "RECORD", &intro, &FIELDS);
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
    fn every_field_a_record_can_have_is_documented_once() {
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
        extraction.crawl = true;
        extraction.method = Some("POST".into());
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
