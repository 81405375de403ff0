//! Secret handlers. A value goes in and never comes out: no route returns it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiJson, AppState};
use crate::secrets::{SecretError, SecretInfo, SecretValue};

/// Body of `PUT /v1/secrets/{name}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretBody {
    value: String,
}

/// Answer of `GET /v1/secrets`.
#[derive(Debug, Serialize)]
pub struct SecretList {
    secrets: Vec<SecretInfo>,
}

/// `GET /v1/secrets`: names and history, never values.
pub async fn list(State(state): State<AppState>) -> Result<Json<SecretList>, ApiError> {
    let secrets = state.jobs.secrets().list().await?;
    Ok(Json(SecretList { secrets }))
}

/// `PUT /v1/secrets/{name}`: stores or replaces a value.
pub async fn set(
    State(state): State<AppState>,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<SecretBody>,
) -> Result<Json<SecretInfo>, ApiError> {
    let value = SecretValue::new(body.value);
    Ok(Json(state.jobs.secrets().set(&name, &value).await?))
}

/// `DELETE /v1/secrets/{name}`.
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
