//! The job manager: queue, start, watch, end and clean up every job.
//!
//! It owns each job's life from `queued` to a terminal state. The state is
//! decided here from what the runtime reports (exit code, OOM flag, timeout,
//! cancellation), never from what the worker claims.
//!
//! # Layout
//! - `validate`: a [`JobSpec`](corral_proto::JobSpec) becomes a checked job or a 400 naming the field
//! - `create`, `cancel`, `prompt`: the user-facing operations
//! - `scheduler`: the FIFO queue under `max_concurrent_jobs`
//! - `setup`: a job's session: grants, model proxy, egress, leak detector
//! - `run`: one job's life, from claim to its recorded end
//! - `container`: starting its container, cold or warm, and recording it running
//! - `project`, `git_hold`: what of the host a job gets, and keeping jobs
//!   out of a repository while corral's git runs in it
//! - `outcome`: how a container's exit becomes a terminal state
//! - `pool`: the warm pool, containers started ahead of demand
//! - `recover`: what a restart finds left over
//! - `verify`: the sandbox check, a probe job judged on this host

mod cancel;
mod container;
mod create;
#[cfg(fuzzing)]
pub mod fuzzing;
mod git_hold;
mod outcome;
mod pool;
mod project;
mod prompt;
mod reap;
mod recover;
mod review;
mod run;
mod scheduler;
mod setup;
mod stats;
mod validate;
mod verify;

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
use crate::runtime::Runtime;
use crate::secrets::Secrets;
use crate::store::{Store, StoreError};
use crate::token::RandomError;

pub use crate::metrics::PoolStats;

/// Limits for unit tests of the job manager's pure parts.
#[cfg(test)]
const TEST_LIMITS: corral_proto::Limits = corral_proto::Limits {
    memory_bytes: 512 << 20,
    cpu_shares: 1024,
    pids: 256,
    timeout_secs: 600,
    tmpfs_bytes: 256 << 20,
    max_llm_calls: 10,
    max_tokens: 1000,
    max_iterations: 5,
    idle_timeout_secs: 60,
};
pub use validate::validate_project;

/// Why a job operation failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The job spec is invalid; `field` names the culprit.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No such job.
    #[error("job {job_id} not found")]
    NotFound {
        /// The id asked for.
        job_id: String,
    },
    /// The job is already over.
    #[error("job {job_id} already ended ({state})")]
    AlreadyEnded {
        /// The job.
        job_id: String,
        /// Its terminal state.
        state: &'static str,
    },
    /// A prompt went to an interactive job its user has ended.
    #[error("job {job_id} is ending (its user ended it): it takes no more prompts")]
    Ending {
        /// The job.
        job_id: String,
    },
    /// A follow-up prompt went to an ended claude job that left no session.
    #[error("job {job_id} ended without a Claude session to resume")]
    NoSession {
        /// The job.
        job_id: String,
    },
    /// A follow-up prompt went to a job that does not take them.
    #[error("job {job_id} is not interactive: start it with --interactive to send prompts")]
    NotInteractive {
        /// The job.
        job_id: String,
    },
    /// A review operation (diff, apply, discard) cannot be done.
    #[error("job {job_id}: {message}")]
    Review {
        /// The job.
        job_id: String,
        /// Why.
        message: String,
        /// Files that conflict, when applying conflicts.
        conflicts: Vec<String>,
    },
    /// The sandbox check failed (or has not finished): no job runs.
    #[error("{message}")]
    Unverified {
        /// The failing rows, and what to do.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for an id.
    #[error(transparent)]
    Random(#[from] RandomError),
}

impl JobError {
    fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Handle to the job manager; cheap to clone.
#[derive(Clone)]
pub struct JobManager {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    runtime: Arc<dyn Runtime>,
    events: EventLog,
    secrets: Secrets,
    config: Arc<Config>,
    instance_id: String,
    /// Canonical data directory, kept out of project bindings.
    data_dir: PathBuf,
    /// Where a project may be (not in the data directory nor a system one).
    placement: crate::project::Placement,
    /// The projects bound read-write by jobs that hold a slot: no other
    /// job's project may overlap one unless its user allowed it. A std
    /// mutex: never held across an `.await`.
    writable: Mutex<HashMap<String, Arc<crate::project::PinnedDir>>>,
    /// Projects corral's git runs in right now: no job that would write one
    /// starts until it is done (see `git_hold`). A std mutex: never held
    /// across an `.await`.
    git_holds: Mutex<Vec<Arc<crate::project::PinnedDir>>>,
    /// Wakes jobs waiting for corral's git to leave their project.
    git_released: Notify,
    /// Jobs holding a slot, with the token that cancels each. A std mutex:
    /// never held across an `.await`.
    active: Mutex<HashMap<String, CancellationToken>>,
    /// Held while a queued job is claimed and registered in `active`, so a
    /// cancel never sees a job that is neither queued nor active.
    claim_lock: tokio::sync::Mutex<()>,
    /// Held while a change is applied or discarded, so two reviews of one
    /// job never race past each other's record.
    review_lock: tokio::sync::Mutex<()>,
    /// Wakes the scheduler: a job was queued or a slot freed.
    wake: Notify,
    /// Cancelled when the server shuts down.
    shutdown: CancellationToken,
    /// Owns the scheduler and every job task.
    tasks: TaskTracker,
    /// Containers the reaper removed.
    reaped: std::sync::atomic::AtomicU64,
    /// Reaper passes that listed this instance's containers and went
    /// through every one: a test waits on it instead of sleeping.
    reaper_passes: std::sync::atomic::AtomicU64,
    /// From claim to running, per job.
    start_latency: crate::metrics::Histogram,
    /// The HTTP client of every job's model proxy.
    upstream: Upstream,
    /// The warm pool, when `pool.size` is above 0.
    pool: Option<pool::Pool>,
    /// Container ids and `corral.job` labels the reaper must leave alone
    /// besides active jobs' own labels: pool containers, and the pooled or
    /// re-adopted containers of live jobs.
    spared: Mutex<std::collections::HashSet<String>>,
    /// Whether jobs may run: not while the sandbox check fails.
    gate: crate::verify::Gate,
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
        let pool = pool::Pool::from_config(&config);
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

    fn lock_active(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.inner
            .active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
