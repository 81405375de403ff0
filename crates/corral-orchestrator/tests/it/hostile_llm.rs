//! A hostile job against its model proxies: claude mode's Anthropic
//! passthrough forwards only `POST /v1/messages` (and `count_tokens`), on
//! the job's model and within its budget; worker mode's proxy rewrites
//! another model and refuses what the provider would run for the job.
//! Every refusal is a 403 and a `warning` event, and the scripted upstream
//! shows what got through with the real key.

mod proxied;

use corral_orchestrator::llm::{MAX_WARNINGS, ProviderKind};
use corral_proto::worker::ANTHROPIC_PREFIX;
use corral_proto::{Event, EventKind, JobMode};
use corral_testkit::TestServer;
use serde_json::{Value, json};

use crate::claude_mode::{claude_server, of_kind};
use proxied::{JOB_MODEL, PROVIDER_KEY, SECRET, proxied, warnings};

fn messages_body(model: &str) -> String {
    json!({
        "model": model, "max_tokens": 64000, "stream": false,
        "messages": [{"role": "user", "content": "hello"}],
    })
    .to_string()
}

#[tokio::test]
async fn the_passthrough_forwards_one_budgeted_call_on_the_jobs_model_and_refuses_the_rest() {
    let proxied = proxied(JobMode::Claude, ProviderKind::Anthropic, 1).await;
    let key = [format!("x-api-key: {}", proxied.placeholder().await)];
    let at = |rest: &str| format!("{ANTHROPIC_PREFIX}{rest}");
    let (status, answer) = proxied
        .send(
            "POST",
            &at("/v1/messages?beta=true"),
            &key,
            &messages_body("claude-opus-4-1"),
        )
        .await;
    assert_eq!(status, 200, "the one allowed call: {answer}");
    let refused = [
        (
            "POST",
            at("/v1/messages/batches"),
            messages_body("claude-opus-4-1"),
        ),
        (
            "POST",
            at("/v1/messages/batches?beta=true"),
            messages_body(JOB_MODEL),
        ),
        ("POST", at("/v1/messages/"), messages_body(JOB_MODEL)),
        ("POST", at("/v1/complete"), messages_body(JOB_MODEL)),
        ("GET", at("/v1/models"), String::new()),
        ("POST", at("//v1/messages"), messages_body(JOB_MODEL)),
        ("POST", at("/v1/./messages"), messages_body(JOB_MODEL)),
        (
            "POST",
            at("/../anthropic/v1/messages"),
            messages_body(JOB_MODEL),
        ),
        (
            "POST",
            at("/v1/messages%2Fbatches"),
            messages_body(JOB_MODEL),
        ),
        ("POST", at("/V1/messages"), messages_body(JOB_MODEL)),
        (
            "POST",
            at("/v1/messages?beta=true&x=1"),
            messages_body(JOB_MODEL),
        ),
        ("GET", at("/v1/messages?beta=true"), String::new()),
        ("POST", at("/api/hello"), String::new()),
        ("POST", at(&format!("/v1/files/{SECRET}")), String::new()),
        (
            "POST",
            at("/v1/messages?beta=true"),
            messages_body(JOB_MODEL),
        ),
        ("POST", at("/v1/messages"), messages_body("claude-opus-4-1")),
    ];
    for (method, target, body) in &refused {
        let (status, answer) = proxied.send(method, target, &key, body).await;
        assert_eq!(status, 403, "{method} {target}: {answer}");
        assert_eq!(answer["type"], "error", "Anthropic's shape: {answer}");
        assert_eq!(answer["error"]["type"], "permission_error", "{answer}");
    }
    assert!(
        proxied
            .endpoint
            .failure()
            .is_some_and(|reason| reason.contains("budget exceeded")),
        "a call past the budget fails the job"
    );
    let (events, usage, requests) = proxied.close().await;

    assert_eq!(
        requests.len(),
        1,
        "only the allowed call got through: {requests:#?}"
    );
    let call = &requests[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/v1/messages?beta=true")
    );
    assert_eq!(
        call.body["model"], JOB_MODEL,
        "the job's model, not the one asked for"
    );
    assert_eq!(
        call.body["max_tokens"], 5000,
        "capped at the job's token budget"
    );
    assert_eq!(
        call.headers.get("x-api-key").map(String::as_str),
        Some(PROVIDER_KEY)
    );
    assert_eq!(call.headers.get("accept-encoding"), None);

    let warned = warnings(&events);
    assert_eq!(warned.len(), refused.len() + 1, "{warned:#?}");
    assert!(
        warned[0].contains("`claude-opus-4-1`") && warned[0].contains("rewritten"),
        "{warned:?}"
    );
    assert!(warned[1].contains("/v1/messages/batches"), "{warned:?}");
    assert!(
        warned.iter().all(|text| !text.contains(SECRET)),
        "{warned:#?}"
    );
    assert!(
        warned
            .iter()
            .any(|text| text.contains("[REDACTED:DEPLOY_KEY]")),
        "{warned:#?}"
    );
    let stored = serde_json::to_string(&events).expect("events JSON");
    assert!(!stored.contains(PROVIDER_KEY));

    let counted = of_kinds(&events, EventKind::LlmUsage);
    assert_eq!(counted.len(), 1, "one model call recorded");
    assert_eq!(usage.llm_calls, 1);
    assert_eq!(usage.input_tokens, answer_tokens(&answer, "input_tokens"));
    assert_eq!(usage.output_tokens, answer_tokens(&answer, "output_tokens"));
}

fn of_kinds(events: &[Event], kind: EventKind) -> Vec<&Event> {
    events.iter().filter(|event| event.kind == kind).collect()
}

fn answer_tokens(answer: &Value, field: &str) -> u64 {
    answer["usage"][field].as_u64().expect("the answer's usage")
}

