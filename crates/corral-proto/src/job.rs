//! Jobs: what users ask for ([`JobSpec`]) and what the API reports ([`Job`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod agent;
mod grant;
mod limits;
mod project;

pub use agent::{ClaudeSettings, ClaudeSpec, JobLlm, JobUsage, LlmSpec, Prompt, PromptSpec};
pub use grant::{Grant, GrantSpec};
pub use limits::{
    DEFAULT_IDLE_TIMEOUT_SECS, DEFAULT_MAX_ITERATIONS, DEFAULT_MAX_LLM_CALLS, DEFAULT_MAX_TOKENS,
    Limits, LimitsSpec,
};
pub use project::{
    FileChange, Isolation, IsolationKind, JobDiff, MAX_WITHIN, ProjectCheck, ProjectMode,
    ProjectSpec, ReviewOutcome, Reviewed,
};

/// How a job runs inside its container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobMode {
    /// A plain command in the sandbox.
    Exec,
    /// corral's own agent loop, model calls proxied by the orchestrator.
    Worker,
    /// The `claude` CLI, headless.
    Claude,
    /// A long-lived sandbox: the worker stays up and runs commands and file
    /// transfers on request (see [`crate::sandbox`]).
    Sandbox,
}

impl JobMode {
    /// The name used on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exec => "exec",
            Self::Worker => "worker",
            Self::Claude => "claude",
            Self::Sandbox => "sandbox",
        }
    }
}

/// How strongly a job is kept from the host kernel.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IsolationLevel {
    /// Docker's runtime (runc, or the server's `oci_runtime`): namespaces,
    /// cgroups, seccomp, no capabilities.
    #[default]
    Runc,
    /// gVisor (`runsc`): a user-space kernel between the job and the host.
    Gvisor,
}

impl IsolationLevel {
    /// The name used on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Runc => "runc",
            Self::Gvisor => "gvisor",
        }
    }
}

/// Where a job is in its life. Terminal states never change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a free slot.
    Queued,
    /// Its container is being created.
    Starting,
    /// Its container runs.
    Running,
    /// A sandbox stopped by its user: no container, its files kept in a
    /// snapshot until it starts again (it is then queued).
    Stopped,
    /// It ended with exit code 0.
    Succeeded,
    /// It ended otherwise; `reason` says why.
    Failed,
    /// A user cancelled it.
    Cancelled,
    /// It ran past its timeout and was killed.
    TimedOut,
}

impl JobState {
    /// Every state, in life order.
    pub const ALL: [Self; 8] = [
        Self::Queued,
        Self::Starting,
        Self::Running,
        Self::Stopped,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
        Self::TimedOut,
    ];

    /// The name used on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Starting => "starting",
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::TimedOut => "timed_out",
        }
    }

    /// Parses a stored state name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// Whether the job is over.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Cancelled | Self::TimedOut
        )
    }
}

/// A command: an argv list run as is, or a string run with `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CommandSpec {
    /// `["cargo", "test"]`: no shell involved.
    Argv(Vec<String>),
    /// `"make && ./run"`: run by `sh -c`.
    Shell(String),
}

/// `POST /v1/jobs`: a new job.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct JobSpec {
    /// How to run it; `exec` when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<JobMode>,
    /// The command, for `exec` mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandSpec>,
    /// The prompt, for agent modes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Any image; the server's default image when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// An absolute host directory for `/workspace`: a path (bound as is), or
    /// `{"path", "mode": "bind" | "branch"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<ProjectSpec>,
    /// Resource limits.
    #[serde(skip_serializing_if = "is_default")]
    pub limits: LimitsSpec,
    /// Stored secrets the job's processes receive in their environment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grants: Vec<GrantSpec>,
    /// The model provider and model, for agent modes; the server's default when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmSpec>,
    /// After its answer the job waits for follow-up prompts (agent modes).
    #[serde(skip_serializing_if = "is_false")]
    pub interactive: bool,
    /// Claude Code's tools and turns (claude mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claude: Option<ClaudeSpec>,
    /// `runc` or `gvisor`; the server's default when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<IsolationLevel>,
    /// Hosts it may reach through the orchestrator's proxy; the server's
    /// default policy (normally none) when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub egress: Option<crate::egress::EgressSpec>,
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

