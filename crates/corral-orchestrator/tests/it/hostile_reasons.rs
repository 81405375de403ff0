//! Text from a job or its upstream passes the job's leak detector before
//! it reaches any sink: a job's reason (a model API's error quoting what it
//! was sent, claude's stderr, a worker's report), and the conversation the
//! proxy sends to the model provider (a tool result holding a granted
//! secret).

use corral_orchestrator::ProviderKind;
use corral_proto::{EventKind, JobState};
use corral_testkit::Upstream;
use serde_json::json;

use crate::worker_mode::server_for;

const SECRET: &str = "quoted-secret-value-0123456789";

/// A worker job whose upstream fails its first call with `message`, the
/// secret `QUOTED` stored; the upstream, the server, the job and its end.
async fn failed_by_upstream(
    message: String,
) -> (
    Upstream,
    corral_testkit::TestServer,
    String,
    corral_testkit::Followed,
) {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": "never"}], "failures": [{"status": 400, "message": message}]}),
    )
    .await;
    let server = server_for(&upstream).await;
    server.put_secret("QUOTED", SECRET).await;
    let id = server
        .create(&json!({"mode": "worker", "prompt": "hi"}))
        .await;
    let followed = server.follow(&id).await;
    (upstream, server, id, followed)
}

#[tokio::test]
async fn a_secret_quoted_by_a_failing_upstream_never_reaches_the_reason() {
    let (_upstream, server, id, followed) =
        failed_by_upstream(format!("invalid request: the key {SECRET} is not allowed")).await;
    assert_eq!(followed.job.state, JobState::Failed);
    let reason = followed.job.reason.clone().expect("a reason");
    assert!(reason.contains("[REDACTED:QUOTED]"), "{reason}");
    let last = followed
        .events
        .iter()
        .rev()
        .find(|event| event.kind == EventKind::Status)
        .expect("final status");
    assert!(
        last.data["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("[REDACTED:QUOTED]")),
        "{last:?}"
    );
    for path in [
        format!("/v1/jobs/{id}"),
        "/v1/jobs".to_owned(),
        format!("/v1/jobs/{id}/events"),
    ] {
        let (_, body) = server.get(&path).await;
        assert!(!body.to_string().contains(SECRET), "{path}: {body}");
    }
    let data_dir = server.data_dir.path().to_owned();
    let kept = tempfile::tempdir().expect("copy");
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(&data_dir)
        .arg(kept.path())
        .status()
        .expect("cp");
    assert!(copied.success());
    assert_eq!(server.stop().await, 0);
    // The database (and its write-ahead log) as the server left it. The
    // secret itself is sealed at rest, so its value appears nowhere.
    corral_testkit::assert_in_no_file(kept.path(), SECRET);
}

/// A secret the upstream quotes where its message was cut (500
/// characters in) leaves nothing of itself in the reason: the message is
/// cut once redacted. Before, its first characters stayed.
#[tokio::test]
async fn a_secret_quoted_across_the_cut_of_an_upstream_message_leaves_nothing() {
    let message = format!("{} {SECRET} and more", "x".repeat(490));
    let (_upstream, server, _, followed) = failed_by_upstream(message).await;
    let reason = followed.job.reason.clone().expect("a reason");
    assert!(!reason.contains(&SECRET[..8]), "{reason}");
    assert!(reason.contains("[REDACTED:QUOTED]"), "{reason}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_granted_secret_a_tool_printed_never_reaches_the_model_provider() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [
            {"tool_calls": [{"name": "shell", "arguments": {"command": "echo \"token is $K\""}}]},
            {"text": "done"},
        ]}),
    )
    .await;
    let server = server_for(&upstream).await;
    server.put_secret("GRANTED", SECRET).await;
    let id = server
        .create(&json!({
            "mode": "worker",
            "prompt": "print the token",
            "grants": [{"secret": "GRANTED", "env": "K"}],
        }))
        .await;
    server.follow(&id).await.assert_succeeded();
    let requests = upstream.server.requests();
    assert_eq!(requests.len(), 2, "the tool call, then its result");
    let second = requests[1].body.to_string();
    assert!(!second.contains(SECRET), "sent to the provider: {second}");
    assert!(second.contains("[REDACTED:GRANTED]"), "{second}");
    assert_eq!(server.stop().await, 0);
}
