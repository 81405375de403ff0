//! Job handlers: create, list, show, cancel, end, prompt.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use corral_proto::{Job, JobSpec, Prompt, PromptSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery};
use crate::jobs::JobQuery;

/// `GET /v1/health`: no token needed.
#[utoipa::path(get, path = "/v1/health", tag = "server", security(()),
    responses((status = 200, description = "The server answers", body = Object)))]
pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `POST /v1/jobs`.
#[utoipa::path(post, path = "/v1/jobs", tag = "jobs", request_body = JobSpec,
    responses((status = 201, description = "Queued", body = Job), (status = 400, description = "Bad input; `field` names it", body = corral_proto::ErrorBody), (status = 401, description = "Missing or wrong token", body = corral_proto::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<JobSpec>,
) -> Result<(StatusCode, Json<Job>), ApiError> {
    let job = state.jobs.create(spec).await?;
    Ok((StatusCode::CREATED, Json(job)))
}

/// Query of `GET /v1/jobs`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    state: Option<String>,
    limit: Option<u32>,
    /// Only jobs created before this one: the `next` of the page before.
    before: Option<String>,
    /// Only jobs whose id starts with this (a short id a user typed),
    /// newest first; it takes no `before`.
    id_prefix: Option<String>,
    /// Only the claude jobs that continue this job's session, oldest first;
    /// it takes no `before`.
    continues: Option<String>,
}

/// Answer of `GET /v1/jobs`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JobList {
    jobs: Vec<Job>,
    /// The `before` that lists the next (older) page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// `GET /v1/jobs?state=running&limit=50&before=j-…`, or `?id_prefix=j-3f`.
#[utoipa::path(get, path = "/v1/jobs", tag = "jobs", params(ListQuery),
    responses((status = 200, description = "Newest first", body = JobList), (status = 400, description = "Bad input; `field` names it", body = corral_proto::ErrorBody), (status = 401, description = "Missing or wrong token", body = corral_proto::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<JobList>, ApiError> {
    let page = state
        .jobs
        .list(JobQuery {
            state: query.state,
            limit: query.limit,
            before: query.before,
            id_prefix: query.id_prefix,
            continues: query.continues,
        })
        .await?;
    Ok(Json(JobList {
        jobs: page.jobs,
        next: page.next,
    }))
}

/// `GET /v1/jobs/{id}`.
#[utoipa::path(get, path = "/v1/jobs/{id}", tag = "jobs", params(("id" = String, Path, description = "The job id")),
    responses((status = 200, description = "The job", body = Job), (status = 404, description = "No such job", body = corral_proto::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(state.jobs.get(&id).await?))
}

/// `POST /v1/jobs/{id}/cancel`.
#[utoipa::path(post, path = "/v1/jobs/{id}/cancel", tag = "jobs", params(("id" = String, Path, description = "The job id")),
    responses((status = 200, description = "Cancelled, or cancelling", body = Job), (status = 404, description = "No such job", body = corral_proto::ErrorBody),
        (status = 409, description = "It already ended", body = corral_proto::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(state.jobs.cancel(&id).await?))
}

/// `POST /v1/jobs/{id}/end`: an interactive job finishes (succeeded) once
/// the prompts before are answered, instead of being cancelled.
#[utoipa::path(post, path = "/v1/jobs/{id}/end", tag = "jobs", params(("id" = String, Path, description = "The job id")),
    responses((status = 200, description = "Ending: it finishes after its current turn", body = Job), (status = 404, description = "No such job", body = corral_proto::ErrorBody),
        (status = 409, description = "Not interactive, or already ended", body = corral_proto::ErrorBody)))]
pub async fn end(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Job>, ApiError> {
    Ok(Json(state.jobs.end(&id).await?))
}

/// `POST /v1/jobs/{id}/prompts`: a follow-up prompt for a live interactive
/// job, or for an ended claude job, whose session then continues in a new
/// job (`continued_in`).
#[utoipa::path(post, path = "/v1/jobs/{id}/prompts", tag = "jobs", request_body = PromptSpec,
    params(("id" = String, Path, description = "The job id")),
    responses((status = 202, description = "Queued for the job's agent, or for a new job that continues the ended claude job's session (`continued_in`)", body = Prompt), (status = 400, description = "Bad input; `field` names it", body = corral_proto::ErrorBody), (status = 401, description = "Missing or wrong token", body = corral_proto::ErrorBody),
        (status = 404, description = "No such job", body = corral_proto::ErrorBody),
        (status = 409, description = "Not interactive, ended (and not a claude job with a session to resume)", body = corral_proto::ErrorBody)))]
pub async fn prompt(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(spec): ApiJson<PromptSpec>,
) -> Result<(StatusCode, Json<Prompt>), ApiError> {
    let prompt = state.jobs.prompt(&id, &spec.prompt).await?;
    Ok((StatusCode::ACCEPTED, Json(prompt)))
}
