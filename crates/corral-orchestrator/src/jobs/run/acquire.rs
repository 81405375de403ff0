//! Acquiring a job's sandbox: its project held, its session set up, its
//! socket opened, and a container for it, created and started cold (its
//! project staged from the held directory), taken warm from the pool (its
//! session bound to the waiting socket), or re-adopted after a restart;
//! then recorded running. What comes back is one [`Sandbox`]; a step that
//! fails tears down what the earlier ones made.

use std::path::PathBuf;
use std::time::Duration;

use corral_proto::verify::ContainerProfile;
use corral_proto::{Job, JobState};
use corral_runtime::{JobUser, RuntimeError, SandboxRequest};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::settle::Deferred;
use crate::jobs::JobManager;
use crate::jobs::cancel::CANCELLED_REASON;
use crate::jobs::outcome::{Outcome, cancelled, failure};
use crate::project::PinnedDir;
use crate::redact::Redactor;
use crate::token::TokenHash;
use crate::worker_api::WorkerEndpoint;
use std::sync::Arc;

/// How a job task begins.
pub(in crate::jobs) enum Start {
    /// A claimed job: a container is taken from the pool or created.
    Fresh,
    /// A job whose container survived an orchestrator restart: serve its
    /// socket again and watch the container it already has.
    Adopt {
        /// The running container.
        container_id: String,
        /// The stored hash of the worker's token.
        token: TokenHash,
    },
}

/// A job's running sandbox: its container and the socket its worker
/// reaches the orchestrator through.
pub(super) struct Sandbox {
    /// The host directory holding the socket, mounted at `/run/corral`.
    pub(super) socket_dir: PathBuf,
    pub(super) endpoint: WorkerEndpoint,
    pub(super) container_id: String,
    /// A pool container's pool name (its `corral.job` label), which the
    /// reaper spares until teardown.
    pub(super) pool_name: Option<String>,
    /// How long the job may still run.
    pub(super) time_left: Duration,
    /// A warm start's refill and rename, until the worker first reported.
    pub(super) deferred: Option<Deferred>,
}

impl JobManager {
    /// The job's sandbox, running; or how the job ended before it ran.
    pub(super) async fn acquire(
        &self,
        job: &Job,
        start: Start,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
        redactor: Arc<Redactor>,
    ) -> Result<Sandbox, Outcome> {
        let socket_dir = self.socket_dir(job);
        // A re-adopted job whose project changed while the server was away
        // does not run on unregistered.
        let held = match self.claim_project(job).await {
            Ok(held) => held,
            Err(error) => {
                self.abandon(job, &start).await;
                return Err(failure(format!("project: {error}")));
            }
        };
        // A copied project belongs to whoever unpacks it: the job user.
        let map = self.inner.runtime.id_map();
        let user = match held.source.as_deref().map(|dir| dir.job_user(map)) {
            None => map.corral(),
            Some(Ok(user)) => user,
            Some(Err(unmapped)) => {
                self.abandon(job, &start).await;
                return Err(failure(format!(
                    "project: its owner is no user inside this engine's containers ({})",
                    unmapped.mapping
                )));
            }
        };
        let adopt = match &start {
            Start::Adopt { token, .. } => Some(token),
            Start::Fresh => None,
        };
        let project = held.project.clone();
        let opened = self
            .open_session(job, adopt, user, project, &redactor, &socket_dir, cancel)
            .await;
        let (endpoint, warm) = match opened {
            Ok(opened) => opened,
            Err(reason) => {
                self.abandon(job, &start).await;
                // Deleted while its setup was tried again: cancelled.
                return Err(if cancel.is_cancelled() {
                    cancelled()
                } else {
                    failure(reason)
                });
            }
        };
        if let Err(error) = self
            .inner
            .store
            .set_token_hash(&job.id, endpoint.token_hash())
            .await
        {
            error!(job_id = %job.id, error = %error, "cannot record the token hash; the job cannot be re-adopted");
        }
        match (start, warm) {
            (Start::Adopt { container_id, .. }, _) => {
                info!(job_id = %job.id, container_id = %container_id, "re-adopted a running job");
                if job.mode == corral_proto::JobMode::Sandbox {
                    self.adopt_pause(job, &container_id).await;
                }
                let elapsed = job.started_at.map_or(Duration::ZERO, |at| {
                    (time::OffsetDateTime::now_utc() - at).unsigned_abs()
                });
                Ok(Sandbox {
                    socket_dir,
                    endpoint,
                    container_id,
                    pool_name: None,
                    time_left: time_limit(job).saturating_sub(elapsed),
                    deferred: None,
                })
            }
            (Start::Fresh, Some(taken)) => {
                let sandbox = Sandbox {
                    socket_dir,
                    endpoint,
                    container_id: taken.container_id,
                    pool_name: Some(taken.name),
                    time_left: time_limit(job),
                    deferred: None,
                };
                self.start_warm(job, sandbox, taken.read_back, cancel, claimed)
                    .await
            }
            (Start::Fresh, None) => {
                let cold = Cold {
                    user,
                    source: held.source.as_deref(),
                    socket_dir,
                    endpoint,
                };
                self.start_cold(job, cold, cancel, claimed).await
            }
        }
    }

