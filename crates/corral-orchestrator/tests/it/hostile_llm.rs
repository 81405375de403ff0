//! A hostile job against its model proxies: claude mode's Anthropic
//! passthrough forwards only `POST /v1/messages` (and `count_tokens`), on
//! the job's model and within its budget; worker mode's proxy rewrites
//! another model and refuses what the provider would run for the job.
//! Every refusal is a 403 and a `warning` event, and the scripted upstream
//! shows what got through with the real key.

mod proxied;

use corral_orchestrator::ProviderKind;
use corral_orchestrator::internals::MAX_WARNINGS;
use corral_proto::worker::ANTHROPIC_PREFIX;
use corral_proto::{Event, EventKind, JobMode};
use corral_testkit::TestServer;
use serde_json::{Value, json};

use crate::claude_mode::{claude_server, of_kind};
use proxied::{ANSWER, Closed, JOB_MODEL, PROVIDER_KEY, SECRET, proxied, warnings};

fn messages_body(model: &str) -> String {
    json!({
        "model": model, "max_tokens": 64000, "stream": false,
        "messages": [{"role": "user", "content": "hello"}],
    })
    .to_string()
}

/// What a hostile job sends past its one allowed call: other endpoints,
/// other spellings of the allowed one, and the allowed one past the budget.
fn refused_requests() -> Vec<(&'static str, String, String)> {
    let at = |rest: &str| format!("{ANTHROPIC_PREFIX}{rest}");
    let post = |rest: &str, model: &str| ("POST", at(rest), messages_body(model));
    vec![
        post("/v1/messages/batches", "claude-opus-4-1"),
        post("/v1/messages/batches?beta=true", JOB_MODEL),
        post("/v1/messages/", JOB_MODEL),
        post("/v1/complete", JOB_MODEL),
        ("GET", at("/v1/models"), String::new()),
        post("//v1/messages", JOB_MODEL),
        post("/v1/./messages", JOB_MODEL),
        post("/../anthropic/v1/messages", JOB_MODEL),
        post("/v1/messages%2Fbatches", JOB_MODEL),
        post("/V1/messages", JOB_MODEL),
        post("/v1/messages?beta=true&x=1", JOB_MODEL),
        ("GET", at("/v1/messages?beta=true"), String::new()),
        post("/api/hello", JOB_MODEL),
        post(&format!("/v1/files/{SECRET}"), JOB_MODEL),
        post("/v1/messages?beta=true", JOB_MODEL),
        post("/v1/messages", "claude-opus-4-1"),
    ]
}

#[tokio::test]
async fn the_passthrough_forwards_one_budgeted_call_on_the_jobs_model_and_refuses_the_rest() {
    let proxied = proxied(JobMode::Claude, ProviderKind::Anthropic, 1).await;
    let key = [format!("x-api-key: {}", proxied.placeholder().await)];
    let headers = [
        key[0].clone(),
        "accept-encoding: gzip, br".into(),
        "x-forwarded-for: 10.0.0.1".into(),
    ];
    let target = format!("{ANTHROPIC_PREFIX}/v1/messages?beta=true");
    let body = messages_body("claude-opus-4-1");
    let (status, answer) = proxied.send("POST", &target, &headers, &body).await;
    assert_eq!(status, 200, "the one allowed call: {answer}");
    let refused = refused_requests();
    for (method, target, body) in &refused {
        let (status, answer) = proxied.send(method, target, &key, body).await;
        assert_eq!(status, 403, "{method} {target}: {answer}");
        assert_eq!(answer["type"], "error", "Anthropic's shape: {answer}");
        assert_eq!(answer["error"]["type"], "permission_error", "{answer}");
    }
    let Closed {
        events,
        usage,
        requests,
        report,
    } = proxied.close().await;
    let failure = report.failure.unwrap_or_default();
    assert!(failure.contains("budget exceeded"), "{failure}");

    assert_eq!(
        requests.len(),
        1,
        "only one call got through: {requests:#?}"
    );
    let call = &requests[0];
    let sent = (call.method.as_str(), call.path.as_str());
    assert_eq!(sent, ("POST", "/v1/messages?beta=true"));
    assert_eq!(call.body["model"], JOB_MODEL, "the job's model");
    assert_eq!(call.body["max_tokens"], 5000, "capped at the token budget");
    let key_sent = call.headers.get("x-api-key").map(String::as_str);
    assert_eq!(key_sent, Some(PROVIDER_KEY));
    // Not the job's `gzip, br`: only an answer sent as is can be searched
    // for the key.
    assert_eq!(
        call.headers.get("accept-encoding").map(String::as_str),
        Some("identity")
    );
    assert_eq!(call.headers.get("x-forwarded-for"), None);

    let warned = warnings(&events);
    assert_eq!(warned.len(), refused.len() + 1, "{warned:#?}");
    let rewrite = &warned[0];
    assert!(rewrite.contains("`claude-opus-4-1`") && rewrite.contains("rewritten"));
    assert!(warned[1].contains("/v1/messages/batches"), "{warned:?}");
    assert!(warned.iter().all(|text| !text.contains(SECRET)));
    let redacted = warned
        .iter()
        .filter(|text| text.contains("[REDACTED:DEPLOY_KEY]"));
    assert_eq!(redacted.count(), 1, "{warned:#?}");
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
    let Closed {
        events,
        usage,
        requests,
        ..
    } = proxied.close().await;
    assert!(requests.is_empty(), "{requests:#?}");
    let warned = warnings(&events);
    assert_eq!(warned.len() as u64, MAX_WARNINGS + 1, "{warned:#?}");
    assert!(
        warned.last().expect("summary").starts_with("15 more"),
        "{warned:?}"
    );
    assert_eq!(usage.llm_calls, 0);
}

