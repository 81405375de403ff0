//! The one `Config`: its defaults, the overrides from flags and the
//! environment, and how the config file, the environment and the flags
//! combine into it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use corral_docker::host::{EngineSocket, SocketSource};
use corral_proto::local_server::DEFAULT_LISTEN;
use corral_proto::{ByteSize, DurationSpec, Limits};
use serde::Deserialize;

use super::error::ConfigError;
use super::limits::check_limits;
use super::pool::PoolSettings;

/// Enough to keep two cores busy without thrashing a laptop.
pub const DEFAULT_MAX_CONCURRENT_JOBS: usize = 4;
/// The image `corral image build` makes, always tagged `latest` as well.
pub const DEFAULT_IMAGE: &str = "corral/default:latest";
/// The image `corral image build --mode claude` makes, always tagged `latest` as well.
pub const DEFAULT_CLAUDE_IMAGE: &str = "corral/claude:latest";
/// Room for a build tool, small enough that a runaway job cannot starve the host.
pub const DEFAULT_MEMORY: u64 = 512 << 20;
/// Docker's own default weight.
pub const DEFAULT_CPU_SHARES: i64 = 1024;
/// Plenty for compilers, stops a fork bomb.
pub const DEFAULT_PIDS: i64 = 256;
/// Ten minutes: long enough for a test suite, short enough to notice a hang.
pub const DEFAULT_TIMEOUT_SECS: u64 = 600;
/// Each of `/tmp` and `$HOME`.
pub const DEFAULT_TMPFS: u64 = 256 << 20;
/// How often leftover containers are looked for: often enough that a stray
/// container does not linger, rarely enough to cost nothing.
pub const DEFAULT_REAP_INTERVAL_SECS: u64 = 60;
/// How long an ended job's patch and review files are kept: a week to review.
pub const DEFAULT_WORKSPACE_RETENTION_SECS: u64 = 7 * 86_400;
/// Output a single job may store before the rest is dropped with a warning.
pub const DEFAULT_MAX_OUTPUT_BYTES: u64 = 64 << 20;
/// Execs one sandbox runs at once unless `sandbox_max_execs` says otherwise:
/// enough for an agent's parallel tool calls, few enough that a sandbox
/// cannot flood its worker with processes (its pids limit is the hard cap).
pub const DEFAULT_SANDBOX_MAX_EXECS: usize = 16;
/// Most execs a sandbox may be allowed at once.
pub(crate) const MAX_SANDBOX_EXECS: usize = 256;

/// `sandbox_max_execs` as written, its default filled in and kept in bounds.
fn sandbox_max_execs(written: Option<usize>) -> usize {
    written
        .unwrap_or(DEFAULT_SANDBOX_MAX_EXECS)
        .clamp(1, MAX_SANDBOX_EXECS)
}

/// `corral.toml` as written: every key optional, unknown keys refused.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    worker_bin: Option<PathBuf>,
    image: Option<String>,
    claude_image: Option<String>,
    isolation: Option<corral_proto::IsolationLevel>,
    max_concurrent_jobs: Option<usize>,
    oci_runtime: Option<String>,
    max_output_bytes: Option<ByteSize>,
    sandbox_max_execs: Option<usize>,
    reap_interval: Option<DurationSpec>,
    workspace_retention: Option<DurationSpec>,
    limits: FileLimits,
    llm: super::llm::FileLlm,
    egress: super::egress::FileEgress,
    pool: super::pool::FilePool,
    runtime: FileRuntime,
    mcp: super::mcp::FileMcp,
}

/// `[runtime]`: the container engine.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileRuntime {
    /// The engine's API socket: a path or `unix:///PATH`.
    socket: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileLimits {
    memory: Option<ByteSize>,
    cpu_shares: Option<i64>,
    pids: Option<i64>,
    timeout: Option<DurationSpec>,
    tmpfs: Option<ByteSize>,
    max_llm_calls: Option<u64>,
    max_tokens: Option<u64>,
    max_iterations: Option<u32>,
    idle_timeout: Option<DurationSpec>,
}

/// Values from the environment and flags; each set one beats the file.
#[derive(Debug, Default, Clone)]
pub struct ConfigOverrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--config`.
    pub config_file: Option<PathBuf>,
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--worker-bin`.
    pub worker_bin: Option<PathBuf>,
    /// `--image`.
    pub image: Option<String>,
    /// `--max-concurrent-jobs`.
    pub max_concurrent_jobs: Option<usize>,
    /// `--oci-runtime`.
    pub oci_runtime: Option<String>,
    /// `--llm`: `openai`, `anthropic`, `scripted:FILE` or a provider name.
    pub llm: Option<String>,
    /// `--egress-resolve HOST=IP:PORT`, repeated.
    pub egress_resolve: Vec<String>,
    /// `--egress-ca FILE`.
    pub egress_ca: Option<PathBuf>,
    /// `--pool-size`.
    pub pool_size: Option<usize>,
    /// `--no-verify`: run jobs without the sandbox check at start.
    pub no_verify: bool,
    /// `--docker-host`: the engine's socket.
    pub docker_host: Option<String>,
    /// `--mcp-allow-…`: what tool calls at `/mcp` may ask for (each list
    /// given replaces the file's).
    pub mcp: corral_client::mcp::Policy,
}

