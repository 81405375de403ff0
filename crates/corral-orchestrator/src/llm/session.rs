//! One job's model proxy: its provider, key and model (fixed when the job
//! starts, whatever the worker asks for), its budget, and its usage.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_proto::llm::{ChatChunk, ChatRequest, Usage};
use corral_proto::sse::SseParser;
use corral_proto::{ErrorBody, EventKind, Limits, NewEvent};
use futures_util::StreamExt;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, warn};

use super::anthropic::{StreamTranslator, from_messages_response, to_messages_request};
use super::upstream::{Upstream, sensitive_header};
use super::{ANTHROPIC_VERSION, Provider, ProviderKind};
use crate::events::EventLog;
use crate::secrets::SecretValue;

/// Streamed pieces buffered between the upstream and a slow worker.
const STREAM_BUFFER: usize = 64;
/// The most of a whole answer read into memory.
const MAX_ANSWER_BYTES: usize = 32 << 20;

/// Why the proxy did not forward a call, as the worker sees it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    /// The job has no model (exec mode).
    #[error("this job has no model access: only agent modes do")]
    NoModel,
    /// The job used up its calls or tokens.
    #[error("{0}")]
    BudgetExceeded(String),
    /// The upstream failed after its retries.
    #[error("{0}")]
    Upstream(String),
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Self::NoModel => (StatusCode::FORBIDDEN, "no_model_access"),
            Self::BudgetExceeded(_) => (StatusCode::FORBIDDEN, "budget_exceeded"),
            Self::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream_failed"),
        };
        let body = ErrorBody {
            error: self.to_string(),
            field: None,
            code: Some(code.to_owned()),
        };
        (status, Json(body)).into_response()
    }
}

/// What every job's proxy shares.
#[derive(Clone)]
pub struct ProxyContext {
    /// The HTTP client.
    pub upstream: Upstream,
    /// Where `llm_usage` events go.
    pub events: EventLog,
    /// Owns the tasks relaying streamed answers.
    pub tasks: TaskTracker,
}

/// A job's model proxy.
pub struct LlmSession {
    job_id: String,
    pub(super) provider: Provider,
    pub(super) key: Option<SecretValue>,
    model: String,
    pub(super) upstream: Upstream,
    events: EventLog,
    tasks: TaskTracker,
    /// This job's relays and usage records still running.
    pending: TaskTracker,
    /// Cancels them once the job has ended and the grace is over.
    stop: CancellationToken,
    max_calls: u64,
    max_tokens: u64,
    calls: AtomicU64,
    tokens: AtomicU64,
    /// Why the job must fail whatever its worker says: budget or upstream.
    failure: Mutex<Option<String>>,
    /// The last error the upstream answered a model call with.
    last_error: Mutex<Option<String>>,
}

/// What a call took, for its `llm_usage` event.
pub(super) struct Timing {
    pub(super) started: Instant,
    pub(super) first_byte: Option<Duration>,
    pub(super) attempts: u32,
    pub(super) stream: bool,
}

impl LlmSession {
    /// A proxy for `job_id` on `provider`'s `model`, within `limits`;
    /// streamed answers are relayed by tasks on the context's tracker.
    pub fn new(
        job_id: String,
        provider: Provider,
        key: Option<SecretValue>,
        model: String,
        context: ProxyContext,
        limits: &Limits,
    ) -> Self {
        Self {
            job_id,
            provider,
            key,
            model,
            upstream: context.upstream,
            events: context.events,
            tasks: context.tasks,
            pending: TaskTracker::new(),
            stop: CancellationToken::new(),
            max_calls: limits.max_llm_calls,
            max_tokens: limits.max_tokens,
            calls: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            failure: Mutex::new(None),
            last_error: Mutex::new(None),
        }
    }

    /// Why the job must fail, when the proxy decided it must.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The last error the upstream answered a model call with, if any.
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(super) fn set_last_error(&self, error: String) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    /// The key's value, for the job's leak detector.
    pub fn key(&self) -> Option<&SecretValue> {
        self.key.as_ref()
    }

    /// Waits (up to `limit`) for this job's relays and usage records, so
    /// its `llm_usage` events are stored before its final status; then
    /// cancels what is left (an answer nobody will read any more).
    pub async fn settle(&self, limit: Duration) {
        self.pending.close();
        if tokio::time::timeout(limit, self.pending.wait())
            .await
            .is_err()
        {
            warn!(job_id = %self.job_id, "a model call was still streaming when the job ended");
            self.stop.cancel();
            self.pending.wait().await;
        }
    }

