//! The Anthropic passthrough of claude mode: the `claude` CLI's requests
//! (through the worker's relay) go to the job's Anthropic upstream with the
//! real credential in place of the job's placeholder key, but only what
//! the CLI needs: an allow-listed endpoint (`endpoint`), a screened body
//! on the job's model (`screen`), within the job's budget, and a short
//! list of headers. Anything else is a 403 in Anthropic's error shape and
//! a `warning` event. Answers stream back byte for byte while their usage
//! is read on the way, the provider's key blanked wherever they quote it
//! (`echo`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_proto::llm::Usage;
use corral_proto::sse::SseParser;
use futures_util::StreamExt;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tokio::sync::mpsc;

use super::anthropic::{StreamTranslator, error_message, input_tokens};
use super::endpoint::Endpoint;
use super::order::{closes_answer, ends_answer};
use super::proxy::Timing;
use super::screen::{Refusal, screen_messages};
use super::upstream::sensitive_header;
use super::{ModelProxy, ProviderKind};
use crate::http::weight::Refused;

/// Request headers forwarded: what the Messages API reads, and the SDK's
/// own (`x-stainless-*`). Never an encoding the relay could not read the
/// usage of, nor anything that names the caller.
const FORWARDED: &[&str] = &[
    "accept",
    "anthropic-beta",
    "anthropic-version",
    "user-agent",
    "x-app",
    "x-claude-code-session-id",
];
/// The SDK's telemetry headers, forwarded by prefix.
const FORWARDED_PREFIX: &str = "x-stainless-";
/// The beta flag the Messages API wants with an OAuth token.
const OAUTH_BETA: &str = "oauth-2025-04-20";
/// The most of a whole answer kept to read its usage from.
const MAX_USAGE_BYTES: usize = 8 << 20;

/// A request that passed the checks, ready to forward.
struct Admitted {
    endpoint: Endpoint,
    body: Bytes,
    /// The `max_tokens` it carries, for an answer whose usage is unreadable.
    max_tokens: u64,
}

/// Whether the header `name` (lowercase) of a `claude` request goes on to
/// the model provider.
fn is_forwarded(name: &str) -> bool {
    FORWARDED.contains(&name) || name.starts_with(FORWARDED_PREFIX)
}

impl ModelProxy {
    /// Forwards one request of the `claude` CLI; `target` is the path and
    /// query after the passthrough prefix, as sent (`/v1/messages?beta=true`),
    /// `weighed` what its body weighs or why it is refused (read once by
    /// the caller, which takes that weight from the job's budget: see
    /// `http::weight`), `placeholder` the key this job's `claude` was given.
    pub async fn passthrough(
        self: &Arc<Self>,
        method: Method,
        target: &str,
        headers: &HeaderMap,
        body: Bytes,
        weighed: Result<usize, Refused>,
        placeholder: &str,
    ) -> Response {
        let presented = headers
            .get("x-api-key")
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !bool::from(presented.ct_eq(placeholder.as_bytes())) {
            return anthropic_error(
                StatusCode::UNAUTHORIZED,
                "authentication_error",
                "this job's placeholder key was not presented",
            );
        }
        if self.provider.kind != ProviderKind::Anthropic {
            let message = format!(
                "model provider `{}` is not an Anthropic one",
                self.provider.name
            );
            return anthropic_error(StatusCode::BAD_GATEWAY, "api_error", &message);
        }
        let admitted = match self.admit(&method, target, &body, weighed).await {
            Ok(admitted) => admitted,
            Err(refused) => return refused,
        };
        // The job sets the headers forwarded: one holding a secret is
        // refused, never sent (only the body is redacted).
        if let Some(name) = self.header_with_secret(headers) {
            let message = format!("the `{name}` header holds a secret: the call is not sent");
            return anthropic_error(StatusCode::FORBIDDEN, "permission_error", &message);
        }
        let forwarded = match self.forwarded_headers(headers) {
            Ok(forwarded) => forwarded,
            Err(message) => {
                return anthropic_error(StatusCode::BAD_GATEWAY, "api_error", &message);
            }
        };
        let url = format!(
            "{}{}",
            self.provider.base_url.trim_end_matches('/'),
            admitted.endpoint.upstream_target()
        );
        let started = Instant::now();
        let answer = match self
            .upstream
            .send_once(Method::POST, &url, &forwarded, admitted.body.clone())
            .await
        {
            Ok(answer) => answer,
            Err(error) => {
                let reason = self.failure_without_key(&error).await;
                return anthropic_error(StatusCode::BAD_GATEWAY, "api_error", &reason);
            }
        };
        let timing = Timing {
            started,
            first_byte: None,
            attempts: 1,
            stream: is_event_stream(answer.headers()),
        };
        self.relay_raw(answer, timing, &admitted)
    }

    /// Checks the endpoint and body, rewrites the model and charges the
    /// budget; a refusal is answered, and warned about, here.
    async fn admit(
        &self,
        method: &Method,
        target: &str,
        body: &[u8],
        weighed: Result<usize, Refused>,
    ) -> Result<Admitted, Response> {
        let screened = Endpoint::parse(method, target)
            .map_err(Refusal::from)
            .and_then(|endpoint| {
                weighed?;
                let mut value: Value =
                    serde_json::from_slice(body).map_err(|_| Refusal::NotAnObject)?;
                let screened =
                    screen_messages(&mut value, endpoint, &self.model, self.remaining_tokens())?;
                Ok((endpoint, value, screened))
            });
        let (endpoint, value, screened) = match screened {
            Ok(screened) => screened,
            Err(refusal) => return Err(self.refuse(&refusal.to_string()).await),
        };
        let charged = if endpoint.is_model_call() {
            self.charge().map_err(|refused| refused.to_string())
        } else {
            self.charge_token_count()
        };
        if let Err(reason) = charged {
            return Err(self.refuse(&reason).await);
        }
        if let Some(asked) = screened.rewritten_model {
            self.warn(&self.rewritten(&asked)).await;
        }
        let body = self.redacted_body(&value).map_err(|error| {
            anthropic_error(StatusCode::BAD_GATEWAY, "api_error", &error.to_string())
        })?;
        Ok(Admitted {
            endpoint,
            body: Bytes::from(body),
            max_tokens: value["max_tokens"].as_u64().unwrap_or(0),
        })
    }

