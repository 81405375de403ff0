//! Acting on a live job: cancelling it (a queued one ends at once, a live
//! one has its container killed by its own task, which then records
//! `cancelled`), and queueing a follow-up prompt for an interactive one.

use corral_proto::{EventKind, Job, JobState, NewEvent, Prompt};
use serde_json::json;
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
        let finish = Finish {
            state: JobState::Cancelled,
            exit_code: None,
            reason: Some(CANCELLED_REASON.to_owned()),
        };
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
            return Ok(job);
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

impl JobManager {
    /// Queues a follow-up prompt for an interactive job that has not ended;
    /// its worker picks it up (long-polling) and continues the conversation.
    #[instrument(name = "jobs.prompt", skip(self, text))]
    pub async fn prompt(&self, job_id: &str, text: &str) -> Result<Prompt, JobError> {
        if text.trim().is_empty() {
            return Err(JobError::invalid("prompt", "must not be empty"));
        }
        if text.len() > super::validate::MAX_PROMPT_BYTES {
            return Err(JobError::invalid(
                "prompt",
                format!(
                    "must be at most {} bytes",
                    super::validate::MAX_PROMPT_BYTES
                ),
            ));
        }
        let job = self.get(job_id).await?;
        if !job.interactive {
            return Err(JobError::NotInteractive { job_id: job.id });
        }
        if job.state.is_terminal() {
            return Err(JobError::AlreadyEnded {
                job_id: job.id,
                state: job.state.as_str(),
            });
        }
        let seq = self.inner.store.add_prompt(job_id, text).await?;
        let event = NewEvent::new(
            EventKind::Message,
            json!({"role": "user", "text": text, "prompt": seq}),
        );
        self.inner.events.append(job_id, vec![event]).await?;
        info!(job_id, seq, "prompt queued");
        Ok(Prompt {
            seq,
            text: text.to_owned(),
        })
    }
}
