//! How many body bytes may wait for extraction at once, across all
//! workers: what keeps memory bounded by the cores, not by `--threads`.
//!
//! Without `--text`, a body streams through the scanner and is dropped.
//! With it, each HTML body is kept until the extraction pool is done with
//! it; the pool takes pages at the speed of the cores, so a thousand
//! workers fetching faster than that would each hold a body. So before a
//! worker starts keeping a body it reserves its size (the Content-Length,
//! or [`UNKNOWN_SIZE`] until the bytes are counted) from one [`Budget`],
//! waiting while the budget is spent; the reservation ([`Held`]) travels
//! with the body and is given back when the body is dropped after
//! extraction. A body that has started is never stopped for the budget
//! (so no two workers can wait on each other): the budget can be
//! overshot by what the bodies already started bring.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Instant;

/// What a body of unknown size reserves until it is counted.
pub const UNKNOWN_SIZE: usize = 64 * 1024;

/// Body bytes held per core: enough for the pool never to wait for pages
/// (a few hundred average pages), few enough to keep memory small.
pub const PER_CORE: usize = 8 << 20;

/// Bytes of kept bodies, shared by every worker.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    held: Mutex<usize>,
    freed: Condvar,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            held: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// A budget of [`PER_CORE`] bytes per core.
    pub fn per_core() -> Arc<Budget> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Budget::new(PER_CORE * cores)
    }

    /// Reserves `size` bytes for a body about to be kept, waiting while
    /// the budget is spent (but not past `deadline`).
    pub fn reserve(self: &Arc<Budget>, size: usize, deadline: Instant) -> Held {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        while *held >= self.limit {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            held = self
                .freed
                .wait_timeout(held, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        *held += size;
        Held {
            budget: Arc::clone(self),
            bytes: size,
        }
    }

    /// Reserves `size` bytes if the budget has them now.
    pub fn try_reserve(self: &Arc<Budget>, size: usize) -> Option<Held> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if *held + size > self.limit {
            return None;
        }
        *held += size;
        Some(Held {
            budget: Arc::clone(self),
            bytes: size,
        })
    }

    /// Moves a reservation from `less` to `more` bytes if the budget has
    /// the difference now.
    fn try_change(&self, less: usize, more: usize) -> bool {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let after = held.saturating_sub(less) + more;
        if more > less && after > self.limit {
            return false;
        }
        *held = after;
        true
    }

    /// Bytes reserved now.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        *self.held.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn change(&self, less: usize, more: usize) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        *held = held.saturating_sub(less) + more;
        if less > more {
            self.freed.notify_all();
        }
    }
}

/// A body's reservation; given back when dropped.
#[derive(Debug)]
pub struct Held {
    budget: Arc<Budget>,
    bytes: usize,
}

impl Held {
    /// The body has `bytes` bytes so far: the reservation grows to that
    /// if it was smaller.
    pub fn grow(&mut self, bytes: usize) {
        if bytes > self.bytes {
            self.resize(bytes);
        }
    }

    /// The reservation grows to `bytes` if the budget has them now.
    pub fn try_grow(&mut self, bytes: usize) -> bool {
        if bytes <= self.bytes {
            return true;
        }
        let grown = self.budget.try_change(self.bytes, bytes);
        if grown {
            self.bytes = bytes;
        }
        grown
    }

    /// The body has `bytes` bytes now: the reservation becomes that.
    pub fn resize(&mut self, bytes: usize) {
        if bytes != self.bytes {
            self.budget.change(self.bytes, bytes);
            self.bytes = bytes;
        }
    }
}

/// Reservations are not part of what a body is.
impl PartialEq for Held {
    fn eq(&self, _: &Held) -> bool {
        true
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.change(self.bytes, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_spent_budget_waits_until_a_body_is_dropped() {
        let budget = Budget::new(100);
        let far = Instant::now() + Duration::from_secs(60);
        let mut first = budget.reserve(UNKNOWN_SIZE, far);
        first.resize(150);
        assert_eq!(budget.held(), 150);
        let (tx, rx) = crossbeam_channel::bounded(1);
        let waiter = {
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || {
                let held = budget.reserve(10, far);
                tx.send(()).unwrap();
                held
            })
        };
        assert!(
            rx.recv_timeout(Duration::from_millis(50)).is_err(),
            "a reservation went through a spent budget"
        );
        drop(first);
        rx.recv().unwrap();
        let second = waiter.join().unwrap();
        assert_eq!(budget.held(), 10);
        drop(second);
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn a_deadline_ends_the_wait() {
        let budget = Budget::new(1);
        let _full = budget.reserve(5, Instant::now());
        let started = Instant::now();
        let _late = budget.reserve(5, started + Duration::from_millis(20));
        assert!(started.elapsed() >= Duration::from_millis(20));
        assert_eq!(budget.held(), 10);
    }
}
