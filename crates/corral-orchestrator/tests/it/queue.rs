use corral_proto::JobState;
use corral_testkit::TestServer;
use serde_json::json;

#[tokio::test]
async fn with_one_slot_a_second_job_waits_until_the_first_ends() {
    let server = TestServer::start_with(|config| config.max_concurrent_jobs = 1).await;
    let first = server.create(&json!({"command": ["sleep", "300"]})).await;
    server.wait_for_state(&first, JobState::Running).await;
    let second = server.create(&json!({"command": ["echo", "second"]})).await;
    let queued = server.create(&json!({"command": ["echo", "third"]})).await;
    assert_eq!(server.job(&second).await.state, JobState::Queued);
    // Cancelling a queued job ends it at once, without a container.
    let (status, body) = server.post(&format!("/v1/jobs/{queued}/cancel"), "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "cancelled");
    assert_eq!(
        server.job(&second).await.state,
        JobState::Queued,
        "still waiting for the slot"
    );
    let (status, _) = server.post(&format!("/v1/jobs/{first}/cancel"), "").await;
    assert_eq!(status, 200);
    let second_run = server.follow(&second).await;
    assert_eq!(second_run.stdout(), "second\n");
    assert_eq!(second_run.job.state, JobState::Succeeded);
    let first_job = server.job(&first).await;
    let first_end = first_job.finished_at.expect("first ended");
    let second_start = second_run.job.started_at.expect("second started");
    assert!(
        second_start >= first_end,
        "{second_start} before {first_end}"
    );
    assert_eq!(server.job(&queued).await.container_id, None);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_job_list_pages_newest_first_with_a_cursor() {
    let server = TestServer::start().await;
    let mut created = Vec::new();
    for index in 0..5 {
        created.push(
            server
                .create(&json!({"command": ["echo", index.to_string()]}))
                .await,
        );
    }
    for id in &created {
        server.follow(id).await.assert_succeeded();
    }
    let mut listed = Vec::new();
    let mut query = "/v1/jobs?limit=2&state=succeeded".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = server.get(&query).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let ids: Vec<String> = page["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .map(|job| job["id"].as_str().expect("id").to_owned())
            .collect();
        listed.extend(ids.iter().cloned());
        match page["next"].as_str() {
            Some(next) => {
                assert_eq!(Some(next), ids.last().map(String::as_str));
                query = format!("/v1/jobs?limit=2&state=succeeded&before={next}");
            }
            None => break,
        }
    }
    created.reverse();
    assert_eq!(listed, created, "every job once, newest first");
    assert_eq!(pages, 3, "pages of 2, 2 and 1");
    let (status, body) = server.get("/v1/jobs?before=j-0000000000000000").await;
    assert_eq!(status, 400);
    assert_eq!(body["field"], "before", "{body}");
    assert_eq!(server.stop().await, 0);
}
