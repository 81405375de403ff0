//! What the unit tests of several modules share.

/// Job limits for unit tests: the built-in defaults, with small model
/// budgets.
pub const LIMITS: corral_proto::Limits = corral_proto::Limits {
    memory_bytes: 512 << 20,
    cpu_shares: 1024,
    pids: 256,
    timeout_secs: 600,
    tmpfs_bytes: 256 << 20,
    max_llm_calls: 10,
    max_tokens: 1000,
    max_iterations: 5,
    idle_timeout_secs: 60,
};
