//! Claude mode end to end: the real `claude` CLI (from the pinned npm
//! release, in corral's claude image) in a real container, its model calls
//! through the worker's relay and the orchestrator's passthrough to a
//! scripted Anthropic-compatible upstream on loopback.

use corral_orchestrator::ProviderKind;
use corral_proto::{EventKind, JobState};
use corral_testkit::{Followed, TestServer, Upstream, claude_image};
use serde_json::{Value, json};

pub(crate) async fn claude_server(upstream: &Upstream) -> TestServer {
    let image = claude_image().await;
    TestServer::start_with(|config| {
        upstream.register(config);
        config.claude_image = image;
    })
    .await
}

pub(crate) fn of_kind(followed: &Followed, kind: EventKind) -> Vec<&Value> {
    followed
        .events
        .iter()
        .filter(|event| event.kind == kind)
        .map(|event| &event.data)
        .collect()
}

/// What the assistant said, in order.
pub(crate) fn assistant_said(followed: &Followed) -> Vec<&str> {
    of_kind(followed, EventKind::Message)
        .into_iter()
        .filter(|data| data["role"] == "assistant")
        .filter_map(|data| data["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_text_answer_streams_back_as_events_and_the_upstream_gets_the_real_key() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [{"text": "Hello from the scripted model."}]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let id = server
        .create(&json!({"mode": "claude", "prompt": "say hello"}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let said = assistant_said(&followed);
    assert_eq!(
        said,
        ["Hello from the scripted model."],
        "{:#?}",
        followed.events
    );
    assert!(followed.job.usage.llm_calls >= 1);
    let calls: Vec<_> = upstream
        .server
        .requests()
        .into_iter()
        .filter(|request| request.path.starts_with("/v1/messages"))
        .collect();
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(call.headers.get("x-api-key"), Some(&upstream.key));
    }
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn claudes_bash_tool_writes_into_the_project_and_shows_as_events() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [
            {"text": "Writing the file.", "tool_calls": [{"name": "Bash", "arguments": {
                "command": "echo made-by-claude > /workspace/out.txt && id -u", "description": "write a file"}}]},
            {"text": "Wrote out.txt."}
        ]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let project = corral_testkit::job_project();
    let id = server
        .create(&json!({"mode": "claude", "prompt": "write out.txt", "project": project.path()}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(
        std::fs::read_to_string(project.path().join("out.txt")).expect("out.txt on the host"),
        "made-by-claude\n"
    );
    let calls = of_kind(&followed, EventKind::ToolCall);
    assert_eq!(calls.len(), 1, "{:#?}", followed.events);
    assert_eq!(calls[0]["name"], "Bash");
    let results = of_kind(&followed, EventKind::ToolResult);
    assert_eq!(results[0]["ok"], true, "{results:?}");
    assert!(
        results[0]["output"]
            .as_str()
            .expect("output")
            .contains("10001")
    );
    let result = of_kind(&followed, EventKind::Message)
        .into_iter()
        .find(|data| data["subtype"] == "result")
        .expect("claude's result");
    assert!(
        result["num_turns"].as_u64().expect("turns") >= 2,
        "{result}"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_tool_outside_the_allowlist_does_not_run() {
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [
            {"tool_calls": [{"name": "Bash", "arguments": {"command": "touch /workspace/forbidden"}}]},
            {"text": "I could not run Bash."}
        ]}),
    )
    .await;
    let server = claude_server(&upstream).await;
    let project = corral_testkit::job_project();
    let id = server
        .create(&json!({
            "mode": "claude", "prompt": "try bash", "project": project.path(),
            "claude": {"allowed_tools": ["Read"]},
        }))
        .await;
    let followed = server.follow(&id).await;
    assert!(!project.path().join("forbidden").exists(), "Bash ran");
    let results = of_kind(&followed, EventKind::ToolResult);
    assert!(
        results.iter().any(|result| result["ok"] == false),
        "the refusal is visible: {:#?}",
        followed.events
    );
    let first = &upstream.server.requests()[0];
    let tools: Vec<&str> = first.body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|tool| tool["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(!tools.contains(&"Bash"), "Bash was offered: {tools:?}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_real_key_never_reaches_the_container_and_an_oauth_token_goes_as_bearer() {
    let hunt = "env; for p in /proc/[0-9]*; do cat $p/environ 2>/dev/null | tr '\\0' '\\n'; done; \
                grep -rs sk-te\"\"st /tmp /workspace /home /run/corral; echo hunted";
    let upstream = Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [
            {"tool_calls": [{"name": "Bash", "arguments": {"command": hunt}}]},
            {"text": "nothing found"}
        ]}),
    )
    .await;
    let image = claude_image().await;
    let server = TestServer::start_with(|config| {
        upstream.register(config);
        config.claude_image = image;
        if let Some(provider) = config.llm.providers.get_mut(corral_testkit::TEST_PROVIDER) {
            provider.oauth = true;
        }
    })
    .await;
    let project = corral_testkit::job_project();
    let id = server
        .create(&json!({"mode": "claude", "prompt": "find the key", "project": project.path()}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let hunted = of_kind(&followed, EventKind::ToolResult);
    assert!(
        hunted.iter().any(|result| result["output"]
            .as_str()
            .unwrap_or_default()
            .contains("hunted")),
        "the hunt ran: {:#?}",
        followed.events
    );
    assert!(
        followed.events.iter().all(|event| !event.redacted),
        "a key was masked in an event"
    );
    let everything = serde_json::to_string(&followed.events).expect("events JSON");
    assert!(!everything.contains(&upstream.key));
    assert!(
        everything.contains("corral-placeholder-"),
        "claude saw only its placeholder"
    );
    for request in upstream
        .server
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/messages"))
    {
        assert_eq!(
            request.headers.get("authorization"),
            Some(&format!("Bearer {}", upstream.key)),
            "OAuth tokens go as a bearer"
        );
        assert!(request.headers["anthropic-beta"].contains("oauth-2025-04-20"));
        assert!(
            !request.headers.contains_key("x-api-key"),
            "no placeholder leaks upstream"
        );
    }
    corral_testkit::assert_in_no_file(server.data_dir.path(), &upstream.key);
    assert_eq!(server.stop().await, 0);
}

/// A claude job of `spec` against an Anthropic upstream playing `script`,
/// followed to its end, which must be a failure; the upstream, the
/// server and the reason.
async fn failed_claude_job(script: &Value, spec: &Value) -> (Upstream, TestServer, String) {
    let upstream = Upstream::start(ProviderKind::Anthropic, script).await;
    let server = claude_server(&upstream).await;
    let id = server.create(spec).await;
    let followed = server.follow(&id).await;
    assert_eq!(followed.job.state, JobState::Failed);
    let reason = followed.job.reason.expect("reason");
    (upstream, server, reason)
}

#[tokio::test]
async fn an_upstream_401_fails_the_job_with_the_api_error() {
    let (_upstream, server, reason) = failed_claude_job(
        &json!({"turns": [{"text": "never"}], "failures": [{"status": 401, "message": "invalid x-api-key"}]}),
        &json!({"mode": "claude", "prompt": "hi"}),
    )
    .await;
    assert!(
        reason.contains("401") || reason.contains("invalid x-api-key"),
        "{reason}"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_claude_that_goes_quiet_is_stopped_by_the_watchdog() {
    let (_upstream, server, reason) = failed_claude_job(
        &json!({"turns": [{"text": "too late"}], "piece_delay_ms": 30000}),
        &json!({"mode": "claude", "prompt": "hi", "limits": {"idle_timeout": "3s"}}),
    )
    .await;
    assert!(reason.contains("printed nothing for 3s"), "{reason}");
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn an_upstream_that_keeps_failing_ends_the_job_with_its_error_after_bounded_retries() {
    let (upstream, server, reason) = failed_claude_job(
        &json!({"turns": [{"text": "never"}], "failures": [{"status": 500, "message": "upstream exploded"}]}),
        &json!({"mode": "claude", "prompt": "hi"}),
    )
    .await;
    assert!(
        reason.contains("500") && reason.contains("upstream exploded"),
        "{reason}"
    );
    let calls = upstream
        .server
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/v1/messages"))
        .count();
    assert!(
        (2..=6).contains(&calls),
        "claude retried a bounded number of times: {calls}"
    );
    assert_eq!(server.stop().await, 0);
}
