//! Sandboxes: long-lived containers with a job's lock-down whose worker
//! stays up and runs commands and file transfers on request. A sandbox is a
//! job of mode [`JobMode::Sandbox`](crate::JobMode::Sandbox): it has a job's
//! id, events, limits and end; what it adds is here.
//!
//! - [`SandboxSpec`]: `POST /v1/sandboxes`, the job fields a sandbox takes
//!   plus its `ttl` and `idle_timeout`
//! - [`Sandbox`]: a sandbox as the API reports it
//! - [`ExecSpec`] / [`ExecResult`]: `POST /v1/sandboxes/{id}/exec`
//! - [`FileEntry`]: `GET /v1/sandboxes/{id}/files/list`
//! - [`order`]: what the orchestrator hands the sandbox's worker

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::egress::EgressSpec;
use crate::job::{
    CommandSpec, GrantSpec, IsolationLevel, Job, JobMode, JobSpec, JobState, LimitsSpec, LlmSpec,
    ProjectSpec,
};
use crate::size::DurationSpec;

pub mod order;

/// Seconds a sandbox lives at most unless it says otherwise (`ttl`).
pub const DEFAULT_TTL_SECS: u64 = 2 * 60 * 60;
/// Seconds a sandbox may sit idle unless it says otherwise.
pub const DEFAULT_SANDBOX_IDLE_SECS: u64 = 15 * 60;
/// Seconds an exec may run unless it says otherwise.
pub const DEFAULT_EXEC_TIMEOUT_SECS: u64 = 10 * 60;
/// Longest `?wait=` an exec call may hold its answer.
pub const MAX_EXEC_WAIT_SECS: u64 = 600;
/// Most bytes of each stream an [`ExecResult`] carries; past it the
/// middle is cut and `truncated` set (the whole output is in the events).
pub const EXEC_RESULT_BYTES: usize = 1 << 20;
/// Largest `stdin` an exec takes.
pub const MAX_EXEC_STDIN_BYTES: usize = 1 << 20;

/// `POST /v1/sandboxes`: the fields of a job that make sense for a computer
/// kept across many commands, and how long it may live.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxSpec {
    /// Any image; the server's default image when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// A host directory for `/workspace`, as for a job (`bind`, `copy`,
    /// `isolate`/`branch`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectSpec>,
    /// Resource limits; `timeout` is the `ttl`'s and `idle_timeout` its own.
    #[serde(skip_serializing_if = "is_default")]
    pub limits: LimitsSpec,
    /// Stored secrets the sandbox's commands receive in their environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantSpec>,
    /// `runc` or `gvisor`; the server's default when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<IsolationLevel>,
    /// Hosts it may reach through the orchestrator's proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<EgressSpec>,
    /// A model its programs may call through the proxy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmSpec>,
    /// Hard maximum life: `2h`, or seconds ([`DEFAULT_TTL_SECS`] when left
    /// out). It ends whatever it is doing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttl: Option<DurationSpec>,
    /// How long it may do nothing before it ends: no exec running, no
    /// output, no file transfer, no model call, no open egress connection
    /// ([`DEFAULT_SANDBOX_IDLE_SECS`] when left out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<DurationSpec>,
}

fn is_default(limits: &LimitsSpec) -> bool {
    *limits == LimitsSpec::default()
}

/// Why a sandbox spec cannot become a job spec: the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SandboxSpecError {
    /// The field, as the user wrote it.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl SandboxSpec {
    /// The job that runs this sandbox: mode `sandbox`, its `ttl` the job's
    /// timeout and its `idle_timeout` the job's.
    pub fn into_job_spec(self) -> Result<JobSpec, SandboxSpecError> {
        let mut limits = self.limits;
        match (self.ttl, limits.timeout) {
            (Some(_), Some(_)) => {
                return Err(SandboxSpecError {
                    field: "ttl",
                    message: "give `ttl` or `limits.timeout`, not both".into(),
                });
            }
            (Some(ttl), None) => limits.timeout = Some(ttl),
            (None, None) => limits.timeout = Some(DurationSpec(DEFAULT_TTL_SECS)),
            (None, Some(_)) => {}
        }
        match (self.idle_timeout, limits.idle_timeout) {
            (Some(_), Some(_)) => {
                return Err(SandboxSpecError {
                    field: "idle_timeout",
                    message: "give `idle_timeout` or `limits.idle_timeout`, not both".into(),
                });
            }
            (Some(idle), None) => limits.idle_timeout = Some(idle),
            (None, None) => {
                limits.idle_timeout = Some(DurationSpec(DEFAULT_SANDBOX_IDLE_SECS));
            }
            (None, Some(_)) => {}
        }
        Ok(JobSpec {
            mode: Some(JobMode::Sandbox),
            image: self.image,
            project: self.project,
            limits,
            grants: self.grants,
            isolation: self.isolation,
            egress: self.egress,
            llm: self.llm,
            ..JobSpec::default()
        })
    }
}

/// Where a sandbox is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SandboxState {
    /// Waiting for a slot, or its container is being made.
    Starting,
    /// It takes commands.
    Running,
    /// Its processes are frozen (`pause`); `resume` thaws them.
    Paused,
    /// Its container is gone and its files kept (`stop`); `start` makes
    /// a new container with them.
    Stopped,
    /// It ended: deleted, its `ttl` or `idle_timeout` passed, or the server
    /// shut down.
    Ended,
    /// It ended otherwise (its container died, a limit): `reason` says why.
    Failed,
}

