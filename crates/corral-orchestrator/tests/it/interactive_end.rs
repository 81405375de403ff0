//! An interactive job between turns says it waits for a prompt (on the job
//! and as an event), and its user can end it: it finishes as succeeded
//! once the prompts before the end are answered, not cancelled.

use std::time::Duration;

use corral_orchestrator::ProviderKind;
use corral_proto::{EventKind, Job, JobState};
use corral_testkit::reqwest::StatusCode;
use corral_testkit::{TestServer, Upstream};
use serde_json::json;

use crate::worker_mode::server_for;

/// The job once `check` holds for it, polled for up to a minute.
#[expect(clippy::panic, reason = "a test helper fails loudly")]
async fn job_when(server: &TestServer, id: &str, check: impl Fn(&Job) -> bool) -> Job {
    for _ in 0..600 {
        let job = server.job(id).await;
        if check(&job) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("job {id} never got there: {:?}", server.job(id).await);
}

#[tokio::test]
async fn a_waiting_job_says_so_and_its_end_answers_the_last_prompt_then_succeeds() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": "first answer"}, {"text": "second answer"}]}),
    )
    .await;
    let server = server_for(&upstream).await;
    let id = server
        .create(&json!({
            "mode": "worker", "prompt": "opening question", "interactive": true,
            "limits": {"idle_timeout": "2m"},
        }))
        .await;
    let waiting = job_when(&server, &id, |job| job.waiting_since.is_some()).await;
    assert_eq!(waiting.state, JobState::Running);

    // A prompt and the end, sent together: the prompt is answered first.
    let (status, body) = server.prompt(&id, "one more thing").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        server.job(&id).await.waiting_since,
        None,
        "a prompt ends the wait"
    );
    let (status, body) = server.post(&format!("/v1/jobs/{id}/end"), "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = server.post(&format!("/v1/jobs/{id}/end"), "").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "asking twice is asking once: {body}"
    );
    let (status, body) = server.prompt(&id, "and another").await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an ending job takes no prompt: {body}"
    );
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("ending")),
        "{body}"
    );

    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(followed.job.exit_code, Some(0));
    assert_eq!(followed.job.waiting_since, None);
    let texts: Vec<&str> = followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Message)
        .filter_map(|event| event.data["text"].as_str())
        .collect();
    assert_eq!(texts, ["first answer", "one more thing", "second answer"]);
    let phases: Vec<&str> = followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Status)
        .filter_map(|event| event.data["phase"].as_str())
        .collect();
    assert!(phases.contains(&"waiting"), "{phases:?}");
    assert!(phases.contains(&"ending"), "{phases:?}");

    let (status, body) = server.post(&format!("/v1/jobs/{id}/end"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "an ended job: {body}");
    server.stop().await;
}

#[tokio::test]
async fn only_an_interactive_job_can_be_ended() {
    let server = TestServer::start().await;
    let id = server.create(&json!({"command": "sleep 30"})).await;
    let (status, body) = server.post(&format!("/v1/jobs/{id}/end"), "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|text| text.contains("not interactive")),
        "{body}"
    );
    let (status, _) = server.post(&format!("/v1/jobs/{id}/cancel"), "").await;
    assert!(status.is_success());
    server.follow(&id).await;
    server.stop().await;
}