/// The server's settings, complete and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// Holds the database, the API token, the instance id and job sockets.
    pub data_dir: PathBuf,
    /// The user API's address.
    pub listen: SocketAddr,
    /// The static worker binary mounted into every container.
    pub worker_bin: PathBuf,
    /// The image for jobs that name none.
    pub default_image: String,
    /// The image for claude-mode jobs that name none.
    pub claude_image: String,
    /// The isolation level of jobs that name none.
    pub isolation: corral_proto::IsolationLevel,
    /// Jobs that run at once; the rest wait in a FIFO queue.
    pub max_concurrent_jobs: usize,
    /// The OCI runtime for job containers (`runc`, `crun`, `runsc`), or Docker's default.
    pub oci_runtime: Option<String>,
    /// Limits for jobs that set none.
    pub default_limits: Limits,
    /// Bytes of output and event data one job's worker may store (each
    /// event's data as stored JSON, and `worker_api::ROW_COST` for its row).
    pub max_output_bytes: u64,
    /// Execs one sandbox runs at once; more are refused (429).
    pub sandbox_max_execs: usize,
    /// Seconds between sweeps for containers no live job owns.
    pub reap_interval_secs: u64,
    /// Seconds an ended job's review files (patch, workspace) are kept.
    pub workspace_retention_secs: u64,
    /// `CORRAL_MASTER_KEY` (64 hex digits), else the key file in the data directory is used.
    pub master_key: Option<crate::secrets::SecretValue>,
    /// Model providers, for agent jobs.
    pub llm: crate::llm::LlmSettings,
    /// Pinned names and the upstream CA of the egress proxy.
    pub egress: std::sync::Arc<crate::egress::EgressNet>,
    /// The egress policy of jobs that name none; `None` is no egress.
    pub default_egress: Option<corral_proto::EgressSpec>,
    /// The warm pool.
    pub pool: PoolSettings,
    /// Run the sandbox check at start and refuse jobs while it fails.
    pub verify_at_start: bool,
    /// The container engine's API socket, and where it was set.
    pub engine_socket: EngineSocket,
    /// What tool calls at `/mcp` may grant, open and bind.
    pub mcp: std::sync::Arc<corral_client::mcp::Policy>,
}

impl Config {
    /// Builds the configuration from overrides, the config file and defaults.
    pub fn load(overrides: ConfigOverrides) -> Result<Self, ConfigError> {
        let data_dir = match overrides.data_dir {
            Some(dir) => dir,
            None => default_data_dir().ok_or(ConfigError::NoDataDir)?,
        };
        let file_path = overrides
            .config_file
            .clone()
            .unwrap_or_else(|| data_dir.join("corral.toml"));
        let file = read_file_config(&file_path, overrides.config_file.is_some())?;
        let default_limits = default_limits(&file.limits);
        check_limits(&default_limits)
            .map_err(|(key, message)| ConfigError::Invalid { key, message })?;
        let max_concurrent_jobs = overrides
            .max_concurrent_jobs
            .or(file.max_concurrent_jobs)
            .unwrap_or(DEFAULT_MAX_CONCURRENT_JOBS);
        if max_concurrent_jobs == 0 {
            return Err(ConfigError::Invalid {
                key: "max_concurrent_jobs",
                message: "must be at least 1".into(),
            });
        }
        let listen = match overrides.listen.or(file.listen) {
            Some(listen) => listen,
            None => DEFAULT_LISTEN.parse().map_err(|_| ConfigError::Invalid {
                key: "listen",
                message: "bad built-in default".into(),
            })?,
        };
        let default_image = overrides
            .image
            .or(file.image)
            .unwrap_or_else(|| DEFAULT_IMAGE.to_owned());
        let pool = super::pool::settings(file.pool, overrides.pool_size, &default_image)?;
        let llm_env = super::llm::LlmEnv::read(&file.llm);
        let llm = super::llm::settings(file.llm, overrides.llm.as_deref(), &llm_env)?;
        let (egress, default_egress) =
            super::egress::settings(file.egress, &overrides.egress_resolve, overrides.egress_ca)?;
        let mcp = super::mcp::policy(file.mcp, overrides.mcp)?;
        Ok(Self {
            llm,
            mcp,
            egress: std::sync::Arc::new(egress),
            default_egress,
            // Docker bind-mounts it, and a bind mount's source must be absolute.
            worker_bin: std::path::absolute(
                overrides
                    .worker_bin
                    .or(file.worker_bin)
                    .unwrap_or_else(corral_docker::worker_binary::default_location),
            )
            .map_err(|error| ConfigError::Invalid {
                key: "worker_bin",
                message: error.to_string(),
            })?,
            data_dir,
            listen,
            default_image,
            pool,
            verify_at_start: !overrides.no_verify,
            engine_socket: engine_socket(
                overrides.docker_host.as_deref(),
                file.runtime.socket.as_deref(),
            )?,
            isolation: file.isolation.unwrap_or_default(),
            claude_image: file
                .claude_image
                .unwrap_or_else(|| DEFAULT_CLAUDE_IMAGE.to_owned()),
            max_concurrent_jobs,
            oci_runtime: overrides.oci_runtime.or(file.oci_runtime),
            default_limits,
            max_output_bytes: file
                .max_output_bytes
                .map_or(DEFAULT_MAX_OUTPUT_BYTES, |size| size.0),
            sandbox_max_execs: sandbox_max_execs(file.sandbox_max_execs),
            master_key: master_key_from_env(),
            workspace_retention_secs: file
                .workspace_retention
                .map_or(DEFAULT_WORKSPACE_RETENTION_SECS, |retention| retention.0),
            reap_interval_secs: file
                .reap_interval
                .map_or(DEFAULT_REAP_INTERVAL_SECS, |interval| interval.0.max(1)),
        })
    }
}

