//! The `scrape` binary: parse the command line, run, map the outcome to an
//! exit code (docs/record.md "Summary and exit codes"). Everything else is in the
//! library.
//!
//! Every error on stderr reads `scrape: error: …`, usage errors included
//! (clap's message, reworded to match), with a `scrape: hint: …` line where
//! one helps.

use std::io::Write;
use std::process::ExitCode;

use clap::error::ErrorKind as ClapErrorKind;
use clap::{CommandFactory, Parser};
use scrape::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    if let Some(shell) = cli.completions {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "scrape", &mut script);
        return print(&script, "the completion script");
    }
    if cli.man {
        let mut page = Vec::new();
        if let Err(e) = scrape::manual(&mut page) {
            eprintln!("scrape: error: cannot render the man page: {e}");
            return ExitCode::from(1);
        }
        return print(&page, "the man page");
    }
    match scrape::run(&cli) {
        Ok(exit) => exit.into(),
        Err(fatal) => {
            eprintln!("scrape: error: {fatal}");
            if let Some(hint) = fatal.hint() {
                eprintln!("scrape: hint: {hint}");
            }
            fatal.exit_code().into()
        }
    }
}

/// `--help` and `--version` print and exit 0; anything else is a usage
/// error: exit 2 with clap's message as `scrape: error: …`.
fn usage_error(e: clap::Error) -> ExitCode {
    if matches!(
        e.kind(),
        ClapErrorKind::DisplayHelp | ClapErrorKind::DisplayVersion
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let text = e.render().to_string();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let mut lines = text.trim_end().lines();
    let first = lines.next().unwrap_or("bad command line");
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "scrape: error: {first}");
    for line in lines {
        // clap's "tip: a similar argument exists" is our kind of hint.
        let _ = match line.trim_start().strip_prefix("tip: ") {
            Some(tip) => writeln!(err, "scrape: hint: {tip}"),
            None => writeln!(err, "{line}"),
        };
    }
    ExitCode::from(2)
}

/// Writes `bytes` to stdout; a closed pipe is a quiet success.
fn print(bytes: &[u8], what: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scrape: error: cannot write {what}: {e}");
            ExitCode::from(1)
        }
    }
}
