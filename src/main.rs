//! The `scrape` binary: parse the command line, run, map the outcome to an
//! exit code (SPEC.md §5). Everything else is in the library.

use std::process::ExitCode;

use clap::Parser;
use scrape::cli::Cli;

fn main() -> ExitCode {
    // A usage error exits 2 here, with clap's message.
    let cli = Cli::parse();
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
