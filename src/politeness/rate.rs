//! `--rate N`: at most N requests a second for the whole run (fractions
//! allowed: 0.5 is one every two seconds), spread evenly.
//!
//! Each URL reserves the next free slot on one timeline — the later of now
//! and the previous slot plus 1/N — and its worker waits until then. No
//! burst: a run that starts, or resumes after an idle spell, goes at N a
//! second from its first request, so that a server's own count over any
//! second stays at N. Slots are handed out under a lock in the order
//! workers ask, so no worker waits behind a herd, and a wait is cut short
//! when the run stops (Ctrl-C).
//!
//! A slot is a URL's first request; its retries and redirects follow it
//! without a slot of their own.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The run's request rate.
pub struct Rate {
    every: Duration,
    next: Mutex<Option<Instant>>,
    cancel: Arc<AtomicBool>,
}

impl Rate {
    /// `per_second` requests a second (above 0); waits end early once
    /// `cancel` is set.
    pub fn new(per_second: f64, cancel: Arc<AtomicBool>) -> Rate {
        Rate {
            every: Duration::from_secs_f64(1.0 / per_second),
            next: Mutex::new(None),
            cancel,
        }
    }

    /// The slot of a request asked for at `now`, and the next slot moved on.
    fn reserve(&self, now: Instant) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match *next {
            Some(at) if at > now => at,
            _ => now,
        };
        *next = Some(slot + self.every);
        slot
    }

    /// Waits for this request's slot (or until the run stops).
    pub fn wait(&self) {
        let slot = self.reserve(Instant::now());
        super::sleep_until(slot, &self.cancel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_one_period_apart_and_idle_time_is_not_saved_up() {
        let rate = Rate::new(4.0, Arc::default());
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..5).map(|_| rate.reserve(t0) - t0).collect();
        let ms: Vec<u128> = slots.iter().map(Duration::as_millis).collect();
        assert_eq!(
            ms,
            [0, 250, 500, 750, 1000],
            "five askers at once get even slots"
        );
        // After a long idle spell, the next request goes at once, and the
        // one after it a period later: no burst of saved-up slots.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(rate.reserve(later), later);
        assert_eq!(rate.reserve(later) - later, Duration::from_millis(250));
    }

    #[test]
    fn fractions_of_one_a_second_and_a_stop_cut_the_wait_short() {
        let cancel = Arc::new(AtomicBool::new(false));
        let rate = Rate::new(0.5, Arc::clone(&cancel));
        let t0 = Instant::now();
        assert_eq!(rate.reserve(t0), t0);
        assert_eq!(rate.reserve(t0) - t0, Duration::from_secs(2));
        cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        rate.wait();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "Ctrl-C ends the wait"
        );
    }
}
