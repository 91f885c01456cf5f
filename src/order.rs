//! `--ordered`: records in input order, through a reorder window of bounded
//! size.
//!
//! The reader numbers every line it hands on (records, skipped duplicates,
//! resumed lines) with a sequence number. The aggregator keeps results that
//! arrive early in a [`Reorder`] buffer and writes them once every earlier
//! line is done. The reader may run at most [`Window::size`] lines ahead of
//! the oldest line not yet written; past that it waits ([`Window::admit`]).
//! So memory never grows with the list, at the price of head-of-line
//! blocking: one slow URL holds back the output of the window behind it,
//! and when the window is full, the workers wait too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::record::Record;

/// How far the reader may run ahead of the output.
pub struct Window {
    /// The sequence number of the oldest line not yet written.
    next: Mutex<u64>,
    moved: Condvar,
    /// Lines in flight at most, counted from the oldest unwritten one.
    pub size: u64,
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
    pub fn admit(&self, seq: u64, stop: &AtomicBool) -> bool {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        while seq >= *next + self.size {
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

    fn advance_to(&self, next: u64) {
        *self.next.lock().unwrap_or_else(|e| e.into_inner()) = next;
        self.moved.notify_all();
    }
}

/// The aggregator's side: results that came early wait here.
pub struct Reorder {
    window: Arc<Window>,
    next: u64,
    /// Early results by sequence number; `None` for a line without a record
    /// (a skipped duplicate, a resumed line).
    pending: BTreeMap<u64, Option<Box<Record>>>,
}

impl Reorder {
    /// A buffer that moves `window` as it writes.
    pub fn new(window: Arc<Window>) -> Reorder {
        Reorder {
            window,
            next: 0,
            pending: BTreeMap::new(),
        }
    }

    /// Takes the result of line `seq` and writes, through `emit`, every
    /// record that is now next in order.
    pub fn push<E>(
        &mut self,
        seq: u64,
        record: Option<Box<Record>>,
        mut emit: impl FnMut(&Record) -> Result<(), E>,
    ) -> Result<(), E> {
        self.pending.insert(seq, record);
        let before = self.next;
        while let Some(record) = self.pending.remove(&self.next) {
            self.next += 1;
            if let Some(record) = record {
                emit(&record)?;
            }
        }
        if self.next != before {
            self.window.advance_to(self.next);
        }
        Ok(())
    }

    /// Writes what is left, in order, gaps and all (an interrupted run).
    pub fn drain<E>(&mut self, mut emit: impl FnMut(&Record) -> Result<(), E>) -> Result<(), E> {
        while let Some((seq, record)) = self.pending.pop_first() {
            self.next = seq + 1;
            if let Some(record) = record {
                emit(&record)?;
            }
        }
        self.window.advance_to(self.next);
        Ok(())
    }

    /// Results waiting for an earlier line.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64) -> Option<Box<Record>> {
        let mut r = Record::invalid(seq + 1, format!("line {seq}"), "x");
        r.seq = seq;
        Some(Box::new(r))
    }

    fn collect(order: &mut Reorder, seq: u64, record: Option<Box<Record>>, out: &mut Vec<u64>) {
        order
            .push::<()>(seq, record, |r| {
                out.push(r.seq);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn records_come_out_in_order_whatever_order_they_arrive_in() {
        let window = Window::new(8);
        let mut order = Reorder::new(Arc::clone(&window));
        let mut out = vec![];
        for seq in [2, 0, 3, 1, 5, 4] {
            collect(&mut order, seq, rec(seq), &mut out);
        }
        assert_eq!(out, [0, 1, 2, 3, 4, 5]);
        assert_eq!(order.waiting(), 0);
    }

    #[test]
    fn lines_without_records_keep_their_place() {
        let window = Window::new(8);
        let mut order = Reorder::new(window);
        let mut out = vec![];
        collect(&mut order, 2, rec(2), &mut out);
        collect(&mut order, 1, None, &mut out);
        assert!(out.is_empty());
        collect(&mut order, 0, rec(0), &mut out);
        assert_eq!(out, [0, 2]);
    }

    #[test]
    fn the_window_holds_the_reader_back() {
        let window = Window::new(2);
        let stop = AtomicBool::new(false);
        assert!(window.admit(0, &stop));
        assert!(window.admit(1, &stop));
        stop.store(true, Ordering::Relaxed);
        assert!(!window.admit(2, &stop), "2 must wait for line 0");
        let mut order = Reorder::new(Arc::clone(&window));
        order.push::<()>(0, rec(0), |_| Ok(())).unwrap();
        assert!(window.admit(2, &stop), "line 0 written: 2 fits");
    }

    #[test]
    fn drain_writes_past_gaps_in_order() {
        let mut order = Reorder::new(Window::new(8));
        let mut out = vec![];
        collect(&mut order, 3, rec(3), &mut out);
        collect(&mut order, 1, rec(1), &mut out);
        order
            .drain::<()>(|r| {
                out.push(r.seq);
                Ok(())
            })
            .unwrap();
        assert_eq!(out, [1, 3]);
    }
}
