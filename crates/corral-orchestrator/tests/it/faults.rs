//! Faults the orchestrator must ride out: a worker killed by its own job,
//! an SSE client that drops mid-stream and resumes.

use corral_proto::sse::SseParser;
use corral_proto::{Event, JobState};
use corral_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::json;

#[tokio::test]
async fn a_worker_killed_by_its_job_fails_the_job_with_the_exit_code() {
    let server = TestServer::start().await;
    // The shell's parent is the worker; the job can signal it (same uid).
    let id = server
        .create(&json!({"command": "echo before; kill -9 $PPID; sleep 5"}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    assert_eq!(followed.job.exit_code, Some(137));
    let reason = followed.job.reason.expect("a reason");
    assert!(
        reason.contains("without completing") && reason.contains("137"),
        "{reason}"
    );
    assert_eq!(server.stop().await, 0);
}

/// Reads up to `count` events from the stream (after `last_event_id`), then drops it.
async fn read_events(
    server: &TestServer,
    id: &str,
    last_event_id: Option<u64>,
    count: usize,
) -> Vec<Event> {
    let client = corral_testkit::reqwest::Client::new();
    let mut request = client
        .get(format!("{}/v1/jobs/{id}/events/stream", server.url))
        .bearer_auth(&server.token);
    if let Some(last) = last_event_id {
        request = request.header("last-event-id", last.to_string());
    }
    let mut body = request.send().await.expect("stream opens").bytes_stream();
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    while let Some(chunk) = body.next().await {
        for message in parser.feed(&chunk.expect("chunk")) {
            if message.event == "end" {
                return events;
            }
            events.push(serde_json::from_str(&message.data).expect("event"));
            if events.len() == count {
                return events;
            }
        }
    }
    events
}

#[tokio::test]
async fn a_dropped_stream_resumes_without_gap_or_duplicate() {
    let server = TestServer::start().await;
    let script = "i=1; while [ $i -le 40 ]; do echo line-$i; i=$((i+1)); sleep 0.02; done";
    let id = server.create(&json!({"command": script})).await;
    let first = read_events(&server, &id, None, 5).await;
    assert_eq!(first.len(), 5);
    let last = first.last().expect("an event").seq;
    let rest = read_events(&server, &id, Some(last), usize::MAX).await;
    let seqs: Vec<u64> = first.iter().chain(&rest).map(|event| event.seq).collect();
    let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
    assert_eq!(seqs, expected, "no gap, no duplicate");
    let all = server.follow(&id).await;
    assert_eq!(
        all.events.len(),
        seqs.len(),
        "the resumed stream reached the end"
    );
    assert_eq!(server.stop().await, 0);
}
