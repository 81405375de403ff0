//! LLM proxy overhead: the same scripted upstream called directly over
//! loopback TCP and through a job's socket and proxy, interleaved, one
//! fresh connection a call on both sides (as the worker does).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use corral_orchestrator::events::EventLog;
use corral_orchestrator::llm::scripted::{Script, ScriptedServer};
use corral_orchestrator::llm::{
    LlmSession, Provider, ProviderKey, ProviderKind, ProxyContext, Upstream,
};
use corral_orchestrator::redact::Redactor;
use corral_orchestrator::runtime::JobUser;
use corral_orchestrator::store::{SqliteStore, Store};
use corral_orchestrator::worker_api::{SessionSetup, WorkerEndpoint};
use corral_proto::{Job, JobLlm, JobMode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::task::TaskTracker;

/// Streamed answers timed on each side.
const STREAM_CALLS: usize = 200;

/// Call latencies, direct and proxied.
pub struct ProxyFigures {
    pub calls: usize,
    pub direct: Vec<Duration>,
    pub proxied: Vec<Duration>,
    pub direct_first_byte: Vec<Duration>,
    pub proxied_first_byte: Vec<Duration>,
}

async fn post<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    path: &str,
    token: Option<&str>,
    body: Bytes,
) -> anyhow::Result<Response<Incoming>> {
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    #[expect(
        clippy::disallowed_methods,
        reason = "the connection lives exactly as long as its one response"
    )]
    tokio::spawn(connection);
    let mut request = Request::post(path)
        .header("host", "bench")
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    Ok(sender.send_request(request.body(Full::new(body))?).await?)
}

/// Time to the whole answer, and to its first body byte.
async fn timed(
    response: Response<Incoming>,
    started: Instant,
) -> anyhow::Result<(Duration, Duration)> {
    anyhow::ensure!(
        response.status().is_success(),
        "status {}",
        response.status()
    );
    let mut body = response.into_body();
    let mut first = None;
    while let Some(frame) = body.frame().await {
        frame?;
        first.get_or_insert_with(|| started.elapsed());
    }
    let whole = started.elapsed();
    Ok((whole, first.unwrap_or(whole)))
}

/// A worker job with the bench's model, on the testkit's running job.
fn worker_job() -> Job {
    Job {
        mode: JobMode::Worker,
        command: None,
        prompt: Some("bench".into()),
        llm: Some(JobLlm {
            provider: "bench".into(),
            model: "bench-model".into(),
            stream: true,
        }),
        ..corral_testkit::running_job("j-0000000000bench0")
    }
}

/// The scripted upstream at `base_url` as an OpenAI provider without a key.
fn bench_provider(base_url: String) -> Provider {
    Provider {
        name: "bench".into(),
        kind: ProviderKind::Openai,
        base_url,
        key: ProviderKey::None,
        model: Some("bench-model".into()),
        input_price: None,
        output_price: None,
        max_tokens: 1024,
        oauth: false,
    }
}

pub async fn measure(calls: usize) -> anyhow::Result<ProxyFigures> {
    let script = Script::parse(&json!({"turns": [{"text": "x".repeat(400)}]}).to_string())
        .map_err(|error| anyhow::anyhow!(error))?;
    let upstream = ScriptedServer::start(script).await?;
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SqliteStore::open(&dir.path().join("bench.db"))?);
    let job = worker_job();
    store.insert_job(&job).await?;
    let events = EventLog::new(store.clone());
    let tasks = TaskTracker::new();
    let session = LlmSession::new(
        job.id.clone(),
        bench_provider(upstream.openai_base_url()),
        None,
        "bench-model".into(),
        ProxyContext {
            upstream: Upstream::new(60, 0).map_err(|error| anyhow::anyhow!(error))?,
            events: events.clone(),
            tasks: tasks.clone(),
        },
        &job.limits,
        Arc::new(Redactor::new(std::iter::empty::<(&str, &str)>())),
    );
    let socket_dir = dir.path().join("run");
    let endpoint = WorkerEndpoint::open(
        &socket_dir,
        SessionSetup {
            job: job.clone(),
            user: JobUser::for_project(None),
            credentials: Vec::new(),
            redactor: Arc::new(Redactor::new(std::iter::empty::<(&str, &str)>())),
            events,
            audit: store.clone(),
            max_output_bytes: 1 << 20,
            llm: Some(Arc::new(session)),
            egress: None,
            project: None,
        },
        &tasks,
    )
    .await?;
    endpoint.mark_running();
    let token = std::fs::read_to_string(socket_dir.join("token")).context("token file")?;
    let socket = socket_dir.join("worker.sock");
    let addr = upstream.addr();
    let mut figures = ProxyFigures {
        calls,
        direct: Vec::with_capacity(calls),
        proxied: Vec::with_capacity(calls),
        direct_first_byte: Vec::new(),
        proxied_first_byte: Vec::new(),
    };
    let whole = Bytes::from(json!({"messages": [{"role": "user", "content": "hi"}]}).to_string());
    let streamed = Bytes::from(
        json!({"messages": [{"role": "user", "content": "hi"}], "stream": true}).to_string(),
    );
    for round in 0..calls + STREAM_CALLS {
        let body = if round < calls { &whole } else { &streamed };
        let started = Instant::now();
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        let direct = timed(
            post(tcp, "/v1/chat/completions", None, body.clone()).await?,
            started,
        )
        .await?;
        let started = Instant::now();
        let unix = tokio::net::UnixStream::connect(&socket).await?;
        let proxied = timed(
            post(
                unix,
                "/v1/llm/chat/completions",
                Some(token.trim()),
                body.clone(),
            )
            .await?,
            started,
        )
        .await?;
        if round < calls {
            figures.direct.push(direct.0);
            figures.proxied.push(proxied.0);
        } else {
            figures.direct_first_byte.push(direct.1);
            figures.proxied_first_byte.push(proxied.1);
        }
    }
    endpoint.close().await;
    tasks.close();
    tasks.wait().await;
    drop_quietly(&socket_dir);
    Ok(figures)
}

fn drop_quietly(path: &Path) {
    let _ = std::fs::remove_dir_all(path);
}
