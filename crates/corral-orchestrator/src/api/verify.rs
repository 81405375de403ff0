//! The sandbox check: run it now, or read the last report.

use axum::Json;
use axum::extract::State;
use corral_proto::IsolationLevel;
use corral_proto::verify::VerifyReport;
use serde::Deserialize;

use super::AppState;
use crate::http::{ApiError, ApiQuery};

/// Query of `POST /v1/verify`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// `runc` or `gvisor`; the server's own when left out.
    isolation: Option<IsolationLevel>,
}

/// `POST /v1/verify?isolation=gvisor`: runs a probe job through the normal
/// job path and answers every row (200 whether the rows hold or not).
#[utoipa::path(post, path = "/v1/verify", tag = "server", params(VerifyQuery),
    responses((status = 200, description = "The report; `passed` says whether every row held", body = VerifyReport), (status = 400, description = "Bad input; `field` names it", body = corral_proto::ErrorBody), (status = 401, description = "Missing or wrong token", body = corral_proto::ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<VerifyQuery>,
) -> Result<Json<VerifyReport>, ApiError> {
    Ok(Json(state.jobs.verify(query.isolation).await?))
}

/// `GET /v1/verify`: the last report, at start or since.
#[utoipa::path(get, path = "/v1/verify", tag = "server",
    responses((status = 200, description = "The last report", body = VerifyReport), (status = 404, description = "No check has run yet", body = corral_proto::ErrorBody), (status = 401, description = "Missing or wrong token", body = corral_proto::ErrorBody)))]
pub async fn last(State(state): State<AppState>) -> Result<Json<VerifyReport>, ApiError> {
    state
        .jobs
        .last_verify()
        .map(Json)
        .ok_or_else(|| ApiError::NotFound {
            what: "sandbox check report".into(),
        })
}
