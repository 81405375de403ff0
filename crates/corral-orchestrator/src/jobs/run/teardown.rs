//! Tearing a job's sandbox down whatever ended it: its container removed,
//! the reaper's exemption for it lifted, its socket closed (handing back
//! what the worker reported) and its socket directory removed.

use std::path::Path;

use corral_proto::Job;
use tracing::{error, warn};

use super::acquire::{Sandbox, Start};
use crate::jobs::JobManager;
use crate::worker_api::{WorkerEndpoint, WorkerReport};

impl JobManager {
    /// Removes the sandbox's container and closes its socket; what the
    /// worker reported before its container stopped.
    pub(super) async fn teardown(&self, job: &Job, mut sandbox: Sandbox) -> WorkerReport {
        if let Some(deferred) = sandbox.deferred.take() {
            deferred.finish().await;
        }
        self.remove_container(job, &sandbox.container_id).await;
        if let Some(pool_name) = &sandbox.pool_name {
            self.unspare(pool_name);
        }
        self.close_socket(job, sandbox.endpoint, &sandbox.socket_dir)
            .await
    }

    /// Closes a socket whose job has no container (any more).
    pub(super) async fn close_socket(
        &self,
        job: &Job,
        endpoint: WorkerEndpoint,
        socket_dir: &Path,
    ) -> WorkerReport {
        let report = endpoint.close().await;
        if let Err(error) = tokio::fs::remove_dir_all(socket_dir).await {
            warn!(job_id = %job.id, error = %error, "cannot remove job socket directory");
        }
        report
    }

    /// Gives up a job before its socket opened: a re-adopted job's
    /// container is removed, so it does not run on unserved, and what a
    /// socket that failed to open left is cleared.
    pub(super) async fn abandon(&self, job: &Job, start: &Start) {
        if let Start::Adopt { container_id, .. } = start {
            self.remove_container(job, container_id).await;
        }
        match tokio::fs::remove_dir_all(self.socket_dir(job)).await {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                warn!(job_id = %job.id, error = %error, "cannot remove job socket directory");
            }
            _ => {}
        }
    }

    async fn remove_container(&self, job: &Job, container_id: &str) {
        if let Err(error) = self.inner.runtime.remove(container_id).await {
            error!(job_id = %job.id, container_id, error = %error, "cannot remove container");
        }
        self.unspare(container_id);
    }
}