#[tokio::test]
async fn refusals_in_a_loop_store_a_bounded_number_of_warnings() {
    let proxied = proxied(JobMode::Claude, ProviderKind::Anthropic, 1).await;
    let key = [format!("x-api-key: {}", proxied.placeholder().await)];
    let target = format!("{ANTHROPIC_PREFIX}/v1/messages/batches");
    let tries = MAX_WARNINGS + 15;
    for _ in 0..tries {
        let (status, _) = proxied.send("POST", &target, &key, "{}").await;
        assert_eq!(status, 403);
    }
    let (events, usage, requests) = proxied.close().await;
    assert!(requests.is_empty(), "{requests:#?}");
    let warned = warnings(&events);
    assert_eq!(warned.len() as u64, MAX_WARNINGS + 1, "{warned:#?}");
    assert!(
        warned.last().expect("summary").starts_with("15 more"),
        "{warned:?}"
    );
    assert_eq!(usage.llm_calls, 0);
}

#[tokio::test]
async fn a_worker_mode_call_for_another_model_gets_the_jobs_and_a_warning() {
    let proxied = proxied(JobMode::Worker, ProviderKind::Openai, 5).await;
    let chat = "/v1/llm/chat/completions";
    let asked = json!({"model": "gpt-5-pro", "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 1_000_000})
    .to_string();
    let (status, answer) = proxied.send("POST", chat, &[], &asked).await;
    assert_eq!(status, 200, "{answer}");
    let streamed = json!({"messages": [{"role": "user", "content": "hi"}], "stream": true,
        "stream_options": {"include_usage": false}})
    .to_string();
    let (status, _) = proxied.send("POST", chat, &[], &streamed).await;
    assert_eq!(status, 200);
    let refused = [
        ("POST", chat, json!({"messages": [], "n": 8})),
        (
            "POST",
            chat,
            json!({"messages": [], "web_search_options": {}}),
        ),
        (
            "POST",
            chat,
            json!({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]}]}),
        ),
    ];
    for (method, target, body) in &refused {
        let (status, answer) = proxied.send(method, target, &[], &body.to_string()).await;
        assert_eq!(status, 403, "{body}: {answer}");
        assert_eq!(answer["code"], "refused", "{answer}");
    }
    for (method, target) in [
        ("GET", chat),
        ("POST", "/v1/llm/chat/completions/"),
        ("POST", "/v1/llm//chat/completions"),
    ] {
        let (status, _) = proxied.send(method, target, &[], &asked).await;
        assert!(matches!(status, 404 | 405), "{method} {target}: {status}");
    }
    let (events, usage, requests) = proxied.close().await;
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(
        requests
            .iter()
            .all(|request| request.body["model"] == JOB_MODEL)
    );
    assert_eq!(requests[0].body["max_tokens"], 5000, "capped at the budget");
    assert_eq!(requests[1].body["stream_options"]["include_usage"], true);
    let warned = warnings(&events);
    assert_eq!(warned.len(), refused.len() + 1, "{warned:#?}");
    assert!(
        warned[0].contains("`gpt-5-pro`") && warned[0].contains(JOB_MODEL),
        "{warned:?}"
    );
    assert_eq!(usage.llm_calls, 2);
    assert!(
        usage.output_tokens >= 2,
        "both calls counted, the stream too: {usage:?}"
    );
}

/// The real `claude` CLI still works through the allowlist, and what its
/// Bash tool sends past it with the placeholder key never reaches the
/// upstream.
#[tokio::test]
async fn claudes_own_calls_pass_and_its_tools_calls_elsewhere_are_refused() {
    let probe = "for t in /v1/messages/batches /v1/messages/ /v1/complete /v1/models /api/hello; do \
        curl -s -o /dev/null -w \"%{http_code} $t\\n\" -X POST -H \"x-api-key: $ANTHROPIC_API_KEY\" \
        -H 'content-type: application/json' -d '{\"model\":\"other\",\"max_tokens\":9,\"messages\":[]}' \
        \"$ANTHROPIC_BASE_URL$t\"; done";
    let upstream = corral_testkit::Upstream::start(
        ProviderKind::Anthropic,
        &json!({"turns": [
            {"tool_calls": [{"name": "Bash", "arguments": {"command": probe, "description": "probe"}}]},
            {"text": "Probed."}
        ]}),
    )
    .await;
    let server: TestServer = claude_server(&upstream).await;
    let project = corral_testkit::job_project();
    let id = server
        .create(
            &json!({"mode": "claude", "prompt": "probe", "project": project.path(),
            "limits": {"max_llm_calls": 2}}),
        )
        .await;
    let followed = server.follow(&id).await;
    followed.assert_succeeded();
    let probed = of_kind(&followed, EventKind::ToolResult);
    let output = probed
        .iter()
        .filter_map(|result| result["output"].as_str())
        .collect::<String>();
    for target in [
        "/v1/messages/batches",
        "/v1/messages/",
        "/v1/complete",
        "/v1/models",
        "/api/hello",
    ] {
        assert!(
            output.lines().any(|line| line == format!("403 {target}")),
            "{target}: {output}"
        );
    }
    let requests = upstream.server.requests();
    assert_eq!(requests.len(), 2, "claude's two calls only: {requests:#?}");
    for request in &requests {
        assert_eq!(request.path, "/v1/messages?beta=true");
        assert_eq!(request.body["model"], corral_testkit::TEST_MODEL);
    }
    assert_eq!(followed.job.usage.llm_calls, 2);
    let warned = of_kind(&followed, EventKind::Warning);
    assert_eq!(warned.len(), 5, "{warned:#?}");
    assert_eq!(server.stop().await, 0);
}
