//! What a (re)start finds: jobs that were live under a previous process and
//! containers that process left. A job whose container still runs, and whose
//! token hash was stored, is re-adopted: its socket is served again at the
//! same path and its worker (which retries while the orchestrator is away)
//! carries on. A sandbox whose files are in a snapshot is stopped instead
//! of ended: one whose stop had kept its snapshot (its stop is finished,
//! whatever its container did since), and one that was starting and not
//! re-adopted (its files never reached a container). Every other live job
//! ends with a reason, and every container of this instance that no
//! adopted job owns is removed.

use std::collections::HashSet;

use corral_proto::{Job, JobState};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::run::Start;
use super::{JobError, JobManager};
use crate::store::Finish;
use crate::token::TokenHash;

/// Where snapshots of sandboxes the database does not hold are set aside,
/// in the snapshot directory.
const ORPHANED: &str = "orphaned";

/// The reason recorded on jobs a restart found live and could not re-adopt.
pub const RESTARTED_REASON: &str = "orchestrator restarted while the job was live";

impl JobManager {
    pub(super) async fn recover(&self) -> Result<(), JobError> {
        // Before any re-adopted sandbox could stop and write one.
        self.remove_partial_snapshots();
        let mut adopted = HashSet::new();
        for job in self.inner.store.unfinished_jobs().await? {
            let sandbox = job.mode == corral_proto::JobMode::Sandbox;
            // Never re-adopted: its container may run with files newer
            // than the stop's snapshot, which a restore would put over them.
            let stop_cut_off = sandbox && self.is_stopping(&job.id);
            let adoption = if stop_cut_off {
                None
            } else {
                self.adoption(&job).await
            };
            if let Some(start) = adoption {
                // Its project is registered before the scheduler runs, so no
                // queued job starts on a path it can write. A claim that
                // fails is made again (and fails the job) when it runs.
                let _ = self.claim_project(&job).await;
                if let Start::Adopt { container_id, .. } = &start {
                    // A pooled container's label names its pool entry, not the job.
                    self.spare(container_id);
                }
                let cancel = CancellationToken::new();
                self.lock_active().insert(job.id.clone(), cancel.clone());
                adopted.insert(job.id.clone());
                self.inner.tasks.spawn(self.clone().run(job, cancel, start));
                continue;
            }
            if stop_cut_off || (sandbox && self.has_snapshot(&job.id)) {
                self.stop_at_restart(&job.id, stop_cut_off).await?;
                continue;
            }
            let reason = if self.container_gone(&job).await {
                super::run::CONTAINER_LOST
            } else {
                RESTARTED_REASON
            };
            let finish = Finish {
                state: JobState::Failed,
                exit_code: None,
                reason: Some(reason.to_owned()),
            };
            if self.inner.store.finish(&job.id, &finish, None).await? {
                info!(job_id = %job.id, "ended job left live by a previous run");
                self.record_end(&job.id, &finish).await;
            }
        }
        self.settle_stray_stops().await;
        // Adopted jobs are registered as active, so the reaper spares exactly
        // their containers.
        self.reap().await;
        self.remove_stale_sockets(&adopted).await;
        self.remove_stale_stages();
        Ok(())
    }

    /// Records sandbox `id` stopped, its snapshot kept for `start`: its
    /// stop was cut off by the restart (`stop_cut_off`: the stop's snapshot
    /// becomes its snapshot once it is recorded stopped, so no later
    /// restart re-adopts its container to restore it), or its start was.
    async fn stop_at_restart(&self, id: &str, stop_cut_off: bool) -> Result<(), JobError> {
        let stopped = self.inner.store.mark_stopped(id).await?;
        if stop_cut_off {
            self.stopped_snapshot(id).await;
        }
        if !stopped {
            return Ok(());
        }
        info!(job_id = %id, "stopped a sandbox left stopping or starting by a previous run");
        let warning = if stop_cut_off {
            "the server restarted while the sandbox stopped: the stop is finished, its files kept"
        } else {
            "the server restarted while the sandbox started: it is stopped with its files kept, \
             and may be started again"
        };
        let warned = self
            .inner
            .events
            .append(
                id,
                vec![corral_proto::NewEvent::warning(warning.to_owned())],
            )
            .await;
        if let Err(error) = warned {
            warn!(job_id = %id, error = %error, "cannot store warning event");
        }
        if let Err(error) = self.inner.events.status(id, JobState::Stopped, None).await {
            warn!(job_id = %id, error = %error, "cannot store status event");
        }
        Ok(())
    }

