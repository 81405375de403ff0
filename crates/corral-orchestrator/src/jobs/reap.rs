//! The reaper: every `reap_interval`, containers carrying this instance's
//! label that no live job owns and the warm pool does not hold are removed.
//! A job whose container vanished is ended by its own task (`container
//! lost`); this catches the rest: a container left by a crash between
//! create and record, a previous run's pool, or one made by hand with
//! corral's labels.

use std::collections::HashSet;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tracing::{info, warn};

use super::JobManager;
use corral_runtime::LABEL_INSTANCE;

impl JobManager {
    pub(super) async fn reap_periodically(self) {
        let period = Duration::from_secs(self.inner.config.reap_interval_secs);
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first tick is immediate; recover() just swept
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    self.reap().await;
                    self.prune_workspaces().await;
                }
                () = self.inner.shutdown.cancelled() => return,
            }
        }
    }

    /// Removes every container of this instance that no live job owns.
    pub async fn reap(&self) -> usize {
        let containers = match self
            .inner
            .runtime
            .list_by_label(LABEL_INSTANCE, &self.inner.instance_id)
            .await
        {
            Ok(containers) => containers,
            Err(error) => {
                warn!(error = %error, "reaper cannot list containers");
                return 0;
            }
        };
        let mut removed = 0;
        for container in containers {
            let owned = container
                .job_id
                .as_ref()
                .is_some_and(|job_id| self.lock_active().contains_key(job_id))
                || self.is_spared(&container.container_id, container.job_id.as_deref());
            if owned {
                continue;
            }
            match self.inner.runtime.remove(&container.container_id).await {
                Ok(()) => {
                    removed += 1;
                    self.inner.reaped.fetch_add(1, Ordering::Relaxed);
                    info!(container_id = %container.container_id, job_id = container.job_id.as_deref(), "reaper removed a container no live job owns");
                }
                Err(error) => {
                    warn!(container_id = %container.container_id, error = %error, "reaper cannot remove container");
                }
            }
        }
        self.inner.reaper_passes.fetch_add(1, Ordering::Relaxed);
        removed
    }

    /// Removes the review files of jobs that ended longer ago than the
    /// retention period (and of jobs the store does not know).
    pub async fn prune_workspaces(&self) -> usize {
        let root = crate::workspace::workspaces_dir(&self.inner.config.data_dir);
        let retention = Duration::from_secs(self.inner.config.workspace_retention_secs);
        let Ok(mut entries) = tokio::fs::read_dir(&root).await else {
            return 0;
        };
        let mut pruned = 0;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let job_id = entry.file_name().to_string_lossy().into_owned();
            let old_enough = entry
                .metadata()
                .await
                .ok()
                .and_then(|metadata| metadata.modified().ok())
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age >= retention);
            if !old_enough {
                continue;
            }
            let ended = match self.inner.store.get_job(&job_id).await {
                Ok(Some(job)) => job.state.is_terminal(),
                Ok(None) => true,
                Err(_) => false,
            };
            if ended && tokio::fs::remove_dir_all(entry.path()).await.is_ok() {
                pruned += 1;
                info!(job_id = %job_id, "pruned an ended job's review files");
            }
        }
        pruned
    }
}

/// What the reaper spares besides active jobs' own labels.
impl JobManager {
    /// Keeps the reaper off the container named or labelled `key`.
    pub(super) fn spare(&self, key: &str) {
        self.lock_spared().insert(key.to_owned());
    }

    /// Lets the reaper have the container named or labelled `key` again.
    pub(super) fn unspare(&self, key: &str) {
        self.lock_spared().remove(key);
    }

    /// Whether the reaper must leave a container alone by its id or label.
    pub(super) fn is_spared(&self, container_id: &str, label: Option<&str>) -> bool {
        let spared = self.lock_spared();
        spared.contains(container_id) || label.is_some_and(|label| spared.contains(label))
    }

    fn lock_spared(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner
            .spared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
