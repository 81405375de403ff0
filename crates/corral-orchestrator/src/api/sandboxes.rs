//! Sandbox handlers: create, list, show, delete, exec, and files. A
//! sandbox's events are its job's: `/v1/sandboxes/{id}/events` is the
//! same handler as a job's.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use corral_proto::sandbox::{
    ExecResult, ExecSpec, ExecStarted, FileEntry, Sandbox, SandboxSpec, SandboxState,
};
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery};
use crate::jobs::{Download, ExecOutcome, Incoming};
use crate::sandbox::Chunks;

/// `POST /v1/sandboxes`.
#[utoipa::path(post, path = "/v1/sandboxes", tag = "sandboxes", request_body = SandboxSpec,
    responses((status = 201, description = "Starting", body = Sandbox), (status = 400, description = "Bad input; `field` names it", body = corral_proto::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    ApiJson(spec): ApiJson<SandboxSpec>,
) -> Result<(StatusCode, Json<Sandbox>), ApiError> {
    let sandbox = state.jobs.create_sandbox(spec).await?;
    Ok((StatusCode::CREATED, Json(sandbox)))
}

/// Query of `GET /v1/sandboxes`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only sandboxes in this state.
    state: Option<SandboxState>,
    /// At most this many (100 when left out).
    limit: Option<u32>,
}

/// Answer of `GET /v1/sandboxes`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SandboxList {
    sandboxes: Vec<Sandbox>,
}

/// `GET /v1/sandboxes`: newest first.
#[utoipa::path(get, path = "/v1/sandboxes", tag = "sandboxes", params(ListQuery),
    responses((status = 200, description = "Newest first", body = SandboxList)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<SandboxList>, ApiError> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let sandboxes = state.jobs.sandboxes(query.state, limit).await?;
    Ok(Json(SandboxList { sandboxes }))
}

/// `GET /v1/sandboxes/{id}`.
#[utoipa::path(get, path = "/v1/sandboxes/{id}", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 200, description = "The sandbox", body = Sandbox), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Sandbox>, ApiError> {
    Ok(Json(state.jobs.sandbox(&id).await?))
}

/// `DELETE /v1/sandboxes/{id}`: ends it; its container is removed.
#[utoipa::path(delete, path = "/v1/sandboxes/{id}", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 200, description = "Ended, or ending", body = Sandbox), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody), (status = 409, description = "It already ended", body = corral_proto::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Sandbox>, ApiError> {
    Ok(Json(state.jobs.delete_sandbox(&id).await?))
}

/// `POST /v1/sandboxes/{id}/stop`: keeps its files (a sealed snapshot)
/// and removes its container.
#[utoipa::path(post, path = "/v1/sandboxes/{id}/stop", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 200, description = "Stopped", body = Sandbox), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody), (status = 409, description = "It is not running", body = corral_proto::ErrorBody)))]
pub async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Sandbox>, ApiError> {
    Ok(Json(state.jobs.stop_sandbox(&id).await?))
}

/// `POST /v1/sandboxes/{id}/start`: a stopped sandbox gets a new container
/// with its files back.
#[utoipa::path(post, path = "/v1/sandboxes/{id}/start", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 200, description = "Starting", body = Sandbox), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody), (status = 409, description = "It is not stopped", body = corral_proto::ErrorBody)))]
pub async fn start(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Sandbox>, ApiError> {
    Ok(Json(state.jobs.start_sandbox(&id).await?))
}

/// `POST /v1/sandboxes/{id}/fork`: a new sandbox with its settings and a
/// copy of its files (running or stopped).
#[utoipa::path(post, path = "/v1/sandboxes/{id}/fork", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 201, description = "The new sandbox, starting", body = Sandbox), (status = 400, description = "It cannot be forked; `field` says why", body = corral_proto::ErrorBody), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody), (status = 409, description = "It ended", body = corral_proto::ErrorBody)))]
pub async fn fork(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Sandbox>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.jobs.fork_sandbox(&id).await?),
    ))
}

