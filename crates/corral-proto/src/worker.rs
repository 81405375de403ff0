//! What the worker inside a container and the orchestrator say to each other
//! over the job's Unix socket. See DESIGN.md, "Worker API".

use serde::{Deserialize, Serialize};

use crate::event::NewEvent;
pub use crate::event::{Completion, CompletionStatus};
use crate::job::{ClaudeSettings, CommandSpec, JobLlm, JobMode, Limits};

/// Where the job's socket directory is mounted inside every container.
pub const SOCKET_DIR: &str = "/run/corral";
/// The job's worker API socket, inside the container.
pub const SOCKET_PATH: &str = "/run/corral/worker.sock";
/// The file holding the job's bearer token until the worker's first call.
pub const TOKEN_PATH: &str = "/run/corral/token";
/// Where the static worker binary is bind-mounted, read-only.
pub const WORKER_PATH: &str = "/run/corral-worker";
/// The non-root user every job runs as (numeric, so any image works).
pub const JOB_UID: u32 = 10001;
/// The job user's group.
pub const JOB_GID: u32 = 10001;
/// `$HOME` inside a job: a size-capped tmpfs owned by the job user.
pub const JOB_HOME: &str = "/home/corral";
/// Where a job's project appears inside its container (bound or copied),
/// and its working directory unless it names another.
pub const WORKSPACE: &str = "/workspace";

/// The version of what the worker and the orchestrator say to each other
/// over the job's socket, raised whenever either side would misread the
/// other's (2: the credentials come in the job's answer). A worker runs a
/// job only when the job's answer gives this number: a worker from another
/// build must not run it half understood (without its credentials, say).
pub const WORKER_PROTOCOL: u32 = 2;

/// `GET /v1/job`: what the worker needs to run its job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerJob {
    /// The orchestrator's [`WORKER_PROTOCOL`]; 0 from an orchestrator
    /// older than the number.
    #[serde(default)]
    pub protocol: u32,
    /// The job's id.
    pub id: String,
    /// How to run it.
    pub mode: JobMode,
    /// The command, in exec mode.
    #[serde(default)]
    pub command: Option<CommandSpec>,
    /// The prompt, in agent modes.
    #[serde(default)]
    pub prompt: Option<String>,
    /// The working directory for the job's processes; the image's own when unset.
    #[serde(default)]
    pub workdir: Option<String>,
    /// The limits the orchestrator enforces (for the worker's information).
    pub limits: Limits,
    /// The model, in agent modes (for the worker's information: the
    /// orchestrator picks it whatever the worker asks for).
    #[serde(default)]
    pub llm: Option<JobLlm>,
    /// After its answer, wait for follow-up prompts.
    #[serde(default)]
    pub interactive: bool,
    /// Claude Code's settings, in claude mode.
    #[serde(default)]
    pub claude: Option<ClaudeSettings>,
    /// The stand-in API key the `claude` CLI is given (claude mode): the
    /// orchestrator swaps it for the real credential on the way out.
    #[serde(default)]
    pub placeholder_key: Option<String>,
    /// Set when the job may reach some hosts: the worker then runs the
    /// proxy at [`PROXY_ADDR`](crate::egress::PROXY_ADDR).
    #[serde(default)]
    pub egress: Option<WorkerEgress>,
    /// The project is to be fetched (`GET /v1/project`, a tar stream) and
    /// unpacked into `workdir` before the job runs (`project_mode: copy`).
    #[serde(default)]
    pub project_copy: bool,
    /// The credentials granted to the job's processes, given in the job's
    /// answer so the job starts one round trip sooner. `Debug` hides
    /// their values.
    #[serde(default)]
    pub credentials: Vec<Credential>,
}

/// Where a copy-mode job's worker fetches its project.
pub const PROJECT_PATH: &str = "/v1/project";
/// `GET`: the job ([`WorkerJob`]); held until a pool container is bound.
pub const JOB_PATH: &str = "/v1/job";
/// `POST`: a batch of events ([`EventBatch`]).
pub const EVENTS_PATH: &str = "/v1/events";
/// `POST`: the worker's account of how the job ended ([`Completion`]).
pub const COMPLETE_PATH: &str = "/v1/complete";
/// `POST`: a model call through the job's proxy (OpenAI chat format).
pub const CHAT_PATH: &str = "/v1/llm/chat/completions";
/// `GET ?after=N&wait=S`: follow-up prompts after the `N`th.
pub const PROMPTS_PATH: &str = "/v1/prompts";
/// `PUT`/`GET`: a claude job's session transcript ([`ClaudeSession`]).
pub const CLAUDE_SESSION_PATH: &str = "/v1/claude/session";

/// What the worker needs to give the job's processes their way out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerEgress {
    /// The job's own certificate authority (PEM), when the proxy adds
    /// credentials to some host's requests and so must speak TLS to the job.
    #[serde(default)]
    pub ca_pem: Option<String>,
}

/// `GET /v1/egress` with `Upgrade: corral-egress`: the connection becomes
/// one HTTP proxy connection (`CONNECT` or absolute-form requests).
pub const EGRESS_PATH: &str = "/v1/egress";
/// The upgrade protocol name of [`EGRESS_PATH`].
pub const EGRESS_UPGRADE: &str = "corral-egress";

/// `PUT`/`GET /v1/claude/session`: a Claude Code session transcript, kept
/// by the orchestrator so a follow-up to an ended claude job can resume it
/// in a new container. `GET` answers the session the job continues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaudeSession {
    /// Claude's session id (`--resume` takes it).
    pub session_id: String,
    /// The directory under `~/.claude/projects` the transcript lives in
    /// (Claude names it after the working directory).
    pub dir: String,
    /// The transcript: Claude's JSON lines, redacted.
    pub transcript: String,
}

/// Largest Claude session transcript the orchestrator keeps.
pub const MAX_CLAUDE_SESSION_BYTES: usize = 32 << 20;

/// Where the Anthropic passthrough is on the job socket (claude mode).
pub const ANTHROPIC_PREFIX: &str = "/v1/llm/anthropic";

/// `POST /v1/events`: a batch of events from the worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventBatch {
    /// The worker's number for this batch, increasing from 1. A batch sent
    /// again after a lost answer carries the same number and is stored once.
    /// At most `i64::MAX` (the store keeps it as a signed integer; a higher
    /// one is refused with a 400 naming `batch`).
    #[serde(default)]
    pub batch: Option<u64>,
    /// The events, in order.
    pub events: Vec<NewEvent>,
}

/// The answer to an event batch (or a completion): the batch is stored,
/// or was already. Nothing else: how much of the output the leak detector
/// holds back, and so how many events a batch became, depends on the
/// output's content, and told to the job it would be an oracle for the
/// first bytes of every secret (grow the output a byte at a time, read
/// whether it is still held). The orchestrator keeps what it holds sealed
/// in its store, across a restart too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsAck {
    /// The batch's number, as sent (none for a completion).
    #[serde(default)]
    pub batch: Option<u64>,
}

/// `GET /v1/prompts?after=N`: waits up to this many seconds for a prompt.
pub const PROMPT_POLL_SECS: u64 = 25;

/// One granted credential, in the job's answer ([`WorkerJob::credentials`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// The environment variable the child process receives it in.
    pub env_var: String,
    /// The secret value.
    pub value: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("env_var", &self.env_var)
            .field("value", &"[REDACTED]")
            .finish()
    }
}
