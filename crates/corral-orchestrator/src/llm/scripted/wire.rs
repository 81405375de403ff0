//! How the scripted model's answers look on the wire: usage, failures, and
//! streamed pieces as server-sent events.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use corral_proto::llm::Usage;
use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{Failure, Turn};

/// Text is streamed in pieces of this many characters.
const PIECE_CHARS: usize = 24;

/// A rough token count: four bytes a token, as tokenizers average on English.
pub(super) fn tokens(text: &str) -> u64 {
    text.len().div_ceil(4) as u64
}

pub(super) fn usage(request: &Value, turn: &Turn) -> Usage {
    let written: usize = turn.text.as_deref().map_or(0, str::len)
        + turn
            .tool_calls
            .iter()
            .map(|call| call.name.len() + call.arguments_text().len())
            .sum::<usize>();
    Usage::new(
        tokens(&request["messages"].to_string()).max(1),
        (written as u64).div_ceil(4).max(1),
    )
}

pub(super) fn failure_response(failure: &Failure, anthropic: bool) -> Response {
    let status = StatusCode::from_u16(failure.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = if anthropic {
        json!({"type": "error", "error": {"type": "api_error", "message": failure.message}})
    } else {
        json!({"error": {"type": "server_error", "message": failure.message}})
    };
    let mut response = (status, axum::Json(body)).into_response();
    if let Some(seconds) = failure.retry_after
        && let Ok(value) = seconds.to_string().parse()
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Splits text into streamable pieces on character boundaries.
pub(super) fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(PIECE_CHARS)
        .map(|piece| piece.iter().collect())
        .collect()
}

/// A `text/event-stream` body from frames, paused between frames.
pub(super) fn event_stream(frames: Vec<String>, (delay, end): (Duration, Duration)) -> Response {
    let pieces = futures_util::stream::iter(frames).then(move |frame| async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Some(Ok::<_, Infallible>(Bytes::from(frame)))
    });
    let close = futures_util::stream::once(async move {
        if !end.is_zero() {
            tokio::time::sleep(end).await;
        }
        None
    });
    let stream = pieces.chain(close).filter_map(std::future::ready);
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}