    /// Gives a stopped sandbox the snapshot a stop left beside it (a kill
    /// between recording the stop and renaming it), and drops the
    /// snapshots of sandboxes that ended (a kill between recording the end
    /// and dropping them): sealed files of a sandbox's grants that nothing
    /// would ever read or remove. One of a sandbox the database does not
    /// hold (a database put back from a backup) is set aside in
    /// [`ORPHANED`], for its user to judge.
    async fn settle_stray_stops(&self) {
        for (path, id) in self.kept_snapshots(&["stopping", "snapshot"]) {
            let stopping = path
                .extension()
                .is_some_and(|extension| extension == "stopping");
            match self.inner.store.get_job(&id).await {
                Ok(Some(job)) if stopping && job.state == JobState::Stopped => {
                    self.stopped_snapshot(&id).await;
                }
                Ok(Some(job)) if !job.state.is_terminal() => {}
                Ok(Some(_)) => {
                    info!(job_id = %id, path = %path.display(), "removed the snapshot of a sandbox that ended");
                    let _ = std::fs::remove_file(&path);
                }
                Ok(None) => set_aside(&path),
                Err(error) => {
                    warn!(job_id = %id, error = %error, "cannot read the sandbox of a kept snapshot");
                }
            }
        }
    }

    /// Removes the snapshots a killed run was still writing: no write is
    /// under way before this run's sandboxes run.
    fn remove_partial_snapshots(&self) {
        for (path, _) in self.kept_snapshots(&["partial"]) {
            if let Err(error) = std::fs::remove_file(&path) {
                warn!(path = %path.display(), error = %error, "cannot remove a snapshot left half written");
            }
        }
    }

    /// The files in the snapshot directory whose last extension is one of
    /// `extensions`, with the sandbox id their names start with.
    fn kept_snapshots(&self, extensions: &[&str]) -> Vec<(std::path::PathBuf, String)> {
        let dir = self.inner.config.data_dir.join("sandboxes");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let extension = path.extension()?.to_str()?;
                if !extensions.contains(&extension) {
                    return None;
                }
                let name = path.file_name()?.to_str()?;
                let id = name.split('.').next()?.to_owned();
                Some((path, id))
            })
            .collect()
    }

    /// Undoes the private project mounts a killed run left between mounting
    /// and starting a container (see `project::PinnedDir::stage`).
    fn remove_stale_stages(&self) {
        let stage = self.inner.config.data_dir.join("stage");
        let Ok(entries) = std::fs::read_dir(&stage) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            // Not mounted any more is fine: the directory is then empty.
            let _ = rustix::mount::unmount(&path, rustix::mount::UnmountFlags::DETACH);
            if let Err(error) = std::fs::remove_dir(&path) {
                warn!(path = %path.display(), error = %error, "cannot remove a stale project mount point");
            }
        }
    }

    /// How to re-adopt `job`, when its container still runs and its token
    /// hash was stored.
    async fn adoption(&self, job: &Job) -> Option<Start> {
        if job.state != JobState::Running {
            return None;
        }
        let container_id = job.container_id.clone()?;
        let token = self.inner.store.token_hash(&job.id).await.ok()??;
        let running = self.inner.runtime.is_running(&container_id).await.ok()?;
        running.then(|| Start::Adopt {
            container_id,
            token: TokenHash::from_hex(token),
        })
    }

    /// Whether `job` had a container that no longer exists.
    async fn container_gone(&self, job: &Job) -> bool {
        let Some(container_id) = &job.container_id else {
            return false;
        };
        matches!(self.inner.runtime.exists(container_id).await, Ok(false))
    }

    async fn remove_stale_sockets(&self, adopted: &HashSet<String>) {
        let run_dir = self.inner.config.data_dir.join("run");
        let Ok(mut entries) = tokio::fs::read_dir(&run_dir).await else {
            return;
        };
        while let Ok(Some(entry)) = entries.next_entry().await {
            if adopted.contains(entry.file_name().to_string_lossy().as_ref()) {
                continue;
            }
            if let Err(error) = tokio::fs::remove_dir_all(entry.path()).await {
                warn!(error = %error, "cannot clear an old job socket");
            }
        }
    }
}

/// Moves `path` (a snapshot of no known sandbox) into [`ORPHANED`] beside it.
fn set_aside(path: &std::path::Path) {
    use std::os::unix::fs::DirBuilderExt;
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let orphaned = dir.join(ORPHANED);
    let moved = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&orphaned)
        .and_then(|()| std::fs::rename(path, orphaned.join(name)));
    match moved {
        Ok(()) => {
            warn!(path = %path.display(), "set aside the snapshot of a sandbox the database does not hold");
        }
        Err(error) => {
            warn!(path = %path.display(), error = %error, "cannot set aside the snapshot of an unknown sandbox");
        }
    }
}
