//! Cancelling a job: a queued one ends at once, a live one has its
//! container killed by its own task, which then records `cancelled`.

use corral_proto::{Job, JobState};
use tracing::{info, instrument};

use super::{JobError, JobManager};
use crate::store::Finish;

/// The reason recorded on a job a user cancelled.
pub const CANCELLED_REASON: &str = "cancelled by user";

impl JobManager {
    /// Cancels `job_id`; an ended job is an [`JobError::AlreadyEnded`].
    #[instrument(name = "jobs.cancel", skip(self))]
    pub async fn cancel(&self, job_id: &str) -> Result<Job, JobError> {
        let _claims_paused = self.inner.claim_lock.lock().await;
        let finish = cancelled();
        if self
            .inner
            .store
            .finish(job_id, &finish, Some(JobState::Queued))
            .await?
        {
            info!(job_id, "queued job cancelled");
            self.record_end(job_id, &finish).await;
            let job = self.get(job_id).await?;
            self.drop_copy(&job).await;
            // A started or forked sandbox waiting in the queue: its files.
            self.drop_snapshot(job_id).await;
            return Ok(job);
        }
        // A stopped sandbox has no container: it ends here, its snapshot dropped.
        if self
            .inner
            .store
            .finish(job_id, &finish, Some(JobState::Stopped))
            .await?
        {
            info!(job_id, "stopped sandbox ended");
            self.record_end(job_id, &finish).await;
            self.drop_snapshot(job_id).await;
            return self.get(job_id).await;
        }
        let token = self.lock_active().get(job_id).cloned();
        if let Some(token) = token {
            token.cancel();
            info!(job_id, "running job cancelled");
            return self.get(job_id).await;
        }
        let job = self.get(job_id).await?;
        Err(JobError::AlreadyEnded {
            job_id: job.id,
            state: job.state.as_str(),
        })
    }
}

/// How a job its user cancelled (or a sandbox deleted) ends.
pub(in crate::jobs) fn cancelled() -> Finish {
    Finish {
        state: JobState::Cancelled,
        exit_code: None,
        reason: Some(CANCELLED_REASON.to_owned()),
    }
}