/// A header the passthrough forwards that holds a granted secret is
/// refused (403), and nothing is sent upstream: only the body was
/// redacted, and the header went to the model provider as set.
#[tokio::test]
async fn a_passthrough_header_holding_a_secret_is_refused_and_not_sent() {
    let proxied = proxied(JobMode::Claude, ProviderKind::Anthropic, 1).await;
    let headers = [
        format!("x-api-key: {}", proxied.placeholder().await),
        format!("x-stainless-note: {SECRET}"),
    ];
    let target = format!("{ANTHROPIC_PREFIX}/v1/messages");
    let body = messages_body(JOB_MODEL);
    let (status, answer) = proxied.send("POST", &target, &headers, &body).await;
    assert_eq!(status, 403, "{answer}");
    assert!(!answer.to_string().contains(SECRET), "{answer}");
    let Closed { requests, .. } = proxied.close().await;
    assert!(requests.is_empty(), "{requests:#?}");
}

/// A passthrough body of many small objects (a 3 MB list of them, some
/// 400 MB once read as values) is refused from its text, before it is
/// parsed: 403, a warning, and nothing sent upstream.
#[tokio::test]
async fn a_passthrough_body_of_small_values_is_refused_before_it_is_read() {
    let proxied = proxied(JobMode::Claude, ProviderKind::Anthropic, 1).await;
    let key = [format!("x-api-key: {}", proxied.placeholder().await)];
    let target = format!("{ANTHROPIC_PREFIX}/v1/messages");
    let body = json!({
        "model": JOB_MODEL, "max_tokens": 64,
        "messages": [{"role": "user", "content": "hello"}],
        "metadata": {"objects": vec![json!({"": 0}); 450_000]},
    });
    let (status, answer) = proxied.send("POST", &target, &key, &body.to_string()).await;
    assert_eq!(status, 403, "{answer}");
    let Closed {
        events, requests, ..
    } = proxied.close().await;
    assert!(requests.is_empty(), "{requests:#?}");
    let warned = warnings(&events);
    assert!(
        warned
            .iter()
            .any(|text| text.contains("too many small values")),
        "{warned:#?}"
    );
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
    let Closed {
        events,
        usage,
        requests,
        ..
    } = proxied.close().await;
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

#[tokio::test]
async fn a_caller_that_hangs_up_mid_stream_is_charged_the_whole_answer() {
    // The scripted upstream counts four bytes a token.
    let output = ANSWER.len().div_ceil(4) as u64;
    let claude = proxied(JobMode::Claude, ProviderKind::Anthropic, 5).await;
    let key = [format!("x-api-key: {}", claude.placeholder().await)];
    let body = json!({"model": JOB_MODEL, "max_tokens": 100, "stream": true,
        "messages": [{"role": "user", "content": "hello"}]});
    let target = format!("{ANTHROPIC_PREFIX}/v1/messages?beta=true");
    claude
        .hang_up_mid_answer(&target, &key, &body.to_string())
        .await;
    claude.until_counted().await;
    let usage = claude.close().await.usage;
    assert_eq!(usage.output_tokens, output, "{usage:?}");

    let worker = proxied(JobMode::Worker, ProviderKind::Openai, 5).await;
    let body = json!({"messages": [{"role": "user", "content": "hello"}], "stream": true});
    worker
        .hang_up_mid_answer("/v1/llm/chat/completions", &[], &body.to_string())
        .await;
    worker.until_counted().await;
    let usage = worker.close().await.usage;
    assert_eq!(usage.output_tokens, output, "{usage:?}");
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
