//! A hostile job against its model proxies: claude mode's Anthropic
//! passthrough forwards only `POST /v1/messages` (and `count_tokens`), on
//! the job's model and within its budget; worker mode's proxy rewrites
//! another model and refuses what the provider would run for the job.
//! Every refusal is a 403 and a `warning` event, and the scripted upstream
//! shows what got through with the real key.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use corral_orchestrator::events::EventLog;
use corral_orchestrator::llm::scripted::{RecordedRequest, Script, ScriptedServer};
use corral_orchestrator::llm::{
    LlmSession, MAX_WARNINGS, Provider, ProviderKey, ProviderKind, ProxyContext, Upstream,
};
use corral_orchestrator::redact::Redactor;
use corral_orchestrator::runtime::JobUser;
use corral_orchestrator::secrets::SecretValue;
use corral_orchestrator::store::{SqliteStore, Store};
use corral_orchestrator::worker_api::{SessionSetup, WorkerEndpoint};
use corral_proto::worker::{ANTHROPIC_PREFIX, WorkerJob};
use corral_proto::{Event, EventKind, JobLlm, JobMode, JobUsage};
use corral_testkit::TestServer;
use serde_json::{Value, json};
use tokio_util::task::TaskTracker;

use crate::claude_mode::{claude_server, of_kind};

const JOB_MODEL: &str = "job-model-1";
const PROVIDER_KEY: &str = "sk-test-real-provider-key-5e1d";
const SECRET: &str = "deploy-key-31c9a0b7e4";

/// A job's socket served by a real session and model proxy over a real
/// store, its upstream a scripted server on loopback.
struct Proxied {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    job_id: String,
    endpoint: WorkerEndpoint,
    socket: PathBuf,
    token: String,
    upstream: ScriptedServer,
}

async fn proxied(mode: JobMode, kind: ProviderKind, max_llm_calls: u64) -> Proxied {
    let script = json!({"turns": [{"text": "Hello from upstream."}]});
    let upstream = ScriptedServer::start(Script::parse(&script.to_string()).expect("script"))
        .await
        .expect("scripted upstream");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(&dir.path().join("corral.db")).expect("store"));
    let mut job = corral_testkit::running_job("j-000000000000011a");
    job.mode = mode;
    job.command = None;
    job.llm = Some(JobLlm {
        provider: "up".into(),
        model: JOB_MODEL.into(),
        stream: false,
    });
    job.limits.max_llm_calls = max_llm_calls;
    job.limits.max_tokens = 5000;
    store.insert_job(&job).await.expect("insert job");
    let redactor = Arc::new(Redactor::new([
        ("DEPLOY_KEY", SECRET),
        ("model provider key", PROVIDER_KEY),
    ]));
    let events = EventLog::new(store.clone());
    let tasks = TaskTracker::new();
    let base_url = match kind {
        ProviderKind::Anthropic => upstream.anthropic_base_url(),
        ProviderKind::Openai => upstream.openai_base_url(),
    };
    let provider = Provider {
        name: "up".into(),
        kind,
        base_url,
        key: ProviderKey::Value(SecretValue::new(PROVIDER_KEY.into())),
        model: Some(JOB_MODEL.into()),
        input_price: None,
        output_price: None,
        max_tokens: 1024,
        oauth: false,
    };
    let llm = LlmSession::new(
        job.id.clone(),
        provider,
        Some(SecretValue::new(PROVIDER_KEY.into())),
        JOB_MODEL.into(),
        ProxyContext {
            upstream: Upstream::new(30, 0).expect("client"),
            events: events.clone(),
            tasks: tasks.clone(),
        },
        &job.limits,
        Arc::clone(&redactor),
    );
    let socket_dir = dir.path().join("run").join(&job.id);
    let setup = SessionSetup {
        job: job.clone(),
        user: JobUser::for_project(None),
        credentials: vec![("DEPLOY_KEY".into(), SecretValue::new(SECRET.into()))],
        redactor,
        events,
        audit: store.clone(),
        max_output_bytes: 1 << 20,
        llm: Some(Arc::new(llm)),
        egress: None,
    };
    let endpoint = WorkerEndpoint::open(&socket_dir, setup, &tasks)
        .await
        .expect("endpoint opens");
    endpoint.mark_running();
    let token = std::fs::read_to_string(socket_dir.join("token")).expect("token file");
    Proxied {
        _dir: dir,
        store,
        job_id: job.id,
        endpoint,
        socket: socket_dir.join("worker.sock"),
        token,
        upstream,
    }
}

impl Proxied {
    /// Sends `method target` as is (no client normalises it) with the
    /// job's token and `headers`; the status and the body as JSON.
    async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[String],
        body: &str,
    ) -> (u16, Value) {
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {}\r\n",
            self.token
        );
        for header in headers {
            head.push_str(header);
            head.push_str("\r\n");
        }
        let request = format!(
            "{head}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let socket = self.socket.clone();
        let answer = tokio::task::spawn_blocking(move || raw_request(&socket, &request))
            .await
            .expect("request task");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .expect("status line");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn placeholder(&self) -> String {
        let (status, job) = self.send("GET", "/v1/job", &[], "").await;
        assert_eq!(status, 200, "{job}");
        let job: WorkerJob = serde_json::from_value(job).expect("job JSON");
        job.placeholder_key
            .expect("a claude job has a placeholder key")
    }

    /// Ends the job's session and returns its stored events and usage.
    async fn close(self) -> (Vec<Event>, JobUsage, Vec<RecordedRequest>) {
        self.endpoint.close().await;
        let events = self
            .store
            .events_after(&self.job_id, 0, 1000)
            .await
            .expect("events");
        let job = self
            .store
            .get_job(&self.job_id)
            .await
            .expect("job")
            .expect("stored job");
        (events, job.usage, self.upstream.requests())
    }
}

fn raw_request(socket: &Path, request: &str) -> String {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    answer
}

/// The body of a chunked answer.
fn dechunk(mut rest: &str) -> String {
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    body
}

fn warnings(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|event| event.kind == EventKind::Warning)
        .map(|event| {
            event.data["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

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
