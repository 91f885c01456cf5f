//! Progress on standard error, drawn by the aggregator only.
//!
//! - On a terminal (`--progress auto` or `always`): an `indicatif` bar with
//!   done/total once the total is known (a background count of the files'
//!   lines), or a spinner with a rate while it is not (standard input), plus
//!   ok/failed counts.
//! - `--progress always` when standard error is not a terminal: one plain
//!   status line a second, for logs.
//! - Otherwise nothing.
//!
//! Every record and resumed line counts as done; duplicates' records and
//! resumed lines as `skipped`. Every figure of a frame comes from one
//! message, made at once, so `done` is always ok + HTTP errors + failed +
//! skipped on screen (indicatif's own `{pos}` is not shown: it could be
//! drawn between two updates).

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// When to draw progress on standard error (`--progress`).
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Only when standard error is a terminal.
    Auto,
    /// Always: a bar on a terminal, a status line each second elsewhere.
    Always,
    /// Never.
    Never,
}

/// 0 in [`Progress::total_handle`] means "not known (yet)".
const UNKNOWN: u64 = 0;

const LINE_EVERY: Duration = Duration::from_secs(1);
const MESSAGE_EVERY: Duration = Duration::from_millis(100);

enum Draw {
    Hidden,
    Bar(ProgressBar),
    Lines { next: Instant },
}

/// The progress display of one run.
pub struct Progress {
    draw: Draw,
    total: Arc<AtomicU64>,
    total_shown: bool,
    started: Instant,
    last_message: Instant,
    label: String,
    done: u64,
    ok: u64,
    http_errors: u64,
    failed: u64,
    skipped: u64,
}

impl Progress {
    /// Progress as `mode` asks; `label` prefixes it (the `--compare` run).
    pub fn new(mode: ProgressMode, label: &str) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let now = Instant::now();
        let draw = match (mode, terminal) {
            (ProgressMode::Never, _) | (ProgressMode::Auto, false) => Draw::Hidden,
            (_, true) => {
                let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                bar.set_style(spinner_style());
                bar.enable_steady_tick(Duration::from_millis(120));
                Draw::Bar(bar)
            }
            (ProgressMode::Always, false) => Draw::Lines {
                next: now + LINE_EVERY,
            },
        };
        Progress {
            draw,
            total: Arc::new(AtomicU64::new(UNKNOWN)),
            total_shown: false,
            started: now,
            last_message: now,
            label: label.to_string(),
            done: 0,
            ok: 0,
            http_errors: 0,
            failed: 0,
            skipped: 0,
        }
    }

    /// Whether anything is drawn (so a line count is worth making).
    pub fn is_visible(&self) -> bool {
        !matches!(self.draw, Draw::Hidden)
    }

    /// Where a background count stores the total once it knows it.
    pub fn total_handle(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.total)
    }

    /// One record done: ok, an HTTP error status, or failed.
    pub fn record(&mut self, ok: bool, failed: bool) {
        self.done += 1;
        match (ok, failed) {
            (true, _) => self.ok += 1,
            (false, true) => self.failed += 1,
            (false, false) => self.http_errors += 1,
        }
        self.update();
    }

    /// One line skipped (a duplicate, or done by an earlier run).
    pub fn skipped(&mut self) {
        self.done += 1;
        self.skipped += 1;
        self.update();
    }

    /// Redraws if it is time; also called while waiting for results.
    pub fn update(&mut self) {
        let now = Instant::now();
        let total = self.total.load(Ordering::Relaxed);
        let message_due = now >= self.last_message + MESSAGE_EVERY;
        let message = message_due.then(|| self.counts(total));
        let line = matches!(&self.draw, Draw::Lines { next } if now >= *next)
            .then(|| self.status_line(total));
        if message_due {
            self.last_message = now;
        }
        match &mut self.draw {
            Draw::Hidden => {}
            Draw::Bar(bar) => {
                if total != UNKNOWN && !self.total_shown {
                    bar.set_length(total);
                    bar.set_style(bar_style());
                    self.total_shown = true;
                }
                if let Some(message) = message {
                    bar.set_position(self.done);
                    bar.set_message(message);
                }
            }
            Draw::Lines { next } => {
                if let Some(line) = line {
                    *next = now + LINE_EVERY;
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }
    }

    /// Ctrl-C: the bar goes away for good (the terminal has echoed `^C` on
    /// its line, and a bar redrawn there would stay on screen above the
    /// summary), then `line` is printed.
    pub fn interrupt(&mut self, line: &str) {
        if let Draw::Bar(bar) = &self.draw {
            bar.finish_and_clear();
            self.draw = Draw::Hidden;
        }
        let _ = writeln!(std::io::stderr(), "{line}");
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&mut self) {
        if let Draw::Bar(bar) = &self.draw {
            bar.finish_and_clear();
        }
    }

    /// `done` (of `total`, when known) and the counts, which add up to it.
    fn counts(&self, total: u64) -> String {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let of = if total == UNKNOWN {
            String::new()
        } else {
            format!("/{total}")
        };
        format!(
            "{}{}{of} done · {} ok · {} HTTP error · {} failed · {} skipped · {:.1}/s",
            self.label,
            self.done,
            self.ok,
            self.http_errors,
            self.failed,
            self.skipped,
            self.done as f64 / secs
        )
    }

    fn status_line(&self, total: u64) -> String {
        format!("scrape: {}", self.counts(total))
    }
}

const SPINNER_TEMPLATE: &str = "{spinner} [{elapsed_precise}] {msg}";
const BAR_TEMPLATE: &str = "[{elapsed_precise}] {wide_bar} {msg} · eta {eta}";

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template(SPINNER_TEMPLATE)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(BAR_TEMPLATE).unwrap_or_else(|_| ProgressStyle::default_bar())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_is_hidden_and_counts_still_add_up() {
        let mut p = Progress::new(ProgressMode::Never, "");
        assert!(!p.is_visible());
        p.record(true, false);
        p.record(false, true);
        p.record(false, false);
        p.skipped();
        assert_eq!(
            (p.done, p.ok, p.failed, p.http_errors, p.skipped),
            (4, 1, 1, 1, 1)
        );
        assert!(
            p.counts(UNKNOWN)
                .contains("4 done · 1 ok · 1 HTTP error · 1 failed · 1 skipped")
        );
        assert!(p.status_line(10).contains("4/10 done"));
        assert!(p.status_line(UNKNOWN).contains("4 done"));
    }

    #[test]
    fn templates_are_valid() {
        assert!(ProgressStyle::with_template(SPINNER_TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
    }
}
