//! The Docker daemon restarts under a running job: the job ends with a
//! reason, the orchestrator stays up and runs the next job, and nothing is
//! left behind. Its own test binary, so no other test shares the daemon
//! while it restarts (cargo runs test binaries one at a time).

#![expect(clippy::expect_used, reason = "a test fails loudly")]

use std::time::{Duration, Instant};

use corral_proto::JobState;
use corral_runtime::LABEL_JOB;
use corral_testkit::{TestServer, remove_labelled};
use serde_json::json;

/// Stops dockerd with SIGTERM, waits for it to go, starts it again.
fn restart_dockerd() {
    let pids = std::process::Command::new("pgrep")
        .args(["-x", "dockerd"])
        .output()
        .expect("pgrep");
    let pids = String::from_utf8_lossy(&pids.stdout).into_owned();
    assert!(!pids.trim().is_empty(), "no dockerd to restart");
    for pid in pids.split_whitespace() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", pid])
            .status();
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while Instant::now() < deadline {
        let alive = std::process::Command::new("pgrep")
            .args(["-x", "dockerd"])
            .status()
            .expect("pgrep")
            .success();
        if !alive {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let started = std::process::Command::new("bash")
        .arg(corral_testkit::repo_root().join("scripts/ensure-docker.sh"))
        .status()
        .expect("run ensure-docker.sh");
    assert!(started.success(), "dockerd did not come back");
}

/// How many containers (any state) carry the job's label, removing none.
async fn containers_of(job_id: &str) -> usize {
    let docker = corral_testkit::docker().await;
    let filters = std::collections::HashMap::from([(
        "label".to_owned(),
        vec![format!("{LABEL_JOB}={job_id}")],
    )]);
    let options = bollard::query_parameters::ListContainersOptions {
        all: true,
        filters: Some(filters),
        ..Default::default()
    };
    docker
        .list_containers(Some(options))
        .await
        .expect("list containers")
        .len()
}

#[tokio::test]
async fn a_daemon_restart_ends_the_running_job_with_a_reason_and_the_server_goes_on() {
    let server = TestServer::start_with(|config| config.reap_interval_secs = 1).await;
    let id = server
        .create(&json!({"command": "echo up; sleep 300"}))
        .await;
    server.wait_for_state(&id, JobState::Running).await;

    tokio::task::spawn_blocking(restart_dockerd)
        .await
        .expect("restart task");

    let ended = server.follow(&id).await;
    assert!(
        ended.job.state.is_terminal() && ended.job.state != JobState::Succeeded,
        "{:?}",
        ended.job
    );
    let reason = ended.job.reason.clone().expect("a reason");
    assert!(
        reason.contains("Docker daemon")
            || reason.contains("exit code")
            || reason.contains("container lost"),
        "{reason}"
    );

    let (status, _) = server.get("/v1/health").await;
    assert_eq!(status, 200, "the orchestrator stayed up");
    let next = server
        .create(&json!({"command": "echo after the restart"}))
        .await;
    let next = server.follow(&next).await;
    next.assert_succeeded();
    assert_eq!(next.stdout(), "after the restart\n");

    let gone = corral_testkit::eventually(|| async { containers_of(&id).await == 0 }).await;
    assert!(gone, "the job's container was left behind");
    assert_eq!(server.stop().await, 0);
    assert_eq!(remove_labelled(LABEL_JOB, &id).await, 0);
}
