//! The static worker for tests: `CORRAL_WORKER_BIN` when set (CI builds it
//! once), else built with `scripts/build-worker.sh` once per test process.

use std::path::PathBuf;
use std::sync::OnceLock;

/// Path of a static `corral-worker`.
#[expect(
    clippy::disallowed_methods,
    reason = "tests read their environment directly"
)]
pub fn worker_bin() -> PathBuf {
    static WORKER: OnceLock<PathBuf> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            if let Ok(path) = std::env::var("CORRAL_WORKER_BIN") {
                return PathBuf::from(path);
            }
            let script = crate::repo_root().join("scripts/build-worker.sh");
            let output = std::process::Command::new("bash")
                .arg(&script)
                .output()
                .expect("run scripts/build-worker.sh");
            assert!(
                output.status.success(),
                "building the static worker failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        })
        .clone()
}
