//! Worker mode end to end: corral's agent loop in a real container, every
//! model call through the orchestrator's proxy to a scripted upstream over
//! real HTTP on loopback.

use corral_orchestrator::ProviderKind;
use corral_proto::EventKind;
use corral_testkit::reqwest::StatusCode;
use corral_testkit::{Followed, TEST_MODEL, TestServer, Upstream};
use serde_json::{Value, json};

/// A server whose default provider is `upstream`.
pub(crate) async fn server_for(upstream: &Upstream) -> TestServer {
    TestServer::start_with(|config| upstream.register(config)).await
}

fn kinds(followed: &Followed) -> Vec<&'static str> {
    followed
        .events
        .iter()
        .filter(|event| !matches!(event.kind, EventKind::Status | EventKind::Output))
        .map(|event| event.kind.as_str())
        .collect()
}

fn shell_then_write_script() -> Value {
    json!({"turns": [
        {"text": "Let me look around first.", "tool_calls": [
            {"name": "shell", "arguments": {"command": "echo hello from the sandbox; id -u"}}
        ]},
        {"tool_calls": [
            {"name": "write_file", "arguments": {"path": "notes/hello.txt", "content": "written by the agent\n"}}
        ]},
        {"text": "Done: wrote notes/hello.txt."}
    ]})
}

#[tokio::test]
async fn an_agent_runs_its_tools_in_the_sandbox_and_its_file_lands_in_the_project() {
    let upstream = Upstream::start(ProviderKind::Openai, &shell_then_write_script()).await;
    let server = server_for(&upstream).await;
    let project = corral_testkit::job_project();
    let id = server
        .create(&json!({
            "mode": "worker",
            "prompt": "Say hello, then leave a note.",
            "project": project.path(),
        }))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert_eq!(
        std::fs::read_to_string(project.path().join("notes/hello.txt")).expect("the note"),
        "written by the agent\n"
    );
    assert_eq!(
        followed.stdout(),
        "hello from the sandbox\n10001\n",
        "shell output streamed live"
    );
    let result = followed
        .events
        .iter()
        .find(|event| event.kind == EventKind::ToolResult)
        .expect("a tool result");
    assert_eq!(result.data["ok"], true);
    assert!(
        result.data["output"]
            .as_str()
            .expect("output")
            .contains("hello from the sandbox"),
        "{result:?}"
    );
    // Each call's usage is stored before what the worker did with its
    // answer (the proxy holds the worker's events until it is).
    assert_eq!(
        kinds(&followed),
        [
            "llm_usage",
            "message",
            "tool_call",
            "tool_result",
            "llm_usage",
            "tool_call",
            "tool_result",
            "llm_usage",
            "message",
            "result"
        ]
    );
    let usage: Vec<&Value> = followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::LlmUsage)
        .map(|event| &event.data)
        .collect();
    assert_eq!(usage.len(), 3, "one llm_usage per model call");
    assert!(
        usage
            .iter()
            .all(|data| data["model"] == TEST_MODEL && data["stream"] == true)
    );
    assert!(usage[0]["cost_usd"].as_f64().expect("priced") > 0.0);
    assert_eq!(followed.job.usage.llm_calls, 3);
    assert!(followed.job.usage.input_tokens > 0);

    let requests = upstream.server.requests();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(
            request.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {}", upstream.key).as_str()),
            "the upstream sees the real key"
        );
        assert_eq!(
            request.body["model"], TEST_MODEL,
            "the job's model, not the worker's"
        );
        assert_eq!(request.body["stream_options"]["include_usage"], true);
    }
    let second = requests[1].body["messages"].to_string();
    assert!(
        second.contains("hello from the sandbox"),
        "the tool result went back: {second}"
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_anthropic_provider_is_translated_both_ways_streamed_or_not() {
    let upstream = Upstream::start(ProviderKind::Anthropic, &shell_then_write_script()).await;
    let server = server_for(&upstream).await;
    for stream in [true, false] {
        let project = corral_testkit::job_project();
        let id = server
            .create(&json!({
                "mode": "worker",
                "prompt": "Say hello, then leave a note.",
                "project": project.path(),
                "llm": {"stream": stream},
            }))
            .await;
        let followed = server.follow(&id).await;
        followed.assert_succeeded();
        assert!(
            project.path().join("notes/hello.txt").exists(),
            "stream={stream}"
        );
        let answer = followed
            .events
            .iter()
            .rfind(|event| event.kind == EventKind::Message)
            .expect("the final answer");
        assert_eq!(answer.data["text"], "Done: wrote notes/hello.txt.");
        assert_eq!(followed.job.usage.llm_calls, 3, "stream={stream}");
    }
    let requests = upstream.server.requests();
    assert_eq!(requests.len(), 6);
    for request in &requests {
        assert_eq!(request.path, "/v1/messages");
        assert_eq!(request.headers.get("x-api-key"), Some(&upstream.key));
        assert!(request.headers.contains_key("anthropic-version"));
        assert!(
            request.body["system"]
                .as_str()
                .expect("system prompt")
                .contains("sandbox")
        );
        assert_eq!(request.body["model"], TEST_MODEL);
    }
    assert_eq!(requests[0].body["stream"], true);
    assert_eq!(requests[3].body.get("stream"), None);
    let replayed = &requests[1].body["messages"];
    assert_eq!(replayed[1]["content"][1]["type"], "tool_use");
    assert_eq!(replayed[2]["content"][0]["type"], "tool_result");
    assert!(
        replayed[2]["content"][0]["content"]
            .as_str()
            .expect("result text")
            .contains("hello from the sandbox")
    );
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn the_provider_key_is_nowhere_in_the_container_events_or_database() {
    let hunt = "env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; ls -la /run/corral; \
                grep -rs sk-te\"\"st /tmp /workspace /run/corral /home; echo hunted";
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [
            {"tool_calls": [{"name": "shell", "arguments": {"command": hunt}}]},
            {"text": "nothing found"}
        ]}),
    )
    .await;
    let server = server_for(&upstream).await;
    let project = corral_testkit::job_project();
    let id = server
        .create(&json!({"mode": "worker", "prompt": "find the key", "project": project.path()}))
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    assert!(followed.stdout().contains("hunted"), "the hunt ran");
    assert!(
        upstream.server.requests()[0].headers["authorization"].contains(&upstream.key),
        "the key did reach the upstream"
    );
    // The leak detector would mask the key in events, so a leak shows as a
    // redaction: there must be none.
    assert!(
        followed.events.iter().all(|event| !event.redacted),
        "something in the container matched the key: {:?}",
        followed
            .events
            .iter()
            .filter(|event| event.redacted)
            .collect::<Vec<_>>()
    );
    let everything = serde_json::to_string(&followed.events).expect("events JSON");
    assert!(
        !everything.contains(&upstream.key),
        "the key is in an event"
    );
    let secret_hunt_found = everything.contains("sk-test");
    assert!(!secret_hunt_found, "a key-shaped value reached the job");
    corral_testkit::assert_in_no_file(server.data_dir.path(), &upstream.key);
    assert_eq!(server.stop().await, 0);
}

