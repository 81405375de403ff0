//! Model calls through the job socket: the orchestrator's proxy holds the
//! key and picks the model; the worker only sends the conversation and
//! reads the answer, streamed or whole.

use bytes::Bytes;
use corral_proto::ErrorBody;
use corral_proto::llm::{ChatChunk, ChatRequest, ChatResponse, ChunkAssembler};
use corral_proto::sse::SseParser;
use corral_proto::worker::CHAT_PATH;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;

use crate::client::{Client, ClientError};

/// Why a model call failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The orchestrator refused the call; `code` says why
    /// (`budget_exceeded`, `upstream_failed`, `no_model_access`).
    #[error("{message}")]
    Refused {
        /// The stable code, when there is one.
        code: Option<String>,
        /// The orchestrator's message.
        message: String,
    },
    /// The socket or the exchange failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The answer could not be read.
    #[error("bad answer from the model: {0}")]
    Answer(String),
}

impl ModelError {
    /// The reason a job fails with for this error.
    pub fn reason(&self) -> String {
        match self {
            Self::Refused {
                code: Some(code), ..
            } if code == "budget_exceeded" => "budget exceeded".to_owned(),
            Self::Refused { message, .. } => message.clone(),
            other => format!("model call failed: {other}"),
        }
    }
}

/// One model call.
pub async fn chat(client: &Client, request: &ChatRequest) -> Result<ChatResponse, ModelError> {
    let body = Bytes::from(serde_json::to_vec(request).map_err(ClientError::from)?);
    let response = client.open(Method::POST, CHAT_PATH, body).await?;
    let status = response.status();
    let mut body = response.into_body();
    if !status.is_success() {
        let bytes = body.collect().await.map_err(ClientError::from)?.to_bytes();
        return Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) => ModelError::Refused {
                code: error.code,
                message: error.error,
            },
            Err(_) => ModelError::Refused {
                code: None,
                message: format!(
                    "orchestrator answered {status}: {}",
                    String::from_utf8_lossy(&bytes)
                ),
            },
        });
    }
    if !request.stream {
        let bytes = body.collect().await.map_err(ClientError::from)?.to_bytes();
        return serde_json::from_slice(&bytes)
            .map_err(|error| ModelError::Answer(error.to_string()));
    }
    let mut parser = SseParser::default();
    let mut answer = ChunkAssembler::default();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(ClientError::from)?;
        let Some(bytes) = frame.data_ref() else {
            continue;
        };
        for message in parser.feed(bytes) {
            if message.data == "[DONE]" {
                return Ok(answer.finish());
            }
            let value: Value = serde_json::from_str(&message.data)
                .map_err(|error| ModelError::Answer(error.to_string()))?;
            if let Some(error) = value.get("error") {
                return Err(ModelError::Refused {
                    code: error["type"].as_str().map(str::to_owned),
                    message: error["message"]
                        .as_str()
                        .unwrap_or("the model's stream failed")
                        .to_owned(),
                });
            }
            let chunk: ChatChunk = serde_json::from_value(value)
                .map_err(|error| ModelError::Answer(error.to_string()))?;
            answer.push(chunk);
        }
    }
    Err(ModelError::Answer(
        "the stream ended without [DONE]".to_owned(),
    ))
}