    /// Where the job's socket lives: `<data-dir>/run/<job-id>/`.
    pub(super) fn socket_dir(&self, job: &Job) -> PathBuf {
        self.inner.config.data_dir.join("run").join(&job.id)
    }

    /// Runs the job in a pool container its session is already bound to.
    async fn start_warm(
        &self,
        job: &Job,
        mut sandbox: Sandbox,
        read_back: Option<ContainerProfile>,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
    ) -> Result<Sandbox, Outcome> {
        let container_id = sandbox.container_id.as_str();
        if let Err(error) = self.inner.store.set_container(&job.id, container_id).await {
            error!(job_id = %job.id, error = %error, "cannot record container id");
        }
        if cancel.is_cancelled() {
            self.refill_pool();
            return Err(self.cancel_before_start(job, sandbox).await);
        }
        self.record_running(job, &sandbox, read_back, claimed).await;
        sandbox.deferred =
            Some(self.after_first_report(&job.id, &sandbox.container_id, &sandbox.endpoint));
        Ok(sandbox)
    }

    /// Creates and starts the job's container, its project staged for it.
    async fn start_cold(
        &self,
        job: &Job,
        cold: Cold<'_>,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
    ) -> Result<Sandbox, Outcome> {
        // The container gets the held directory through a private mount
        // that only lives until the container has its own.
        let staged = match cold.source {
            Some(source) => {
                let target = self.inner.config.data_dir.join("stage").join(&job.id);
                match source.stage(&target) {
                    Ok(staged) => Some(staged),
                    Err(error) => {
                        return Err(cold.fail(self, job, format!("project: {error}")).await);
                    }
                }
            }
            None => None,
        };
        let request = SandboxRequest {
            project_source: staged.as_ref().map(|staged| staged.path().to_owned()),
            ..self.sandbox_request(job.clone(), cold.socket_dir.clone(), cold.user, false)
        };
        let created = match self.inner.runtime.create(&request).await {
            Ok(id) => id,
            Err(error) => {
                drop(staged);
                let reason = match error {
                    RuntimeError::NotFound { .. } => format!(
                        "image {} not found (build it with `corral image build`, or load it)",
                        job.image
                    ),
                    error => format!("cannot create the container: {error}"),
                };
                return Err(cold.fail(self, job, reason).await);
            }
        };
        let sandbox = Sandbox {
            socket_dir: cold.socket_dir,
            endpoint: cold.endpoint,
            container_id: created,
            pool_name: None,
            time_left: time_limit(job),
            deferred: None,
        };
        let id = sandbox.container_id.as_str();
        if let Err(error) = self.inner.store.set_container(&job.id, id).await {
            error!(job_id = %job.id, error = %error, "cannot record container id");
        }
        if cancel.is_cancelled() {
            drop(staged);
            return Err(self.cancel_before_start(job, sandbox).await);
        }
        let started = self.inner.runtime.start(id).await;
        drop(staged);
        if let Err(error) = started {
            self.teardown(job, sandbox).await;
            return Err(failure(format!("cannot start the container: {error}")));
        }
        self.record_running(job, &sandbox, None, claimed).await;
        Ok(sandbox)
    }

    /// Ends a job cancelled while its sandbox was being made.
    async fn cancel_before_start(&self, job: &Job, sandbox: Sandbox) -> Outcome {
        let outcome = self
            .stop(&sandbox.container_id, JobState::Cancelled, CANCELLED_REASON)
            .await;
        self.teardown(job, sandbox).await;
        outcome
    }

    /// What the runtime needs to make `job`'s container (a pool
    /// container's, when `pooled`) on this server.
    pub(in crate::jobs) fn sandbox_request(
        &self,
        job: Job,
        socket_dir: PathBuf,
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
        sandbox: &Sandbox,
        read_back: Option<ContainerProfile>,
        claimed: std::time::Instant,
    ) {
        let container_id = sandbox.container_id.as_str();
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
        sandbox.endpoint.mark_running();
    }
}

/// A cold start's socket and what its container is made with besides the
/// job, before the container exists.
struct Cold<'a> {
    /// Who the job runs as.
    user: JobUser,
    /// The directory bound at `/workspace`, held.
    source: Option<&'a PinnedDir>,
    socket_dir: PathBuf,
    endpoint: WorkerEndpoint,
}

impl Cold<'_> {
    /// Closes the socket of a cold start that failed before its container
    /// existed; the job fails for `reason`.
    async fn fail(self, manager: &JobManager, job: &Job, reason: String) -> Outcome {
        manager
            .close_socket(job, self.endpoint, &self.socket_dir)
            .await;
        failure(reason)
    }
}

/// The job's whole time limit.
fn time_limit(job: &Job) -> Duration {
    Duration::from_secs(job.limits.timeout_secs)
}