/// The limits of jobs that set none: the file's, else the defaults.
fn default_limits(limits: &FileLimits) -> Limits {
    Limits {
        memory_bytes: limits.memory.map_or(DEFAULT_MEMORY, |size| size.0),
        cpu_shares: limits.cpu_shares.unwrap_or(DEFAULT_CPU_SHARES),
        pids: limits.pids.unwrap_or(DEFAULT_PIDS),
        timeout_secs: limits.timeout.map_or(DEFAULT_TIMEOUT_SECS, |d| d.0),
        tmpfs_bytes: limits.tmpfs.map_or(DEFAULT_TMPFS, |size| size.0),
        max_llm_calls: limits
            .max_llm_calls
            .unwrap_or(corral_proto::job::DEFAULT_MAX_LLM_CALLS),
        max_tokens: limits
            .max_tokens
            .unwrap_or(corral_proto::job::DEFAULT_MAX_TOKENS),
        max_iterations: limits
            .max_iterations
            .unwrap_or(corral_proto::job::DEFAULT_MAX_ITERATIONS),
        idle_timeout_secs: limits
            .idle_timeout
            .map_or(corral_proto::job::DEFAULT_IDLE_TIMEOUT_SECS, |d| d.0),
    }
}

fn read_file_config(path: &Path, required: bool) -> Result<FileConfig, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !required => {
            return Ok(FileConfig::default());
        }
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    toml::from_str(&text).map_err(|error| {
        let (line, message) = super::file_error::describe(&text, &error);
        ConfigError::Parse {
            path: path.to_owned(),
            line,
            message,
        }
    })
}

/// The engine's socket: `--docker-host`, then `DOCKER_HOST`, then
/// `[runtime] socket`, else Docker's default; a Unix socket only.
fn engine_socket(flag: Option<&str>, file: Option<&str>) -> Result<EngineSocket, ConfigError> {
    EngineSocket::from_environment(flag, file).map_err(|error| ConfigError::Invalid {
        key: match error.from {
            SocketSource::Flag => "--docker-host",
            SocketSource::Environment => "DOCKER_HOST",
            SocketSource::ConfigFile | SocketSource::Default => "runtime.socket",
        },
        message: format!(
            "{:?} is not a Unix socket on this host: give a path or unix:///PATH",
            error.value
        ),
    })
}

/// The master key from the environment, never from a flag (argv is public).
#[expect(
    clippy::disallowed_methods,
    reason = "the config module is where the environment is read"
)]
fn master_key_from_env() -> Option<crate::secrets::SecretValue> {
    std::env::var(corral_proto::env_vars::CORRAL_MASTER_KEY)
        .ok()
        .filter(|value| !value.is_empty())
        .map(crate::secrets::SecretValue::new)
}

/// `$XDG_DATA_HOME/corral`, else `$HOME/.local/share/corral`.
#[expect(
    clippy::disallowed_methods,
    reason = "the config module is where the environment is read"
)]
pub fn default_data_dir() -> Option<PathBuf> {
    if let Ok(base) = std::env::var(corral_proto::env_vars::XDG_DATA_HOME)
        && !base.is_empty()
    {
        return Some(PathBuf::from(base).join("corral"));
    }
    let home = std::env::var(corral_proto::env_vars::HOME)
        .ok()
        .filter(|home| !home.is_empty())?;
    Some(PathBuf::from(home).join(".local/share/corral"))
}
