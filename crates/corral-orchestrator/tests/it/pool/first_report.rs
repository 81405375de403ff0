//! A warm job's first steps have the machine to themselves: the pool's
//! refill (a container created and started) and the rename wait for the
//! job's first output, or a moment when the job stays silent.

use std::time::Duration;

use corral_proto::JobState;
use corral_testkit::{TestServer, exec_in_container};
use serde_json::json;

use super::{inspect, pool_containers, until_idle, until_renamed};

/// Silent until the test lets it go on (`touch /tmp/go`), then one line,
/// then it stays.
const HELD: &str = "until [ -e /tmp/go ]; do sleep 0.05; done; echo hi; sleep 300";

/// A server with a pool of one, filled, whose warm starts put off the
/// refill and the rename up to `wait` while the job is silent.
async fn pool_of_one(wait: Duration) -> TestServer {
    let server = TestServer::start_with(|config| {
        config.pool.size = 1;
        config.pool.first_report_wait = wait;
    })
    .await;
    assert!(until_idle(&server, 1).await, "the pool fills within 10 s");
    server
}

/// Starts [`HELD`] in the pool's one container; its id and the job's.
async fn held_job(server: &TestServer) -> (String, String) {
    let first = pool_containers(server).await;
    let id = server.create(&json!({ "command": HELD })).await;
    server.wait_for_state(&id, JobState::Running).await;
    let container = server.job(&id).await.container_id.expect("id");
    assert_eq!(
        vec![container.clone()],
        first,
        "the pool's container took it"
    );
    (id, container)
}

/// The pool's containers that are not `container`.
async fn replacements(server: &TestServer, container: &str) -> Vec<String> {
    let mut pooled = pool_containers(server).await;
    pooled.retain(|pooled| pooled != container);
    pooled
}

async fn cancel(server: TestServer, id: &str) {
    let (status, _) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert_eq!(status, 200);
    assert_eq!(server.follow(id).await.job.state, JobState::Cancelled);
    assert_eq!(server.stop().await, 0);
}

/// When the job's first `output` event was stored, once it was.
async fn first_output_ts(server: &corral_testkit::TestServer, id: &str) -> Option<String> {
    let (status, body) = server.get(&format!("/v1/jobs/{id}/events")).await;
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()?
        .iter()
        .find(|event| event["kind"] == "output")
        .and_then(|event| event["ts"].as_str().map(str::to_owned))
}

fn instant(rfc3339: &str) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .expect("an RFC 3339 time")
}

#[tokio::test]
async fn the_pool_refills_after_a_warm_job_s_first_output_not_before() {
    // The silent wait is far longer than the test: only the job's output
    // can send the refill on, so no clock is raced.
    let server = pool_of_one(Duration::from_mins(10)).await;
    let (id, container) = held_job(&server).await;
    // Five times the default wait: a refill or a rename that ignored the
    // setting would have come by now. (That they come at all, once the job
    // prints, is checked below.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        replacements(&server, &container).await,
        Vec::<String>::new(),
        "no replacement while the job is silent"
    );
    assert_ne!(
        inspect(&container).await.name,
        Some(format!("/corral-{id}")),
        "not renamed while the job is silent"
    );
    exec_in_container(&container, &["touch", "/tmp/go"]).await;
    assert!(until_idle(&server, 1).await, "the pool refilled");
    let output = first_output_ts(&server, &id).await.expect("its output");
    let refill = replacements(&server, &container).await;
    assert_eq!(refill.len(), 1, "one replacement: {refill:?}");
    let created = inspect(&refill[0]).await.created.expect("created");
    // The event's time is cut to the millisecond; Docker's is finer.
    assert!(
        instant(&created) > instant(&output),
        "the replacement was created at {created}, before the job's first output at {output}"
    );
    assert!(until_renamed(&container, &id).await, "renamed for its job");
    cancel(server, &id).await;
}

#[tokio::test]
async fn a_silent_warm_job_holds_the_refill_and_the_rename_only_so_long() {
    // Five times the default, so a wait that ignored the setting shows.
    let wait = Duration::from_secs(1);
    let server = pool_of_one(wait).await;
    let (id, container) = held_job(&server).await;
    assert!(until_idle(&server, 1).await, "the pool refilled");
    assert!(until_renamed(&container, &id).await, "renamed for its job");
    assert_eq!(
        first_output_ts(&server, &id).await,
        None,
        "the job is still silent"
    );
    // The wait begins once the job took the container, after it was created.
    let refill = replacements(&server, &container).await;
    assert_eq!(refill.len(), 1, "one replacement: {refill:?}");
    let created = inspect(&refill[0]).await.created.expect("created");
    let job_created = server.job(&id).await.created_at;
    assert!(
        instant(&created) - job_created >= wait,
        "the replacement was created at {created}, less than {wait:?} after the job at {job_created}"
    );
    cancel(server, &id).await;
}
