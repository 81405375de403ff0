//! The argument definitions of `corral`. Every flag has its doc comment; the
//! environment variable beside a flag is read only when the flag is absent.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// corral runs AI-agent jobs and plain commands in locked-down Docker
/// containers, streams what they do, and keeps secrets out of them.
#[derive(Debug, Parser)]
#[command(name = "corral", version)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
#[expect(
    clippy::doc_markdown,
    reason = "clap prints these comments as they are: backticks or <> around a variable or a URL would show"
)]
pub struct GlobalArgs {
    /// Data directory (database, API token, job sockets) [default: $XDG_DATA_HOME/corral, else ~/.local/share/corral]
    #[arg(long, global = true, env = "CORRAL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// URL of the corral server [default: from the data directory, else http://127.0.0.1:7316]
    #[arg(long, global = true, env = "CORRAL_URL")]
    pub server: Option<String>,
    /// User API token [default: read from <data-dir>/api-token]; prefer the environment to the flag
    #[arg(long, global = true, env = "CORRAL_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// The server's log options: only `serve` writes a log worth shaping.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log line format on stderr
    #[arg(long, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Log each span's time when it closes, to see where a job's start spends it (at the info log level or more)
    #[arg(long, env = "CORRAL_TRACE_SPANS")]
    pub trace_spans: bool,
}

