//! One job's life on the runtime: open its socket, create and start its
//! container, wait for exit, timeout, cancel or shutdown, then remove the
//! container and close the socket whatever happened, and record the end.

use std::time::Duration;

use corral_proto::{Job, JobState, NewEvent};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, instrument, warn};

use super::JobManager;
use super::cancel::CANCELLED_REASON;
use super::container::Sandbox;
use std::sync::Arc;

use super::outcome::{Outcome, decide, explain, failure, overrule, redact};
use crate::redact::Redactor;
use crate::store::Finish;
use crate::token::TokenHash;
use crate::worker_api::WorkerEndpoint;
use corral_runtime::{JobUser, RuntimeError};

/// The reason recorded when a job's container vanished under it.
pub const CONTAINER_LOST: &str = "container lost";
/// How long a killed container gets to report its exit before removal.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// How a job task begins.
pub(super) enum Start {
    /// A claimed job: create and start its container.
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

impl JobManager {
    /// Runs a claimed job to its end and frees its slot.
    #[instrument(name = "jobs.run", skip_all, fields(job_id = %job.id))]
    pub(super) async fn run(self, job: Job, cancel: CancellationToken, start: Start) {
        let job_id = job.id.clone();
        let claimed = std::time::Instant::now();
        if matches!(start, Start::Fresh)
            && let Err(error) = self
                .inner
                .events
                .status(&job_id, JobState::Starting, None)
                .await
        {
            error!(job_id = %job_id, error = %error, "cannot store status event");
        }
        // No job runs without a leak detector that knows every secret.
        let (redactor, mut outcome) = match self.job_redactor(&job).await {
            Ok(redactor) => {
                let outcome = self.drive(&job, &cancel, claimed, start, &redactor).await;
                (redactor, outcome)
            }
            Err(error) => {
                if let Start::Adopt { container_id, .. } = &start
                    && let Err(error) = self.inner.runtime.remove(container_id).await
                {
                    error!(job_id = %job_id, container_id, error = %error, "cannot remove container");
                }
                let reason = format!("cannot set up the job's leak detector: {error}");
                (Arc::new(Redactor::default()), failure(reason))
            }
        };
        redact(&mut outcome, &redactor);
        if let Some(warning) = &outcome.warning {
            let event = NewEvent::warning(warning.clone());
            if let Err(error) = self.inner.events.append(&job_id, vec![event]).await {
                error!(job_id = %job_id, error = %error, "cannot store warning event");
            }
        }
        match self
            .inner
            .store
            .finish(&job_id, &outcome.finish, None)
            .await
        {
            Ok(true) => {
                info!(job_id = %job_id, state = outcome.finish.state.as_str(), "job ended");
                self.record_end(&job_id, &outcome.finish).await;
            }
            Ok(false) => warn!(job_id = %job_id, "job had already ended"),
            Err(error) => error!(job_id = %job_id, error = %error, "cannot record job end"),
        }
        self.release_project(&job_id);
        self.lock_active().remove(&job_id);
        self.inner.wake.notify_one();
    }

    /// Stores the terminal status event and releases the job's followers.
    pub(super) async fn record_end(&self, job_id: &str, finish: &Finish) {
        if let Err(error) = self
            .inner
            .events
            .status(job_id, finish.state, finish.reason.as_deref())
            .await
        {
            error!(job_id, error = %error, "cannot store final status event");
        }
        self.inner.events.close(job_id);
    }

    /// Runs the job's sandbox, then brings a branch-mode job's work back
    /// whatever happened to the sandbox.
    async fn drive(
        &self,
        job: &Job,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
        start: Start,
        redactor: &Arc<Redactor>,
    ) -> Outcome {
        let mut outcome = self
            .run_sandbox(job, cancel, claimed, start, Arc::clone(redactor))
            .await;
        if let Err(error) = self.harvest(job).await {
            // git's account may quote the job's files: redacted like them.
            let message = format!("cannot bring the job's work back: {error}");
            let mut findings = crate::redact::Findings::default();
            let message = redactor
                .redact_text(&message, &mut findings)
                .unwrap_or(message);
            warn!(job_id = %job.id, message = %message, "harvest failed");
            outcome.add_warning(message);
        }
        outcome
    }