/// `POST /v1/sandboxes/{id}/pause`: freezes its processes (Docker pause).
#[utoipa::path(post, path = "/v1/sandboxes/{id}/pause", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 200, description = "Paused", body = Sandbox), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody), (status = 409, description = "It is not running", body = corral_proto::ErrorBody)))]
pub async fn pause(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Sandbox>, ApiError> {
    Ok(Json(state.jobs.pause_sandbox(&id).await?))
}

/// `POST /v1/sandboxes/{id}/resume`: thaws its processes.
#[utoipa::path(post, path = "/v1/sandboxes/{id}/resume", tag = "sandboxes", params(("id" = String, Path, description = "The sandbox id")),
    responses((status = 200, description = "Running again", body = Sandbox), (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody), (status = 409, description = "It ended", body = corral_proto::ErrorBody)))]
pub async fn resume(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Sandbox>, ApiError> {
    Ok(Json(state.jobs.resume_sandbox(&id).await?))
}

/// Query of `POST /v1/sandboxes/{id}/exec`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExecQuery {
    /// Wait up to this many seconds (at most 600) for the exec's end and
    /// answer its output; without it the call answers at once.
    wait: Option<u64>,
}

/// `POST /v1/sandboxes/{id}/exec[?wait=SECONDS]`.
#[utoipa::path(post, path = "/v1/sandboxes/{id}/exec", tag = "sandboxes", request_body = ExecSpec,
    params(("id" = String, Path, description = "The sandbox id"), ExecQuery),
    responses((status = 200, description = "It ended within the wait", body = ExecResult),
        (status = 202, description = "It runs; its output comes as events tagged with `exec`", body = ExecStarted),
        (status = 400, description = "Bad input; `field` names it", body = corral_proto::ErrorBody),
        (status = 409, description = "The sandbox is not running", body = corral_proto::ErrorBody),
        (status = 429, description = "As many execs run as the sandbox may run at once", body = corral_proto::ErrorBody)))]
pub async fn exec(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ExecQuery>,
    ApiJson(spec): ApiJson<ExecSpec>,
) -> Result<Response, ApiError> {
    Ok(match state.jobs.exec(&id, spec, query.wait).await? {
        ExecOutcome::Ended(result) => Json(result).into_response(),
        ExecOutcome::Running(exec, after) => {
            (StatusCode::ACCEPTED, Json(ExecStarted { exec, after })).into_response()
        }
    })
}

/// Query of the file routes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    /// An absolute path under `/workspace`, `/tmp` or `/home/corral`.
    path: String,
    /// `PUT` only: the body is a tar to unpack into the directory at
    /// `path` (also said by `Content-Type: application/x-tar`).
    #[serde(default)]
    tar: bool,
}

/// `PUT /v1/sandboxes/{id}/files?path=…`: a file's bytes, or a tar.
#[utoipa::path(put, path = "/v1/sandboxes/{id}/files", tag = "sandboxes",
    params(("id" = String, Path, description = "The sandbox id"), FileQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 204, description = "Written"), (status = 400, description = "A path outside the roots; `field` is `path`", body = corral_proto::ErrorBody),
        (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody),
        (status = 409, description = "The sandbox is not running", body = corral_proto::ErrorBody),
        (status = 413, description = "Larger than the sandbox's `limits.tmpfs`; nothing was written", body = corral_proto::ErrorBody),
        (status = 502, description = "The sandbox failed to write it", body = corral_proto::ErrorBody),
        (status = 503, description = "The sandbox did not answer in time", body = corral_proto::ErrorBody)))]
pub async fn put_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<ApiQuery<FileQuery>, ApiError>,
    request: Request,
) -> Result<StatusCode, ApiError> {
    let (parts, body) = request.into_parts();
    let incoming = Incoming::new(body);
    let declared = declared_length(&parts.headers);
    let written = write_file(&state, &id, query, &parts.headers, declared, &incoming).await;
    if written.is_err() {
        // Refused, for whatever reason: what the client still sends is
        // read first (see `Incoming::drain`), unless it waits to be asked.
        let waits = parts
            .headers
            .get(header::EXPECT)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        incoming.drain(waits, declared).await;
    }
    written.map(|()| StatusCode::NO_CONTENT)
}

