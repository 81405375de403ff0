//! Bounds past which a limit is a typo rather than a wish.

/// Docker refuses less than 6 MiB; below 16 MiB nothing useful starts.
pub const MEMORY: (u64, u64) = (16 << 20, 1 << 40);
/// Docker's own range for `CpuShares`.
pub const CPU_SHARES: (i64, i64) = (2, 262_144);
/// The worker and a shell need a few; more than this is a fork bomb.
pub const PIDS: (i64, i64) = (8, 65_536);
/// One second to one week.
pub const TIMEOUT_SECS: (u64, u64) = (1, 7 * 86_400);
/// One MiB to 64 GiB per tmpfs.
pub const TMPFS: (u64, u64) = (1 << 20, 64 << 30);
/// At least one model call; more than this is a runaway.
pub const MAX_LLM_CALLS: (u64, u64) = (1, 100_000);
/// Up to ten billion tokens.
pub const MAX_TOKENS: (u64, u64) = (1, 10_000_000_000);
/// Model turns per prompt.
pub const MAX_ITERATIONS: (u32, u32) = (1, 10_000);
/// One second to one week.
pub const IDLE_TIMEOUT_SECS: (u64, u64) = (1, 7 * 86_400);
