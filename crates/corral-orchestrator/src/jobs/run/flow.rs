//! A claimed job from start to recorded end: its leak detector first (no
//! job runs without one), then its sandbox acquired, watched and torn down,
//! its work brought back, and its end stored with reason and warning
//! redacted.

use std::sync::Arc;

use corral_proto::{Job, JobState, NewEvent};
use tokio_util::sync::CancellationToken;
use tracing::{error, info, instrument, warn};

use super::acquire::Start;
use super::watch::Watched;
use crate::jobs::JobManager;
use crate::jobs::outcome::{Outcome, failure, judge, redact};
use crate::redact::Redactor;
use crate::store::Finish;

impl JobManager {
    /// Runs a claimed job to its end and frees its slot.
    #[instrument(name = "jobs.run", skip_all, fields(job_id = %job.id))]
    pub(in crate::jobs) async fn run(self, job: Job, cancel: CancellationToken, start: Start) {
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
        let (redactor, mut outcome) = match self.job_redactor(&job).await {
            Ok(redactor) => {
                let outcome = self.drive(&job, &cancel, claimed, start, &redactor).await;
                (redactor, outcome)
            }
            Err(error) => {
                self.abandon(&job, &start).await;
                let reason = format!("cannot set up the job's leak detector: {error}");
                (Arc::new(Redactor::default()), failure(reason))
            }
        };
        // A sandbox whose start failed before its files were restored (its
        // image gone, Docker refusing, its leak detector not set up): they
        // are still in its snapshot, and ending it would drop them. One
        // that failed as it stopped has its files in its stop's snapshot.
        if outcome.finish.state == JobState::Failed && job.mode == corral_proto::JobMode::Sandbox {
            let reason = outcome.finish.reason.as_deref().unwrap_or_default();
            if self.stopped_snapshot(&job_id).await {
                outcome = stopped_with(format!(
                    "the sandbox failed as it stopped, and is stopped with the files its stop \
                     kept: {reason}"
                ));
            } else if self.has_snapshot(&job_id) {
                outcome = stopped_again(reason);
            }
        }
        redact(&mut outcome, &redactor);
        if let Some(warning) = &outcome.warning {
            let event = NewEvent::warning(warning.clone());
            if let Err(error) = self.inner.events.append(&job_id, vec![event]).await {
                error!(job_id = %job_id, error = %error, "cannot store warning event");
            }
        }
        if outcome.finish.state == JobState::Stopped {
            if !cancel.is_cancelled() {
                self.record_stop(&job_id).await;
                return;
            }
            // Deleted while it stopped: it ends (its snapshot dropped below).
            outcome.finish = crate::jobs::cancel::cancelled();
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
                // An ended sandbox's files go with it, however it ended.
                if job.mode == corral_proto::JobMode::Sandbox {
                    self.drop_snapshot(&job_id).await;
                }
            }
            Ok(false) => warn!(job_id = %job_id, "job had already ended"),
            Err(error) => error!(job_id = %job_id, error = %error, "cannot record job end"),
        }
        self.release_project(&job_id);
        if let Some(desk) = self.lock_desks().remove(&job_id) {
            desk.close();
        }
        self.lock_active().remove(&job_id);
        self.inner.wake.notify_one();
    }

    /// A sandbox stopped by its user: recorded `stopped` (not ended), its
    /// slot and desk freed; its snapshot stays for `start`.
    async fn record_stop(&self, job_id: &str) {
        // Its container is gone: the stop's snapshot is what a start restores.
        self.stopped_snapshot(job_id).await;
        // Freed first: once it is recorded stopped, a `start` may claim it
        // and register a desk and a slot of its own.
        self.release_project(job_id);
        if let Some(desk) = self.lock_desks().remove(job_id) {
            desk.close();
        }
        self.lock_active().remove(job_id);
        match self.inner.store.mark_stopped(job_id).await {
            Ok(true) => {
                info!(job_id, "sandbox stopped");
                if let Err(error) = self
                    .inner
                    .events
                    .status(job_id, JobState::Stopped, None)
                    .await
                {
                    error!(job_id, error = %error, "cannot store status event");
                }
            }
            Ok(false) => warn!(job_id, "sandbox was no longer running"),
            Err(error) => error!(job_id, error = %error, "cannot record sandbox stop"),
        }
        self.inner.wake.notify_one();
    }

    /// Stores the terminal status event and releases the job's followers.
    pub(in crate::jobs) async fn record_end(&self, job_id: &str, finish: &Finish) {
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
            .sandboxed(job, cancel, claimed, start, Arc::clone(redactor))
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

    /// The job in its sandbox: acquired, watched until it ends, torn down,
    /// and judged.
    async fn sandboxed(
        &self,
        job: &Job,
        cancel: &CancellationToken,
        claimed: std::time::Instant,
        start: Start,
        redactor: Arc<Redactor>,
    ) -> Outcome {
        let sandbox = match self.acquire(job, start, cancel, claimed, redactor).await {
            Ok(sandbox) => sandbox,
            Err(outcome) => return outcome,
        };
        if let Err(reason) = self.restore_files(job).await {
            self.teardown(job, sandbox).await;
            return stopped_again(&reason);
        }
        let watched = self.watch(job, &sandbox, cancel).await;
        let report = self.teardown(job, sandbox).await;
        match watched {
            Watched::Exited(exit) => judge(exit, report),
            Watched::Ended(outcome) => outcome,
        }
    }
}

/// A sandbox stopped again, its snapshot kept, because its start failed
/// for `reason`: a start may try once more.
fn stopped_again(reason: &str) -> Outcome {
    stopped_with(format!(
        "the sandbox could not start again, and is stopped with its files kept: {reason}"
    ))
}

/// A sandbox stopped, its snapshot kept, with `warning` saying why.
fn stopped_with(warning: String) -> Outcome {
    Outcome {
        finish: Finish {
            state: JobState::Stopped,
            exit_code: None,
            reason: None,
        },
        warning: Some(warning),
    }
}
