//! Review handlers for branch-mode jobs: diff, apply, discard.

use axum::Json;
use axum::extract::{Path, State};
use corral_proto::JobDiff;
use serde_json::{Value, json};

use super::AppState;
use crate::http::{ApiError, ApiQuery};

/// `GET /v1/jobs/{id}/diff`.
#[utoipa::path(get, path = "/v1/jobs/{id}/diff", tag = "review", params(("id" = String, Path, description = "The job id")),
    responses((status = 200, description = "What a branch-mode job changed", body = JobDiff),
        (status = 409, description = "Not a branch-mode job, or not reviewable", body = corral_proto::ErrorBody)))]
pub async fn diff(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<JobDiff>, ApiError> {
    Ok(Json(state.jobs.diff(&id).await?))
}

/// How to apply.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplyOptions {
    /// Apply even though the change holds a secret (see the diff's `secrets`).
    #[serde(default)]
    pub allow_secrets: bool,
}

/// `POST /v1/jobs/{id}/apply`: 409 naming the files on a conflict, or the
/// secrets the change would write; nothing changed.
#[utoipa::path(post, path = "/v1/jobs/{id}/apply", tag = "review",
    params(("id" = String, Path, description = "The job id"), ApplyOptions),
    responses((status = 200, description = "Applied to the working tree", body = Object),
        (status = 409, description = "Conflicts (named) or secrets in the change, nothing changed", body = corral_proto::ErrorBody)))]
pub async fn apply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(options): ApiQuery<ApplyOptions>,
) -> Result<Json<Value>, ApiError> {
    state.jobs.apply(&id, options.allow_secrets).await?;
    Ok(Json(json!({ "job_id": id, "applied": true })))
}

/// `POST /v1/jobs/{id}/discard`.
#[utoipa::path(post, path = "/v1/jobs/{id}/discard", tag = "review", params(("id" = String, Path, description = "The job id")),
    responses((status = 200, description = "The branch or patch is gone: `review` is `discarded`, or `applied` with `applied_at` when the change was applied first (it stays in the working tree)", body = Object),
        (status = 409, description = "Not reviewable, or already discarded", body = corral_proto::ErrorBody)))]
pub async fn discard(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let applied = state.jobs.discard(&id).await?;
    let mut answer = json!({ "job_id": id, "removed": true, "review": "discarded" });
    if let Some(applied) = applied {
        answer["review"] = json!("applied");
        answer["applied_at"] = json!(corral_proto::timestamp::format(applied.at));
    }
    Ok(Json(answer))
}
