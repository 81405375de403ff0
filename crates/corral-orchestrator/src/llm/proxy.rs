//! One job's model proxy: its provider, key and model (fixed when the job
//! starts, whatever the worker asks for), its budget, and its usage. A
//! chat call is screened first (`screen`): another model is rewritten to
//! the job's, anything else off the list is refused with a 403, and both
//! leave a `warning` event.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_proto::llm::ChatRequest;
use corral_proto::{ErrorBody, JobUsage, Limits};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::warn;

use super::anthropic::to_messages_request;
use super::order::{USAGE_WAIT, UsageOrder};
use super::screen::{Refusal, screen_chat};
use super::upstream::{Upstream, sensitive_header};
use super::{ANTHROPIC_VERSION, Provider, ProviderKind};
use crate::events::EventLog;
use crate::redact::Redactor;
use crate::secrets::SecretValue;

/// Why the proxy did not forward a call, as the worker sees it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProxyError {
    /// The job has no model (exec mode).
    #[error("this job has no model access: only agent modes do")]
    NoModel,
    /// The job used up its calls or tokens.
    #[error("{0}")]
    BudgetExceeded(String),
    /// The request asks for something the job may not have.
    #[error("{0}")]
    Refused(#[from] Refusal),
    /// The upstream failed after its retries.
    #[error("{0}")]
    Upstream(String),
}

impl IntoResponse for ProxyError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Self::NoModel => (StatusCode::FORBIDDEN, "no_model_access"),
            Self::BudgetExceeded(_) => (StatusCode::FORBIDDEN, "budget_exceeded"),
            Self::Refused(_) => (StatusCode::FORBIDDEN, "refused"),
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
pub struct ModelProxy {
    pub(super) job_id: String,
    pub(super) provider: Provider,
    pub(super) key: Option<SecretValue>,
    pub(super) model: String,
    pub(super) upstream: Upstream,
    pub(super) events: EventLog,
    pub(super) tasks: TaskTracker,
    /// This job's relays and usage records still running.
    pub(super) pending: TaskTracker,
    /// Cancels them once the job has ended and the grace is over.
    pub(super) stop: CancellationToken,
    /// Usages read and not yet stored, which the worker's events wait for.
    pub(super) order: UsageOrder,
    pub(super) max_calls: u64,
    pub(super) max_tokens: u64,
    pub(super) calls: AtomicU64,
    pub(super) tokens: AtomicU64,
    /// `count_tokens` requests forwarded (claude mode): as many as calls.
    pub(super) token_counts: AtomicU64,
    /// Warnings of this job's proxy so far, stored or only counted.
    pub(super) warnings: AtomicU64,
    /// Answers that held the key so far (`echo`), counted apart.
    pub(super) echoes: AtomicU64,
    /// The job's leak detector, for the job's text quoted in warnings.
    pub(super) redactor: Arc<Redactor>,
    /// The search for the key in answers (`echo`).
    pub(super) key_search: Option<Arc<crate::egress::scrub::Scrubber>>,
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

impl ModelProxy {
    /// A proxy for `job_id` on `provider`'s `model`, within `limits`;
    /// streamed answers are relayed by tasks on the context's tracker, and
    /// warnings pass the job's `redactor`. Fails when the search for the
    /// key in answers cannot be built.
    pub fn new(
        job_id: String,
        provider: Provider,
        key: Option<SecretValue>,
        model: String,
        context: ProxyContext,
        limits: &Limits,
        redactor: Arc<Redactor>,
    ) -> Result<Self, String> {
        let key_search = Self::key_search(key.as_ref())?;
        Ok(Self {
            job_id,
            provider,
            key,
            model,
            upstream: context.upstream,
            events: context.events,
            tasks: context.tasks,
            pending: TaskTracker::new(),
            stop: CancellationToken::new(),
            order: UsageOrder::default(),
            max_calls: limits.max_llm_calls,
            max_tokens: limits.max_tokens,
            calls: AtomicU64::new(0),
            tokens: AtomicU64::new(0),
            token_counts: AtomicU64::new(0),
            warnings: AtomicU64::new(0),
            echoes: AtomicU64::new(0),
            redactor,
            key_search,
            failure: Mutex::new(None),
            last_error: Mutex::new(None),
        })
    }

