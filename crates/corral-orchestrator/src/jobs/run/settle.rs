//! What a warm start puts off until the job's worker first reported: the
//! pool's refill and the container's rename. Both are Docker work (a
//! container created and started, a rename) that would otherwise take the
//! CPU from the job's first steps on a small machine, at the moment a user
//! waits for the job's first output. Nothing in the job depends on either.

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::jobs::JobManager;
use crate::worker_api::WorkerEndpoint;

/// The refill and the rename, waiting for the worker's first report.
pub(super) struct Deferred {
    /// Sends them on at once.
    now: CancellationToken,
    done: JoinHandle<()>,
}

impl JobManager {
    /// Refills the pool and renames `container_id` to the job's name once
    /// `endpoint`'s worker first reported or the pool's `first_report_wait`
    /// passed; the refill alone when [`Deferred::finish`] comes first.
    pub(super) fn after_first_report(
        &self,
        job_id: &str,
        container_id: &str,
        endpoint: &WorkerEndpoint,
    ) -> Deferred {
        let now = CancellationToken::new();
        let reported = endpoint.first_report();
        let manager = self.clone();
        let (job_id, container_id) = (job_id.to_owned(), container_id.to_owned());
        let hurry = now.clone();
        let wait = self.inner.config.pool.first_report_wait;
        let done = self.inner.tasks.spawn(async move {
            tokio::select! {
                () = reported => {}
                () = hurry.cancelled() => {}
                () = tokio::time::sleep(wait) => {}
            }
            manager.refill_pool();
            // `docker ps` shows the job's name, as for a cold job; not
            // worth a Docker call once the container is being removed.
            if hurry.is_cancelled() {
                return;
            }
            let name = corral_runtime::container_name(&job_id);
            if let Err(error) = manager.inner.runtime.rename(&container_id, &name).await {
                warn!(job_id, container_id, error = %error, "cannot rename the pool container");
            }
        });
        Deferred { now, done }
    }
}

impl Deferred {
    /// Sends the refill on at once, and waits for a rename under way, so
    /// it is done before the container is removed (one not begun is
    /// dropped: the container goes).
    pub(super) async fn finish(self) {
        self.now.cancel();
        // A panic in it is the task's own; the teardown goes on.
        let _ = self.done.await;
    }
}
