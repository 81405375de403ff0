//! Pausing a sandbox: its processes frozen by the engine (Docker pause),
//! kept as they are, and thawed by `resume`. A paused sandbox takes no
//! exec or file transfer (409) and does not idle; its `ttl` still runs.

use corral_proto::sandbox::Sandbox;

use super::{JobError, JobManager, SandboxError};

impl JobManager {
    /// Freezes sandbox `id`'s processes.
    pub async fn pause_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let (job, desk) = self.live_desk(id).await?;
        let container = job.container_id.as_deref().unwrap_or_default();
        // Asked of the engine whatever the desk thinks: a container paused
        // before a restart of the server is paused, and its desk new.
        match self.inner.runtime.pause(container).await {
            Ok(()) | Err(corral_runtime::RuntimeError::Conflict { .. }) => desk.set_paused(true),
            Err(error) => {
                return Err(SandboxError::Failed {
                    message: format!("cannot pause it: {error}"),
                }
                .into());
            }
        }
        self.sandbox(id).await
    }

    /// Thaws sandbox `id`'s processes.
    pub async fn resume_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let (job, desk) = self.live_desk(id).await?;
        let container = job.container_id.as_deref().unwrap_or_default();
        // Thawed whatever the desk thinks (see `pause_sandbox`).
        self.inner
            .runtime
            .resume(container)
            .await
            .map_err(|error| SandboxError::Failed {
                message: format!("cannot resume it: {error}"),
            })?;
        desk.set_paused(false);
        self.sandbox(id).await
    }
}
