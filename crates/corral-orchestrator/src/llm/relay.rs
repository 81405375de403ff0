//! Relaying an upstream's answer to the worker: a whole answer read (capped)
//! and translated, or a stream passed on piece by piece as it arrives, its
//! usage counted either way.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use corral_proto::NewEvent;
use corral_proto::event::LlmUsageData;
use corral_proto::llm::{ChatChunk, Usage};
use corral_proto::sse::SseParser;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::error;

use super::anthropic::{StreamTranslator, from_messages_response};
use super::order::{closes_answer, ends_answer};
use super::proxy::{ModelProxy, Timing};
use super::{ProviderKind, ProxyError};

/// Streamed pieces buffered between the upstream and a slow worker.
const STREAM_BUFFER: usize = 64;
/// The most of a whole answer read into memory.
const MAX_ANSWER_BYTES: usize = 32 << 20;

impl ModelProxy {
    pub(super) async fn relay_whole(
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
        let (body, found) = self.without_key(Vec::from(body));
        self.report_echo(found).await;
        // Counted now (the next call is checked against it), stored after
        // the answer is on its way: the store is not in the call's path,
        // but the worker's next events wait for it (`order`).
        self.count(usage);
        let held = self.order.hold();
        let session = Arc::clone(self);
        self.spawn(async move {
            session.record(usage, &timing).await;
            drop(held);
        });
        Ok((
            [(header::CONTENT_TYPE, "application/json")],
            Bytes::from(body),
        )
            .into_response())
    }

    /// Streams the answer through as it arrives (translated for Anthropic),
    /// reading usage on the way; the call is recorded when the stream ends,
    /// held (`order`) from before the worker can have read its end.
    pub(super) fn relay_stream(
        self: &Arc<Self>,
        answer: reqwest::Response,
        mut timing: Timing,
    ) -> Response {
        let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(STREAM_BUFFER);
        let session = Arc::clone(self);
        self.spawn(async move {
            let mut parser = SseParser::default();
            let mut translator = (session.provider.kind == ProviderKind::Anthropic)
                .then(|| StreamTranslator::new(true));
            let mut usage = Usage::default();
            let mut body = answer.bytes_stream();
            // A worker that goes away does not end the call: the upstream
            // is read to its end, so its usage is counted all the same.
            // The end is its `[DONE]` or `message_stop`: the usage is
            // stored then, and what follows is only drained (`drain`).
            let mut reader = Some(sender);
            let mut held = None;
            let mut scrub = session.key_scrub();
            while let Some(piece) = body.next().await {
                let bytes = match piece {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        let message = format!("the model's stream broke: {}", error.without_url());
                        let frame =
                            json!({"error": {"type": "upstream_failed", "message": message}});
                        held.get_or_insert_with(|| session.order.hold());
                        if let Some(sender) = &reader {
                            let mut tail = scrub.finish().to_vec();
                            tail.extend_from_slice(format!("data: {frame}\n\n").as_bytes());
                            let _ = sender.send(Ok(Bytes::from(tail))).await;
                        }
                        break;
                    }
                };
                timing
                    .first_byte
                    .get_or_insert_with(|| timing.started.elapsed());
                let messages = parser.feed(&bytes);
                if held.is_none() && messages.iter().any(ends_answer) {
                    held = Some(session.order.hold());
                }
                let closed = messages.iter().any(closes_answer);
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
                let out = scrub.push(out);
                if let Some(sender) = &reader
                    && !out.is_empty()
                    && sender.send(Ok(out)).await.is_err()
                {
                    reader = None; // the worker went away
                }
                if closed {
                    break;
                }
            }
            held.get_or_insert_with(|| session.order.hold());
            let mut tail = Vec::new();
            if let Some(translator) = &mut translator {
                usage = translator.usage();
                let translated: String = translator.finish().concat();
                tail.extend_from_slice(&scrub.push(Bytes::from(translated)));
            }
            tail.extend_from_slice(&scrub.finish());
            if let Some(sender) = &reader
                && !tail.is_empty()
            {
                let _ = sender.send(Ok(Bytes::from(tail))).await;
            }
            drop(reader);
            session.count(usage);
            session.record(usage, &timing).await;
            drop(held);
            session.report_echo(scrub.found).await;
            drain(body).await;
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
        let usage = LlmUsageData {
            provider: self.provider.name.clone(),
            model: self.model.clone(),
            input_tokens: input,
            output_tokens: output,
            latency_ms: timing.started.elapsed().as_millis() as u64,
            first_byte_ms: timing.first_byte.map(|first| first.as_millis() as u64),
            stream: timing.stream,
            attempts: timing.attempts,
            cost_usd: cost,
        };
        let store = self.events.store();
        if let Err(error) = store
            .add_llm_usage(&self.job_id, input, output, cost.unwrap_or(0.0))
            .await
        {
            error!(job_id = %self.job_id, error = %error, "cannot record model usage");
        }
        let event = NewEvent::of(&usage);
        if let Err(error) = self.events.append(&self.job_id, vec![event]).await {
            error!(job_id = %self.job_id, error = %error, "cannot store llm_usage event");
        }
    }
}

/// The longest an answer's body is read past its last message.
const DRAIN_WAIT: Duration = Duration::from_secs(1);

/// Reads what is left of an answer past its last message, for at most
/// [`DRAIN_WAIT`], and drops it: a body read to its end lets the client
/// keep the connection for the next call (a new TLS handshake costs a
/// provider's round trips), and an upstream slow to close is let go.
pub(super) async fn drain(
    mut body: impl futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin,
) {
    let _ = tokio::time::timeout(DRAIN_WAIT, async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
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
