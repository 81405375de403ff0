//! The contract between corral's job manager and a container engine: the
//! [`Runtime`] trait, the request a job's sandbox is built from, what a
//! runtime reports back, and the labels every engine puts on what it makes.
//!
//! The job manager talks to [`Runtime`], never to an engine directly; each
//! engine is a crate beside this one (`corral-docker` today; Podman or
//! Kubernetes later) that depends on this crate and on `corral-proto` only.
//!
//! It must never do I/O: it is the seam, not an engine.

use std::path::PathBuf;

use async_trait::async_trait;
use corral_proto::Job;

mod ids;
pub use ids::{IdMap, JobUser, Unmapped};

/// Label carrying the job id on every container corral creates.
pub const LABEL_JOB: &str = "corral.job";
/// The OCI runtime name gVisor is registered under in Docker.
pub const GVISOR_RUNTIME: &str = "runsc";
/// Host pids gVisor's sandbox (the Go Sentry and its gofer) needs before the
/// job starts anything; under load the Go runtime adds threads, and running
/// out of them crashes the whole sandbox (exit code 2).
pub const GVISOR_BASE_PIDS: i64 = 160;
/// Host pids each process inside a gVisor sandbox costs on the ptrace
/// platform (its stub process and threads): measured at about 8.
pub const GVISOR_PIDS_PER_PROCESS: i64 = 10;

/// The host pids limit for a job allowed `pids` processes.
#[must_use]
pub fn host_pids_limit(pids: i64, gvisor: bool) -> i64 {
    if gvisor {
        GVISOR_BASE_PIDS + pids.saturating_mul(GVISOR_PIDS_PER_PROCESS)
    } else {
        pids
    }
}
/// Label carrying the orchestrator instance that owns the container.
pub const LABEL_INSTANCE: &str = "corral.instance";
/// Label (`1`) on warm-pool containers, whose `corral.job` label is their
/// pool name (`p-…`): labels cannot change once the container exists, so
/// the job a pooled container serves is found in the job's record.
pub const LABEL_POOL: &str = "corral.pool";

/// Everything a runtime needs to build a job's sandbox.
#[derive(Debug, Clone)]
pub struct SandboxRequest {
    /// The job, limits resolved.
    pub job: Job,
    /// Host directory mounted at `/run/corral` (socket and token).
    pub socket_dir: PathBuf,
    /// The static worker binary on the host.
    pub worker_bin: PathBuf,
    /// This orchestrator's instance id, for the `corral.instance` label.
    pub instance_id: String,
    /// The OCI runtime to ask for, if not the engine's default.
    pub oci_runtime: Option<String>,
    /// The uid and gid the job runs as; never 0.
    pub user: JobUser,
    /// A warm-pool container, made before its job is known.
    pub pooled: bool,
    /// The host directory bound at `/workspace`: a private mount of the
    /// job's project as checked at start (never the project's path itself,
    /// which a job could have changed), or the job's own copy in branch
    /// mode. `None`: the job gets a scratch `/workspace`.
    pub project_source: Option<PathBuf>,
    /// The image's `VOLUME` paths, read by the runtime before it creates
    /// the container: each gets a size-capped tmpfs instead of a volume on
    /// the host's disk.
    pub image_volumes: Vec<String>,
}

/// How a container ended, read from the runtime rather than from the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContainerExit {
    /// The entrypoint's exit code (128 + signal when killed).
    pub exit_code: i64,
    /// The kernel's OOM killer killed a process in the container.
    pub oom_killed: bool,
}

/// A container the runtime knows about, found by label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSummary {
    /// The container id.
    pub container_id: String,
    /// Its `corral.job` label.
    pub job_id: Option<String>,
}

