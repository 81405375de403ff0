//! Pausing a sandbox: its processes frozen by the engine (Docker pause),
//! kept as they are, and thawed by `resume`. A paused sandbox takes no
//! exec or file transfer (409) and does not idle; its `ttl` still runs.

use corral_proto::sandbox::Sandbox;

use super::{JobError, JobManager, SandboxError};

impl JobManager {
    /// Freezes sandbox `id`'s processes.
    pub async fn pause_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let (job, desk) = self.live_desk(id).await?;
        if !desk.is_paused() {
            let container = job.container_id.as_deref().unwrap_or_default();
            self.inner
                .runtime
                .pause(container)
                .await
                .map_err(|error| SandboxError::Failed {
                    message: format!("cannot pause it: {error}"),
                })?;
            desk.set_paused(true);
        }
        self.sandbox(id).await
    }

    /// Thaws sandbox `id`'s processes.
    pub async fn resume_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let (job, desk) = self.live_desk(id).await?;
        if desk.is_paused() {
            let container = job.container_id.as_deref().unwrap_or_default();
            self.inner
                .runtime
                .resume(container)
                .await
                .map_err(|error| SandboxError::Failed {
                    message: format!("cannot resume it: {error}"),
                })?;
            desk.set_paused(false);
        }
        self.sandbox(id).await
    }
}