    async fn run_sandbox(
        &self,
        job: &Job,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
        start: Start,
        redactor: Arc<Redactor>,
    ) -> Outcome {
        let socket_dir = self.inner.config.data_dir.join("run").join(&job.id);
        let held = match self.claim_project(job).await {
            Ok(held) => held,
            Err(error) => {
                // A re-adopted job whose project changed while the server
                // was away does not run on unregistered.
                if let Start::Adopt { container_id, .. } = &start
                    && let Err(error) = self.inner.runtime.remove(container_id).await
                {
                    error!(job_id = %job.id, container_id, error = %error, "cannot remove container");
                }
                return failure(format!("project: {error}"));
            }
        };
        // A copied project belongs to whoever unpacks it: the job user.
        let user = held
            .source
            .as_deref()
            .map_or(JobUser::CORRAL, crate::project::PinnedDir::job_user);
        let setup = match self
            .session_setup(job, user, held.project.clone(), redactor)
            .await
        {
            Ok(setup) => setup,
            Err(error) => return failure(error.to_string()),
        };
        let tasks = &self.inner.tasks;
        let mut warm = None;
        let opened = match &start {
            Start::Fresh => match self.take_warm(job, &socket_dir).await {
                Some(taken) => {
                    let (taken, endpoint) = taken.bind(setup);
                    warm = Some(taken);
                    Ok(endpoint)
                }
                None => WorkerEndpoint::open(&socket_dir, setup, tasks).await,
            },
            Start::Adopt { token, .. } => {
                WorkerEndpoint::reopen(&socket_dir, setup, token.clone(), tasks).await
            }
        };
        let endpoint = match opened {
            Ok(endpoint) => endpoint,
            Err(error) => return failure(format!("cannot open the job socket: {error}")),
        };
        if let Err(error) = self
            .inner
            .store
            .set_token_hash(&job.id, endpoint.token_hash())
            .await
        {
            error!(job_id = %job.id, error = %error, "cannot record the token hash; the job cannot be re-adopted");
        }
        let mut container_id = None;
        let outcome = match (start, &warm) {
            (Start::Fresh, None) => {
                let sandbox = Sandbox {
                    user,
                    source: held.source.as_deref(),
                    endpoint: &endpoint,
                };
                self.drive_container(job, &sandbox, cancel, &mut container_id, claimed)
                    .await
            }
            (Start::Fresh, Some(warm)) => {
                container_id = Some(warm.container_id.clone());
                self.drive_warm(job, warm, &endpoint, cancel, claimed).await
            }
            (
                Start::Adopt {
                    container_id: id, ..
                },
                _,
            ) => {
                info!(job_id = %job.id, container_id = %id, "re-adopted a running job");
                container_id = Some(id.clone());
                let elapsed = job.started_at.map_or(Duration::ZERO, |at| {
                    (time::OffsetDateTime::now_utc() - at).unsigned_abs()
                });
                let limit = Duration::from_secs(job.limits.timeout_secs);
                self.watch(job, &id, &endpoint, cancel, limit.saturating_sub(elapsed))
                    .await
            }
        };
        if let Some(container_id) = &container_id {
            if let Err(error) = self.inner.runtime.remove(container_id).await {
                error!(job_id = %job.id, container_id, error = %error, "cannot remove container");
            }
            self.unspare(container_id);
        }
        if let Some(warm) = &warm {
            self.unspare(&warm.name);
        }
        endpoint.close().await;
        if let Err(error) = tokio::fs::remove_dir_all(&socket_dir).await {
            warn!(job_id = %job.id, error = %error, "cannot remove job socket directory");
        }
        outcome
    }

    /// Waits for whichever comes first: the container's exit, the timeout,
    /// a cancel, or server shutdown.
    pub(super) async fn watch(
        &self,
        job: &Job,
        id: &str,
        endpoint: &WorkerEndpoint,
        cancel: &CancellationToken,
        timeout: Duration,
    ) -> Outcome {
        let runtime = &self.inner.runtime;
        tokio::select! {
            exit = runtime.wait(id) => match exit {
                Ok(exit) => {
                    endpoint.revoke();
                    let mut outcome = decide(exit, endpoint.completion().as_ref());
                    overrule(&mut outcome, endpoint.failure());
                    explain(&mut outcome, endpoint.last_model_error());
                    outcome
                }
                Err(RuntimeError::NotFound { .. }) => failure(CONTAINER_LOST.to_owned()),
                Err(error) => failure(format!(
                    "lost track of the container (did the Docker daemon stop?): {error}"
                )),
            },
            () = tokio::time::sleep(timeout) => {
                let reason = format!("timed out after {}s", job.limits.timeout_secs);
                self.stop(id, JobState::TimedOut, &reason).await
            }
            () = cancel.cancelled() => self.stop(id, JobState::Cancelled, CANCELLED_REASON).await,
            () = self.inner.shutdown.cancelled() => {
                self.stop(id, JobState::Failed, "orchestrator shut down").await
            }
        }
    }

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
