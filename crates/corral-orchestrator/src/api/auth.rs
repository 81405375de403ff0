//! Middleware: the bearer-token check, and the one place 5xx causes are logged.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use tracing::error;

use super::AppState;
use crate::http::{ApiError, InternalErrorCause};
use crate::token::{Token, bearer};

/// Refuses a request without the user API token (401, nothing done).
pub async fn require_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    presents(&request, &[&state.api_token])?;
    Ok(next.run(request).await)
}

/// Refuses a request to `/mcp` without the MCP token or the user API
/// token (401, nothing done).
pub async fn require_mcp_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    presents(&request, &[&state.mcp_token, &state.api_token])?;
    Ok(next.run(request).await)
}

/// Whether `request` bears one of `tokens`.
fn presents(request: &Request, tokens: &[&Token]) -> Result<(), ApiError> {
    let presented = bearer(request.headers().get(AUTHORIZATION));
    if presented.is_some_and(|token| tokens.iter().any(|known| known.matches(token))) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Logs the cause of every 5xx (never the request's headers or query).
pub async fn log_server_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(InternalErrorCause(cause)) = response.extensions().get::<InternalErrorCause>() {
        error!(%method, %path, status = response.status().as_u16(), error = %cause, "request failed");
    }
    response
}
