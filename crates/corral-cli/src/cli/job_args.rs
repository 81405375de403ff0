//! The arguments of the commands that act on jobs: run, agent, prompt, jobs,
//! show, logs, diff, cancel, apply.

use std::path::PathBuf;

use clap::Args;

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
