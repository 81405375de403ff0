//! Fuzz builds only (`cfg(fuzzing)`, which cargo-fuzz sets): the check
//! `POST /v1/jobs` runs on a job spec, reachable from `fuzz/` without a
//! server or Docker. The spec's project is dropped first: its path would
//! be opened on the host running the fuzzer.

use std::path::Path;

use corral_proto::{IsolationLevel, JobSpec, Limits};

use super::JobError;
use super::validate::{Defaults, validate};
use crate::config;
use crate::llm::LlmSettings;

/// The server's built-in default limits.
const LIMITS: Limits = Limits {
    memory_bytes: config::DEFAULT_MEMORY,
    cpu_shares: config::DEFAULT_CPU_SHARES,
    pids: config::DEFAULT_PIDS,
    timeout_secs: config::DEFAULT_TIMEOUT_SECS,
    tmpfs_bytes: config::DEFAULT_TMPFS,
    max_llm_calls: corral_proto::job::DEFAULT_MAX_LLM_CALLS,
    max_tokens: corral_proto::job::DEFAULT_MAX_TOKENS,
    max_iterations: corral_proto::job::DEFAULT_MAX_ITERATIONS,
    idle_timeout_secs: corral_proto::job::DEFAULT_IDLE_TIMEOUT_SECS,
};

/// What an accepted spec resolved to: the image and the limits in force.
#[derive(Debug)]
pub struct Accepted {
    pub image: String,
    pub limits: Limits,
}

/// Validates `spec` (its project dropped) against the built-in defaults
/// and `llm`'s providers.
pub fn validate_spec(mut spec: JobSpec, llm: &LlmSettings) -> Result<Accepted, JobError> {
    spec.project = None;
    let valid = validate(
        spec,
        &Defaults {
            limits: &LIMITS,
            image: config::DEFAULT_IMAGE,
            claude_image: config::DEFAULT_CLAUDE_IMAGE,
            isolation: IsolationLevel::Runc,
            data_dir: Path::new("/nonexistent-data"),
            llm,
            egress: None,
            id_map: corral_runtime::IdMap::Identity,
        },
    )?;
    Ok(Accepted {
        image: valid.image,
        limits: valid.limits,
    })
}
