//! Starting a job's container: cold (create, start, with its project
//! staged from the held directory) or warm (a pool container its session is
//! already bound to), and recording it running.

use std::time::Duration;

use corral_proto::verify::ContainerProfile;
use corral_proto::{Job, JobState};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::JobManager;
use super::cancel::CANCELLED_REASON;
use super::outcome::Outcome;
use super::outcome::failure;
use super::warm::Taken;
use crate::worker_api::WorkerEndpoint;
use corral_runtime::{JobUser, RuntimeError, SandboxRequest};

/// What a cold container is made with besides the job.
pub(super) struct Sandbox<'a> {
    /// Who the job runs as.
    pub(super) user: JobUser,
    /// The directory bound at `/workspace`, held.
    pub(super) source: Option<&'a crate::project::PinnedDir>,
    /// The job's socket.
    pub(super) endpoint: &'a WorkerEndpoint,
}

impl JobManager {
    /// Runs a job in a pool container its session is already bound to.
    pub(super) async fn drive_warm(
        &self,
        job: &Job,
        taken: &Taken,
        endpoint: &WorkerEndpoint,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
    ) -> Outcome {
        let container_id = taken.container_id.as_str();
        if let Err(error) = self.inner.store.set_container(&job.id, container_id).await {
            error!(job_id = %job.id, error = %error, "cannot record container id");
        }
        if cancel.is_cancelled() {
            self.refill_pool();
            return self
                .stop(container_id, JobState::Cancelled, CANCELLED_REASON)
                .await;
        }
        self.record_running(
            job,
            container_id,
            taken.read_back.clone(),
            endpoint,
            claimed,
        )
        .await;
        self.refill_pool();
        // `docker ps` shows the job's name, as for a cold job, once the
        // job runs; nothing in the job depends on it.
        let name = corral_runtime::container_name(&job.id);
        if let Err(error) = self.inner.runtime.rename(container_id, &name).await {
            warn!(job_id = %job.id, container_id, error = %error, "cannot rename the pool container");
        }
        let timeout = Duration::from_secs(job.limits.timeout_secs);
        self.watch(job, container_id, endpoint, cancel, timeout)
            .await
    }

    /// What the runtime needs to make `job`'s container (a pool
    /// container's, when `pooled`) on this server.
    pub(super) fn sandbox_request(
        &self,
        job: Job,
        socket_dir: std::path::PathBuf,
        user: JobUser,
        pooled: bool,
    ) -> SandboxRequest {
        SandboxRequest {
            job,
            socket_dir,
            worker_bin: self.inner.config.worker_bin.clone(),
            instance_id: self.inner.instance_id.clone(),
            oci_runtime: self.inner.config.oci_runtime.clone(),
            user,
            pooled,
            project_source: None,
            image_volumes: Vec::new(),
        }
    }

    /// Records the job running (store, status event, latency) and lets its
    /// worker's events through. The event carries the container's profile
    /// as the engine reports it: `read_back` when it was read already (a
    /// pool container, whose settings have not changed since), else read
    /// now.
    async fn record_running(
        &self,
        job: &Job,
        container_id: &str,
        read_back: Option<ContainerProfile>,
        endpoint: &WorkerEndpoint,
        claimed: std::time::Instant,
    ) {
        match self.inner.store.mark_running(&job.id).await {
            Ok(true) => {
                self.inner.start_latency.observe(claimed.elapsed());
                info!(job_id = %job.id, container_id, "container started");
                // Every job carries its own evidence: the profile read back
                // from the engine for its container.
                let profile = match read_back {
                    Some(profile) => Ok(profile),
                    None => self.inner.runtime.profile(container_id).await,
                };
                let profile = match profile {
                    Ok(profile) => Some(profile),
                    Err(error) => {
                        warn!(job_id = %job.id, container_id, error = %error, "cannot read the container's profile back");
                        None
                    }
                };
                if let Err(error) = self.inner.events.running(&job.id, profile.as_ref()).await {
                    error!(job_id = %job.id, error = %error, "cannot store status event");
                }
            }
            Ok(false) => warn!(job_id = %job.id, "job was no longer starting"),
            Err(error) => error!(job_id = %job.id, error = %error, "cannot mark job running"),
        }
        endpoint.mark_running();
    }

    pub(super) async fn drive_container(
        &self,
        job: &Job,
        sandbox: &Sandbox<'_>,
        cancel: &CancellationToken,
        container_id: &mut Option<String>,
        claimed: std::time::Instant,
    ) -> Outcome {
        let runtime = &self.inner.runtime;
        let endpoint = sandbox.endpoint;
        // The container gets the held directory through a private mount
        // that only lives until the container has its own.
        let staged = match sandbox.source {
            Some(source) => {
                let target = self.inner.config.data_dir.join("stage").join(&job.id);
                match source.stage(&target) {
                    Ok(staged) => Some(staged),
                    Err(error) => return failure(format!("project: {error}")),
                }
            }
            None => None,
        };
        let request = SandboxRequest {
            project_source: staged.as_ref().map(|staged| staged.path().to_owned()),
            ..self.sandbox_request(
                job.clone(),
                endpoint.socket_dir().to_owned(),
                sandbox.user,
                false,
            )
        };
        let id = match runtime.create(&request).await {
            Ok(id) => id,
            Err(RuntimeError::NotFound { .. }) => {
                return failure(format!(
                    "image {} not found (build it with `corral image build`, or load it)",
                    job.image
                ));
            }
            Err(error) => return failure(format!("cannot create the container: {error}")),
        };
        *container_id = Some(id.clone());
        if let Err(error) = self.inner.store.set_container(&job.id, &id).await {
            error!(job_id = %job.id, error = %error, "cannot record container id");
        }
        if cancel.is_cancelled() {
            return self.stop(&id, JobState::Cancelled, CANCELLED_REASON).await;
        }
        let started = runtime.start(&id).await;
        drop(staged);
        if let Err(error) = started {
            return failure(format!("cannot start the container: {error}"));
        }
        self.record_running(job, &id, None, endpoint, claimed).await;
        self.watch(
            job,
            &id,
            endpoint,
            cancel,
            Duration::from_secs(job.limits.timeout_secs),
        )
        .await
    }
}
