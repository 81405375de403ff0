//! A warm job's first steps have the machine to themselves: the pool's
//! refill (a container created and started) and the rename wait for the
//! job's first output, or a moment when the job stays silent.

use corral_proto::JobState;
use serde_json::json;

use super::{inspect, pool_containers, pooled_server, until_idle, until_renamed};

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
    let server = pooled_server(1).await;
    let first = pool_containers(&server).await;
    // Silent for a tenth of a second (less than the refill waits for a
    // silent job), then it prints and stays.
    let id = server
        .create(&json!({ "command": "sleep 0.1; echo hi; sleep 300" }))
        .await;
    server.wait_for_state(&id, JobState::Running).await;
    let container = server.job(&id).await.container_id.expect("id");
    assert_eq!(
        vec![container.clone()],
        first,
        "the pool's container took it"
    );
    assert!(until_idle(&server, 1).await, "the pool refilled");
    let output = first_output_ts(&server, &id).await.expect("its output");
    let refill: Vec<String> = pool_containers(&server)
        .await
        .into_iter()
        .filter(|pooled| !first.contains(pooled))
        .collect();
    assert_eq!(refill.len(), 1, "one replacement: {refill:?}");
    let created = inspect(&refill[0]).await.created.expect("created");
    // The event's time is cut to the millisecond; Docker's is finer.
    assert!(
        instant(&created) > instant(&output),
        "the replacement was created at {created}, before the job's first output at {output}"
    );
    assert!(until_renamed(&container, &id).await, "renamed for its job");
    let (status, _) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert_eq!(status, 200);
    assert_eq!(server.follow(&id).await.job.state, JobState::Cancelled);
    assert_eq!(server.stop().await, 0);
}
