//! Watching a job's running sandbox until whichever comes first: the
//! container's exit, the timeout, a cancel, or server shutdown; and
//! stopping a container that has to end.

use std::time::Duration;

use corral_proto::{Job, JobState};
use corral_runtime::{ContainerExit, RuntimeError};
use tokio_util::sync::CancellationToken;
use tracing::error;

use super::acquire::Sandbox;
use crate::jobs::JobManager;
use crate::jobs::cancel::CANCELLED_REASON;
use crate::jobs::outcome::{Outcome, failure};
use crate::store::Finish;

/// The reason recorded when a job's container vanished under it.
pub const CONTAINER_LOST: &str = "container lost";
/// How long a killed container gets to report its exit before removal.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// How the watch ended.
pub(super) enum Watched {
    /// The container exited by itself: the job is judged on its exit and
    /// its worker's report.
    Exited(ContainerExit),
    /// The orchestrator ended it (timeout, cancel, shutdown) or lost it.
    Ended(Outcome),
}

impl JobManager {
    /// Waits for the first of: the container's exit (the worker's token is
    /// revoked at once), the job's time left, a cancel, server shutdown.
    pub(super) async fn watch(
        &self,
        job: &Job,
        sandbox: &Sandbox,
        cancel: &CancellationToken,
    ) -> Watched {
        let id = sandbox.container_id.as_str();
        let desk = self.desk(&job.id);
        let idle_timeout = Duration::from_secs(job.limits.idle_timeout_secs);
        let idle = async {
            match &desk {
                Some(desk) => desk.activity.idle_for(idle_timeout).await,
                None => std::future::pending().await,
            }
        };
        let stop_asked = async {
            match &desk {
                Some(desk) => desk.stop_requested().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            exit = self.inner.runtime.wait(id) => match exit {
                Ok(exit) => {
                    sandbox.endpoint.revoke();
                    Watched::Exited(exit)
                }
                Err(RuntimeError::NotFound { .. }) => {
                    Watched::Ended(failure(CONTAINER_LOST.to_owned()))
                }
                Err(error) => Watched::Ended(failure(format!(
                    "lost track of the container (did the Docker daemon stop?): {error}"
                ))),
            },
            () = tokio::time::sleep(sandbox.time_left) => {
                let reason = format!("timed out after {}s", job.limits.timeout_secs);
                Watched::Ended(self.halt(desk.as_deref(), id, JobState::TimedOut, &reason).await)
            }
            () = idle => {
                let reason = format!(
                    "idle for {}s (its idle_timeout): no exec, output, file transfer, model call or connection",
                    job.limits.idle_timeout_secs
                );
                Watched::Ended(self.halt(desk.as_deref(), id, JobState::Succeeded, &reason).await)
            }
            () = stop_asked => {
                Watched::Ended(self.halt(desk.as_deref(), id, JobState::Stopped, "stopped by its user").await)
            }
            () = cancel.cancelled() => {
                Watched::Ended(self.halt(desk.as_deref(), id, JobState::Cancelled, CANCELLED_REASON).await)
            }
            () = self.inner.shutdown.cancelled() => {
                // A sandbox is stopped with its files kept, when they can be
                // in time; else it ends, as any job does.
                let kept = match desk.as_deref() {
                    Some(desk) => self.keep_at_shutdown(job, desk).await,
                    None => false,
                };
                if kept {
                    let mut outcome = self
                        .halt(desk.as_deref(), id, JobState::Stopped, "stopped as the orchestrator shut down")
                        .await;
                    outcome.add_warning(
                        "the server shut down: the sandbox is stopped with its files kept, and may be started again"
                            .to_owned(),
                    );
                    Watched::Ended(outcome)
                } else {
                    Watched::Ended(self.halt(desk.as_deref(), id, JobState::Failed, "orchestrator shut down").await)
                }
            }
        }
    }

    /// [`JobManager::stop`], a paused sandbox thawed first (a frozen
    /// container may not take its kill).
    async fn halt(
        &self,
        desk: Option<&crate::sandbox::Desk>,
        container_id: &str,
        state: JobState,
        reason: &str,
    ) -> Outcome {
        if desk.is_some_and(crate::sandbox::Desk::is_paused)
            && let Err(error) = self.inner.runtime.resume(container_id).await
        {
            error!(container_id, error = %error, "cannot thaw a paused sandbox");
        }
        self.stop(container_id, state, reason).await
    }

    /// Kills the container and waits briefly for its exit code; the job
    /// ends in `state` for `reason`.
    pub(super) async fn stop(&self, container_id: &str, state: JobState, reason: &str) -> Outcome {
        if let Err(error) = self.inner.runtime.kill(container_id).await {
            error!(container_id, error = %error, "cannot kill container");
        }
        let exit_code = tokio::time::timeout(KILL_WAIT, self.inner.runtime.wait(container_id))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|exit| exit.exit_code);
        Outcome {
            finish: Finish {
                state,
                exit_code,
                reason: Some(reason.to_owned()),
            },
            warning: None,
        }
    }
}
