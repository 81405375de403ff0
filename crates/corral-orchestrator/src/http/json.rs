//! corral's own JSON extractor: a rejection is an [`ApiError`] naming the
//! field at fault (`limits.memory`), not axum's plain-text default.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

use super::ApiError;
use corral_proto::error::without_position;

/// A JSON body, deserialized with the path of any failing field.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        if let Some(content_type) = content_type
            && !content_type.starts_with("application/json")
        {
            return Err(ApiError::BadRequest {
                message: format!("expected application/json, got {content_type}"),
                field: None,
            });
        }
        let extensions = request.extensions().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest {
                        message: rejection.body_text(),
                        field: None,
                    }
                }
            })?;
        let weight = super::weight::check(&bytes)?;
        super::held::take(&extensions, weight).await;
        parse_weighed(&bytes).map(ApiJson)
    }
}

/// A query string; a rejection is an [`ApiError`] (JSON), not plain text.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| ApiError::BadRequest {
                message: rejection.body_text(),
                field: None,
            })
    }
}

/// Deserializes `bytes`, naming the failing field in the error; refuses
/// first JSON that would take far more memory once read than its length
/// (see `weight`), and anything but whitespace after the value.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    super::weight::check(bytes)?;
    parse_weighed(bytes)
}

/// [`parse`], its weight already checked.
fn parse_weighed<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    let value = read(deserializer)?;
    deserializer.end().map_err(|error| ApiError::BadRequest {
        message: format!("malformed JSON: {error}"),
        field: None,
    })?;
    Ok(value)
}

/// The value `deserializer` holds, naming the failing field in the error.
fn read<'de, T: serde::Deserialize<'de>>(
    deserializer: &mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>,
) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::BadRequest {
                message: format!("malformed JSON: {inner}"),
                field: None,
            };
        }
        let field = (path != ".").then_some(path);
        let inner = without_position(&inner);
        ApiError::BadRequest {
            message: match &field {
                Some(field) => format!("{field}: {inner}"),
                None => inner,
            },
            field,
        }
    })
}

#[cfg(test)]
mod tests {
    use corral_proto::JobSpec;

    use super::*;

    fn field_of(body: &str) -> Option<String> {
        match parse::<JobSpec>(body.as_bytes()) {
            Err(ApiError::BadRequest { field, .. }) => field,
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        assert_eq!(
            field_of(r#"{"limits": {"memory": -5}}"#).as_deref(),
            Some("limits.memory")
        );
        assert_eq!(field_of(r#"{"mode": "teleport"}"#).as_deref(), Some("mode"));
        assert_eq!(field_of(r#"{"command": 7}"#).as_deref(), Some("command"));
    }

    #[test]
    fn a_named_field_s_message_carries_no_text_position() {
        match parse::<JobSpec>(br#"{"limits": {"memory": true}}"#) {
            Err(ApiError::BadRequest { message, .. }) => {
                assert!(message.starts_with("limits.memory: "), "{message}");
                assert!(!message.contains("line 1"), "{message}");
            }
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn malformed_json_has_no_field() {
        assert_eq!(field_of("{\"command\": "), None);
    }

    #[test]
    fn only_whitespace_may_follow_the_value() {
        assert_eq!(field_of(r#"{"command": "true"} junk"#), None);
        assert_eq!(field_of(r#"{"command": "true"}{}"#), None);
        parse::<JobSpec>(b"{\"command\": \"true\"}\r\n ").expect("whitespace after");
    }
}
