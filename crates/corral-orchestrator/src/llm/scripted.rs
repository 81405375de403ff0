//! A scripted model: OpenAI- and Anthropic-compatible servers over real HTTP
//! on loopback, answering from a script of turns and recording every
//! request. `corral serve --llm scripted:FILE` runs one as the default
//! provider (the demo needs no key and no network); the tests use the same
//! server to script a model and to check what reached the upstream.
//!
//! Which turn answers a request depends only on the request: the number of
//! assistant messages in its conversation. So a job's k-th model call gets
//! turn k, whatever other jobs do, and a follow-up prompt continues the
//! script. Past the last turn, the last one repeats.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt as _;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

mod script;
mod state;
mod wire;

pub use script::{Failure, RecordedRequest, SCRIPTED_MODEL, Script, Turn};
use state::{Recorded, ServerState};
use wire::{event_stream, failure_response, pieces};

/// A running scripted model on `127.0.0.1`.
pub struct ScriptedServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    /// Connections accepted so far.
    accepted: Arc<AtomicU64>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    /// Serves `script` on an ephemeral loopback port until dropped.
    pub async fn start(script: Script) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(ServerState {
            script,
            served: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/", get(alive).head(alive))
            .route("/v1/chat/completions", post(openai))
            .route("/v1/models", get(models))
            .route("/v1/messages", post(anthropic))
            .fallback(unrouted)
            .with_state(Arc::clone(&state));
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let accepted = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&accepted);
        #[expect(
            clippy::disallowed_methods,
            reason = "owned by the ScriptedServer, aborted when it is dropped"
        )]
        let task = tokio::spawn(async move {
            let listener = listener.tap_io(move |stream| {
                counted.fetch_add(1, Ordering::Relaxed);
                crate::http::no_delay(stream);
            });
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await;
        });
        Ok(Self {
            addr,
            state,
            accepted,
            stop,
            task,
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL for an `openai` provider (`http://127.0.0.1:PORT/v1`).
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The base URL for an `anthropic` provider (`http://127.0.0.1:PORT`).
    pub fn anthropic_base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections it has accepted so far.
    pub fn connections(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.stop.cancel();
        self.task.abort();
    }
}

async fn alive() -> StatusCode {
    StatusCode::OK
}

/// `GET /v1/models`: the script's model list, as OpenAI answers it.
async fn models(State(state): State<Arc<ServerState>>, _: Recorded) -> Response {
    let script = &state.script;
    let names: Vec<&str> = if script.models.is_empty() {
        vec![script.model.as_deref().unwrap_or(SCRIPTED_MODEL)]
    } else {
        script.models.iter().map(String::as_str).collect()
    };
    let data: Vec<Value> = names
        .into_iter()
        .map(|id| json!({"id": id, "object": "model", "owned_by": "corral"}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// Anything else is recorded (so a test sees what tried to reach the
/// upstream) and answered as Anthropic answers an unknown endpoint.
async fn unrouted(_: Recorded) -> Response {
    let error =
        json!({"type": "error", "error": {"type": "not_found_error", "message": "Not Found"}});
    (StatusCode::NOT_FOUND, axum::Json(error)).into_response()
}

async fn openai(State(state): State<Arc<ServerState>>, Recorded(request): Recorded) -> Response {
    let reply = match state.reply(request) {
        Ok(reply) => reply,
        Err(failure) => return failure_response(failure, false),
    };
    let (turn, served) = (reply.turn, reply.served);
    let id = format!("chatcmpl-scripted-{served}");
    let finish = if turn.tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    let calls: Vec<Value> = turn
        .tool_calls
        .iter()
        .enumerate()
        .map(|(index, call)| {
            json!({
                "id": format!("call_{served}_{index}"),
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text()},
            })
        })
        .collect();
    if reply.request["stream"] != json!(true) {
        let mut message = json!({"role": "assistant", "content": turn.text});
        if !calls.is_empty() {
            message["tool_calls"] = json!(calls);
        }
        return axum::Json(json!({
            "id": id,
            "object": "chat.completion",
            "created": 0,
            "model": reply.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": reply.usage,
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Option<&str>| {
        let chunk = json!({
            "id": id, "object": "chat.completion.chunk", "created": 0, "model": reply.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    };
    let mut frames = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    for piece in pieces(turn.text.as_deref().unwrap_or_default()) {
        frames.push(chunk(json!({ "content": piece }), None));
    }
    for (index, call) in turn.tool_calls.iter().enumerate() {
        let arguments = call.arguments_text();
        let middle = arguments.len() / 2;
        let middle = (middle..=arguments.len())
            .find(|at| arguments.is_char_boundary(*at))
            .unwrap_or(arguments.len());
        let (first, rest) = arguments.split_at(middle);
        frames.push(chunk(
            json!({"tool_calls": [{"index": index, "id": format!("call_{served}_{index}"), "type": "function",
                   "function": {"name": call.name, "arguments": first}}]}),
            None,
        ));
        frames.push(chunk(
            json!({"tool_calls": [{"index": index, "function": {"arguments": rest}}]}),
            None,
        ));
    }
    frames.push(chunk(json!({}), Some(finish)));
    if reply.request["stream_options"]["include_usage"] == json!(true) {
        let last = json!({
            "id": id, "object": "chat.completion.chunk", "created": 0, "model": reply.model,
            "choices": [], "usage": reply.usage,
        });
        frames.push(format!("data: {last}\n\n"));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    event_stream(frames, state.delays())
}

async fn anthropic(State(state): State<Arc<ServerState>>, Recorded(request): Recorded) -> Response {
    let reply = match state.reply(request) {
        Ok(reply) => reply,
        Err(failure) => return failure_response(failure, true),
    };
    let (turn, served) = (reply.turn, reply.served);
    let id = format!("msg_scripted_{served}");
    let stop_reason = if turn.tool_calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    let mut blocks = Vec::new();
    if let Some(text) = &turn.text {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for (index, call) in turn.tool_calls.iter().enumerate() {
        // Malformed arguments cannot be a JSON `input`; they become a string.
        let input = serde_json::from_str::<Value>(&call.arguments_text())
            .unwrap_or_else(|_| Value::String(call.arguments_text()));
        blocks.push(json!({"type": "tool_use", "id": format!("toolu_{served}_{index}"), "name": call.name, "input": input}));
    }
    if reply.request["stream"] != json!(true) {
        return axum::Json(json!({
            "id": id, "type": "message", "role": "assistant", "model": reply.model,
            "content": blocks, "stop_reason": stop_reason, "stop_sequence": null,
            "usage": {"input_tokens": reply.usage.prompt_tokens, "output_tokens": reply.usage.completion_tokens},
        }))
        .into_response();
    }
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut frames = vec![event(
        "message_start",
        json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": reply.model, "content": [],
            "stop_reason": null, "usage": {"input_tokens": reply.usage.prompt_tokens, "output_tokens": 1}}}),
    )];
    frames.push(event("ping", json!({"type": "ping"})));
    for (index, block) in blocks.iter().enumerate() {
        if block["type"] == "text" {
            frames.push(event("content_block_start", json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})));
            for piece in pieces(block["text"].as_str().unwrap_or_default()) {
                frames.push(event("content_block_delta", json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}})));
            }
        } else {
            frames.push(event("content_block_start", json!({"type": "content_block_start", "index": index, "content_block": {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}})));
            let input = block["input"].to_string();
            for piece in pieces(&input) {
                frames.push(event("content_block_delta", json!({"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": piece}})));
            }
        }
        frames.push(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": index}),
        ));
    }
    frames.push(event(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
               "usage": {"output_tokens": reply.usage.completion_tokens}}),
    ));
    frames.push(event("message_stop", json!({"type": "message_stop"})));
    event_stream(frames, state.delays())
}

#[cfg(test)]
mod tests;
