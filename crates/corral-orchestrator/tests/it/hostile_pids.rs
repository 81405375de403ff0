//! A job that forks without end: the container's pids limit, and nothing
//! else, is what stops it, and the job still ends.

use corral_proto::JobState;
use corral_testkit::TestServer;
use serde_json::json;

/// The job's pids limit in this test.
const PIDS: usize = 32;
/// How many sleepers the bounded probe tries to start: well past [`PIDS`],
/// so a missing limit shows as every one of them starting.
const SLEEPERS: usize = 100;

/// First a bounded probe: start up to [`SLEEPERS`] sleepers, one a line,
/// until fork fails (busybox `sh` gives up at the first failed fork). Only
/// if that stopped short does the unbounded bomb go off, so a build that
/// lost its pids limit fails this test without taking the host down.
fn script() -> String {
    format!(
        "(i=0; while [ $i -lt {SLEEPERS} ]; do sleep 60 & i=$((i+1)); echo \"started $i\"; done) \
           >/tmp/count 2>&1
         killall sleep
         cat /tmp/count
         grep -q 'started {SLEEPERS}$' /tmp/count && {{ echo 'no limit: the bomb stays unlit'; exit 3; }}
         echo 'bomb lit'
         bomb() {{ bomb | bomb & }}; bomb; sleep 2; echo survived"
    )
}

#[tokio::test]
async fn a_fork_bomb_is_stopped_by_the_pids_limit_and_the_job_still_ends() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": script(), "limits": {"pids": PIDS, "timeout": "20s"}}))
        .await;
    let followed = server.follow(&id).await;
    let output = format!("{}{}", followed.stdout(), followed.stderr());
    let started = output
        .lines()
        .filter_map(|line| line.strip_prefix("started ")?.parse::<usize>().ok())
        .max()
        .unwrap_or(0);
    // The worker, docker-init and the shells hold some of the pids: the
    // sleepers stop short of the limit, and well short of what was asked.
    assert!(
        (1..PIDS).contains(&started),
        "{started} of {SLEEPERS} sleepers started under a limit of {PIDS}:\n{output}"
    );
    assert!(
        output.contains("can't fork: Resource temporarily unavailable"),
        "fork failed with EAGAIN, the pids cgroup's answer:\n{output}"
    );
    assert!(output.contains("bomb lit"), "{output}");
    // Its shell ended it (with whatever the bomb left it able to do),
    // well before the 20 s timeout: the containment did not need the clock.
    assert!(
        matches!(followed.job.state, JobState::Succeeded | JobState::Failed),
        "{:?}: {:?}",
        followed.job.state,
        followed.job.reason
    );
    let (status, _) = server.get("/v1/health").await;
    assert_eq!(status, 200, "the orchestrator is fine");
    assert_eq!(server.stop().await, 0, "no container left behind");
}
