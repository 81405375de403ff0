//! Files and rows tests set up or search: the repository root, a running
//! job row, a value hunted for in every file under a directory.

/// The repository root, for scripts.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Asserts no file under `root` holds `value` (a key hunted for).
pub fn assert_in_no_file(root: &std::path::Path, value: &str) {
    let needle = value.as_bytes();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        if let Ok(entries) = std::fs::read_dir(&path) {
            pending.extend(entries.flatten().map(|entry| entry.path()));
            continue;
        }
        let bytes = std::fs::read(&path).unwrap_or_default();
        assert!(
            !bytes.windows(needle.len()).any(|window| window == needle),
            "the value is in {}",
            path.display()
        );
    }
}

/// A running exec job for tests that drive the store, the event log or a
/// job's socket without a container; budgets generous enough for benches.
pub fn running_job(id: &str) -> corral_proto::Job {
    use corral_proto::{CommandSpec, Job, JobMode, JobState, Limits};
    Job {
        state: JobState::Running,
        command: Some(CommandSpec::Shell("true".into())),
        ..Job::queued(
            id.to_owned(),
            JobMode::Exec,
            "any".into(),
            Limits {
                memory_bytes: 64 << 20,
                cpu_shares: 512,
                pids: 32,
                timeout_secs: 600,
                tmpfs_bytes: 16 << 20,
                max_llm_calls: 100_000,
                max_tokens: 10_000_000_000,
                max_iterations: 50,
                idle_timeout_secs: 60,
            },
        )
    }
}
