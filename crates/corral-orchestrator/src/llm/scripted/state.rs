//! The server's state: the script, the requests recorded, and which turn
//! (or scripted failure) answers the next request.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::script::{Failure, RecordedRequest, SCRIPTED_MODEL, Script, Turn};
use super::wire::usage;

/// What the server's handlers share.
pub(super) struct ServerState {
    pub(super) script: Script,
    pub(super) served: AtomicU64,
    pub(super) requests: Mutex<Vec<RecordedRequest>>,
}

/// A scripted turn and what its answer carries besides.
pub(super) struct Reply<'a> {
    pub(super) turn: &'a Turn,
    pub(super) usage: corral_proto::llm::Usage,
    pub(super) model: String,
    pub(super) served: u64,
    pub(super) request: Value,
}

/// What to answer: a failure, or the turn for this conversation.
pub(super) enum Play<'a> {
    Fail(&'a Failure),
    Turn(&'a Turn),
}

impl ServerState {
    pub(super) fn record(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
        body: &Bytes,
    ) -> Value {
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            names
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert(value);
        }
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(RecordedRequest {
                method: method.to_string(),
                path: uri
                    .path_and_query()
                    .map_or_else(|| uri.path().to_owned(), ToString::to_string),
                headers: names,
                body: body.clone(),
            });
        body
    }

    pub(super) fn play(&self, body: &Value) -> Play<'_> {
        let number = self.served.fetch_add(1, Ordering::SeqCst);
        let mut before = 0;
        for failure in &self.script.failures {
            match failure.times {
                None => return Play::Fail(failure),
                Some(times) if number < before + times => return Play::Fail(failure),
                Some(times) => before += times,
            }
        }
        let assistant_turns = body["messages"].as_array().map_or(0, |messages| {
            messages
                .iter()
                .filter(|message| message["role"] == "assistant")
                .count()
        });
        Play::Turn(self.script.turn(assistant_turns))
    }

    /// The next turn for a recorded `request`, with what every answer
    /// carries; or the scripted failure to answer with.
    pub(super) fn reply(&self, request: Value) -> Result<Reply<'_>, &Failure> {
        let turn = match self.play(&request) {
            Play::Fail(failure) => return Err(failure),
            Play::Turn(turn) => turn,
        };
        Ok(Reply {
            usage: usage(&request, turn),
            model: self.model(),
            served: self.served.load(Ordering::SeqCst),
            turn,
            request,
        })
    }

    pub(super) fn model(&self) -> String {
        self.script
            .model
            .clone()
            .unwrap_or_else(|| SCRIPTED_MODEL.to_owned())
    }

    /// The pause before each streamed piece, and after the last.
    pub(super) fn delays(&self) -> (Duration, Duration) {
        (
            Duration::from_millis(self.script.piece_delay_ms),
            Duration::from_millis(self.script.end_delay_ms),
        )
    }
}

/// A request, recorded: every handler's first step. Holds its body as
/// JSON (`null` when it is none).
pub(super) struct Recorded(pub(super) Value);

impl FromRequest<Arc<ServerState>> for Recorded {
    type Rejection = Response;

    async fn from_request(
        request: Request,
        state: &Arc<ServerState>,
    ) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let (method, uri, headers) = (
            parts.method.clone(),
            parts.uri.clone(),
            parts.headers.clone(),
        );
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self(state.record(&method, &uri, &headers, &body)))
    }
}
