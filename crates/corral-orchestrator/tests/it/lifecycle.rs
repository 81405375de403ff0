use corral_proto::{EventKind, JobState};
use corral_runtime::LABEL_JOB;
use corral_testkit::{TestServer, remove_labelled};
use serde_json::json;

/// Asserts Docker has no container left for `job_id`.
async fn assert_no_container(job_id: &str) {
    assert_eq!(
        remove_labelled(LABEL_JOB, job_id).await,
        0,
        "a container of {job_id} was left behind"
    );
}

#[tokio::test]
async fn output_arrives_in_order_and_the_exit_code_is_the_commands() {
    let server = TestServer::start().await;
    let script = "i=1; while [ $i -le 300 ]; do echo line-$i; [ $((i % 50)) -eq 0 ] && echo marker-$i >&2; i=$((i+1)); done; exit 7";
    let id = server.create(&json!({"command": script})).await;
    let followed = server.follow(&id).await;
    let expected: Vec<String> = (1..=300).map(|i| format!("line-{i}")).collect();
    let expected = expected.join("\n") + "\n";
    assert_eq!(followed.stdout(), expected);
    assert_eq!(
        followed.stderr(),
        "marker-50\nmarker-100\nmarker-150\nmarker-200\nmarker-250\nmarker-300\n"
    );
    let seqs: Vec<u64> = followed.events.iter().map(|event| event.seq).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "dense, increasing"
    );
    assert_eq!(followed.job.state, JobState::Failed);
    assert_eq!(followed.job.exit_code, Some(7));
    assert_eq!(followed.job.reason.as_deref(), Some("exit code 7"));
    let states: Vec<&str> = followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Status)
        .filter_map(|event| event.data["state"].as_str())
        .collect();
    assert_eq!(states, ["queued", "starting", "running", "failed"]);
    assert!(followed.job.container_id.is_some());
    assert_no_container(&id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn argv_runs_without_a_shell_and_succeeds() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": ["echo", "$HOME", "two words"]}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.stdout(), "$HOME two words\n", "no shell expansion");
    assert_eq!(followed.job.state, JobState::Succeeded);
    assert_eq!(followed.job.exit_code, Some(0));
    assert_eq!(followed.job.reason, None);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_job_past_its_timeout_is_timed_out_and_removed() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": ["sleep", "300"], "limits": {"timeout": "2s"}}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::TimedOut);
    assert_eq!(followed.job.reason.as_deref(), Some("timed out after 2s"));
    assert_no_container(&id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_cancelled_job_is_cancelled_and_removed() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": ["sleep", "300"]})).await;
    server.wait_for_state(&id, JobState::Running).await;
    let (status, body) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert_eq!(status, 200, "{body}");
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Cancelled);
    assert_eq!(followed.job.reason.as_deref(), Some("cancelled by user"));
    assert_no_container(&id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_memory_hog_fails_out_of_memory_and_is_removed() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": ["tail", "/dev/zero"], "limits": {"memory": "32m"}}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    assert_eq!(followed.job.reason.as_deref(), Some("out of memory"));
    assert_no_container(&id).await;
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_child_killed_by_oom_is_a_warning_when_the_job_goes_on() {
    let server = TestServer::start().await;
    let command = "tail /dev/zero; echo survived";
    let id = server
        .create(&json!({"command": command, "limits": {"memory": "32m"}}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.stdout(), "survived\n");
    assert_eq!(
        followed.job.state,
        JobState::Succeeded,
        "{:?}",
        followed.job.reason
    );
    assert!(
        followed
            .events
            .iter()
            .any(|event| event.kind == EventKind::Warning),
        "a warning event: {:?}",
        followed.events
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_missing_image_fails_with_a_reason() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": ["true"], "image": "corral-test/does-not-exist:1"}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    let reason = followed.job.reason.expect("a reason");
    assert!(reason.contains("not found"), "{reason}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_late_reader_resumes_after_its_last_event() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": "echo one; echo two"}))
        .await;
    let all = server.follow(&id).await.events;
    let (status, page) = server.get(&format!("/v1/jobs/{id}/events?after=2")).await;
    assert_eq!(status, 200);
    let seqs: Vec<u64> = page["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|event| event["seq"].as_u64())
        .collect();
    let expected: Vec<u64> = all
        .iter()
        .map(|event| event.seq)
        .filter(|seq| *seq > 2)
        .collect();
    assert_eq!(seqs, expected);
    assert_eq!(server.stop().await, 0);
}

/// A page of events ends at its bytes (4 MiB of data, one event at
/// least) as well as at its limit, and says whether more follow: read on
/// from its last, a reader gets every event once and in order.
#[tokio::test]
async fn a_page_of_large_events_is_cut_at_its_bytes_and_says_more_follow() {
    let server = TestServer::start().await;
    let id = server
        .create(&json!({"command": "head -c 9000000 /dev/zero | tr '\\0' x"}))
        .await;
    let all: Vec<u64> = server
        .follow(&id)
        .await
        .events
        .iter()
        .map(|event| event.seq)
        .collect();
    let mut read = Vec::new();
    let mut pages = 0;
    loop {
        let after = read.last().copied().unwrap_or(0);
        let (status, page) = server
            .get(&format!("/v1/jobs/{id}/events?after={after}&limit=1000"))
            .await;
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().expect("events");
        let bytes: usize = events
            .iter()
            .map(|event| event["data"].to_string().len())
            .sum();
        assert!(
            bytes <= (4 << 20) + (64 << 10),
            "{bytes} bytes in {} events",
            events.len()
        );
        read.extend(events.iter().filter_map(|event| event["seq"].as_u64()));
        pages += 1;
        if page["more"] == json!(false) {
            break;
        }
        assert_eq!(page["more"], json!(true), "{}", page["more"]);
    }
    assert!(pages >= 3, "9 MB of output came in {pages} pages");
    assert_eq!(read, all, "every event once, in order");
    assert_eq!(server.stop().await, 0);
}
