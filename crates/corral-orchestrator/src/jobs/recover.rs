//! What a (re)start finds: jobs that were live under a previous process and
//! containers that process left. Nothing re-adopts them yet, so each job
//! ends with a reason and each container is removed.

use corral_proto::JobState;
use tracing::{info, warn};

use super::{JobError, JobManager};
use crate::runtime::LABEL_INSTANCE;
use crate::store::Finish;

/// The reason recorded on jobs a restart found live.
pub const RESTARTED_REASON: &str = "orchestrator restarted while the job was live";

impl JobManager {
    pub(super) async fn recover(&self) -> Result<(), JobError> {
        for job in self.inner.store.unfinished_jobs().await? {
            let finish = Finish {
                state: JobState::Failed,
                exit_code: None,
                reason: Some(RESTARTED_REASON.to_owned()),
            };
            if self.inner.store.finish(&job.id, &finish, None).await? {
                info!(job_id = %job.id, "ended job left live by a previous run");
                self.record_end(&job.id, &finish).await;
            }
        }
        match self
            .inner
            .runtime
            .list_by_label(LABEL_INSTANCE, &self.inner.instance_id)
            .await
        {
            Ok(containers) => {
                for container in containers {
                    match self.inner.runtime.remove(&container.container_id).await {
                        Ok(()) => {
                            info!(container_id = %container.container_id, "removed leftover container");
                        }
                        Err(error) => {
                            warn!(container_id = %container.container_id, error = %error, "cannot remove leftover container");
                        }
                    }
                }
            }
            Err(error) => warn!(error = %error, "cannot list leftover containers"),
        }
        let run_dir = self.inner.config.data_dir.join("run");
        match tokio::fs::remove_dir_all(&run_dir).await {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => warn!(error = %error, "cannot clear old job sockets"),
        }
        Ok(())
    }
}
