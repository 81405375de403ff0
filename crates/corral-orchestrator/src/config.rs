//! The orchestrator's one `Config`, built once at startup.
//!
//! Precedence: defaults < `corral.toml` < `CORRAL_*` environment < flags. The
//! CLI merges environment and flags (clap) into [`ConfigOverrides`]; this
//! module reads the file, fills in defaults and validates, so the rest of the
//! server sees typed values with no `Option` for what is always set.
//!
//! # Layout
//! - `settings`: [`Config`], [`ConfigOverrides`], the defaults, and `Config::load`
//! - `egress`, `llm`, `mcp`, `pool`: their sections of the file
//! - `limits`, [`bounds`]: a job's limits checked against what makes sense
//! - `error`, `file_error`: [`ConfigError`], a file's error at its line

pub mod bounds;
mod egress;
/// Names of the environment variables corral reads, in one place.
mod error;
mod file_error;
mod limits;
mod llm;
mod mcp;
mod pool;
mod settings;
#[cfg(test)]
mod tests;

pub use error::ConfigError;
pub use limits::check_limits;
pub(crate) use settings::MAX_SANDBOX_EXECS;
pub use settings::{Config, ConfigOverrides, default_data_dir};
/// The built-in defaults, for the fuzz target that validates job specs.
#[cfg(fuzzing)]
pub use settings::{
    DEFAULT_CLAUDE_IMAGE, DEFAULT_CPU_SHARES, DEFAULT_IMAGE, DEFAULT_MEMORY, DEFAULT_PIDS,
    DEFAULT_TIMEOUT_SECS, DEFAULT_TMPFS,
};
