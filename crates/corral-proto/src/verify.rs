//! `corral verify`: what a probe job sees inside its container, what Docker
//! says of that container, and the rows judged from both.
//!
//! The probe is the worker binary run as an exec job's command
//! (`/run/corral-worker probe …`); it prints one [`Observations`] as JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The worker's hidden subcommand that prints [`Observations`].
pub const PROBE_ARG: &str = "probe";
/// The probe's flag naming a loopback `ADDR:PORT` it must fail to reach.
pub const PROBE_CONNECT_ARG: &str = "--connect";

/// A container's security profile as Docker reports it (`docker inspect`),
/// not as corral asked for it: each job's `running` status event carries its
/// own, and `corral verify` judges it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ContainerProfile {
    /// `HostConfig.ReadonlyRootfs`.
    pub readonly_rootfs: bool,
    /// `HostConfig.NetworkMode` (`none`).
    pub network_mode: String,
    /// `Config.User` (`uid:gid`).
    pub user: String,
    /// `HostConfig.CapDrop`.
    pub cap_drop: Vec<String>,
    /// `HostConfig.CapAdd`.
    pub cap_add: Vec<String>,
    /// `HostConfig.SecurityOpt`.
    pub security_opt: Vec<String>,
    /// `HostConfig.Privileged`.
    pub privileged: bool,
    /// `HostConfig.PidsLimit`.
    pub pids_limit: Option<i64>,
    /// `HostConfig.Memory`, bytes.
    pub memory: Option<i64>,
    /// `HostConfig.MemorySwap`, bytes (memory plus swap).
    pub memory_swap: Option<i64>,
    /// `HostConfig.Tmpfs`: path to mount options.
    pub tmpfs: BTreeMap<String, String>,
    /// `HostConfig.Runtime` (`runc`, `runsc`).
    pub runtime: String,
    /// `Mounts`: what of the host the container sees.
    pub mounts: Vec<ProfileMount>,
}

/// One entry of a container's `Mounts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ProfileMount {
    /// `bind`, `volume`, `tmpfs`…
    pub kind: String,
    /// The host path (or volume name).
    pub source: String,
    /// The path inside the container.
    pub destination: String,
    /// Whether the container may write it.
    pub read_write: bool,
}

/// What the probe saw from inside its container. Every field is a fact as
/// the kernel (or gVisor) reported it, an errno name when an attempt failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Observations {
    /// Network interfaces (`/sys/class/net`, else `/proc/net/dev`).
    pub interfaces: Vec<String>,
    /// Creating a file at `/`: `ok` or the errno's name (`EROFS`).
    pub root_write: String,
    /// Whether `/` is mounted `ro` in `/proc/self/mounts`.
    pub root_read_only: Option<bool>,
    /// The real uid.
    pub uid: u32,
    /// `CapEff`, `CapPrm`, `CapBnd` of `/proc/self/status`, as shown.
    pub capabilities: BTreeMap<String, String>,
    /// `NoNewPrivs` of `/proc/self/status`.
    pub no_new_privs: Option<String>,
    /// `prctl(PR_GET_NO_NEW_PRIVS)`: gVisor shows no `NoNewPrivs` line.
    pub no_new_privs_prctl: Option<bool>,
    /// `Seccomp` of `/proc/self/status`.
    pub seccomp: Option<String>,
    /// The kernel release (`uname -r`): gVisor reports its own.
    pub kernel: String,
    /// `pids.max` of the container's cgroup (v2, else v1), when readable.
    pub pids_max: Option<String>,
    /// `memory.max` (v2) or `memory.limit_in_bytes` (v1), when readable.
    pub memory_max: Option<String>,
    /// The filesystem type of `/tmp` in `/proc/self/mounts`.
    pub tmp_fs_type: Option<String>,
    /// `/tmp`'s total size (statvfs), bytes.
    pub tmp_size: Option<u64>,
    /// Sockets found where an engine's would be, or anywhere under `/run`,
    /// `/var/run` and `/tmp` except the job's own.
    pub sockets: Vec<String>,
    /// Opening the worker binary for reading: `ok` or the errno's name.
    pub worker_read: String,
    /// Opening the worker binary for writing: `ok` or the errno's name.
    pub worker_write: String,
    /// The running worker's pid, when found.
    pub worker_pid: Option<u32>,
    /// Opening the running worker's `/proc/PID/mem`: `ok` or the errno's name.
    pub worker_mem: String,
    /// Opening the running worker's `/proc/PID/environ`.
    pub worker_environ: String,
    /// Whether the job's token file is still there.
    pub token_file_present: bool,
    /// Each loopback `ADDR:PORT` tried, with `ok` or the errno's name.
    pub connects: BTreeMap<String, String>,
}

/// One promise of the sandbox, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyRow {
    /// What corral promises.
    pub promise: String,
    /// What must be seen for the promise to hold.
    pub expected: String,
    /// What was seen, inside the container and from `docker inspect`.
    pub observed: String,
    /// Whether it holds.
    pub ok: bool,
}

/// A whole `corral verify` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// `runc` or `gvisor`.
    pub isolation: crate::IsolationLevel,
    /// The probe job, whose events hold the evidence.
    pub job_id: Option<String>,
    /// The engine the probe ran on, as it describes itself (name, version,
    /// rootless or not, how ids are mapped); absent in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// When it ran (RFC 3339).
    #[serde(with = "crate::timestamp")]
    #[schema(value_type = String)]
    pub checked_at: time::OffsetDateTime,
    /// Every row held.
    pub passed: bool,
    /// The rows, in a fixed order.
    pub rows: Vec<VerifyRow>,
}

impl VerifyReport {
    /// The rows that failed.
    pub fn failing(&self) -> impl Iterator<Item = &VerifyRow> {
        self.rows.iter().filter(|row| !row.ok)
    }
}
