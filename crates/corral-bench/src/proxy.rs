//! LLM proxy overhead: the same answer called directly and through a
//! job's socket and the orchestrator's proxy, interleaved.
//!
//! The answers (one whole, one streamed) are recorded once from the
//! scripted model, then served by two identical replaying upstreams on
//! loopback, one per leg, each counting the connections it accepts:
//! direct, the bench calls its upstream over TCP; proxied, the bench
//! calls the job's Unix socket and the proxy calls its upstream through
//! the orchestrator's shared HTTP client ([`Upstream`], which pools
//! connections). Two configurations, both legs alike in each:
//!
//! - fresh: a new connection for every call on every hop. The bench
//!   dials anew each call (as the worker does on the socket) and the
//!   upstreams close each connection after one answer, so the proxy's
//!   client must dial too; the counts prove it, or the run fails.
//! - pooled: one kept-alive connection on every hop, counted as well.
//!
//! [`Upstream`]: corral_orchestrator::internals::Upstream

mod caller;
mod endpoint;
mod replay;

use std::time::{Duration, Instant};

use bytes::Bytes;
use corral_orchestrator::internals::{Script, ScriptedServer};
use http_body_util::BodyExt;
use hyper::Response;
use hyper::body::Incoming;
use serde_json::json;
use tokio_util::task::TaskTracker;

use caller::{Caller, Target};
use endpoint::JobSocket;
use replay::{Answer, Replay};

/// Streamed answers timed on each side, per configuration.
pub const STREAM_CALLS: usize = 200;

/// Both configurations.
pub struct ProxyFigures {
    /// Whole answers timed on each side, per configuration.
    pub calls: usize,
    /// Bytes of the whole and the streamed answer.
    pub answer_bytes: (usize, usize),
    pub fresh: Comparison,
    pub pooled: Comparison,
}

/// One configuration: latencies each way, and connections opened.
pub struct Comparison {
    pub direct: Vec<Duration>,
    pub proxied: Vec<Duration>,
    pub direct_first_byte: Vec<Duration>,
    pub proxied_first_byte: Vec<Duration>,
    /// Connections the direct leg's upstream accepted.
    pub direct_upstream: u64,
    /// Connections the proxied leg's upstream accepted (from the proxy).
    pub proxied_upstream: u64,
    /// Connections the bench opened to the job's socket.
    pub socket: u64,
}

pub async fn measure(calls: usize) -> anyhow::Result<ProxyFigures> {
    let (whole, streamed) = record_answers().await?;
    let answer_bytes = (whole.body.len(), streamed.body.len());
    let tasks = TaskTracker::new();
    let direct = Replay::start(whole.clone(), streamed.clone(), &tasks).await?;
    let proxied = Replay::start(whole, streamed, &tasks).await?;
    let dir = tempfile::tempdir()?;
    let socket =
        JobSocket::open(dir.path(), format!("http://{}/v1", proxied.addr()), &tasks).await?;
    let upstreams = (&direct, &proxied);
    let fresh = compare(calls, false, upstreams, &socket).await;
    let pooled = match fresh {
        Ok(_) => compare(calls, true, upstreams, &socket).await,
        Err(_) => Err(anyhow::anyhow!("not measured")),
    };
    socket.close().await;
    direct.stop();
    proxied.stop();
    tasks.close();
    tasks.wait().await;
    let fresh = fresh?;
    for (leg, accepted) in [
        ("direct", fresh.direct_upstream),
        ("proxied", fresh.proxied_upstream),
    ] {
        anyhow::ensure!(
            accepted == (calls + STREAM_CALLS) as u64,
            "fresh connections: the {leg} upstream accepted {accepted} connections for {} calls",
            calls + STREAM_CALLS
        );
    }
    Ok(ProxyFigures {
        calls,
        answer_bytes,
        fresh,
        pooled: pooled?,
    })
}

/// The scripted model's whole and streamed answers to one chat call.
async fn record_answers() -> anyhow::Result<(Answer, Answer)> {
    let script = Script::parse(&json!({"turns": [{"text": "x".repeat(400)}]}).to_string())
        .map_err(|error| anyhow::anyhow!(error))?;
    let scripted = ScriptedServer::start(script).await?;
    let mut caller = Caller::new(Target::Tcp(scripted.addr()), false);
    let mut answers = Vec::new();
    for stream in [false, true] {
        let response = caller
            .call("/v1/chat/completions", None, request(stream))
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "scripted model: {}",
            response.status()
        );
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let body = response.into_body().collect().await?.to_bytes();
        answers.push(Answer { content_type, body });
    }
    let streamed = answers.pop();
    let whole = answers.pop();
    whole
        .zip(streamed)
        .ok_or_else(|| anyhow::anyhow!("no answers recorded"))
}

fn request(stream: bool) -> Bytes {
    Bytes::from(
        json!({"messages": [{"role": "user", "content": "hi"}], "stream": stream}).to_string(),
    )
}

/// `calls` whole and [`STREAM_CALLS`] streamed answers each way,
/// interleaved, every hop on fresh connections or every hop pooled.
async fn compare(
    calls: usize,
    pooled: bool,
    (direct_upstream, proxied_upstream): (&Replay, &Replay),
    socket: &JobSocket,
) -> anyhow::Result<Comparison> {
    direct_upstream.set_keep_alive(pooled);
    proxied_upstream.set_keep_alive(pooled);
    let mut direct = Caller::new(Target::Tcp(direct_upstream.addr()), pooled);
    let mut proxied = Caller::new(Target::Unix(socket.socket.clone()), pooled);
    let (whole, streamed) = (request(false), request(true));
    // One of each first, unmeasured.
    for caller in [&mut direct, &mut proxied] {
        let (path, token) = caller.route(&socket.token);
        timed(
            caller.call(path, token, whole.clone()).await?,
            Instant::now(),
        )
        .await?;
    }
    let before = (
        direct_upstream.connections(),
        proxied_upstream.connections(),
        proxied.opened(),
    );
    let mut comparison = Comparison {
        direct: Vec::with_capacity(calls),
        proxied: Vec::with_capacity(calls),
        direct_first_byte: Vec::with_capacity(STREAM_CALLS),
        proxied_first_byte: Vec::with_capacity(STREAM_CALLS),
        direct_upstream: 0,
        proxied_upstream: 0,
        socket: 0,
    };
    for round in 0..calls + STREAM_CALLS {
        let body = if round < calls { &whole } else { &streamed };
        let mut times = [(Duration::ZERO, Duration::ZERO); 2];
        for (caller, time) in [&mut direct, &mut proxied].into_iter().zip(&mut times) {
            let (path, token) = caller.route(&socket.token);
            let started = Instant::now();
            *time = timed(caller.call(path, token, body.clone()).await?, started).await?;
        }
        let [(direct_whole, direct_first), (proxied_whole, proxied_first)] = times;
        if round < calls {
            comparison.direct.push(direct_whole);
            comparison.proxied.push(proxied_whole);
        } else {
            comparison.direct_first_byte.push(direct_first);
            comparison.proxied_first_byte.push(proxied_first);
        }
    }
    comparison.direct_upstream = direct_upstream.connections() - before.0;
    comparison.proxied_upstream = proxied_upstream.connections() - before.1;
    comparison.socket = proxied.opened() - before.2;
    Ok(comparison)
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