/// Why a runtime operation failed, classified by meaning.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No such container or image.
    #[error("not found: {what}")]
    NotFound {
        /// What was missing.
        what: String,
    },
    /// The engine refused because of the object's state.
    #[error("conflict: {message}")]
    Conflict {
        /// The engine's account.
        message: String,
    },
    /// The engine could not be reached.
    #[error("container engine unreachable: {message}")]
    Unavailable {
        /// The cause.
        message: String,
    },
    /// Anything else the engine reported.
    #[error("container engine error: {message}")]
    Engine {
        /// The engine's account.
        message: String,
    },
}

/// A container engine.
#[async_trait]
pub trait Runtime: Send + Sync {
    /// Creates (does not start) the job's container; returns its id.
    async fn create(&self, request: &SandboxRequest) -> Result<String, RuntimeError>;
    /// Starts a created container.
    async fn start(&self, container_id: &str) -> Result<(), RuntimeError>;
    /// Waits until the container stops, then reports how it ended.
    async fn wait(&self, container_id: &str) -> Result<ContainerExit, RuntimeError>;
    /// Whether the container exists and runs.
    async fn is_running(&self, container_id: &str) -> Result<bool, RuntimeError>;
    /// Whether the container exists and is frozen by [`Runtime::pause`].
    async fn is_paused(&self, container_id: &str) -> Result<bool, RuntimeError>;
    /// Freezes every process of a running container (a sandbox paused).
    async fn pause(&self, container_id: &str) -> Result<(), RuntimeError>;
    /// Thaws a paused container. Not paused is not an error.
    async fn resume(&self, container_id: &str) -> Result<(), RuntimeError>;
    /// Kills a running container (SIGKILL). Not running is not an error.
    async fn kill(&self, container_id: &str) -> Result<(), RuntimeError>;
    /// Removes a container, running or not. Already gone is not an error.
    async fn remove(&self, container_id: &str) -> Result<(), RuntimeError>;
    /// Containers carrying `label=value`, running or not.
    async fn list_by_label(
        &self,
        label: &str,
        value: &str,
    ) -> Result<Vec<SandboxSummary>, RuntimeError>;
    /// Whether the container exists, running or not.
    async fn exists(&self, container_id: &str) -> Result<bool, RuntimeError>;
    /// Sets a running container's memory (and swap, to the same), CPU
    /// shares and pids limit to `limits`'s, as at creation.
    async fn update_limits(
        &self,
        container_id: &str,
        limits: &corral_proto::Limits,
        gvisor: bool,
    ) -> Result<(), RuntimeError>;
    /// Renames a container (running or not).
    async fn rename(&self, container_id: &str, name: &str) -> Result<(), RuntimeError>;
    /// The container's security profile as the engine reports it.
    async fn profile(
        &self,
        container_id: &str,
    ) -> Result<corral_proto::verify::ContainerProfile, RuntimeError>;
    /// Whether an image is present locally.
    async fn image_exists(&self, image: &str) -> Result<bool, RuntimeError>;
    /// Whether the engine knows the OCI runtime `name` (`runsc`).
    async fn has_runtime(&self, name: &str) -> Result<bool, RuntimeError>;
    /// Whether [`Runtime::update_limits`] works on this engine and its
    /// effect is read back by [`Runtime::profile`] (not on Podman 4.3,
    /// whose Docker-compatible API has no update): else a pool container
    /// serves only jobs whose limits are the pool's. No unless the engine
    /// says so.
    fn can_update_limits(&self) -> bool {
        false
    }
    /// How its containers' ids relate to the host's (read when connecting).
    fn id_map(&self) -> IdMap {
        IdMap::Identity
    }
    /// The engine in words: its name, version, API, whether rootless and
    /// how ids are mapped (for `verify` and `doctor`).
    async fn describe(&self) -> Result<String, RuntimeError> {
        Ok(format!(
            "an engine whose containers' ids map thus: {}",
            self.id_map()
        ))
    }
}

/// The name of the container serving `job_id` (or pool entry `p-…`).
pub fn container_name(job_id: &str) -> String {
    format!("corral-{job_id}")
}
