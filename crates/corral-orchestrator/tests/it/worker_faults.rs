//! Worker mode when things go wrong: a failing upstream, budgets and the
//! iteration limit, bad tool calls. The agent ends or goes on, never hangs.

use corral_orchestrator::ProviderKind;
use corral_proto::{EventKind, JobState};
use corral_testkit::Upstream;
use serde_json::{Value, json};

use crate::worker_mode::server_for;

#[tokio::test]
async fn an_upstream_500_is_retried_and_a_dead_upstream_fails_the_job_with_its_error() {
    let flaky = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": "fine"}], "failures": [{"status": 500, "message": "hiccup", "times": 1}]}),
    )
    .await;
    let server = server_for(&flaky).await;
    let id = server
        .create(&json!({"mode": "worker", "prompt": "hi"}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let usage = followed
        .events
        .iter()
        .find(|event| event.kind == EventKind::LlmUsage)
        .expect("usage");
    assert_eq!(usage.data["attempts"], 2);
    assert_eq!(flaky.server.requests().len(), 2);
    assert_eq!(server.stop().await, 0);

    let dead = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": "never"}], "failures": [{"status": 500, "message": "upstream exploded"}]}),
    )
    .await;
    let server = server_for(&dead).await;
    let id = server
        .create(&json!({"mode": "worker", "prompt": "hi"}))
        .await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    let reason = followed.job.reason.expect("a reason");
    assert!(reason.contains("upstream exploded"), "{reason}");
    assert!(reason.contains("500"), "{reason}");
    assert_eq!(
        dead.server.requests().len(),
        4,
        "the first try and three retries"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn budgets_and_the_iteration_limit_end_a_looping_agent() {
    let looping = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"tool_calls": [{"name": "shell", "arguments": {"command": "true"}}]}]}),
    )
    .await;
    let server = server_for(&looping).await;
    let calls = server
        .create(&json!({"mode": "worker", "prompt": "loop", "limits": {"max_llm_calls": 2}}))
        .await;
    let tokens = server
        .create(&json!({"mode": "worker", "prompt": "loop", "limits": {"max_tokens": 1}}))
        .await;
    let turns = server
        .create(&json!({"mode": "worker", "prompt": "loop", "limits": {"max_iterations": 3}}))
        .await;
    for id in [&calls, &tokens] {
        let followed = server.follow(id).await;
        assert_eq!(followed.job.state, JobState::Failed);
        let reason = followed.job.reason.clone().expect("reason");
        assert!(reason.starts_with("budget exceeded"), "{reason}");
    }
    assert_eq!(server.job(&calls).await.usage.llm_calls, 2);
    assert_eq!(server.job(&tokens).await.usage.llm_calls, 1);
    let followed = server.follow(&turns).await;
    assert_eq!(followed.job.state, JobState::Failed);
    assert_eq!(followed.job.reason.as_deref(), Some("iteration limit"));
    assert_eq!(followed.job.usage.llm_calls, 3);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn bad_tool_calls_go_back_to_the_model_as_errors_and_the_job_goes_on() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [
            {"tool_calls": [
                {"name": "read_file", "arguments": "{not json"},
                {"name": "teleport", "arguments": {"to": "mars"}},
                {"name": "read_file", "arguments": {"path": "/etc/passwd"}}
            ]},
            {"text": "recovered"}
        ]}),
    )
    .await;
    let server = server_for(&upstream).await;
    let id = server
        .create(&json!({"mode": "worker", "prompt": "try"}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let results: Vec<&Value> = followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::ToolResult)
        .map(|event| &event.data)
        .collect();
    assert_eq!(results.len(), 3);
    assert!(results.iter().all(|result| result["ok"] == false));
    let replay = upstream.server.requests()[1].body["messages"].to_string();
    assert!(
        replay.contains("invalid arguments for `read_file`"),
        "{replay}"
    );
    assert!(replay.contains("unknown tool `teleport`"), "{replay}");
    assert!(replay.contains("outside /workspace and /tmp"), "{replay}");
    assert_eq!(server.stop().await, 0);
}
