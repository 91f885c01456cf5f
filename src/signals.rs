//! Ctrl-C and SIGTERM.
//!
//! The first signal sets the shared cancel flag: the reader stops handing out
//! URLs, workers take no new job, the aggregator waits a short grace for the
//! requests in flight, writes every finished record whole, and the run exits
//! 130 with an `interrupted` summary. A second signal exits at once with 130;
//! whatever was flushed is whole lines.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Exit;

/// The run's stop flags, shared by every stage.
#[derive(Default)]
pub struct Signals {
    /// Stop starting new work (Ctrl-C, or the output was closed).
    pub cancel: Arc<AtomicBool>,
    /// Ctrl-C or SIGTERM was received.
    pub interrupt: Arc<AtomicBool>,
}

impl Signals {
    /// Flags that the process's Ctrl-C / SIGTERM handler sets. If a handler
    /// cannot be installed (one already is, in a test), the flags still work
    /// for the other causes of cancellation.
    pub fn install() -> Signals {
        let signals = Signals::default();
        let cancel = Arc::clone(&signals.cancel);
        let interrupt = Arc::clone(&signals.interrupt);
        let _ = ctrlc::set_handler(move || {
            if interrupt.swap(true, Ordering::SeqCst) {
                std::process::exit(Exit::Interrupted as i32);
            }
            cancel.store(true, Ordering::SeqCst);
        });
        signals
    }

    /// Whether Ctrl-C or SIGTERM was received.
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }
}
