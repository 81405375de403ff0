//! A job's limits: as a user writes them ([`LimitsSpec`], each left out
//! taking the server default) and as the job runs with them ([`Limits`]).

use serde::{Deserialize, Serialize};

use crate::size::{ByteSize, DurationSpec};

/// Limits as a user writes them; each one left out takes the server default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsSpec {
    /// Memory (and memory+swap): `256m`, or bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    /// Relative CPU weight (Docker `CpuShares`, 2..=262144).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_shares: Option<i64>,
    /// Most processes and threads the job may have at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids: Option<i64>,
    /// Wall-clock limit from container start: `30s`, `10m`, or seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationSpec>,
    /// Size cap of each tmpfs (`/tmp`, `$HOME`): `64m`, or bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<ByteSize>,
    /// Most model calls the job may make (agent modes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_llm_calls: Option<u64>,
    /// Most model tokens, read and written, the job may use (agent modes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Most model turns for one prompt before the job fails (worker mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_iterations: Option<u32>,
    /// How long an interactive job waits for a follow-up prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<DurationSpec>,
}

/// Model calls a job may make unless it says otherwise.
pub const DEFAULT_MAX_LLM_CALLS: u64 = 500;

/// Model tokens a job may use unless it says otherwise.
pub const DEFAULT_MAX_TOKENS: u64 = 5_000_000;

/// Model turns per prompt unless the job says otherwise.
pub const DEFAULT_MAX_ITERATIONS: u32 = 50;

/// Seconds an interactive job waits for a follow-up prompt.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 600;

/// Limits a job actually runs with, defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Limits {
    /// Memory and memory+swap, in bytes.
    pub memory_bytes: u64,
    /// Docker `CpuShares`.
    pub cpu_shares: i64,
    /// Docker `PidsLimit`.
    pub pids: i64,
    /// Seconds from container start until the job is killed.
    pub timeout_secs: u64,
    /// Size cap of each tmpfs, in bytes.
    pub tmpfs_bytes: u64,
    /// Most model calls.
    #[serde(default = "default_max_llm_calls")]
    pub max_llm_calls: u64,
    /// Most model tokens, read and written.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: u64,
    /// Most model turns per prompt.
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u32,
    /// Seconds an interactive job waits for a follow-up prompt.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
}

fn default_max_llm_calls() -> u64 {
    DEFAULT_MAX_LLM_CALLS
}

fn default_max_tokens() -> u64 {
    DEFAULT_MAX_TOKENS
}

fn default_max_iterations() -> u32 {
    DEFAULT_MAX_ITERATIONS
}

fn default_idle_timeout() -> u64 {
    DEFAULT_IDLE_TIMEOUT_SECS
}
