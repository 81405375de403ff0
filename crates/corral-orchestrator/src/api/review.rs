//! Review handlers for branch-mode jobs: diff, apply, discard.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use corral_proto::JobDiff;
use serde_json::{Value, json};

use super::{ApiError, AppState};

/// `GET /v1/jobs/{id}/diff`.
pub async fn diff(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobDiff>, ApiError> {
    Ok(Json(state.jobs.diff(&id).await?))
}

/// `POST /v1/jobs/{id}/apply`: 409 naming the files on a conflict, nothing changed.
pub async fn apply(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state.jobs.apply(&id).await?;
    Ok(Json(json!({ "job_id": id, "applied": true })))
}

/// `POST /v1/jobs/{id}/discard`.
pub async fn discard(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.jobs.discard(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
