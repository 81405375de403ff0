//! The orchestrator's one `Config`, built once at startup.
//!
//! Precedence: defaults < `corral.toml` < `CORRAL_*` environment < flags. The
//! CLI merges environment and flags (clap) into [`ConfigOverrides`]; this
//! module reads the file, fills in defaults and validates, so the rest of the
//! server sees typed values with no `Option` for what is always set.
//!
//! # Layout
//! - `settings`: [`Config`], [`ConfigOverrides`], the defaults, and `Config::load`
//! - `egress`, `llm`, `pool`: their sections of the file
//! - `limits`, [`bounds`]: a job's limits checked against what makes sense
//! - `error`, `file_error`: [`ConfigError`], a file's error at its line
//! - [`env_vars`]: the environment variables corral reads

pub mod bounds;
mod egress;
/// Names of the environment variables corral reads, in one place.
pub mod env_vars;
mod error;
mod file_error;
mod limits;
mod llm;
mod pool;
mod settings;
#[cfg(test)]
mod tests;

/// Loopback only: the user API is not meant to face a network by default.
pub use corral_proto::local_server::DEFAULT_LISTEN;
pub use egress::parse_pin;
pub use error::ConfigError;
pub use limits::check_limits;
pub use pool::PoolSettings;
pub use settings::{
    Config, ConfigOverrides, DEFAULT_CLAUDE_IMAGE, DEFAULT_CPU_SHARES, DEFAULT_IMAGE,
    DEFAULT_MAX_CONCURRENT_JOBS, DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MEMORY, DEFAULT_PIDS,
    DEFAULT_REAP_INTERVAL_SECS, DEFAULT_TIMEOUT_SECS, DEFAULT_TMPFS,
    DEFAULT_WORKSPACE_RETENTION_SECS, default_data_dir,
};
