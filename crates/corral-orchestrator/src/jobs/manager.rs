//! The job manager itself: what it holds (store, runtime, event log,
//! secrets, slots, the warm pool, its tasks) and its life (start, shutdown).
//! Each operation on it is an `impl` block in a file of its own beside this.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::events::EventLog;
use crate::llm::Upstream;
use crate::secrets::Secrets;
use crate::store::Store;
use corral_runtime::Runtime;

use super::{JobError, warm};

/// Handle to the job manager; cheap to clone.
#[derive(Clone)]
pub struct JobManager {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) store: Arc<dyn Store>,
    pub(super) runtime: Arc<dyn Runtime>,
    pub(super) events: EventLog,
    pub(super) secrets: Secrets,
    pub(super) config: Arc<Config>,
    pub(super) instance_id: String,
    /// Canonical data directory, kept out of project bindings.
    pub(super) data_dir: PathBuf,
    /// Where a project may be (not in the data directory nor a system one).
    pub(super) placement: crate::project::Placement,
    /// The projects bound read-write by jobs that hold a slot: no other
    /// job's project may overlap one unless its user allowed it. A std
    /// mutex: never held across an `.await`.
    pub(super) writable: Mutex<HashMap<String, Arc<crate::project::PinnedDir>>>,
    /// Projects corral's git runs in right now: no job that would write one
    /// starts until it is done (see `git_hold`). A std mutex: never held
    /// across an `.await`.
    pub(super) git_holds: Mutex<Vec<Arc<crate::project::PinnedDir>>>,
    /// Wakes jobs waiting for corral's git to leave their project.
    pub(super) git_released: Notify,
    /// Jobs holding a slot, with the token that cancels each. A std mutex:
    /// never held across an `.await`.
    pub(super) active: Mutex<HashMap<String, CancellationToken>>,
    /// Held while a queued job is claimed and registered in `active`, so a
    /// cancel never sees a job that is neither queued nor active.
    pub(super) claim_lock: tokio::sync::Mutex<()>,
    /// Held while a change is applied or discarded, so two reviews of one
    /// job never race past each other's record.
    pub(super) review_lock: tokio::sync::Mutex<()>,
    /// Wakes the scheduler: a job was queued or a slot freed.
    pub(super) wake: Notify,
    /// Cancelled when the server shuts down.
    pub(super) shutdown: CancellationToken,
    /// Owns the scheduler and every job task.
    pub(super) tasks: TaskTracker,
    /// Containers the reaper removed.
    pub(super) reaped: std::sync::atomic::AtomicU64,
    /// Reaper passes that listed this instance's containers and went
    /// through every one: a test waits on it instead of sleeping.
    pub(super) reaper_passes: std::sync::atomic::AtomicU64,
    /// From claim to running, per job.
    pub(super) start_latency: crate::metrics::Histogram,
    /// The HTTP client of every job's model proxy.
    pub(super) upstream: Upstream,
    /// The warm pool, when `pool.size` is above 0.
    pub(super) pool: Option<warm::Pool>,
    /// Container ids and `corral.job` labels the reaper must leave alone
    /// besides active jobs' own labels: pool containers, and the pooled or
    /// re-adopted containers of live jobs.
    pub(super) spared: Mutex<std::collections::HashSet<String>>,
    /// Whether jobs may run: not while the sandbox check fails.
    pub(super) gate: crate::verify::Gate,
    /// The desks of live sandboxes, by id. A std mutex: never held across
    /// an `.await`.
    pub(super) desks: Mutex<HashMap<String, Arc<crate::sandbox::Desk>>>,
    /// What sandboxes did, for the metrics page.
    pub(super) sandbox_stats: Arc<crate::sandbox::SandboxStats>,
}

impl JobManager {
    /// A manager over `store` and `runtime`; call [`JobManager::start`] to run jobs.
    pub fn new(
        store: Arc<dyn Store>,
        runtime: Arc<dyn Runtime>,
        events: EventLog,
        secrets: Secrets,
        config: Arc<Config>,
        instance_id: String,
        upstream: Upstream,
    ) -> Self {
        let data_dir = config
            .data_dir
            .canonicalize()
            .unwrap_or_else(|_| config.data_dir.clone());
        let pool = warm::Pool::from_config(&config);
        let gate = crate::verify::Gate::new(config.verify_at_start);
        Self {
            inner: Arc::new(Inner {
                store,
                runtime,
                events,
                secrets,
                config,
                instance_id,
                placement: crate::project::Placement::new(&data_dir),
                data_dir,
                writable: Mutex::default(),
                git_holds: Mutex::default(),
                git_released: Notify::new(),
                active: Mutex::default(),
                claim_lock: tokio::sync::Mutex::new(()),
                review_lock: tokio::sync::Mutex::new(()),
                wake: Notify::new(),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
                reaped: std::sync::atomic::AtomicU64::new(0),
                reaper_passes: std::sync::atomic::AtomicU64::new(0),
                start_latency: crate::metrics::Histogram::default(),
                upstream,
                gate,
                pool,
                spared: Mutex::default(),
                desks: Mutex::default(),
                sandbox_stats: Arc::default(),
            }),
        }
    }

    /// Ends what a previous run left behind, then starts the scheduler.
    pub async fn start(&self) -> Result<(), JobError> {
        self.recover().await?;
        self.inner.tasks.spawn(self.clone().schedule());
        self.inner.tasks.spawn(self.clone().reap_periodically());
        self.inner.tasks.spawn(self.clone().fill_pool());
        if self.inner.config.verify_at_start {
            self.inner.tasks.spawn(self.clone().verify_at_start());
        } else {
            tracing::warn!(
                "SANDBOX NOT VERIFIED (--no-verify): jobs run without proof that the container profile is in force on this host"
            );
        }
        Ok(())
    }

    /// Stops scheduling, ends running jobs (their containers removed),
    /// empties the warm pool and waits up to `grace` for every task.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        tokio::time::timeout(grace, self.inner.tasks.wait())
            .await
            .is_ok()
    }

    /// The store jobs live in.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// What tool calls at `/mcp` may grant, open and bind.
    pub fn mcp_policy(&self) -> &Arc<corral_client::mcp::Policy> {
        &self.inner.config.mcp
    }

    /// The event log.
    pub fn events(&self) -> &EventLog {
        &self.inner.events
    }

    /// The secrets store.
    pub fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    /// Containers removed because no live job owned them, since start.
    pub fn reaped_count(&self) -> u64 {
        self.inner.reaped.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reaper passes completed since start (startup's sweep included).
    pub fn reaper_passes(&self) -> u64 {
        self.inner
            .reaper_passes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The job start latency histogram.
    pub fn start_latency(&self) -> &crate::metrics::Histogram {
        &self.inner.start_latency
    }

    /// Where the sandbox check stands.
    pub fn gate(&self) -> crate::verify::GateState {
        self.inner.gate.state()
    }

    /// Jobs currently holding a slot.
    pub fn active_count(&self) -> usize {
        self.lock_active().len()
    }

    pub(super) fn lock_active(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.inner
            .active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
