//! `GET /metrics`: Prometheus text format (bearer token required, as for
//! every route but health; Prometheus sends it with `authorization`).

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::AppState;
use crate::http::ApiError;

/// The metrics page.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let page = crate::metrics::render(&state.jobs.metrics().await?);
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4")], page))
}
