//! The Anthropic passthrough of claude mode: the `claude` CLI's requests
//! (through the worker's relay) go to the job's Anthropic upstream as they
//! are, except for the credential: the job's placeholder key is checked and
//! replaced with the real one. Answers stream back byte for byte while their
//! usage is read on the way.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_proto::llm::Usage;
use corral_proto::sse::SseParser;
use futures_util::StreamExt;
use serde_json::Value;
use subtle::ConstantTimeEq;
use tokio::sync::mpsc;

use super::anthropic::{StreamTranslator, error_message, input_tokens};
use super::session::Timing;
use super::upstream::sensitive_header;
use super::{LlmSession, ProviderKind, ProxyError};

/// Request headers never forwarded: hop-by-hop ones, and the credentials
/// the proxy replaces.
const DROPPED: &[&str] = &[
    "host",
    "authorization",
    "x-api-key",
    "content-length",
    "connection",
    "transfer-encoding",
    "keep-alive",
    "proxy-authorization",
];
/// The beta flag the Messages API wants with an OAuth token.
const OAUTH_BETA: &str = "oauth-2025-04-20";

impl LlmSession {
    /// Forwards one request of the `claude` CLI; `path` is what follows the
    /// passthrough prefix (`/v1/messages?beta=true`), `placeholder` the key
    /// this job's `claude` was given.
    pub async fn passthrough(
        self: &Arc<Self>,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
        placeholder: &str,
    ) -> Response {
        let presented = headers
            .get("x-api-key")
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !bool::from(presented.ct_eq(placeholder.as_bytes())) {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(serde_json::json!({"type": "error", "error": {
                    "type": "authentication_error",
                    "message": "this job's placeholder key was not presented",
                }})),
            )
                .into_response();
        }
        if self.provider.kind != ProviderKind::Anthropic {
            return ProxyError::Upstream(format!(
                "model provider `{}` is not an Anthropic one",
                self.provider.name
            ))
            .into_response();
        }
        let is_call =
            method == Method::POST && path.starts_with("/v1/messages?") || path == "/v1/messages";
        if is_call && let Err(refused) = self.charge() {
            return refused.into_response();
        }
        let mut forwarded = HeaderMap::new();
        for (name, value) in headers {
            if !DROPPED.contains(&name.as_str()) {
                forwarded.append(name.clone(), value.clone());
            }
        }
        if let Err(message) = self.add_credential(&mut forwarded) {
            return ProxyError::Upstream(message).into_response();
        }
        let url = format!("{}{path}", self.provider.base_url.trim_end_matches('/'));
        let started = Instant::now();
        let answer = match self
            .upstream
            .send_once(method, &url, &forwarded, body)
            .await
        {
            Ok(answer) => answer,
            Err(error) => {
                let reason = format!("model provider `{}` failed: {error}", self.provider.name);
                return ProxyError::Upstream(reason).into_response();
            }
        };
        let timing = Timing {
            started,
            first_byte: None,
            attempts: 1,
            stream: is_event_stream(answer.headers()),
        };
        self.relay_raw(answer, timing, is_call)
    }

    fn add_credential(&self, headers: &mut HeaderMap) -> Result<(), String> {
        let Some(key) = &self.key else {
            return Ok(());
        };
        if self.provider.oauth {
            sensitive_header(
                headers,
                header::AUTHORIZATION,
                &format!("Bearer {}", key.expose()),
            )?;
            let beta = match headers.get("anthropic-beta").and_then(|v| v.to_str().ok()) {
                Some(list) if list.contains(OAUTH_BETA) => list.to_owned(),
                Some(list) => format!("{list},{OAUTH_BETA}"),
                None => OAUTH_BETA.to_owned(),
            };
            if let Ok(value) = HeaderValue::from_str(&beta) {
                headers.insert(HeaderName::from_static("anthropic-beta"), value);
            }
            Ok(())
        } else {
            sensitive_header(headers, HeaderName::from_static("x-api-key"), key.expose())
        }
    }

    /// Streams the upstream's answer back as it comes, status and headers
    /// included; a model call's usage is recorded when it ends.
    fn relay_raw(
        self: &Arc<Self>,
        answer: reqwest::Response,
        mut timing: Timing,
        is_call: bool,
    ) -> Response {
        let status = answer.status();
        let mut head = HeaderMap::new();
        for (name, value) in answer.headers() {
            if !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "content-encoding"
            ) {
                head.append(name.clone(), value.clone());
            }
        }
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
        let session = Arc::clone(self);
        self.spawn(async move {
            let mut parser = SseParser::default();
            let mut usage = StreamTranslator::new(false);
            let mut whole = Vec::new();
            let mut body = answer.bytes_stream();
            while let Some(piece) = body.next().await {
                let Ok(bytes) = piece else { break };
                timing
                    .first_byte
                    .get_or_insert_with(|| timing.started.elapsed());
                if timing.stream {
                    for message in parser.feed(&bytes) {
                        usage.push(&message);
                    }
                } else if whole.len() < 1 << 20 {
                    whole.extend_from_slice(&bytes);
                }
                if sender.send(Ok(bytes)).await.is_err() {
                    break;
                }
            }
            drop(sender);
            if is_call && !status.is_success() {
                session.set_last_error(format!(
                    "upstream answered {status}: {}",
                    error_message(&whole)
                ));
            }
            if is_call && status.is_success() {
                let counted = if timing.stream {
                    usage.usage()
                } else {
                    whole_usage(&whole)
                };
                session.count(counted);
                session.record(counted, &timing).await;
            }
        });
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|piece| (piece, receiver))
        });
        let mut response = Response::new(Body::from_stream(stream));
        *response.status_mut() = status;
        *response.headers_mut() = head;
        response
    }
}

fn is_event_stream(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"))
}

fn whole_usage(body: &[u8]) -> Usage {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let usage = &value["usage"];
    Usage::new(
        input_tokens(usage),
        usage["output_tokens"].as_u64().unwrap_or(0),
    )
}
