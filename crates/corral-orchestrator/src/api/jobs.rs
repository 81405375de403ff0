//! Job handlers: create, list, show, cancel, prompt.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use corral_proto::{Job, JobSpec, JobState, Prompt, PromptSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ApiError, ApiJson, ApiQuery, AppState};

/// Most jobs one list call returns.
const MAX_LIST: u32 = 1000;
/// Jobs a list call returns when it names no limit.
const DEFAULT_LIST: u32 = 100;

/// `GET /v1/health`: no token needed.
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `POST /v1/jobs`.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<JobSpec>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let job = state.jobs.create(spec).await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// Query of `GET /v1/jobs`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    limit: Option<u32>,
}

/// Answer of `GET /v1/jobs`.
#[derive(Debug, Serialize)]
pub struct JobList {
    jobs: Vec<Job>,
}

/// `GET /v1/jobs?state=running&limit=50`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    let filter = query
        .state
        .map(|name| {
            JobState::parse(&name)
                .ok_or_else(|| ApiError::bad_field("state", format!("unknown state `{name}`")))
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(DEFAULT_LIST);
    if limit == 0 || limit > MAX_LIST {
        return Err(ApiError::bad_field(
            "limit",
            format!("must be within 1..={MAX_LIST}"),
        ));
    }
    let jobs = state.jobs.store().list_jobs(filter, limit).await?;
    Ok(Json(JobList { jobs }))
}

/// `GET /v1/jobs/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(state.jobs.get(&id).await?))
}

/// `POST /v1/jobs/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(state.jobs.cancel(&id).await?))
}

/// `POST /v1/jobs/{id}/prompts`: a follow-up prompt for an interactive job.
pub async fn prompt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<PromptSpec>,
) -> Result<(StatusCode, Json<Prompt>), ApiError> {
    let prompt = state.jobs.prompt(&id, &spec.prompt).await?;
    Ok((StatusCode::ACCEPTED, Json(prompt)))
}
