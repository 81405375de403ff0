//! Secret handlers. A value goes in and never comes out: no route returns it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use crate::http::{ApiError, ApiJson};
use crate::secrets::{SecretError, SecretInfo, SecretValue};

/// Body of `PUT /v1/secrets/{name}`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    value: String,
}

/// Answer of `GET /v1/secrets`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SecretList {
    secrets: Vec<SecretInfo>,
}

/// `GET /v1/secrets`: names and history, never values.
#[utoipa::path(get, path = "/v1/secrets", tag = "secrets",
    responses((status = 200, description = "Names and history, never values", body = SecretList)))]
pub async fn list(State(state): State<AppState>) -> Result<Json<SecretList>, ApiError> {
    let secrets = state.jobs.secrets().list().await?;
    Ok(Json(SecretList { secrets }))
}

/// `PUT /v1/secrets/{name}`: stores or replaces a value.
#[utoipa::path(put, path = "/v1/secrets/{name}", tag = "secrets", request_body = SecretBody,
    params(("name" = String, Path, description = "The secret's name")),
    responses((status = 200, description = "Stored; its metadata", body = SecretInfo),
        (status = 400, description = "Bad name or value", body = corral_proto::ErrorBody)))]
pub async fn set(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SecretBody>,
) -> Result<Json<SecretInfo>, ApiError> {
    let value = SecretValue::new(body.value);
    Ok(Json(state.jobs.secrets().set(&name, &value).await?))
}

/// `DELETE /v1/secrets/{name}`.
#[utoipa::path(delete, path = "/v1/secrets/{name}", tag = "secrets",
    params(("name" = String, Path, description = "The secret's name")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such secret", body = corral_proto::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.jobs.secrets().remove(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl From<SecretError> for ApiError {
    fn from(error: SecretError) -> Self {
        match error {
            SecretError::InvalidName { .. } => Self::bad_field("name", error.to_string()),
            SecretError::InvalidValue { .. } => Self::bad_field("value", error.to_string()),
            SecretError::NotFound { name } => Self::NotFound {
                what: format!("secret {name}"),
            },
            other => Self::internal(other),
        }
    }
}
