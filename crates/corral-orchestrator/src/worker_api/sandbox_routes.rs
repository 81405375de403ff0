//! A sandbox worker's side of its desk: the long poll for its next order,
//! an upload's bytes, and a file order's answer. Other jobs get a 404.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use corral_proto::sandbox::order::{CONTENT_HEADER, FAILED_HEADER, ORDER_POLL_SECS, OrderFailure};
use serde::Deserialize;

use super::served::{ServedJob, Session};
use crate::http::{ApiError, ApiQuery};
use crate::sandbox::{Chunks, Desk, FileAnswer, ReceiveError, receive};

/// Largest answer a worker may send: a read is capped by the sandbox's
/// tmpfs size, far below this, and checked again by the waiting request.
pub(super) const MAX_ANSWER_BYTES: usize = 2 << 30;
/// The most a failure's JSON may have.
const MAX_FAILURE_BYTES: usize = 64 << 10;

fn desk(session: &ServedJob) -> Result<&Arc<Desk>, ApiError> {
    session.desk.as_ref().ok_or_else(|| ApiError::NotFound {
        what: "a sandbox on this socket".into(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrderQuery {
    /// Seconds to wait for an order; at most [`ORDER_POLL_SECS`].
    #[serde(default)]
    wait: Option<u64>,
}

/// `GET /v1/sandbox/orders?wait=S`: the next order, or `204` after `S` seconds.
pub(super) async fn orders(
    Extension(session): Session,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> Result<Response, ApiError> {
    let desk = desk(&session)?;
    let wait = query.wait.unwrap_or(ORDER_POLL_SECS).min(ORDER_POLL_SECS);
    Ok(match desk.next_order(Duration::from_secs(wait)).await {
        Some(order) => axum::Json(order).into_response(),
        None if session.is_revoked() => ApiError::Unauthorized.into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `GET /v1/sandbox/uploads/{order}`: an upload's bytes, once.
pub(super) async fn upload(
    Extension(session): Session,
    Path(order): Path<u64>,
) -> Result<axum::body::Body, ApiError> {
    desk(&session)?
        .take_upload(order)
        .ok_or_else(|| ApiError::NotFound {
            what: format!("an upload for order {order}"),
        })
}

/// `POST /v1/sandbox/results/{order}`: a file order's answer, for the
/// request that waits for it; 404 when none does.
pub(super) async fn result(
    Extension(session): Session,
    Path(order): Path<u64>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<StatusCode, ApiError> {
    let desk = desk(&session)?;
    let nobody_waits = || ApiError::NotFound {
        what: format!("a request waiting for order {order}"),
    };
    // Refused before a byte is read: an answer nobody waits for, or one
    // while another is being received. Dropped however this ends, the
    // claim lets the next answer in (refused, this one leaves the request
    // waiting for a right one, its timeout or the sandbox's end).
    let claim = desk.claim(order).ok_or_else(nobody_waits)?;
    let failed = headers.contains_key(FAILED_HEADER);
    // A download is scanned as it arrives; a failure is read whole.
    let scan = (claim.awaited.scan && !failed).then(|| Arc::clone(&desk.redactor));
    // A failure is a short message, whatever the order could have taken.
    let cap = if failed {
        MAX_FAILURE_BYTES
    } else {
        claim.awaited.cap.min(MAX_ANSWER_BYTES)
    };
    // Received only while its request waits: that wait's timeout is the
    // answer's deadline, and a request gone stops a trickling answer.
    let received = tokio::select! {
        received = receive(body, cap, scan) => received,
        () = claim.waiter_gone() => return Err(nobody_waits()),
    };
    let (body, scanned) = received.map_err(|error| match error {
        ReceiveError::TooLarge => ApiError::PayloadTooLarge,
        ReceiveError::Broken => ApiError::bad_field("body", "the body broke off before its end"),
    })?;
    let failure = if failed {
        let failure: OrderFailure = serde_json::from_slice(&body.to_bytes()).map_err(|error| {
            ApiError::bad_field("body", format!("not an order failure: {error}"))
        })?;
        Some(failure)
    } else {
        None
    };
    let content = headers
        .get(CONTENT_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| matches!(*value, "file" | "tar"))
        .map(str::to_owned);
    let answer = FileAnswer {
        failure,
        content,
        body: if failed { Chunks::default() } else { body },
        scanned,
    };
    if desk.answer(order, answer) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(nobody_waits())
    }
}
