//! The one error type of corral's HTTP APIs (the user API, the worker API,
//! `/mcp`).
//!
//! 4xx answers say what was wrong and are not logged. A 5xx answer reveals
//! nothing: the error rides in the response's extensions and the logging
//! middleware writes it to the log.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use corral_proto::ErrorBody;

/// An API error, mapped to a status by [`ApiError::status`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Bad input; `field` names the culprit when there is one.
    #[error("{message}")]
    BadRequest {
        /// What is wrong.
        message: String,
        /// The field at fault.
        field: Option<String>,
    },
    /// The body is over the route's size limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// More than a named limit allows (413 naming it).
    #[error("{message}")]
    TooLarge {
        /// What was too large.
        message: String,
        /// The limit's name.
        field: String,
    },
    /// Too much at once; try again later (429).
    #[error("{message}")]
    TooManyRequests {
        /// Why.
        message: String,
    },
    /// Something the request depends on failed (502): a sandbox that
    /// could not do what it was asked.
    #[error("{message}")]
    BadGateway {
        /// Its account.
        message: String,
    },
    /// Missing or wrong bearer token.
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// No such thing.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// Not allowed for this caller.
    #[error("{message}")]
    Forbidden {
        /// Why.
        message: String,
    },
    /// The request conflicts with the current state.
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
    },
    /// The server cannot do it now (the sandbox check fails); the message
    /// says why.
    #[error("{message}")]
    Unavailable {
        /// Why.
        message: String,
    },
    /// Something failed inside; details go to the log only.
    #[error("internal error")]
    Internal(#[source] Arc<dyn std::error::Error + Send + Sync>),
}

/// A 5xx's cause, left in the response extensions for the logging middleware.
#[derive(Debug, Clone)]
pub struct InternalErrorCause(pub Arc<dyn std::error::Error + Send + Sync>);

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge | Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bad request naming `field`.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// Wraps an internal failure.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Arc::new(error))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let field = match &self {
            Self::BadRequest { field, .. } => field.clone(),
            Self::TooLarge { field, .. } => Some(field.clone()),
            _ => None,
        };
        let body = ErrorBody {
            error: self.to_string(),
            field,
            code: None,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            // The request's body was not read whole: the connection can
            // carry no other request, and a client that reused it would
            // find it closed under its next one.
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        if let Self::Internal(cause) = self {
            response.extensions_mut().insert(InternalErrorCause(cause));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_too_large_closes_the_connection_and_nothing_else_does() {
        let too_large = ApiError::PayloadTooLarge.into_response();
        assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.headers()[axum::http::header::CONNECTION], "close");
        let missing = ApiError::NotFound { what: "x".into() }.into_response();
        assert!(
            missing
                .headers()
                .get(axum::http::header::CONNECTION)
                .is_none()
        );
    }
}