/// `corral serve`: its settings, and how it logs.
#[derive(Debug, Args)]
pub struct ServeCommand {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the orchestrator: user API, job manager, Docker runtime
    Serve(ServeCommand),
    /// Run a job and stream its events; exits with the job's exit code
    Run(Box<RunArgs>),
    /// List jobs, newest first
    Jobs(JobsArgs),
    /// Show one job
    Show(ShowArgs),
    /// Print a job's events
    Logs(LogsArgs),
    /// Cancel a queued or running job
    Cancel(CancelArgs),
    /// End an interactive job once its current turn is done: it succeeds (cancel stops it at once)
    End(CancelArgs),
    /// Send a follow-up prompt to an --interactive job
    Prompt(PromptArgs),
    /// Show what a --branch job changed
    Diff(DiffArgs),
    /// Apply a --branch job's change onto your current branch (all or nothing)
    Apply(ApplyArgs),
    /// Drop a --branch job's branch or patch
    Discard(CancelArgs),
    /// Build images offline
    #[command(subcommand)]
    Image(ImageCommand),
    /// Store, list and remove secrets (values are write-only)
    #[command(subcommand)]
    Secret(SecretCommand),
    /// Check that Docker, the image, the worker, the data directory and the server are ready
    Doctor(DoctorArgs),
    /// Prove the sandbox on this host: a probe job checks each promise; non-zero if one fails
    Verify(crate::commands::VerifyArgs),
    /// Serve corral's job tools to an MCP client over stdio (claude mcp add corral -- corral mcp)
    Mcp,
    /// Show the settings `corral serve` would use (file, environment, flags), keys hidden
    Config(ConfigArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// The log options: the server's own, or a client's quiet text lines.
    pub fn log(&self) -> (LogFormat, bool, bool) {
        match self {
            Self::Serve(command) => (command.log.log_format, true, command.log.trace_spans),
            _ => (LogFormat::Text, false, false),
        }
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the user API (keep it on loopback unless you know why not)
    #[arg(long, env = "CORRAL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Config file [default: <data-dir>/corral.toml]
    #[arg(long, env = "CORRAL_CONFIG")]
    pub config: Option<PathBuf>,
    /// The static corral-worker binary [default: beside this executable]
    #[arg(long, env = "CORRAL_WORKER_BIN")]
    pub worker_bin: Option<PathBuf>,
    /// Image for jobs that name none [default: corral/default:latest]
    #[arg(long, env = "CORRAL_IMAGE")]
    pub image: Option<String>,
    /// Jobs that run at once; the rest wait in a queue [default: 4]
    #[arg(long, env = "CORRAL_MAX_CONCURRENT_JOBS")]
    pub max_concurrent_jobs: Option<usize>,
    /// OCI runtime for job containers: runc, crun, runsc… [default: Docker's]
    #[arg(long, env = "CORRAL_OCI_RUNTIME")]
    pub oci_runtime: Option<String>,
    /// Default model provider for agent jobs: openai, anthropic, a provider from corral.toml, or scripted:FILE (a scripted model served on loopback)
    #[arg(long, env = "CORRAL_LLM", value_name = "PROVIDER")]
    pub llm: Option<String>,
    /// Pin a host name to an address for the egress proxy, like curl's --resolve: connections to HOST go to IP:PORT, unchecked (for development and tests; repeatable)
    #[arg(long = "egress-resolve", value_name = "HOST=IP:PORT")]
    pub egress_resolve: Vec<String>,
    /// A CA file (PEM) the egress proxy trusts for upstreams it adds credentials for, instead of the system's roots
    #[arg(long = "egress-ca", value_name = "FILE")]
    pub egress_ca: Option<PathBuf>,
    /// Containers per pooled image kept started ahead of demand, so a job without a project directory starts warm (0 = no pool) [default: 0]
    #[arg(long, env = "CORRAL_POOL_SIZE", value_name = "N")]
    pub pool_size: Option<usize>,
    /// Run jobs without the sandbox check at start (logged as a warning)
    #[arg(long, env = "CORRAL_NO_VERIFY")]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "each bool is an independent command-line switch"
)]
pub struct RunArgs {
    /// Job mode: exec (a command), worker (corral's agent) or claude (Claude Code), the last two given a prompt
    #[arg(long, default_value = "exec")]
    pub mode: String,
    #[command(flatten)]
    pub agent: AgentArgs,
    /// Image to run in [default: the server's]
    #[arg(long)]
    pub image: Option<String>,
    /// Host directory bound read-write at /workspace
    #[arg(long)]
    pub project: Option<PathBuf>,
    /// Isolation from the host kernel: runc (Docker's default) or gvisor (runsc, a user-space kernel) [default: the server's]
    #[arg(long, value_parser = ["runc", "gvisor"])]
    pub isolation: Option<String>,
    /// Give the job its own copy of --project (a git branch corral/<job-id>, or a plain copy) to review with diff/apply/discard (old name: --isolate)
    #[arg(
        long = "branch",
        alias = "isolate",
        requires = "project",
        conflicts_with = "copy"
    )]
    pub isolate: bool,
    /// Copy --project into the container's own /workspace instead of binding it: the job changes only its copy, which goes with the container (and it may start in a warm-pool container)
    #[arg(long, requires = "project")]
    pub copy: bool,
    /// Run even when --project lies inside, or holds, a directory another running job can write (refused by default: that job could change what this one gets)
    #[arg(long, requires = "project")]
    pub allow_project_overlap: bool,
    /// Memory limit, e.g. 256m or 1g
    #[arg(long)]
    pub memory: Option<String>,
    /// Relative CPU weight (2..=262144)
    #[arg(long)]
    pub cpu_shares: Option<i64>,
    /// Most processes at once
    #[arg(long)]
    pub pids: Option<i64>,
    /// Wall-clock limit, e.g. 30s or 10m
    #[arg(long)]
    pub timeout: Option<String>,
    /// Size of /tmp and $HOME, e.g. 64m
    #[arg(long)]
    pub tmpfs: Option<String>,
    /// Grant a stored secret to the job's processes as NAME, or as ENV with NAME=ENV (repeatable)
    #[arg(long = "grant", value_name = "NAME[=ENV]")]
    pub grants: Vec<String>,
    /// Let the job reach a host through corral's egress proxy: exact (pypi.org) or *.suffix, on 443 (HTTPS, TLS naming the host) and 80 (plain HTTP); HOST:PORT for another port; tcp://HOST:PORT for any bytes on that port (repeatable; no egress without one)
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    pub allow_hosts: Vec<String>,
    /// Have the proxy add a stored secret as a header to HTTPS requests to an allowed host: HOST:HEADER=SECRET, or HOST:HEADER=FORMAT with {SECRET} in it (`api.github.com:Authorization=Bearer {GITHUB_TOKEN}`; repeatable)
    #[arg(long = "inject", value_name = "HOST:HEADER=SECRET")]
    pub injects: Vec<String>,
    /// Print the job id and return at once
    #[arg(long, short)]
    pub detach: bool,
    /// Pass the job's output through byte for byte instead of making its control characters visible; refused when stdout is a terminal (its stderr stays visible when stderr is one)
    #[arg(long, conflicts_with = "detach")]
    pub raw: bool,
    /// exec: the command and its arguments (after --); worker: the prompt
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD|PROMPT"
    )]
    pub command: Vec<String>,
}