impl SandboxState {
    /// Every state, in life order.
    pub const ALL: [Self; 6] = [
        Self::Starting,
        Self::Running,
        Self::Paused,
        Self::Stopped,
        Self::Ended,
        Self::Failed,
    ];

    /// The sandbox state of a job in `state`.
    pub fn of(state: JobState) -> Self {
        match state {
            JobState::Queued | JobState::Starting => Self::Starting,
            JobState::Running => Self::Running,
            JobState::Stopped => Self::Stopped,
            JobState::Succeeded | JobState::Cancelled | JobState::TimedOut => Self::Ended,
            JobState::Failed => Self::Failed,
        }
    }

    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Stopped => "stopped",
            Self::Ended => "ended",
            Self::Failed => "failed",
        }
    }
}

/// A sandbox as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Sandbox {
    /// Its id: a job id (`j-…`), whose events are the sandbox's.
    pub id: String,
    /// Where it is in its life.
    pub state: SandboxState,
    /// The image its container runs.
    pub image: String,
    /// Hard maximum life, in seconds.
    pub ttl_secs: u64,
    /// Idle time after which it ends, in seconds.
    pub idle_timeout_secs: u64,
    /// Since when it has done nothing (no exec, transfer, output, model
    /// call or connection), while it runs and is idle.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub idle_since: Option<OffsetDateTime>,
    /// Execs running now.
    #[serde(default)]
    pub execs_running: u64,
    /// Why it ended, once it did, for anything but a plain end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The job behind it: limits, grants, project, times.
    pub job: Job,
}

/// `POST /v1/sandboxes/{id}/exec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecSpec {
    /// `["ls", "-l"]` as is, or `"make && ./run"` through `sh -c`.
    pub cmd: CommandSpec,
    /// Its working directory; `/workspace` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Variables added to its environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// What it reads on standard input, as text; nothing when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// What it reads on standard input, as any bytes (base64); instead of
    /// `stdin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin_base64: Option<String>,
    /// Its time limit: `30s`, or seconds ([`DEFAULT_EXEC_TIMEOUT_SECS`]
    /// when left out); it is killed with its process group past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationSpec>,
}

/// The answer to an exec without `?wait`: it runs; its output arrives as
/// events tagged with `exec`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecStarted {
    /// The exec's number within its sandbox, from 1.
    pub exec: u64,
    /// Every event of the exec comes after this sequence number: follow
    /// the sandbox's events from here.
    pub after: u64,
}

/// The answer to an exec with `?wait=SECONDS` that ended in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExecResult {
    /// The exec's number within its sandbox.
    pub exec: u64,
    /// Its exit code (128 + signal when killed); none when it never started.
    pub exit_code: Option<i64>,
    /// Its standard output, redacted.
    pub stdout: String,
    /// Its standard error, redacted.
    pub stderr: String,
    /// Whether either stream was longer than [`EXEC_RESULT_BYTES`] and its
    /// middle was cut (the events have all of it).
    pub truncated: bool,
    /// How long it ran.
    pub duration_ms: u64,
    /// Whether its `timeout` killed it.
    #[serde(default)]
    pub timed_out: bool,
    /// Why it did not run or finish, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
    /// Anything else (a socket, a FIFO, a device).
    Other,
}

/// One entry of `GET /v1/sandboxes/{id}/files/list?path=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FileEntry {
    /// Its name in the directory.
    pub name: String,
    /// What it is.
    pub kind: FileKind,
    /// Its size in bytes.
    pub size: u64,
    /// Its permission bits.
    pub mode: u32,
    /// When it last changed, in seconds since the Unix epoch.
    pub mtime: i64,
    /// Where a link points, for a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// The roots a sandbox's files may be read and written under.
pub const FILE_ROOTS: [&str; 3] = [crate::worker::WORKSPACE, "/tmp", crate::worker::JOB_HOME];

/// `path` made absolute and plain (`.` and `..` resolved as text, doubled
/// slashes dropped), when it names a place under one of [`FILE_ROOTS`]
/// (the root itself included); otherwise why not. Links are resolved
/// inside the container, where the worker does it again.
pub fn allowed_path(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("must not be empty".into());
    }
    if path.contains('\0') {
        return Err("must not contain a NUL byte".into());
    }
    if !path.starts_with('/') {
        return Err(format!(
            "must be absolute, under {} (`{}` is not)",
            FILE_ROOTS.join(", "),
            shown(path)
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("`{}` climbs above `/`", shown(path)));
                }
            }
            part => parts.push(part),
        }
    }
    let plain = format!("/{}", parts.join("/"));
    let inside = FILE_ROOTS
        .iter()
        .any(|root| plain == *root || plain.starts_with(&format!("{root}/")));
    if inside {
        Ok(plain)
    } else {
        Err(format!(
            "`{}` is outside {}",
            shown(path),
            FILE_ROOTS.join(", ")
        ))
    }
}

/// `text` cut to a length fit for an error message.
fn shown(text: &str) -> String {
    text.chars().take(200).collect()
}

#[cfg(test)]
mod tests;