async fn write_file(
    state: &AppState,
    id: &str,
    query: Result<ApiQuery<FileQuery>, ApiError>,
    headers: &HeaderMap,
    declared: Option<u64>,
    incoming: &Incoming,
) -> Result<(), ApiError> {
    let ApiQuery(query) = query?;
    let tar = query.tar
        || headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|value| value.as_bytes().starts_with(b"application/x-tar"));
    Ok(state
        .jobs
        .write_file(id, &query.path, incoming, declared, tar)
        .await?)
}

/// The body's length as the request declares it, if it does.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
}

/// `GET /v1/sandboxes/{id}/files?path=…`: a file's bytes, or a directory as a tar.
#[utoipa::path(get, path = "/v1/sandboxes/{id}/files", tag = "sandboxes",
    params(("id" = String, Path, description = "The sandbox id"), FileQuery),
    responses((status = 200, description = "The file (`application/octet-stream`) or the directory (`application/x-tar`)", body = Vec<u8>),
        (status = 400, description = "A path outside the roots; `field` is `path`", body = corral_proto::ErrorBody),
        (status = 404, description = "Nothing there", body = corral_proto::ErrorBody),
        (status = 409, description = "The file holds a secret, or the sandbox is not running", body = corral_proto::ErrorBody)))]
pub async fn get_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<FileQuery>,
) -> Result<Response, ApiError> {
    let (body, content_type) = match state.jobs.read_file(&id, &query.path).await? {
        Download::File(body) => (body, "application/octet-stream"),
        Download::Tar(body) => (body, "application/x-tar"),
    };
    Ok(bytes_response(body, content_type))
}

fn bytes_response(body: Chunks, content_type: &'static str) -> Response {
    // Sent in the pieces it came in, its length known.
    let mut response = Response::new(Body::new(body.into_body()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Query of `GET /v1/sandboxes/{id}/files/list`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListFilesQuery {
    /// An absolute directory under `/workspace`, `/tmp` or `/home/corral`.
    path: String,
}

/// `GET /v1/sandboxes/{id}/files/list?path=…`: a directory's entries.
#[utoipa::path(get, path = "/v1/sandboxes/{id}/files/list", tag = "sandboxes",
    params(("id" = String, Path, description = "The sandbox id"), ListFilesQuery),
    responses((status = 200, description = "Its entries, by name", body = Vec<FileEntry>),
        (status = 400, description = "A path outside the roots; `field` is `path`", body = corral_proto::ErrorBody),
        (status = 404, description = "Nothing there", body = corral_proto::ErrorBody)))]
pub async fn list_files(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<ListFilesQuery>,
) -> Result<Json<Vec<FileEntry>>, ApiError> {
    Ok(Json(state.jobs.list_files(&id, &query.path).await?))
}

/// `GET /v1/sandboxes/{id}/events?after=SEQ&limit=N`: its events (execs
/// started and ended, their output tagged with `exec`).
#[utoipa::path(get, path = "/v1/sandboxes/{id}/events", tag = "sandboxes",
    params(("id" = String, Path, description = "The sandbox id"), super::events::EventsQuery),
    responses((status = 200, description = "Events after `after`, in order", body = super::events::EventPage),
        (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: ApiQuery<super::events::EventsQuery>,
) -> Result<Json<super::events::EventPage>, ApiError> {
    state.jobs.sandbox(&id).await?;
    super::events::list(State(state), Path(id), query).await
}

/// `GET /v1/sandboxes/{id}/events/stream`: its events as server-sent events, live.
#[utoipa::path(get, path = "/v1/sandboxes/{id}/events/stream", tag = "sandboxes",
    params(("id" = String, Path, description = "The sandbox id"), super::events::EventsQuery,
        ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this sequence number")),
    responses((status = 200, description = "Server-sent events, as a job's", content_type = "text/event-stream", body = String),
        (status = 404, description = "No such sandbox", body = corral_proto::ErrorBody)))]
pub async fn events_stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: ApiQuery<super::events::EventsQuery>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    state.jobs.sandbox(&id).await?;
    super::events::stream(State(state), Path(id), query, headers).await
}
