//! Event handlers: a page of a job's events, and the live SSE stream.
//!
//! The stream follows the event log's pattern: subscribe to the job's
//! wake-ups, re-read the store from the last sequence sent, wait for the
//! next wake-up. A lagged or reconnecting reader resumes from its own
//! position (`Last-Event-ID`), so nothing is skipped or sent twice.
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
use corral_proto::{Event, EventKind, JobState};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tracing::error;

use super::AppState;
use crate::events::SharedEvent;
use crate::http::{ApiError, ApiQuery};
use crate::jobs::JobManager;

/// Longest wait for a finished job's last status event, which is stored
/// just after its end.
const FINAL_WAIT: Duration = Duration::from_secs(2);

/// The SSE event name of a stream the server could not go on with; not an
/// event kind, so a job's own `error` events are never mistaken for it.
pub const STREAM_FAILED: &str = "stream_failed";
/// A comment is sent after this long without an event, so proxies and
/// clients that time out idle connections keep the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// One body chunk stops taking events past this many bytes (output events
/// are up to 64 KiB each: a page of them must not become one huge write).
const MAX_CHUNK: usize = 256 << 10;

/// Query of the event routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    after: Option<u64>,
    limit: Option<u32>,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EventPage {
    events: Vec<Event>,
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
    let events = state
        .jobs
        .events_page(&id, query.after.unwrap_or(0), query.limit)
        .await?;
    Ok(Json(EventPage { events }))
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
        jobs: state.jobs.clone(),
        job_id: id,
        after,
        wake: None,
        pending: VecDeque::new(),
        may_have_ended: true,
        last: LastEvent::Unknown,
        done: false,
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

struct Follow {
    jobs: JobManager,
    job_id: String,
    after: u64,
    wake: Option<Receiver<()>>,
    /// Read, not yet sent: what did not fit in the last chunk.
    pending: VecDeque<Arc<SharedEvent>>,
    /// The job may have ended since its state was last read: at first,
    /// once a `status` event was read (a job's end is stored before its
    /// last status event), once the log closed the job's wake-ups, after
    /// an idle spell. Read only then, not at every wake-up, the job costs
    /// a hundred followers of a chatty job nothing.
    may_have_ended: bool,
    /// Whether the job's last event was read: a job's end is stored just
    /// before its last (`status`) event, so `end` is sent only after it.
    last: LastEvent,
    done: bool,
}

/// What a stream knows of a job's last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastEvent {
    /// Not read yet, as far as the stream knows.
    Unknown,
    /// The job had ended without it, and the stream waited [`FINAL_WAIT`]
    /// for it (a stream resumed past it never reads it again).
    Waited,
    /// A `status` event with a final state was read, or the log closed
    /// the job's wake-ups (which it does once that event is stored).
    Read,
}

impl Follow {
    /// The next body chunk: every event read and not sent yet (up to
    /// [`MAX_CHUNK`] bytes), the `end`, or a keep-alive comment.
    async fn next(mut self) -> Option<(Result<Bytes, Infallible>, Self)> {
        loop {
            if !self.pending.is_empty() {
                let chunk = self.take_chunk();
                return Some((Ok(chunk), self));
            }
            if self.done {
                return None;
            }
            let events = self.jobs.events();
            let wake = self
                .wake
                .get_or_insert_with(|| events.subscribe(&self.job_id));
            let store = self.jobs.store();
            let page = match events
                .events_after(&self.job_id, self.after, crate::jobs::MAX_EVENTS_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => return Some(self.fail(&error)),
            };
            if !page.is_empty() {
                for event in &page {
                    let event = event.event();
                    if event.kind == EventKind::Status {
                        self.may_have_ended = true;
                        if event.state().is_some_and(JobState::is_terminal) {
                            self.last = LastEvent::Read;
                        }
                    }
                }
                self.pending.extend(page);
                continue;
            }
            if !self.may_have_ended {
                match tokio::time::timeout(KEEP_ALIVE, wake.recv()).await {
                    Err(_idle) => {
                        self.may_have_ended = true;
                        return Some((Ok(Bytes::from_static(sse::KEEP_ALIVE)), self));
                    }
                    Ok(Ok(()) | Err(RecvError::Lagged(_))) => {}
                    Ok(Err(RecvError::Closed)) => {
                        self.may_have_ended = true;
                        self.last = LastEvent::Read;
                        self.wake = None;
                    }
                }
                continue;
            }
            self.may_have_ended = false;
            let job = match store.get_job(&self.job_id).await {
                Ok(Some(job)) => job,
                Ok(None) => return None,
                Err(error) => return Some(self.fail(&error)),
            };
            if job.state.is_terminal() && self.last == LastEvent::Unknown {
                // Its end is stored before its last status event, and the
                // log closes its wake-ups once that is stored: wait for it,
                // a little (a stream resumed past it never sees it again).
                self.last = LastEvent::Waited;
                self.may_have_ended = true;
                let wake = self
                    .wake
                    .get_or_insert_with(|| events.subscribe(&self.job_id));
                if let Ok(Err(RecvError::Closed)) =
                    tokio::time::timeout(FINAL_WAIT, wake.recv()).await
                {
                    self.last = LastEvent::Read;
                    self.wake = None;
                }
                continue;
            }
            if job.state.is_terminal() {
                self.done = true;
                self.wake = None;
                events.close(&self.job_id);
                let end = json!({ "state": job.state, "exit_code": job.exit_code });
                return Some((Ok(sse::named("end", &end)), self));
            }
        }
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
            self.after = event.event().seq;
            self.pending.pop_front();
        }
        Bytes::from(chunk)
    }

    fn fail(mut self, error: &dyn std::error::Error) -> (Result<Bytes, Infallible>, Self) {
        error!(job_id = %self.job_id, error = %error, "event stream failed");
        self.done = true;
        let failed = sse::named(STREAM_FAILED, &json!({ "error": "internal error" }));
        (Ok(failed), self)
    }
}
