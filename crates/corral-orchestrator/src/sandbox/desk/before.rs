//! Execs a re-adopted sandbox handed out before its desk. The new desk
//! cannot tell whether they still run: it takes those the store says were
//! started and never ended, and those the worker says start (a batch the
//! last orchestrator never stored, sent again). At most as many as the
//! sandbox may run at once, ever, and none twice: a hostile worker can
//! neither name old execs until they take every output stream nor open
//! and end them over and over (an exec's end is kept past the output
//! budget). Each keeps the sandbox busy until its end, as the desk's own
//! do, and counts among the execs it may run at once.

use std::collections::{HashMap, HashSet};

use crate::sandbox::activity::Busy;

/// A re-adopted sandbox's execs from before its desk that may still run.
#[derive(Debug)]
pub(super) struct Before {
    /// The exec numbers from `first` to it were handed out before the
    /// desk, by desks of the sandbox's current container.
    last: u64,
    /// The first exec number of the sandbox's current container.
    first: u64,
    /// Those that may still run, each keeping the sandbox busy.
    open: HashMap<u64, Busy>,
    /// Every one opened, ended or not.
    opened: HashSet<u64>,
    /// The most that may ever be opened.
    most: usize,
}

impl Before {
    /// Execs 1 to `last` were handed out before; none open yet.
    pub(super) fn new(last: u64, most: usize) -> Self {
        Self {
            last,
            first: 1,
            open: HashMap::new(),
            opened: HashSet::new(),
            most,
        }
    }

    /// The sandbox's current container numbers its execs from `first`: no
    /// exec before it runs there.
    pub(super) fn from(&mut self, first: u64) {
        self.first = first.max(1);
    }

    /// Whether `exec` is open.
    pub(super) fn is_open(&self, exec: u64) -> bool {
        self.open.contains_key(&exec)
    }

    /// How many are open.
    pub(super) fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Takes `exec` as open, busy with what `busy` gives, when it was
    /// handed out before, never opened before, and fewer than the most
    /// were; whether it is open now.
    pub(super) fn open(&mut self, exec: u64, busy: impl FnOnce() -> Busy) -> bool {
        if self.open.contains_key(&exec) {
            return true;
        }
        if !(self.first..=self.last).contains(&exec)
            || self.opened.contains(&exec)
            || self.opened.len() >= self.most
        {
            return false;
        }
        self.opened.insert(exec);
        self.open.insert(exec, busy());
        true
    }

    /// `exec` ended; whether it was open.
    pub(super) fn end(&mut self, exec: u64) -> bool {
        self.open.remove(&exec).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_execs_from_before_open_once_and_no_more_than_the_most_ever() {
        let activity = std::sync::Arc::new(crate::sandbox::activity::Activity::default());
        let busy = || activity.busy();
        let mut before = Before::new(10, 2);
        assert!(!before.open(0, busy), "exec numbers start at 1");
        assert!(!before.open(11, busy), "handed out by this desk, or never");
        assert!(before.open(10, busy));
        assert!(before.open(10, busy), "open already");
        assert!(before.open(3, busy));
        assert!(!before.open(4, busy), "two are open, the most");
        assert!(before.is_open(3) && before.is_open(10) && !before.is_open(4));
        assert!(before.end(3));
        assert!(!before.end(3), "an exec ends once");
        assert!(!before.is_open(3));
        assert!(!before.open(3, busy), "none opens twice");
        assert!(!before.open(4, busy), "two were opened, the most ever");
        assert!(before.open(10, busy), "still open");
        assert_eq!(activity.in_flight(), 1, "exec 10 keeps the sandbox busy");
        assert!(before.end(10));
        assert_eq!(activity.in_flight(), 0, "no exec from before runs");
        let mut fresh = Before::new(10, 2);
        fresh.from(6);
        assert!(!fresh.open(5, busy), "before the current container's first");
        assert!(fresh.open(6, busy));
        fresh.from(11);
        assert!(!fresh.open(7, busy), "a new container: none from before");
    }
}
