//! Follow-up prompts: queued for a live interactive job, whose worker
//! long-polls for them; sent to an ended claude job, they start a new job
//! that resumes its Claude session (each container runs once, so the
//! conversation moves on in a fresh one).

use std::path::Path;

use corral_proto::event::{MessageData, MessageRole, StatusData};
use corral_proto::{ClaudeSettings, Job, JobMode, NewEvent, Prompt};
use tracing::{info, instrument};

use super::create::new_job_id;
use super::validate::MAX_PROMPT_BYTES;
use super::{JobError, JobManager};

impl JobManager {
    /// Queues a follow-up prompt for an interactive job that has not ended,
    /// or continues an ended claude job's session in a new job.
    #[instrument(name = "jobs.prompt", skip(self, text))]
    pub async fn prompt(&self, job_id: &str, text: &str) -> Result<Prompt, JobError> {
        if text.trim().is_empty() {
            return Err(JobError::invalid("prompt", "must not be empty"));
        }
        if text.len() > MAX_PROMPT_BYTES {
            return Err(JobError::invalid(
                "prompt",
                format!("must be at most {MAX_PROMPT_BYTES} bytes"),
            ));
        }
        let job = self.get(job_id).await?;
        if job.state.is_terminal() && job.mode == JobMode::Claude {
            return self.continue_session(&job, text).await;
        }
        if !job.interactive {
            return Err(JobError::NotInteractive { job_id: job.id });
        }
        self.takes_prompts(&job).await?;
        let Some(seq) = self.inner.store.add_prompt(job_id, text, false).await? else {
            return Err(JobError::Ending { job_id: job.id });
        };
        self.inner.store.clear_waiting(job_id).await?;
        let event = NewEvent::of(&MessageData {
            prompt: Some(seq),
            ..MessageData::new(MessageRole::User, text)
        });
        self.inner.events.append(job_id, vec![event]).await?;
        info!(job_id, seq, "prompt queued");
        Ok(Prompt {
            seq,
            text: text.to_owned(),
            continued_in: None,
            end: false,
        })
    }

    /// Ends an interactive job the way its user means it: it finishes (as
    /// succeeded) once the prompts queued before are answered, rather than
    /// being cancelled. Asking twice is the same as once.
    #[instrument(name = "jobs.end", skip(self))]
    pub async fn end(&self, job_id: &str) -> Result<Job, JobError> {
        let job = self.get(job_id).await?;
        if !job.interactive {
            return Err(JobError::NotInteractive { job_id: job.id });
        }
        match self.takes_prompts(&job).await {
            Err(JobError::Ending { .. }) => return Ok(job),
            Err(error) => return Err(error),
            Ok(()) => {}
        }
        let Some(seq) = self.inner.store.add_prompt(job_id, "", true).await? else {
            return Ok(job);
        };
        self.inner.store.clear_waiting(job_id).await?;
        let event = NewEvent::of(&StatusData {
            phase: Some(corral_proto::event::PHASE_ENDING.into()),
            text: Some(
                "ending: the user ended it; it finishes once its current turn is done".into(),
            ),
            ..StatusData::default()
        });
        self.inner.events.append(job_id, vec![event]).await?;
        info!(job_id, seq, "end queued");
        Ok(job)
    }

    /// Refuses a prompt (or an end) to a job that ended or is ending.
    async fn takes_prompts(&self, job: &Job) -> Result<(), JobError> {
        if job.state.is_terminal() {
            return Err(JobError::AlreadyEnded {
                job_id: job.id.clone(),
                state: job.state.as_str(),
            });
        }
        let queued = self.inner.store.prompts_after(&job.id, 0).await?;
        if queued.iter().any(|prompt| prompt.end) {
            return Err(JobError::Ending {
                job_id: job.id.clone(),
            });
        }
        Ok(())
    }

    /// Queues a new claude job like `ended`, with `text` as its prompt, that
    /// resumes the Claude session `ended` left.
    async fn continue_session(&self, ended: &Job, text: &str) -> Result<Prompt, JobError> {
        if self.inner.store.claude_session(&ended.id).await?.is_none() {
            return Err(JobError::NoSession {
                job_id: ended.id.clone(),
            });
        }
        let id = new_job_id()?;
        // Branch mode: a fresh copy of the project, as for any job; the
        // ended job's changes wait for review in its own copy.
        let isolation = match (&ended.isolation, &ended.project) {
            (Some(_), Some(project)) => Some(
                self.isolate(
                    &id,
                    Path::new(project),
                    ended.project_check.map(Into::into),
                    ended.limits.tmpfs_bytes,
                )
                .await?,
            ),
            _ => None,
        };
        let claude = ended.claude.clone().map(|settings| ClaudeSettings {
            continues: Some(ended.id.clone()),
            ..settings
        });
        let job = Job {
            prompt: Some(text.to_owned()),
            isolation,
            claude,
            ..ended.requeued(id)
        };
        self.queue(&job).await?;
        info!(job_id = %ended.id, continued_in = %job.id, "claude session continues in a new job");
        Ok(Prompt {
            seq: 0,
            text: text.to_owned(),
            continued_in: Some(job.id),
            end: false,
        })
    }
}