fn is_default(limits: &LimitsSpec) -> bool {
    *limits == LimitsSpec::default()
}

/// A job as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Job {
    /// `j-` followed by 16 hex digits.
    pub id: String,
    /// How it runs.
    pub mode: JobMode,
    /// Where it is in its life.
    pub state: JobState,
    /// The image its container runs.
    pub image: String,
    /// The command, in exec mode.
    pub command: Option<CommandSpec>,
    /// The prompt, in agent modes.
    pub prompt: Option<String>,
    /// The host project directory, resolved.
    pub project: Option<String>,
    /// The job's own copy of the project, in `branch` mode.
    #[serde(default)]
    pub isolation: Option<Isolation>,
    /// How the job gets its project.
    #[serde(default)]
    pub project_mode: ProjectMode,
    /// The project directory as checked at creation; it must be the same
    /// directory when the job starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_check: Option<ProjectCheck>,
    /// The limits it runs with.
    pub limits: Limits,
    /// Secrets granted to it (names only).
    #[serde(default)]
    pub grants: Vec<Grant>,
    /// Its model, in agent modes.
    #[serde(default)]
    pub llm: Option<JobLlm>,
    /// Whether it waits for follow-up prompts.
    #[serde(default)]
    pub interactive: bool,
    /// What its model calls used.
    #[serde(default)]
    pub usage: JobUsage,
    /// Claude Code's settings, in claude mode.
    #[serde(default)]
    pub claude: Option<ClaudeSettings>,
    /// The runtime between the job and the host kernel.
    #[serde(default)]
    pub isolation_level: IsolationLevel,
    /// Hosts it may reach through the orchestrator's proxy; none when unset.
    #[serde(default)]
    pub egress: Option<crate::egress::EgressPolicy>,
    /// Its container, once created.
    pub container_id: Option<String>,
    /// The container's exit code, once it ended.
    pub exit_code: Option<i64>,
    /// Why it ended the way it did, for anything but plain success.
    pub reason: Option<String>,
    /// When it was created.
    #[serde(with = "crate::timestamp")]
    pub created_at: OffsetDateTime,
    /// When its container started.
    #[serde(with = "crate::timestamp::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it reached a terminal state.
    #[serde(with = "crate::timestamp::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// An interactive job between turns: since when it waits for a prompt.
    #[serde(
        default,
        with = "crate::timestamp::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub waiting_since: Option<OffsetDateTime>,
}

impl Job {
    /// The project directory bind-mounted at `/workspace`: the job's
    /// project, unless it is copied in (`project_mode: copy`).
    pub fn bound_project(&self) -> Option<&str> {
        self.project
            .as_deref()
            .filter(|_| self.project_mode != ProjectMode::Copy)
    }

    /// A job just created: queued, nothing run yet, and nothing but its
    /// mode, image and limits set (no command, project, grants, model or
    /// egress); callers fill in the rest with struct update syntax.
    pub fn queued(id: String, mode: JobMode, image: String, limits: Limits) -> Self {
        Self {
            id,
            mode,
            state: JobState::Queued,
            image,
            command: None,
            prompt: None,
            project: None,
            isolation: None,
            project_mode: ProjectMode::Bind,
            project_check: None,
            limits,
            grants: Vec::new(),
            llm: None,
            interactive: false,
            usage: JobUsage::default(),
            claude: None,
            isolation_level: IsolationLevel::Runc,
            egress: None,
            container_id: None,
            exit_code: None,
            reason: None,
            created_at: OffsetDateTime::now_utc(),
            started_at: None,
            finished_at: None,
            waiting_since: None,
        }
    }

    /// The same work under `id`, queued with nothing run yet: what ran
    /// (container, exit, reason, times, usage) is left behind.
    #[must_use]
    pub fn requeued(&self, id: String) -> Self {
        Self {
            id,
            state: JobState::Queued,
            container_id: None,
            exit_code: None,
            reason: None,
            created_at: OffsetDateTime::now_utc(),
            started_at: None,
            finished_at: None,
            waiting_since: None,
            usage: JobUsage::default(),
            ..self.clone()
        }
    }
}