    /// Runs `work` on the server's tracker, counted as this job's, until
    /// the job's proxy is stopped.
    pub(super) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(self.pending.track_future(async move {
            tokio::select! {
                () = work => {}
                () = stop.cancelled() => {}
            }
        }));
    }

    fn fail(&self, reason: &str) {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(|| reason.to_owned());
    }

    /// Forwards one chat call and answers it, whole or streamed.
    pub async fn chat(self: &Arc<Self>, mut request: ChatRequest) -> Result<Response, ProxyError> {
        self.charge()?;
        let stream = request.stream;
        let (url, headers, body) = self.upstream_request(&mut request)?;
        let started = Instant::now();
        let (answer, attempts) = match self.upstream.post(&url, &headers, body).await {
            Ok(answer) => answer,
            Err(error) => {
                let reason = format!("model provider `{}` failed: {error}", self.provider.name);
                warn!(job_id = %self.job_id, reason = %reason, "model call failed");
                self.fail(&reason);
                return Err(ProxyError::Upstream(reason));
            }
        };
        let timing = Timing {
            started,
            first_byte: None,
            attempts,
            stream,
        };
        if stream {
            Ok(self.relay_stream(answer, timing))
        } else {
            self.relay_whole(answer, timing).await
        }
    }

    /// Counts a call against the budget, or refuses it.
    pub(super) fn charge(&self) -> Result<(), ProxyError> {
        let used = self.tokens.load(Ordering::SeqCst);
        let refusal = if used >= self.max_tokens {
            Some(format!(
                "budget exceeded: {used} tokens used of {}",
                self.max_tokens
            ))
        } else if self.calls.fetch_add(1, Ordering::SeqCst) >= self.max_calls {
            Some(format!(
                "budget exceeded: all {} model calls used",
                self.max_calls
            ))
        } else {
            None
        };
        match refusal {
            Some(reason) => {
                self.fail(&reason);
                Err(ProxyError::BudgetExceeded(reason))
            }
            None => Ok(()),
        }
    }

    fn upstream_request(
        &self,
        request: &mut ChatRequest,
    ) -> Result<(String, HeaderMap, Bytes), ProxyError> {
        let base = self.provider.base_url.trim_end_matches('/');
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let key = self.key.as_ref().map(SecretValue::expose);
        let (url, body) = match self.provider.kind {
            ProviderKind::Openai => {
                request.model = Some(self.model.clone());
                if request.stream {
                    let options = request
                        .extra
                        .entry("stream_options")
                        .or_insert_with(|| json!({}));
                    if let Some(options) = options.as_object_mut() {
                        options.insert("include_usage".into(), Value::Bool(true));
                    }
                }
                if let Some(key) = key {
                    sensitive_header(
                        &mut headers,
                        header::AUTHORIZATION,
                        &format!("Bearer {key}"),
                    )
                    .map_err(ProxyError::Upstream)?;
                }
                (
                    format!("{base}/chat/completions"),
                    serde_json::to_vec(request),
                )
            }
            ProviderKind::Anthropic => {
                headers.insert(
                    HeaderName::from_static("anthropic-version"),
                    HeaderValue::from_static(ANTHROPIC_VERSION),
                );
                if let Some(key) = key {
                    sensitive_header(&mut headers, HeaderName::from_static("x-api-key"), key)
                        .map_err(ProxyError::Upstream)?;
                }
                let body = to_messages_request(request, &self.model, self.provider.max_tokens);
                (format!("{base}/v1/messages"), serde_json::to_vec(&body))
            }
        };
        let body = body.map_err(|error| ProxyError::Upstream(error.to_string()))?;
        Ok((url, headers, Bytes::from(body)))
    }

    async fn relay_whole(
        self: &Arc<Self>,
        answer: reqwest::Response,
        mut timing: Timing,
    ) -> Result<Response, ProxyError> {
        let bytes = read_capped(answer).await.map_err(|reason| {
            self.fail(&reason);
            ProxyError::Upstream(reason)
        })?;
        timing.first_byte = Some(timing.started.elapsed());
        let parsed: Value = serde_json::from_slice(&bytes).map_err(|error| {
            let reason = format!(
                "model provider `{}` sent bad JSON: {error}",
                self.provider.name
            );
            self.fail(&reason);
            ProxyError::Upstream(reason)
        })?;
        let (usage, body) = match self.provider.kind {
            ProviderKind::Openai => {
                let usage =
                    serde_json::from_value::<Usage>(parsed["usage"].clone()).unwrap_or_default();
                (usage, bytes)
            }
            ProviderKind::Anthropic => {
                let translated = from_messages_response(&parsed);
                let body = serde_json::to_vec(&translated)
                    .map_err(|error| ProxyError::Upstream(error.to_string()))?;
                (translated.usage.unwrap_or_default(), Bytes::from(body))
            }
        };
        // Counted now (the next call is checked against it), stored after
        // the answer is on its way: the store is not in the call's path.
        self.count(usage);
        let session = Arc::clone(self);
        self.spawn(async move { session.record(usage, &timing).await });
        Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
    }

    /// Streams the answer through as it arrives (translated for Anthropic),
    /// reading usage on the way; the call is recorded when the stream ends.
    fn relay_stream(self: &Arc<Self>, answer: reqwest::Response, mut timing: Timing) -> Response {
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(STREAM_BUFFER);
        let session = Arc::clone(self);
        self.spawn(async move {
            let mut parser = SseParser::default();
            let mut translator = (session.provider.kind == ProviderKind::Anthropic)
                .then(|| StreamTranslator::new(true));
            let mut usage = Usage::default();
            let mut body = answer.bytes_stream();
            while let Some(piece) = body.next().await {
                let bytes = match piece {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        let message = format!("the model's stream broke: {error}");
                        let frame =
                            json!({"error": {"type": "upstream_failed", "message": message}});
                        let _ = sender
                            .send(Ok(Bytes::from(format!("data: {frame}\n\n"))))
                            .await;
                        break;
                    }
                };
                timing
                    .first_byte
                    .get_or_insert_with(|| timing.started.elapsed());
                let messages = parser.feed(&bytes);
                let out = match &mut translator {
                    None => {
                        for message in &messages {
                            if let Ok(ChatChunk {
                                usage: Some(counted),
                                ..
                            }) = serde_json::from_str(&message.data)
                            {
                                usage = counted;
                            }
                        }
                        bytes
                    }
                    Some(translator) => Bytes::from(
                        messages
                            .iter()
                            .flat_map(|message| translator.push(message))
                            .collect::<String>(),
                    ),
                };
                if !out.is_empty() && sender.send(Ok(out)).await.is_err() {
                    break; // the worker went away
                }
            }
            if let Some(translator) = &mut translator {
                usage = translator.usage();
                let tail: String = translator.finish().concat();
                if !tail.is_empty() {
                    let _ = sender.send(Ok(Bytes::from(tail))).await;
                }
            }
            drop(sender);
            session.count(usage);
            session.record(usage, &timing).await;
        });
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|piece| (piece, receiver))
        });
        (
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            Body::from_stream(stream),
        )
            .into_response()
    }

    /// Adds a call's tokens to the budget.
    pub(super) fn count(&self, usage: Usage) {
        self.tokens.fetch_add(
            usage.prompt_tokens + usage.completion_tokens,
            Ordering::SeqCst,
        );
    }

    /// Stores a call's `llm_usage` event and adds it to the job's totals.
    pub(super) async fn record(&self, usage: Usage, timing: &Timing) {
        let (input, output) = (usage.prompt_tokens, usage.completion_tokens);
        let cost = self.provider.cost(input, output);
        let mut data = json!({
            "provider": self.provider.name,
            "model": self.model,
            "input_tokens": input,
            "output_tokens": output,
            "latency_ms": timing.started.elapsed().as_millis() as u64,
            "stream": timing.stream,
            "attempts": timing.attempts,
        });
        if let Some(first_byte) = timing.first_byte {
            data["first_byte_ms"] = json!(first_byte.as_millis() as u64);
        }
        if let Some(cost) = cost {
            data["cost_usd"] = json!(cost);
        }
        let store = self.events.store();
        if let Err(error) = store
            .add_llm_usage(&self.job_id, input, output, cost.unwrap_or(0.0))
            .await
        {
            error!(job_id = %self.job_id, error = %error, "cannot record model usage");
        }
        let event = NewEvent::new(EventKind::LlmUsage, data);
        if let Err(error) = self.events.append(&self.job_id, vec![event]).await {
            error!(job_id = %self.job_id, error = %error, "cannot store llm_usage event");
        }
    }
}

async fn read_capped(mut answer: reqwest::Response) -> Result<Bytes, String> {
    let mut body = Vec::new();
    while let Some(piece) = answer
        .chunk()
        .await
        .map_err(|error| format!("the model's answer broke off: {error}"))?
    {
        if body.len() + piece.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the model's answer is over {MAX_ANSWER_BYTES} bytes"
            ));
        }
        body.extend_from_slice(&piece);
    }
    Ok(Bytes::from(body))
}
