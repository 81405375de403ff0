//! The FIFO queue: whenever a job is queued or a slot frees, claim the
//! oldest queued jobs until `max_concurrent_jobs` hold a slot.

use tokio_util::sync::CancellationToken;
use tracing::error;

use super::JobManager;

impl JobManager {
    /// Runs until shutdown, woken by notifications only.
    pub(super) async fn schedule(self) {
        loop {
            self.fill_slots().await;
            tokio::select! {
                () = self.inner.wake.notified() => {}
                () = self.inner.shutdown.cancelled() => return,
            }
        }
    }

    async fn fill_slots(&self) {
        let _claiming = self.inner.claim_lock.lock().await;
        while self.active_count() < self.inner.config.max_concurrent_jobs
            && !self.inner.shutdown.is_cancelled()
        {
            let job = match self.inner.store.claim_next_queued().await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(error) => {
                    error!(error = %error, "cannot claim a queued job");
                    return;
                }
            };
            let cancel = CancellationToken::new();
            self.lock_active().insert(job.id.clone(), cancel.clone());
            self.inner
                .tasks
                .spawn(self.clone().run(job, cancel, super::run::Start::Fresh));
        }
    }
}