    /// The proxy of a job that already used `usage` (stored before an
    /// orchestrator restart): its budget counts on from there, so a restart
    /// does not hand a re-adopted job its budget again.
    #[must_use]
    pub fn resuming(self, usage: &JobUsage) -> Self {
        self.calls.store(usage.llm_calls, Ordering::SeqCst);
        self.tokens.store(
            usage.input_tokens.saturating_add(usage.output_tokens),
            Ordering::SeqCst,
        );
        self
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
        let (error, _) = self.text_without_key(error);
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(error);
    }

    /// The key's value, for the job's leak detector.
    pub fn key(&self) -> Option<&SecretValue> {
        self.key.as_ref()
    }

    /// Waits (up to [`USAGE_WAIT`]) until every model call whose answer
    /// the worker may have read has its usage stored: the worker's events
    /// wait for it, so a call's `llm_usage` comes before what it produced.
    pub async fn usage_stored(&self) {
        if !self.order.stored(USAGE_WAIT).await && self.order.first_late() {
            warn!(job_id = %self.job_id, "a model call's usage was not stored in time: the worker's events go first");
        }
    }

    /// Waits (up to `limit`) for this job's relays and usage records, so
    /// its `llm_usage` events are stored before its final status; then
    /// cancels what is left (an answer nobody will read any more), and
    /// reports the warnings that were only counted.
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
        self.report_unshown_warnings().await;
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

    pub(super) fn fail(&self, reason: &str) {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(|| reason.to_owned());
    }

    /// Forwards one chat call and answers it, whole or streamed.
    pub async fn chat(self: &Arc<Self>, mut request: ChatRequest) -> Result<Response, ProxyError> {
        let screened = screen_chat(&mut request, &self.model, self.remaining_tokens())
            .map_err(ProxyError::from)
            .and_then(|screened| self.charge().map(|()| screened));
        match screened {
            Ok(screened) => {
                if let Some(asked) = screened.rewritten_model {
                    self.warn(&self.rewritten(&asked)).await;
                }
            }
            Err(refused) => {
                self.warn(&format!("a model call was refused: {refused}"))
                    .await;
                return Err(refused);
            }
        }
        let stream = request.stream;
        let (url, headers, body) = self.upstream_request(&mut request)?;
        let started = Instant::now();
        let (answer, attempts) = match self.upstream.post(&url, &headers, body).await {
            Ok(answer) => answer,
            Err(error) => {
                // The account may quote the upstream: it reaches the job's
                // reason through its leak detector, never the log; and the
                // worker without the key.
                let reason = self.failure_without_key(&error).await;
                warn!(job_id = %self.job_id, provider = %self.provider.name, "model call failed");
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

    /// Tokens the job may still use.
    pub(super) fn remaining_tokens(&self) -> u64 {
        self.max_tokens
            .saturating_sub(self.tokens.load(Ordering::SeqCst))
    }

    /// The warning for a request that named `asked`, not the job's model.
    pub(super) fn rewritten(&self, asked: &str) -> String {
        format!(
            "a model request named model `{asked}`; it was rewritten to this job's model `{}`",
            self.model
        )
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

    /// `body` as JSON with every secret the job's leak detector knows
    /// replaced in its strings: a granted secret a tool printed goes back
    /// to the model in the tool's result, and must not reach the provider.
    pub(super) fn redacted_body<T: serde::Serialize>(
        &self,
        body: &T,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let mut value = serde_json::to_value(body)?;
        let mut findings = crate::redact::Findings::default();
        self.redactor.redact_json(&mut value, &mut findings);
        serde_json::to_vec(&value)
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
                // The usage the budget counts: asked for, whatever the job set.
                if request.stream {
                    request
                        .extra
                        .insert("stream_options".into(), json!({"include_usage": true}));
                } else {
                    request.extra.remove("stream_options");
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
                    self.redacted_body(request),
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
                let cap = self.provider.max_tokens.min(self.remaining_tokens().max(1));
                let body = to_messages_request(request, &self.model, cap);
                (format!("{base}/v1/messages"), self.redacted_body(&body))
            }
        };
        let body = body.map_err(|error| ProxyError::Upstream(error.to_string()))?;
        Ok((url, headers, Bytes::from(body)))
    }
}

#[cfg(test)]
mod tests;
