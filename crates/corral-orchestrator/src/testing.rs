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

/// A minimal running job (the testkit depends on this crate).
pub fn running_job(id: &str) -> corral_proto::Job {
    serde_json::from_value(serde_json::json!({
        "id": id, "mode": "exec", "state": "running", "image": "i",
        "command": "true", "prompt": null, "project": null, "isolation": null,
        "grants": [], "limits": {"memory_bytes": 1, "cpu_shares": 2, "pids": 8,
            "timeout_secs": 1, "tmpfs_bytes": 1},
        "container_id": null, "exit_code": null, "reason": null,
        "created_at": "2026-01-01T00:00:00Z", "started_at": null, "finished_at": null,
    }))
    .expect("job")
}

/// A new store in a temporary directory (kept while the directory is),
/// holding [`running_job`] `id`.
pub async fn store_with_job(
    id: &str,
) -> (tempfile::TempDir, std::sync::Arc<crate::store::SqliteStore>) {
    use crate::store::JobRecords as _;
    let dir = tempfile::tempdir().expect("dir");
    let store = std::sync::Arc::new(
        crate::store::SqliteStore::open(&dir.path().join("corral.db")).expect("store"),
    );
    store.insert_job(&running_job(id)).await.expect("job");
    (dir, store)
}
