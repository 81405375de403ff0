//! How a job's batches reach its leak detector: at most [`MAX_TAKING`] at
//! once, each to its end (a dropped request's batch too), whole or not at
//! all, and none once the output has ended.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::store::StoreError;

/// Most requests of one job whose batches are being taken at once. Each
/// runs to its end even when its request is dropped, so this bounds what
/// a worker can leave running (and the bodies it holds).
const MAX_TAKING: usize = 2;

/// The gate of one job's intake.
#[derive(Debug)]
pub(super) struct Gate {
    permits: Arc<Semaphore>,
    /// Set when a batch's work stopped midway (a panic): what the detector
    /// holds is then unknown, so no more output is taken.
    broken: AtomicBool,
    /// Set once what the detector held was let go as the output's end (the
    /// completion, the job's end): output coming after it would start a
    /// stream afresh, and the rest of a secret whose start was let go
    /// would be stored in clear.
    finished: AtomicBool,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(MAX_TAKING)),
            broken: AtomicBool::new(false),
            finished: AtomicBool::new(false),
        }
    }
}

impl Gate {
    /// A place among the batches being taken, waited for; `None` once the
    /// intake broke.
    pub(super) async fn enter(&self) -> Option<OwnedSemaphorePermit> {
        if self.is_broken() {
            return None;
        }
        Arc::clone(&self.permits).acquire_owned().await.ok()
    }

    /// Whether a batch's work stopped midway.
    pub(super) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::SeqCst)
    }

    /// An error once a batch stopped midway: what the detector holds is
    /// then unknown. Checked under the batch lock, so a batch that waited
    /// behind the one that stopped is refused too.
    pub(super) fn still_whole(&self) -> Result<(), StoreError> {
        if self.is_broken() {
            return Err(StoreError::Corrupt {
                column: "held output",
                message: "a batch stopped midway; no more output is taken".into(),
            });
        }
        Ok(())
    }

    /// Whether the output has ended.
    pub(super) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// The output has ended: what was held was let go.
    pub(super) fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
    }

    /// Armed while a batch's work runs: dropped armed (a panic), it breaks
    /// the intake, and every request waiting for a place is turned away.
    pub(super) fn arm(&self) -> Armed<'_> {
        Armed(Some(self))
    }
}

/// See [`Gate::arm`].
pub(super) struct Armed<'a>(Option<&'a Gate>);

impl Armed<'_> {
    /// The work ended as it should.
    pub(super) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        if let Some(gate) = self.0 {
            gate.broken.store(true, Ordering::SeqCst);
            gate.permits.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_dropped_midway_breaks_the_intake_and_work_ended_does_not() {
        let gate = Gate::default();
        gate.arm().disarm();
        assert!(!gate.is_broken());
        assert!(gate.enter().await.is_some());
        let _place = gate.enter().await.expect("a place");
        let waiting = gate.enter();
        drop(gate.arm());
        assert!(gate.is_broken());
        assert!(waiting.await.is_none(), "a request waiting is turned away");
        assert!(gate.enter().await.is_none());
    }

    #[tokio::test]
    async fn at_most_two_batches_are_taken_at_once() {
        let gate = Gate::default();
        let first = gate.enter().await.expect("a place");
        let _second = gate.enter().await.expect("a place");
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), gate.enter()).await;
        assert!(third.is_err(), "a third waits");
        drop(first);
        assert!(gate.enter().await.is_some());
    }
}