/// Flags of agent modes.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Model provider, in agent modes [default: the server's]
    #[arg(long)]
    pub provider: Option<String>,
    /// Model, in agent modes [default: the provider's]
    #[arg(long)]
    pub model: Option<String>,
    /// Ask the model for whole answers instead of streamed ones
    #[arg(long)]
    pub no_stream: bool,
    /// After its answer, wait for follow-up prompts (`corral prompt ID TEXT`)
    #[arg(long)]
    pub interactive: bool,
    /// Most model calls the job may make
    #[arg(long)]
    pub max_llm_calls: Option<u64>,
    /// Most model tokens (read and written) the job may use
    #[arg(long)]
    pub max_tokens: Option<u64>,
    /// Most model turns per prompt
    #[arg(long)]
    pub max_iterations: Option<u32>,
    /// How long an --interactive job waits for a prompt, e.g. 10m
    #[arg(long)]
    pub idle_timeout: Option<String>,
    /// claude mode: the only built-in tools Claude may use, e.g. Read,Edit,Bash
    #[arg(long, value_delimiter = ',')]
    pub allowed_tools: Option<Vec<String>>,
    /// claude mode: tools or rules Claude may not use, e.g. "Bash(rm:*)" [default: WebFetch,WebSearch]
    #[arg(long, value_delimiter = ',')]
    pub disallowed_tools: Option<Vec<String>>,
    /// claude mode: most agentic turns per prompt
    #[arg(long)]
    pub max_turns: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// The same flags as `corral serve`
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PromptArgs {
    /// The job id (or the start of it): a live --interactive job, or an ended claude job (its
    /// session then continues in a new job, whose id is printed)
    pub id: String,
    /// The follow-up prompt
    #[arg(required = true, trailing_var_arg = true, value_name = "TEXT")]
    pub text: Vec<String>,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Only jobs in this state
    #[arg(long)]
    pub state: Option<String>,
    /// Most jobs to list
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only jobs created before this job (the next page: the last id listed, as printed at the end)
    #[arg(long, value_name = "ID")]
    pub before: Option<String>,
    /// Print JSON: `{"jobs": [...], "next": ID or null}`, `next` being the --before of the next page
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The job id, or the start of it (`3f9a` or `j-3f9a`) when no other id starts so
    pub id: String,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The job id, or the start of it (`3f9a` or `j-3f9a`) when no other id starts so
    pub id: String,
    /// Keep following until the job ends
    #[arg(long, short)]
    pub follow: bool,
    /// Print events as JSON lines
    #[arg(long)]
    pub json: bool,
    /// Pass the job's output through byte for byte instead of making its control characters visible; refused when stdout is a terminal (its stderr stays visible when stderr is one)
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The job id, or the start of it (`3f9a` or `j-3f9a`) when no other id starts so
    pub id: String,
    /// Only the changed files with their line counts
    #[arg(long)]
    pub stat: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    /// Print the patch byte for byte (for `git apply`) instead of making its control characters visible; refused when stdout is a terminal
    #[arg(long, conflicts_with_all = ["stat", "json"])]
    pub raw: bool,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// The job id, or the start of it (`3f9a` or `j-3f9a`) when no other id starts so
    pub id: String,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The job id, or the start of it (`3f9a` or `j-3f9a`) when no other id starts so
    pub id: String,
    /// Apply even though the change writes a secret corral knows into your tree (`corral diff` shows it redacted)
    #[arg(long)]
    pub allow_secrets: bool,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store or replace a secret; the value is read from stdin, or a hidden prompt on a terminal
    Set {
        /// The secret's name
        name: String,
    },
    /// List secrets: names, created, last used (never values)
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove a secret
    Rm {
        /// The secret's name
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build an image offline (default: FROM scratch + static busybox), skipped when current
    Build(ImageBuildArgs),
}

#[derive(Debug, Args)]
pub struct ImageBuildArgs {
    /// Which image: default (busybox, tiny), debian (bash, git, ripgrep…) or claude (debian + Claude Code)
    #[arg(long, default_value = "default", value_parser = ["default", "debian", "claude"])]
    pub mode: String,
    /// The static busybox binary to put in the image
    #[arg(long, default_value = "/bin/busybox")]
    pub busybox: PathBuf,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The static corral-worker binary to check [default: as `serve` finds it]
    #[arg(long, env = "CORRAL_WORKER_BIN")]
    pub worker_bin: Option<PathBuf>,
    /// The image to look for
    #[arg(long, env = "CORRAL_IMAGE", default_value = "corral/default:latest")]
    pub image: String,
    /// Print JSON: `{"healthy", "checks": [{"check", "ok", "detail"}]}`
    #[arg(long)]
    pub json: bool,
}
