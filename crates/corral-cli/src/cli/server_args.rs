//! The arguments of the commands that run or look after the server: serve,
//! config, secret, image, doctor, verify.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use corral_proto::env_vars;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address of the user API (keep it on loopback unless you know why not)
    #[arg(long, env = env_vars::CORRAL_LISTEN)]
    pub listen: Option<SocketAddr>,
    /// Config file [default: <data-dir>/corral.toml]
    #[arg(long, env = env_vars::CORRAL_CONFIG)]
    pub config: Option<PathBuf>,
    /// The static corral-worker binary [default: beside this executable]
    #[arg(long, env = env_vars::CORRAL_WORKER_BIN)]
    pub worker_bin: Option<PathBuf>,
    /// Image for jobs that name none [default: corral/default:latest]
    #[arg(long, env = env_vars::CORRAL_IMAGE)]
    pub image: Option<String>,
    /// Jobs that run at once; the rest wait in a queue [default: 4]
    #[arg(long, env = env_vars::CORRAL_MAX_CONCURRENT_JOBS)]
    pub max_concurrent_jobs: Option<usize>,
    /// OCI runtime for job containers: runc, crun, runsc… [default: Docker's]
    #[arg(long, env = env_vars::CORRAL_OCI_RUNTIME)]
    pub oci_runtime: Option<String>,
    /// Default model provider for agent jobs: openai, anthropic, a provider from corral.toml, or scripted:FILE (a scripted model served on loopback)
    #[arg(long, env = env_vars::CORRAL_LLM, value_name = "PROVIDER")]
    pub llm: Option<String>,
    /// Pin a host name to an address for the egress proxy, like curl's --resolve: connections to HOST go to IP:PORT, unchecked (for development and tests; repeatable)
    #[arg(long = "egress-resolve", value_name = "HOST=IP:PORT")]
    pub egress_resolve: Vec<String>,
    /// A CA file (PEM) the egress proxy trusts for upstreams it adds credentials for, instead of the system's roots
    #[arg(long = "egress-ca", value_name = "FILE")]
    pub egress_ca: Option<PathBuf>,
    /// Containers per pooled image kept started ahead of demand, so a job without a project directory starts warm (0 = no pool) [default: 0]
    #[arg(long, env = env_vars::CORRAL_POOL_SIZE, value_name = "N")]
    pub pool_size: Option<usize>,
    /// Run jobs without the sandbox check at start (logged as a warning)
    #[arg(long, env = env_vars::CORRAL_NO_VERIFY)]
    pub no_verify: bool,
    /// The container engine's API socket, a path or a `unix://` URL, Docker's or that of `podman system service` [default: `DOCKER_HOST`, else `[runtime] socket` in corral.toml, else /var/run/docker.sock]
    #[arg(long, value_name = "SOCKET")]
    pub docker_host: Option<String>,
    /// A secret MCP tool calls at /mcp may put in a job's environment; `*` for any (repeatable; none by default; also `[mcp] allow_grants`)
    #[arg(long = "mcp-allow-grant", value_name = "SECRET")]
    pub mcp_allow_grant: Vec<String>,
    /// SECRET@HOST: MCP tool calls at /mcp may have the egress proxy add SECRET to requests to HOST, which the job may then reach; `*` for any secret to any host (repeatable; also `[mcp] allow_injects`)
    #[arg(long = "mcp-allow-inject", value_name = "SECRET@HOST")]
    pub mcp_allow_inject: Vec<String>,
    /// An `egress.allow` entry MCP tool calls at /mcp may give a job, as written; `*` for any (repeatable; none by default; also `[mcp] allow_egress`)
    #[arg(long = "mcp-allow-egress", value_name = "HOST")]
    pub mcp_allow_egress: Vec<String>,
    /// A directory under which MCP tool calls at /mcp may use a project, copied (repeatable; none by default; also `[mcp] allow_projects`)
    #[arg(long = "mcp-allow-project", value_name = "DIR")]
    pub mcp_allow_project: Vec<PathBuf>,
    /// Let MCP tool calls at /mcp bind such a project read-write, not only copy it (also `[mcp] allow_bind`)
    #[arg(long = "mcp-allow-bind")]
    pub mcp_allow_bind: bool,
}

/// `corral mcp`: what tool calls may ask for beyond a locked-down job.
/// A job's output reaches the client's model, and can steer it.
#[derive(Debug, Args)]
#[expect(clippy::struct_field_names, reason = "the flags they are")]
pub struct McpArgs {
    /// A secret tool calls may put in a job's environment; `*` for any (repeatable; none by default)
    #[arg(long = "allow-grant", value_name = "SECRET")]
    pub allow_grant: Vec<String>,
    /// SECRET@HOST: tool calls may have the egress proxy add SECRET to requests to HOST, which the job may then reach; `*` for any secret to any host (repeatable; none by default)
    #[arg(long = "allow-inject", value_name = "SECRET@HOST")]
    pub allow_inject: Vec<String>,
    /// An `egress.allow` entry tool calls may give a job, as written; `*` for any (repeatable; none by default): every host a job reaches can receive what it reads
    #[arg(long = "allow-egress", value_name = "HOST")]
    pub allow_egress: Vec<String>,
    /// A directory under which tool calls may use a project, copied (repeatable; none by default)
    #[arg(long = "allow-project", value_name = "DIR")]
    pub allow_project: Vec<PathBuf>,
    /// Let tool calls bind such a project read-write, not only copy it
    #[arg(long = "allow-bind")]
    pub allow_bind: bool,
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
    /// The container engine's API socket, as for `corral serve`
    #[arg(long, value_name = "SOCKET")]
    pub docker_host: Option<String>,
    /// Config file [default: <data-dir>/corral.toml]
    #[arg(long, env = env_vars::CORRAL_CONFIG)]
    pub config: Option<PathBuf>,
    /// The static corral-worker binary to check [default: as `serve` finds it]
    #[arg(long, env = env_vars::CORRAL_WORKER_BIN)]
    pub worker_bin: Option<PathBuf>,
    /// The image to look for
    #[arg(long, env = env_vars::CORRAL_IMAGE, default_value = "corral/default:latest")]
    pub image: String,
    /// Print JSON: `{"healthy", "checks": [{"check", "ok", "detail"}]}`
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Check this isolation (runc or gvisor) [default: the server's]
    #[arg(long, value_parser = ["runc", "gvisor"])]
    pub isolation: Option<String>,
    /// Print the report as JSON: `{"isolation", "job_id", "checked_at", "passed", "rows": [{"promise", "expected", "observed", "ok"}]}`
    #[arg(long)]
    pub json: bool,
}
