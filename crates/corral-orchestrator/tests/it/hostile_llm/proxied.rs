//! The harness: a job's socket served by a real worker session and model
//! proxy over a real store, its upstream a scripted server on loopback,
//! and raw HTTP on the socket so no client normalises a hostile target.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use corral_orchestrator::internals::EventLog;
use corral_orchestrator::internals::Redactor;
use corral_orchestrator::internals::SecretValue;
use corral_orchestrator::internals::{EventRecords, JobRecords, SqliteStore};
use corral_orchestrator::internals::{JobProvisions, WorkerEndpoint};
use corral_orchestrator::internals::{ModelProxy, ProxyContext, Upstream};
use corral_orchestrator::internals::{RecordedRequest, Script, ScriptedServer};
use corral_orchestrator::{Provider, ProviderKey, ProviderKind};
use corral_proto::worker::WorkerJob;
use corral_proto::{Event, EventKind, JobLlm, JobMode, JobUsage};
use serde_json::{Value, json};
use tokio_util::task::TaskTracker;

pub(super) const JOB_MODEL: &str = "job-model-1";
pub(super) const PROVIDER_KEY: &str = "sk-test-real-provider-key-5e1d";
/// What the upstream answers: streamed in several pieces, slowly enough
/// that a caller can hang up in the middle.
pub(super) const ANSWER: &str = "Hello from upstream, in several streamed pieces. \
    Hello from upstream, in several streamed pieces. Hello from upstream.";
pub(super) const SECRET: &str = "deploy-key-31c9a0b7e4";

/// A job's socket served by a real session and model proxy over a real
/// store, its upstream a scripted server on loopback.
pub(super) struct Proxied {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    job_id: String,
    pub(super) endpoint: WorkerEndpoint,
    socket: PathBuf,
    token: String,
    upstream: ScriptedServer,
}

pub(super) async fn proxied(mode: JobMode, kind: ProviderKind, max_llm_calls: u64) -> Proxied {
    let script = json!({"turns": [{"text": ANSWER}], "piece_delay_ms": 40});
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
    let llm = ModelProxy::new(
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
    )
    .expect("proxy");
    let socket_dir = dir.path().join("run").join(&job.id);
    let setup = JobProvisions {
        credentials: vec![("DEPLOY_KEY".into(), SecretValue::new(SECRET.into()))],
        redactor,
        events,
        llm: Some(Arc::new(llm)),
        ..corral_testkit::provisions(&store, &job, Redactor::default())
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
    /// `method target` with the job's token, `headers` and `body`, as is:
    /// no client normalises it.
    fn request(&self, method: &str, target: &str, headers: &[String], body: &str) -> String {
        let token = &self.token;
        let headers: String = headers
            .iter()
            .flat_map(|header| [header.as_str(), "\r\n"])
            .collect();
        let length = body.len();
        format!(
            "{method} {target} HTTP/1.1\r\nHost: corral\r\nAuthorization: Bearer {token}\r\n\
             {headers}Content-Type: application/json\r\nConnection: close\r\n\
             Content-Length: {length}\r\n\r\n{body}"
        )
    }

    /// Sends a request; the status and the body as JSON.
    pub(super) async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[String],
        body: &str,
    ) -> (u16, Value) {
        let request = self.request(method, target, headers, body);
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

    /// Sends a request and hangs up once the answer has begun.
    pub(super) async fn hang_up_mid_answer(&self, target: &str, headers: &[String], body: &str) {
        let request = self.request("POST", target, headers, body);
        let socket = self.socket.clone();
        tokio::task::spawn_blocking(move || {
            let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
            stream.write_all(request.as_bytes()).expect("send");
            let mut first = [0; 64];
            let read = stream.read(&mut first).expect("the answer begins");
            assert!(first[..read].starts_with(b"HTTP/1.1 200"), "{first:?}");
        })
        .await
        .expect("request task");
    }

    /// Waits until the job has an `llm_usage` event: its call is counted.
    pub(super) async fn until_counted(&self) {
        let counted = corral_testkit::eventually(|| async {
            let events = self
                .store
                .events_after(&self.job_id, 0, 1000)
                .await
                .expect("events");
            events.iter().any(|event| event.kind == EventKind::LlmUsage)
        })
        .await;
        assert!(counted, "the call was never counted");
    }

    pub(super) async fn placeholder(&self) -> String {
        let (status, job) = self.send("GET", "/v1/job", &[], "").await;
        assert_eq!(status, 200, "{job}");
        let job: WorkerJob = serde_json::from_value(job).expect("job JSON");
        job.placeholder_key
            .expect("a claude job has a placeholder key")
    }

    /// Ends the job's session and returns its stored events and usage.
    pub(super) async fn close(self) -> Closed {
        let report = self.endpoint.close().await;
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
        Closed {
            events,
            usage: job.usage,
            requests: self.upstream.requests(),
            report,
        }
    }
}

/// What a closed session left: its stored events and usage, the requests
/// the upstream saw, and the endpoint's report.
pub(super) struct Closed {
    pub(super) events: Vec<Event>,
    pub(super) usage: JobUsage,
    pub(super) requests: Vec<RecordedRequest>,
    pub(super) report: corral_orchestrator::internals::WorkerReport,
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

pub(super) fn warnings(events: &[Event]) -> Vec<String> {
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