#[tokio::test]
async fn a_follow_up_prompt_continues_the_same_conversation() {
    let upstream = Upstream::start(
        ProviderKind::Openai,
        &json!({"turns": [{"text": "first answer"}, {"text": "second answer"}]}),
    )
    .await;
    let server = server_for(&upstream).await;
    let once = server
        .create(&json!({"mode": "worker", "prompt": "one-shot"}))
        .await;
    let id = server
        .create(&json!({
            "mode": "worker", "prompt": "opening question", "interactive": true,
            // Long enough that the prompt below arrives on a busy machine.
            "limits": {"idle_timeout": "10s"},
        }))
        .await;
    server.wait_for_message(&id, "first answer").await;
    let (status, body) = server.prompt(&id, "and a follow-up").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["seq"], 1);
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let messages: Vec<(&str, &str)> = followed
        .events
        .iter()
        .filter(|event| event.kind == EventKind::Message)
        .map(|event| {
            (
                event.data["role"].as_str().unwrap_or_default(),
                event.data["text"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            ("assistant", "first answer"),
            ("user", "and a follow-up"),
            ("assistant", "second answer")
        ]
    );
    let requests = upstream.server.requests();
    let last = requests
        .iter()
        .rfind(|request| {
            request.body["messages"]
                .to_string()
                .contains("opening question")
        })
        .expect("the follow-up call");
    let conversation = last.body["messages"].to_string();
    assert!(conversation.contains("first answer"), "{conversation}");
    assert!(conversation.contains("and a follow-up"), "{conversation}");

    let ended = server
        .post(
            &format!("/v1/jobs/{id}/prompts"),
            r#"{"prompt": "too late"}"#,
        )
        .await;
    assert_eq!(ended.0, StatusCode::CONFLICT, "{}", ended.1);
    server.follow(&once).await;
    let (status, body) = server
        .post(
            &format!("/v1/jobs/{once}/prompts"),
            r#"{"prompt": "hello?"}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = server
        .post(&format!("/v1/jobs/{id}/prompts"), r#"{"prompt": ""}"#)
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("prompt"))
    );
    let (status, _) = server
        .post("/v1/jobs/j-0000000000000000/prompts", r#"{"prompt": "x"}"#)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(server.stop().await, 0);
}
