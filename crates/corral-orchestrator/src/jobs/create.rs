//! Creating a job: validate, store as `queued`, wake the scheduler.

use corral_proto::{Job, JobSpec, JobState};
use time::OffsetDateTime;
use tracing::{info, instrument};

use super::validate::validate;
use super::{JobError, JobManager};
use crate::token::random_hex;

/// Random bytes in a job id: 64 bits, `j-` + 16 hex digits.
const JOB_ID_BYTES: usize = 8;

impl JobManager {
    /// Validates `spec` and queues the job. Nothing is stored if it is invalid.
    #[instrument(name = "jobs.create", skip_all)]
    pub async fn create(&self, spec: JobSpec) -> Result<Job, JobError> {
        let config = &self.inner.config;
        let valid = validate(
            spec,
            &config.default_limits,
            &config.default_image,
            &self.inner.data_dir,
        )?;
        for (index, grant) in valid.grants.iter().enumerate() {
            let exists =
                self.inner
                    .secrets
                    .exists(&grant.secret)
                    .await
                    .map_err(|error| match error {
                        crate::secrets::SecretError::Store(error) => JobError::Store(error),
                        other => {
                            JobError::invalid(format!("grants[{index}].secret"), other.to_string())
                        }
                    })?;
            if !exists {
                return Err(JobError::invalid(
                    format!("grants[{index}].secret"),
                    format!("secret `{}` not found", grant.secret),
                ));
            }
        }
        let job = Job {
            id: format!("j-{}", random_hex(JOB_ID_BYTES)?),
            mode: valid.mode,
            state: JobState::Queued,
            image: valid.image,
            command: valid.command,
            prompt: valid.prompt,
            project: valid.project,
            limits: valid.limits,
            grants: valid.grants,
            container_id: None,
            exit_code: None,
            reason: None,
            created_at: OffsetDateTime::now_utc(),
            started_at: None,
            finished_at: None,
        };
        self.inner.store.insert_job(&job).await?;
        self.inner
            .events
            .status(&job.id, JobState::Queued, None)
            .await?;
        info!(job_id = %job.id, image = %job.image, "job queued");
        self.inner.wake.notify_one();
        Ok(job)
    }

    /// One job.
    pub async fn get(&self, job_id: &str) -> Result<Job, JobError> {
        self.inner
            .store
            .get_job(job_id)
            .await?
            .ok_or_else(|| JobError::NotFound {
                job_id: job_id.to_owned(),
            })
    }
}