    /// A 403 in Anthropic's shape, with its `warning` event.
    async fn refuse(&self, reason: &str) -> Response {
        self.warn(&format!("a model request was refused: {reason}"))
            .await;
        anthropic_error(StatusCode::FORBIDDEN, "permission_error", reason)
    }

    /// Counts a `count_tokens` request: a job may make as many as it may
    /// make model calls. Refusing one does not fail the job (the CLI does
    /// without a count).
    fn charge_token_count(&self) -> Result<(), String> {
        if self.token_counts.fetch_add(1, Ordering::SeqCst) >= self.max_calls {
            return Err(format!(
                "budget exceeded: all {} token counts used",
                self.max_calls
            ));
        }
        Ok(())
    }

    /// The name of an allow-listed header of the request whose value holds
    /// one of the job's secrets.
    fn header_with_secret<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        headers.iter().find_map(|(name, value)| {
            let name = name.as_str();
            let text = String::from_utf8_lossy(value.as_bytes());
            (is_forwarded(name) && self.redactor.finds(&text)).then_some(name)
        })
    }

    /// The allow-listed headers of the request, with the real credential.
    fn forwarded_headers(&self, headers: &HeaderMap) -> Result<HeaderMap, String> {
        let mut forwarded = HeaderMap::new();
        for (name, value) in headers {
            if is_forwarded(name.as_str()) {
                forwarded.append(name.clone(), value.clone());
            }
        }
        forwarded.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.add_credential(&mut forwarded)?;
        Ok(forwarded)
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
    /// included; a model call's usage is recorded when it ends, held
    /// (`order`) from before the caller can have read its end. A caller
    /// that goes away does not end the call: the answer is read to its end
    /// so its usage is counted all the same.
    fn relay_raw(
        self: &Arc<Self>,
        answer: reqwest::Response,
        mut timing: Timing,
        admitted: &Admitted,
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
        let (head, in_head) = self.headers_without_key(head);
        let is_call = admitted.endpoint.is_model_call();
        let estimate = estimate(admitted);
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
        let session = Arc::clone(self);
        self.spawn(async move {
            let mut parser = SseParser::default();
            let mut usage = StreamTranslator::new(false);
            let mut whole = Vec::new();
            let mut overflowed = false;
            let mut body = answer.bytes_stream();
            let mut reader = Some(sender);
            let mut scrub = session.key_scrub();
            scrub.found = in_head;
            // Only a successful call is recorded; a whole answer may end
            // with any piece.
            let recorded = is_call && status.is_success();
            let mut unstored = (recorded && !timing.stream).then(|| session.order.hold());
            while let Some(piece) = body.next().await {
                let Ok(bytes) = piece else { break };
                timing
                    .first_byte
                    .get_or_insert_with(|| timing.started.elapsed());
                let mut closed = false;
                if timing.stream {
                    for message in parser.feed(&bytes) {
                        if recorded && unstored.is_none() && ends_answer(&message) {
                            unstored = Some(session.order.hold());
                        }
                        closed |= closes_answer(&message);
                        usage.push(&message);
                    }
                } else if !overflowed && whole.len() + bytes.len() <= MAX_USAGE_BYTES {
                    whole.extend_from_slice(&bytes);
                } else {
                    overflowed = true;
                    whole.clear();
                }
                let out = scrub.push(bytes);
                if let Some(sender) = &reader
                    && !out.is_empty()
                    && sender.send(Ok(out)).await.is_err()
                {
                    reader = None;
                }
                // Nothing comes after `message_stop`: the usage is stored
                // then, and the rest only drained.
                if closed {
                    break;
                }
            }
            if recorded {
                unstored.get_or_insert_with(|| session.order.hold());
            }
            let tail = scrub.finish();
            if let Some(sender) = &reader
                && !tail.is_empty()
            {
                let _ = sender.send(Ok(tail)).await;
            }
            drop(reader);
            if is_call && !status.is_success() {
                session.set_last_error(format!(
                    "upstream answered {status}: {}",
                    error_message(&whole)
                ));
            }
            if recorded {
                let read = if timing.stream {
                    Some(usage.usage()).filter(|usage| *usage != Usage::default())
                } else {
                    whole_usage(&whole).filter(|_| !overflowed)
                };
                let counted = read.unwrap_or(estimate);
                session.count(counted);
                session.record(counted, &timing).await;
            }
            drop(unstored);
            session.report_echo(scrub.found).await;
            super::relay::drain(body).await;
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

/// What a successful call whose usage cannot be read is counted as: its
/// request at four bytes a token, and every output token it allowed.
fn estimate(admitted: &Admitted) -> Usage {
    Usage::new(admitted.body.len().div_ceil(4) as u64, admitted.max_tokens)
}

/// An error in the Messages API's shape, which the `claude` CLI shows.
fn anthropic_error(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = json!({"type": "error", "error": {"type": kind, "message": message}});
    (status, axum::Json(body)).into_response()
}

fn is_event_stream(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"))
}

fn whole_usage(body: &[u8]) -> Option<Usage> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let usage = value.get("usage")?;
    Some(Usage::new(
        input_tokens(usage),
        usage["output_tokens"].as_u64().unwrap_or(0),
    ))
}
