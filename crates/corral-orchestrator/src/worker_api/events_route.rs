//! The routes that take a job's events: its worker's numbered batches and
//! its completion. Each waits for a place in the job's intake, and the
//! work runs to its end even when the request is dropped.

use std::future::Future;

use axum::{Extension, Json};
use corral_proto::worker::{Completion, EventBatch, EventsAck};
use tokio_util::task::TaskTracker;
use tracing::info;

use super::served::{ServedJob, Session, Taken};
use crate::http::{ApiError, ApiJson, HeldWeight};
use crate::store::StoreError;

/// Most events in one batch.
const MAX_BATCH_EVENTS: usize = 4096;

pub(super) async fn events(
    Extension(session): Session,
    Extension(tasks): Extension<TaskTracker>,
    held: HeldWeight,
    ApiJson(batch): ApiJson<EventBatch>,
) -> Result<Json<EventsAck>, ApiError> {
    if batch.events.len() > MAX_BATCH_EVENTS {
        return Err(ApiError::bad_field(
            "events",
            format!("at most {MAX_BATCH_EVENTS} events a batch"),
        ));
    }
    // The store keeps a batch's number as SQLite's signed integer: a
    // higher one could never be stored, and each copy of it, refused,
    // would give back what it took and be taken again without end.
    if batch
        .batch
        .is_some_and(|number| i64::try_from(number).is_err())
    {
        return Err(ApiError::bad_field(
            "batch",
            format!("at most {} (a signed 64-bit integer)", i64::MAX),
        ));
    }
    super::intake::check(&batch.events)?;
    if session.desk.is_none() {
        super::intake::no_execs(&batch.events)?;
    }
    let number = batch.batch;
    usage_first(&session).await;
    let place = enter(&session).await?;
    // The batch's weight stays taken while it is, even past its request.
    to_the_end(&tasks, place, async move {
        let _held = held;
        session.accept_batch(number, batch.events).await
    })
    .await?;
    Ok(Json(EventsAck { batch: number }))
}

pub(super) async fn complete(
    Extension(session): Session,
    Extension(tasks): Extension<TaskTracker>,
    held: HeldWeight,
    ApiJson(completion): ApiJson<Completion>,
) -> Result<Json<EventsAck>, ApiError> {
    // Taken to its end, once it has a place, even when the request is
    // dropped: the completion must not be claimed with its event never
    // stored.
    usage_first(&session).await;
    let place = enter(&session).await?;
    let exit_code = completion.exit_code;
    let job_id = session.job.id.clone();
    let taken = to_the_end(&tasks, place, async move {
        let _held = held;
        session.accept_completion(completion).await
    })
    .await?;
    match taken {
        Taken::Stored => info!(job_id = %job_id, exit_code, "worker completed"),
        Taken::AsBefore => {}
        Taken::Other => {
            return Err(ApiError::Conflict {
                message: "the job already reported another completion".into(),
            });
        }
        Taken::Late => return Err(ApiError::Unauthorized),
    }
    Ok(Json(EventsAck { batch: None }))
}

/// A place among the job's batches being taken (waited for while the
/// request lasts); a 503 once its intake broke.
async fn enter(session: &ServedJob) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    session
        .gate
        .enter()
        .await
        .ok_or_else(|| ApiError::Unavailable {
            message: "this job's output can no longer be taken".into(),
        })
}

/// Runs `work` to its end, holding its `place` until then, even when the
/// request that asked for it is dropped (its connection cut, its worker
/// killed): stopped between the leak detector's pushes and the store, a
/// batch would lose what the detector let go of, and leave the batch it
/// took unrecorded, so a resent copy would be pushed through the detector
/// a second time.
async fn to_the_end<T: Send + 'static>(
    tasks: &TaskTracker,
    place: tokio::sync::OwnedSemaphorePermit,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    tasks
        .spawn(async move {
            let done = work.await;
            drop(place);
            done
        })
        .await?
}

/// Waits until the usage of every model call whose answer the worker may
/// have read is stored, so it comes before what the worker posts now (see
/// `llm::order`). Before the intake: a waiting batch holds no place.
async fn usage_first(session: &ServedJob) {
    if let Some(llm) = &session.llm {
        llm.usage_stored().await;
    }
}
