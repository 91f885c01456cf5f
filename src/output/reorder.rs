//! `--ordered`: records in input order.
//!
//! The reader numbers every line it hands on (records, duplicates,
//! resumed lines) with a [`Seq`]. The aggregator keeps results that arrive
//! early in a [`Reorder`] buffer and writes them once every earlier line is
//! done, moving the [`Window`] the reader waits on — so memory never grows
//! with the list, at the price of head-of-line blocking: one slow URL holds
//! back the output of the window behind it, and when the window is full,
//! the workers wait too.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::flow::Seq;
use crate::flow::window::Window;
use crate::record::Record;

/// The aggregator's side: results that came early wait here.
pub struct Reorder {
    window: Arc<Window>,
    next: u64,
    /// Early results by sequence number; `None` for a line without a record
    /// (a resumed line).
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
        seq: Seq,
        record: Option<Box<Record>>,
        mut emit: impl FnMut(&Record) -> Result<(), E>,
    ) -> Result<(), E> {
        self.pending.insert(seq.0, record);
        let before = self.next;
        while let Some(record) = self.pending.remove(&self.next) {
            self.next += 1;
            if let Some(record) = record {
                emit(&record)?;
            }
        }
        if self.next != before {
            self.window.advance_to(Seq(self.next));
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
        self.window.advance_to(Seq(self.next));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u64) -> Option<Box<Record>> {
        Some(Box::new(Record::invalid(
            "-".into(),
            seq + 1,
            format!("line {seq}"),
            "x",
        )))
    }

    fn collect(order: &mut Reorder, seq: u64, record: Option<Box<Record>>, out: &mut Vec<u64>) {
        order
            .push::<()>(Seq(seq), record, |r| {
                out.push(r.line - 1);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn records_come_out_in_order_whatever_order_they_arrive_in() {
        let mut order = Reorder::new(Window::new(8));
        let mut out = vec![];
        for seq in [2, 0, 3, 1, 5, 4] {
            collect(&mut order, seq, rec(seq), &mut out);
        }
        assert_eq!(out, [0, 1, 2, 3, 4, 5]);
        assert!(order.pending.is_empty());
    }

    #[test]
    fn lines_without_records_keep_their_place() {
        let mut order = Reorder::new(Window::new(8));
        let mut out = vec![];
        collect(&mut order, 2, rec(2), &mut out);
        collect(&mut order, 1, None, &mut out);
        assert!(out.is_empty());
        collect(&mut order, 0, rec(0), &mut out);
        assert_eq!(out, [0, 2]);
    }

    #[test]
    fn writing_moves_the_window() {
        let window = Window::new(1);
        let stop = std::sync::atomic::AtomicBool::new(true);
        let mut order = Reorder::new(Arc::clone(&window));
        assert!(!window.admit(Seq(1), &stop));
        order.push::<()>(Seq(0), rec(0), |_| Ok(())).unwrap();
        assert!(window.admit(Seq(1), &stop));
    }

    #[test]
    fn drain_writes_past_gaps_in_order() {
        let mut order = Reorder::new(Window::new(8));
        let mut out = vec![];
        collect(&mut order, 3, rec(3), &mut out);
        collect(&mut order, 1, rec(1), &mut out);
        order
            .drain::<()>(|r| {
                out.push(r.line - 1);
                Ok(())
            })
            .unwrap();
        assert_eq!(out, [1, 3]);
    }
}
