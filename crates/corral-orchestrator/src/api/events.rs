//! Event handlers: a page of a job's events, and the live SSE stream.
//!
//! The stream follows the event log's pattern: subscribe to the job's
//! wake-ups, re-read the store from the last sequence sent, wait for the
//! next wake-up. A lagged or reconnecting reader resumes from its own
//! position (`Last-Event-ID`), so nothing is skipped or sent twice.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use corral_proto::Event;
use futures_util::Stream;
use futures_util::stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tracing::error;

use super::{ApiError, ApiQuery, AppState};
use crate::jobs::JobManager;

/// The SSE event name of a stream the server could not go on with; not an
/// event kind, so a job's own `error` events are never mistaken for it.
pub const STREAM_FAILED: &str = "stream_failed";
/// Most events one page holds.
const MAX_PAGE: u32 = 1000;

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
    state.jobs.get(&id).await?;
    let limit = query.limit.unwrap_or(MAX_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::bad_field(
            "limit",
            format!("must be within 1..={MAX_PAGE}"),
        ));
    }
    let events = state
        .jobs
        .store()
        .events_after(&id, query.after.unwrap_or(0), limit)
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
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
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
        done: false,
    };
    Ok(Sse::new(stream::unfold(follow, Follow::next)).keep_alive(KeepAlive::default()))
}

struct Follow {
    jobs: JobManager,
    job_id: String,
    after: u64,
    wake: Option<Receiver<()>>,
    pending: VecDeque<Arc<Event>>,
    done: bool,
}

impl Follow {
    async fn next(mut self) -> Option<(Result<SseEvent, Infallible>, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.after = event.seq;
                return Some((Ok(to_sse(&event)), self));
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
                .events_after(&self.job_id, self.after, MAX_PAGE)
                .await
            {
                Ok(page) => page,
                Err(error) => return Some(self.fail(&error)),
            };
            if !page.is_empty() {
                self.pending.extend(page);
                continue;
            }
            let job = match store.get_job(&self.job_id).await {
                Ok(Some(job)) => job,
                Ok(None) => return None,
                Err(error) => return Some(self.fail(&error)),
            };
            if job.state.is_terminal() {
                self.done = true;
                self.wake = None;
                events.close(&self.job_id);
                let end = SseEvent::default()
                    .event("end")
                    .data(json!({ "state": job.state, "exit_code": job.exit_code }).to_string());
                return Some((Ok(end), self));
            }
            match wake.recv().await {
                Ok(()) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => self.wake = None,
            }
        }
    }

    fn fail(mut self, error: &dyn std::error::Error) -> (Result<SseEvent, Infallible>, Self) {
        error!(job_id = %self.job_id, error = %error, "event stream failed");
        self.done = true;
        let event = SseEvent::default()
            .event(STREAM_FAILED)
            .data(json!({ "error": "internal error" }).to_string());
        (Ok(event), self)
    }
}

fn to_sse(event: &Event) -> SseEvent {
    SseEvent::default()
        .id(event.seq.to_string())
        .event(event.kind.as_str())
        .data(serde_json::to_string(event).unwrap_or_default())
}
