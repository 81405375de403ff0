//! What the output tests share: a queued job with small limits.

use corral_proto::{Job, JobMode, Limits};

/// Limits for tests: one model call, one token, ten minutes idle.
pub(super) const LIMITS: Limits = Limits {
    memory_bytes: 1 << 30,
    cpu_shares: 1024,
    pids: 256,
    timeout_secs: 600,
    tmpfs_bytes: 64 << 20,
    max_llm_calls: 1,
    max_tokens: 1,
    max_iterations: 1,
    idle_timeout_secs: 600,
};

/// A queued job of `mode` with [`LIMITS`].
pub(super) fn job(mode: JobMode) -> Job {
    Job::queued("j-0123456789abcdef".into(), mode, "i".into(), LIMITS)
}
