//! Pausing a sandbox: its processes frozen by the engine (Docker pause),
//! kept as they are, and thawed by `resume`. A paused sandbox takes no
//! exec or file transfer (409) and does not idle; its `ttl` still runs.
//! One re-adopted after a restart of the server stays paused.

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

    /// Gives re-adopted sandbox `job` (in `container_id`) the pause its
    /// container is in: one paused before the restart stays paused (a
    /// user pauses a sandbox to stop what it does; a restart must not let
    /// it go on). One whose files are still to be restored is thawed (the
    /// restore needs its worker), as is one whose state cannot be read.
    pub(in crate::jobs) async fn adopt_pause(&self, job: &corral_proto::Job, container_id: &str) {
        let paused = matches!(self.inner.runtime.is_paused(container_id).await, Ok(true));
        if paused
            && !self.has_snapshot(&job.id)
            && let Some(desk) = self.desk(&job.id)
        {
            desk.set_paused(true);
            return;
        }
        if let Err(error) = self.inner.runtime.resume(container_id).await {
            tracing::warn!(job_id = %job.id, error = %error, "cannot thaw a re-adopted sandbox");
        }
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
