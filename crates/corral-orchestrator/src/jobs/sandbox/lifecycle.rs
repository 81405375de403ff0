//! Stopping, starting and forking a sandbox. `stop` snapshots its files
//! and removes its container (the sandbox is `stopped`, not ended, and the
//! snapshot its own once the container is gone);
//! `start` queues it again, and its new container gets the snapshot back
//! before it takes any exec; `fork` makes a new sandbox with the same
//! settings from a snapshot of a running or stopped one.

use std::time::Duration;

use corral_proto::sandbox::{Sandbox, SandboxState};
use corral_proto::{Job, JobState};
use zeroize::Zeroizing;

use super::{JobError, JobManager, SandboxError};
use crate::sandbox::Desk;

fn failed(message: String) -> JobError {
    SandboxError::Failed { message }.into()
}

/// Longest a sandbox's files may take to read at the server's shutdown,
/// within its grace (`server::SHUTDOWN_GRACE`), with time left to keep
/// them and remove the container.
const SHUTDOWN_SNAPSHOT: Duration = Duration::from_secs(15);

/// Longest `stop` waits for the container to be gone.
const STOP_WAIT: Duration = Duration::from_mins(1);

impl JobManager {
    /// Snapshots sandbox `id`'s files and removes its container.
    pub async fn stop_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let mut wake = self.inner.events.subscribe(id);
        // Run to the stop's request even when the caller goes (its
        // connection cut, a client's timeout): a stop's snapshot kept and
        // no stop asked for would be found by the next restart, which
        // finishes the stop with files older than the container's.
        let manager = self.clone();
        let stopped = id.to_owned();
        self.inner
            .tasks
            .spawn(async move { manager.ask_stop(&stopped).await })
            .await
            .map_err(|error| {
                let why = crate::text::task_failure(&error);
                failed(format!("the stop failed: {why}"))
            })??;
        let deadline = tokio::time::Instant::now() + STOP_WAIT;
        loop {
            let sandbox = self.sandbox(id).await?;
            if sandbox.job.state == JobState::Stopped || sandbox.job.state.is_terminal() {
                return Ok(sandbox);
            }
            tokio::select! {
                _ = wake.recv() => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
                () = tokio::time::sleep_until(deadline) => return Ok(sandbox),
            }
        }
    }

    /// Keeps a stop's snapshot of sandbox `id`'s files, then asks its
    /// watcher to remove its container. When the snapshot cannot be kept,
    /// nothing is left of it and the sandbox may be stopped again.
    async fn ask_stop(&self, id: &str) -> Result<(), JobError> {
        let (job, desk) = self.live_desk(id).await?;
        if !desk.begin_stop() {
            return Err(SandboxError::NotRunning {
                id: id.to_owned(),
                state: SandboxState::Stopped,
            }
            .into());
        }
        let kept = match self.read_to_stop(&job, &desk).await {
            Ok(snapshot) => self.keep_stopping(id, &snapshot).await,
            Err(error) => Err(error),
        };
        if let Err(error) = kept {
            desk.end_stop();
            return Err(error);
        }
        if desk.is_closed() {
            // Deleted meanwhile: it ends, and its files go with it.
            self.drop_snapshot(id).await;
            return Err(SandboxError::NotRunning {
                id: id.to_owned(),
                state: SandboxState::Ended,
            }
            .into());
        }
        desk.request_stop();
        Ok(())
    }

    /// At the server's shutdown, keeps a stop's snapshot of `job`'s files,
    /// read within [`SHUTDOWN_SNAPSHOT`]; whether it was kept (else the
    /// sandbox ends with its files, as before). A user's stop under way is
    /// waited for as long: its snapshot, once kept, is what it stops with.
    pub(in crate::jobs) async fn keep_at_shutdown(&self, job: &Job, desk: &Desk) -> bool {
        let id = job.id.as_str();
        if !desk.begin_stop() {
            let _ = tokio::time::timeout(SHUTDOWN_SNAPSHOT, desk.stop_requested()).await;
            return self.is_stopping(id);
        }
        // Only the reading is bounded: a write cut off by the bound would
        // still land after it, beside a sandbox recorded ended.
        let read = tokio::time::timeout(SHUTDOWN_SNAPSHOT, self.read_to_stop(job, desk)).await;
        let kept = match read {
            Ok(Ok(snapshot)) => self.keep_stopping(id, &snapshot).await,
            Ok(Err(error)) => Err(error),
            Err(_) => {
                tracing::warn!(job_id = %id, "a sandbox's files were not read within the shutdown's time");
                return false;
            }
        };
        if let Err(error) = kept {
            tracing::warn!(job_id = %id, error = %error, "cannot keep a sandbox's files at shutdown");
            return false;
        }
        true
    }

    /// A stop's snapshot of `job`'s files, the sandbox thawed first.
    async fn read_to_stop(&self, job: &Job, desk: &Desk) -> Result<Zeroizing<Vec<u8>>, JobError> {
        if desk.is_paused() {
            self.resume_sandbox(&job.id).await?;
        }
        self.take_snapshot(job, desk).await
    }

    /// Keeps `snapshot` as sandbox `id`'s stop's; nothing of it is left
    /// when that fails.
    async fn keep_stopping(&self, id: &str, snapshot: &[u8]) -> Result<(), JobError> {
        let kept = self.keep_snapshot(id, snapshot, true).await;
        if kept.is_err() {
            self.drop_stopping(id).await;
        }
        kept
    }

    /// Queues stopped sandbox `id` again; its files come back from its snapshot.
    pub async fn start_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let job = self.sandbox(id).await?.job;
        // Started without the files its last stop kept, the sandbox ran
        // empty (or on an older snapshot) and its next stop wrote over them.
        if job.state == JobState::Stopped {
            self.settle_stopping(id).await?;
        }
        if job.state != JobState::Stopped || !self.inner.store.requeue_stopped(id).await? {
            return Err(SandboxError::NotStopped {
                id: id.to_owned(),
                state: SandboxState::of(job.state),
            }
            .into());
        }
        self.inner.events.status(id, JobState::Queued, None).await?;
        self.inner.wake.notify_one();
        self.sandbox(id).await
    }

    /// A new sandbox with `id`'s settings and a copy of its files.
    pub async fn fork_sandbox(&self, id: &str) -> Result<Sandbox, JobError> {
        let source = self.sandbox(id).await?.job;
        if source.bound_project().is_some() || source.isolation.is_some() {
            return Err(JobError::invalid(
                "id",
                "a sandbox whose /workspace is a host directory (bound, or its own branch) cannot be forked",
            ));
        }
        if source.state == JobState::Stopped {
            // Sealed again for the fork, as kept: a snapshot opens for its
            // own sandbox only.
            self.settle_stopping(id).await?;
            let deflated = self.open_deflated(id).await?;
            return self.queue_fork(&source, &deflated).await;
        }
        let (job, desk) = self.running_desk(id).await?;
        // Sealed again for the fork: a snapshot opens for its own sandbox only.
        let deflated = self.take_snapshot(&job, &desk).await?;
        self.queue_fork(&source, &deflated).await
    }

    /// Queues a copy of `source` whose snapshot is `deflated`; the snapshot
    /// is kept before the scheduler may claim it.
    async fn queue_fork(&self, source: &Job, deflated: &[u8]) -> Result<Sandbox, JobError> {
        let forked = source.requeued(super::super::create::new_job_id()?);
        let _claims_paused = self.inner.claim_lock.lock().await;
        self.keep_snapshot(&forked.id, deflated, false).await?;
        if let Err(error) = self.queue(&forked).await {
            self.drop_snapshot(&forked.id).await;
            return Err(error);
        }
        Ok(self.sandbox_view(forked))
    }
}
