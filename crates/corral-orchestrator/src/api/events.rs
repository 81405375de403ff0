//! Event handlers: a page of a job's events, and the live SSE stream.
//!
//! The stream is the event log's follower (`events::follow`) written as
//! SSE: it holds no store logic. A lagged or reconnecting reader resumes
//! from its own position (`Last-Event-ID`), so nothing is skipped or sent
//! twice.
//!
//! The stream writes its `text/event-stream` frames itself (`sse`): each
//! event's JSON is made once for all its followers, and every event read
//! at once goes out in one body chunk, not one chunk each.

mod sse;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use corral_proto::Event;
use futures_util::stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tracing::error;

use super::AppState;
use crate::events::{Follower, SharedEvent, Step};
use crate::http::{ApiError, ApiQuery};

/// The SSE event name of a stream the server could not go on with; not an
/// event kind, so a job's own `error` events are never mistaken for it.
pub const STREAM_FAILED: &str = "stream_failed";
/// A comment is sent after this long without an event, so proxies and
/// clients that time out idle connections keep the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Once the server stops serving, how long a stream still sends what is
/// stored (its job's last events, written at shutdown), in all.
const CLOSING_READ: Duration = Duration::from_millis(500);
/// One body chunk stops taking events past this many bytes (output events
/// are up to 64 KiB each: a page of them must not become one huge write).
const MAX_CHUNK: usize = 256 << 10;

/// Query of the event routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    /// In order; fewer than `limit` when they are large (a page ends once
    /// their data comes to 4 MiB, one event at least).
    events: Vec<Event>,
    /// Whether the job had stored events after the last of these when the
    /// page was read: ask again with `after` set to that event's `seq`.
    /// Not required: a server of an older build does not say.
    #[serde(default)]
    more: bool,
}

/// `GET /v1/jobs/{id}/events?after=SEQ&limit=N`.
#[utoipa::path(get, path = "/v1/jobs/{id}/events", tag = "events",
    params(("id" = String, Path, description = "The job id"), EventsQuery),
    responses((status = 200, description = "Events after `after`, in order", body = EventPage),
        (status = 404, description = "No such job", body = corral_proto::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<EventPage>, ApiError> {
    let page = state
        .jobs
        .events_page(&id, query.after.unwrap_or(0), query.limit)
        .await?;
    Ok(Json(EventPage {
        events: page.events,
        more: page.more,
    }))
}

/// `GET /v1/jobs/{id}/events/stream`: SSE, `id:` = seq, resumes after
/// `Last-Event-ID` (or `?after=`), ends with an `end` event once the job has
/// ended and every event was sent.
#[utoipa::path(get, path = "/v1/jobs/{id}/events/stream", tag = "events",
    params(("id" = String, Path, description = "The job id"), EventsQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this sequence number")),
    responses((status = 200, description = "Server-sent events: `id` is the sequence number, `data` an Event; `event: end` closes", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such job", body = corral_proto::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.jobs.get(&id).await?;
    let after = match headers.get("last-event-id") {
        Some(value) => value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .ok_or_else(|| ApiError::bad_field("Last-Event-ID", "must be a sequence number"))?,
        None => query.after.unwrap_or(0),
    };
    let follow = Follow {
        follower: state.jobs.events().follow(&id, after, KEEP_ALIVE),
        pending: VecDeque::new(),
        closing: state.closing.clone(),
        closing_by: None,
    };
    let body = Body::from_stream(stream::unfold(follow, Follow::next));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response())
}

/// A follower, written as SSE.
struct Follow {
    follower: Follower,
    /// Read, not yet sent: what did not fit in the last chunk.
    pending: VecDeque<Arc<SharedEvent>>,
    /// The server stops serving: the stream ends once what is stored is
    /// sent, without an `end` (the job has not ended: a sandbox stopped at
    /// shutdown, a queued job). Else it held the shutdown for its grace.
    closing: CancellationToken,
    /// Once closing: when the stream ends, sent or not (a reader far
    /// behind, or a job still writing, would keep it going).
    closing_by: Option<tokio::time::Instant>,
}

impl Follow {
    /// The next body chunk: every event read and not sent yet (up to
    /// [`MAX_CHUNK`] bytes), the `end`, or a keep-alive comment.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        if !self.pending.is_empty() {
            let chunk = self.take_chunk();
            return Some((Ok(chunk), self));
        }
        // After its end or a failure the follower has nothing more.
        let step = loop {
            if self.closing.is_cancelled() {
                let by = *self
                    .closing_by
                    .get_or_insert_with(|| tokio::time::Instant::now() + CLOSING_READ);
                match tokio::time::timeout_at(by, self.follower.next()).await {
                    Ok(Some(Step::Idle) | None) | Err(_) => return None,
                    Ok(Some(step)) => break step,
                }
            }
            tokio::select! {
                step = self.follower.next() => break step?,
                () = self.closing.cancelled() => {}
            }
        };
        let chunk = match step {
            Step::Events(page) => {
                self.pending.extend(page);
                self.take_chunk()
            }
            Step::Idle => Bytes::from_static(sse::KEEP_ALIVE),
            Step::End { state, exit_code } => {
                sse::named("end", &json!({ "state": state, "exit_code": exit_code }))
            }
            Step::Failed(error) => {
                error!(job_id = %self.follower.job_id(), error = %error, "event stream failed");
                sse::named(STREAM_FAILED, &json!({ "error": "internal error" }))
            }
        };
        Some((Ok(chunk), self))
    }

    /// Frames of the pending events, in order, up to [`MAX_CHUNK`] bytes
    /// (at least one event).
    fn take_chunk(&mut self) -> Bytes {
        let mut chunk = Vec::new();
        while let Some(event) = self.pending.front() {
            if !chunk.is_empty() && chunk.len() + event.json().len() > MAX_CHUNK {
                break;
            }
            sse::push_event(&mut chunk, event);
            self.pending.pop_front();
        }
        Bytes::from(chunk)
    }
}
