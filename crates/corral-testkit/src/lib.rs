//! Test support for corral, used only as a dev-dependency: a real server
//! in-process on `127.0.0.1:0` with its own data directory, the static
//! worker, offline test images, and guards that remove every container a
//! test created even when the test fails.
//!
//! It must never talk to anything but loopback and the local Docker socket.
//!
//! # Layout
//! - `docker`: make sure an engine runs, build the test images
//! - `worker`: build or find the static worker
//! - `server`: [`TestServer`], a running orchestrator and a client for it
//! - `model`: scripted model upstreams registered as a provider

#![expect(
    clippy::missing_panics_doc,
    reason = "test support panics with a message on purpose"
)]
#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "test support fails loudly"
)]

mod docker;
mod model;
mod server;
mod tls;
mod worker;

pub use docker::{
    claude_image, curl_image, default_image, docker, ensure_docker, eventually, git_image,
    plain_image, remove_instance_now, remove_labelled, volume_image,
};
pub use model::{TEST_MODEL, TEST_PROVIDER, Upstream};
pub use reqwest;
pub use server::{Followed, TestServer, metric_value, unix_request};
pub use tls::{Handler, TlsUpstream, UpstreamBody};
pub use worker::worker_bin;

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

/// A project directory the job user can write: a temp dir owned by uid
/// 10001 (jobs run as the project's owner, or 10001 when root owns it).
pub fn job_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("project dir");
    std::os::unix::fs::chown(dir.path(), Some(10001), Some(10001)).expect("chown project");
    dir
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

/// Resets this process's peak RSS (`VmHWM`) to its current RSS, so a
/// peak read later counts only what came after (Linux ≥ 4.0).
pub fn reset_peak_rss() -> std::io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

/// Peak resident set of this process so far (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))?
                .to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}
