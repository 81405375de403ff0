//! Exec numbers reserved in the store before they are handed out. An
//! exec's number is how its output, its stream and its end are told
//! apart, and its process may outlive the orchestrator: a desk opened on
//! a sandbox whose container still runs numbers its execs past every
//! number reserved before, so none is handed out twice, however many
//! restarts came between and whatever the store heard of them. And the
//! execs from before a restart that may still run (see `before`).

use std::sync::atomic::Ordering;

use super::{Desk, lock};

/// Exec numbers reserved at a time.
pub const EXEC_BLOCK: u64 = 256;

impl Desk {
    /// Whether exec `exec` was handed out before this desk (the sandbox
    /// was re-adopted) and may still run: this desk cannot tell, so it
    /// takes what [`Desk::open_before`] opened and has not ended.
    pub fn from_before(&self, exec: u64) -> bool {
        lock(&self.before).is_open(exec)
    }

    /// Takes exec `exec` as one from before this desk that may still run:
    /// the store says it started and never ended, or the worker says it
    /// starts. Refused (false) for an exec this desk hands out, one opened
    /// before, and past as many as the sandbox may run at once, ever.
    pub fn open_before(&self, exec: u64) -> bool {
        lock(&self.before).open(exec, || self.activity.busy())
    }

    /// The sandbox's current container numbers its execs from `first`:
    /// no exec before it may be open (past the last handed out, none).
    pub fn execs_from(&self, first: u64) {
        lock(&self.before).from(first);
    }

    /// From now on, hands out no exec number past `reserved` until more
    /// are (a desk not told so needs no reservation).
    pub fn limit_to_reserved(&self, reserved: u64) {
        self.reserved.store(reserved, Ordering::SeqCst);
    }

    /// The number to reserve up to in the store before the next exec,
    /// when those reserved ran out.
    pub fn to_reserve(&self) -> Option<u64> {
        let last = self.last_exec();
        (last >= self.reserved.load(Ordering::SeqCst)).then(|| last.saturating_add(EXEC_BLOCK))
    }

    /// Numbers up to `upto` are reserved in the store.
    pub fn reserved_up_to(&self, upto: u64) {
        self.reserved.fetch_max(upto, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::order;
    use super::super::{Desk, DeskError};
    use super::EXEC_BLOCK;

    #[test]
    fn no_exec_number_is_handed_out_past_those_reserved() {
        let desk = Desk::new(4, 10, Arc::default(), Arc::default());
        assert_eq!(desk.to_reserve(), None, "no reservation needed");
        desk.limit_to_reserved(10);
        assert!(matches!(desk.exec(order), Err(DeskError::NotReserved)));
        assert_eq!(desk.last_exec(), 10, "a refused exec takes no number");
        assert_eq!(desk.to_reserve(), Some(10 + EXEC_BLOCK));
        desk.reserved_up_to(12);
        assert_eq!(desk.to_reserve(), None);
        assert_eq!(desk.exec(order).expect("11"), 11);
        assert_eq!(desk.exec(order).expect("12"), 12);
        assert!(matches!(desk.exec(order), Err(DeskError::NotReserved)));
        assert_eq!(desk.to_reserve(), Some(12 + EXEC_BLOCK));
        desk.reserved_up_to(5);
        assert_eq!(desk.to_reserve(), Some(12 + EXEC_BLOCK), "never less");
    }

    /// Two callers find one number reserved: the second is refused, and
    /// finds more to reserve (the manager then reserves and tries again).
    #[test]
    fn a_caller_beaten_to_the_last_number_reserved_is_told_to_reserve() {
        let desk = Desk::new(4, 0, Arc::default(), Arc::default());
        desk.limit_to_reserved(1);
        assert_eq!(desk.to_reserve(), None, "A: one left");
        assert_eq!(desk.to_reserve(), None, "B: one left");
        assert_eq!(desk.exec(order).expect("A"), 1);
        assert!(matches!(desk.exec(order), Err(DeskError::NotReserved)));
        assert_eq!(desk.to_reserve(), Some(1 + EXEC_BLOCK), "B reserves");
        desk.reserved_up_to(1 + EXEC_BLOCK);
        assert_eq!(desk.exec(order).expect("B"), 2);
    }
}
