//! `--ordered` flow control: how far the reader may run ahead of the
//! output.
//!
//! The aggregator writes records in input order through a reorder buffer
//! (`output::reorder`); a line may be handed on only while it is less than
//! [`Window::size`] lines past the oldest line not yet written. Past that
//! the reader waits ([`Window::admit`]), so the buffer, and memory, stay
//! bounded however slow the oldest URL is.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::Seq;

/// How far the reader may run ahead of the output.
pub struct Window {
    /// The oldest line not yet written.
    next: Mutex<u64>,
    moved: Condvar,
    /// Lines in flight at most, counted from the oldest unwritten one.
    size: u64,
}

impl Window {
    /// A window of `size` lines (at least 1).
    pub fn new(size: u64) -> Arc<Window> {
        Arc::new(Window {
            next: Mutex::new(0),
            moved: Condvar::new(),
            size: size.max(1),
        })
    }

    /// Waits until line `seq` fits in the window; false if `stop` is set
    /// first (the run is ending).
    pub fn admit(&self, seq: Seq, stop: &AtomicBool) -> bool {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        while seq.0 >= *next + self.size {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            next = self
                .moved
                .wait_timeout(next, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Every line before `next` is written.
    pub fn advance_to(&self, next: Seq) {
        *self.next.lock().unwrap_or_else(|e| e.into_inner()) = next.0;
        self.moved.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_holds_the_reader_back() {
        let window = Window::new(2);
        let stop = AtomicBool::new(false);
        assert!(window.admit(Seq(0), &stop));
        assert!(window.admit(Seq(1), &stop));
        stop.store(true, Ordering::Relaxed);
        assert!(!window.admit(Seq(2), &stop), "2 must wait for line 0");
        window.advance_to(Seq(1));
        assert!(window.admit(Seq(2), &stop), "line 0 written: 2 fits");
    }
}
