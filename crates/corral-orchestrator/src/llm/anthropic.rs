//! OpenAI Chat Completions ↔ Anthropic Messages, both ways, streaming too.
//! Pure functions and a streaming state machine: tested without a network.
//!
//! - system and developer messages become the `system` prompt;
//! - assistant tool calls become `tool_use` blocks, `tool` messages become
//!   `tool_result` blocks in a user turn (consecutive turns of one role are
//!   merged, as the Messages API wants them alternating);
//! - stop reasons, usage and streamed events map back to OpenAI's shapes,
//!   the stream ending in `data: [DONE]`.

use corral_proto::llm::{
    ChatMessage, ChatRequest, ChatResponse, Choice, FunctionCall, Role, ToolCall, Usage,
};
use corral_proto::sse::SseMessage;
use serde_json::{Map, Value, json};

/// Builds the Messages API body for `request`, on `model`.
pub fn to_messages_request(request: &ChatRequest, model: &str, default_max_tokens: u64) -> Value {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    // What the tool calls' arguments may take once read, for the request.
    let mut budget = crate::http::weight::MOST_WEIGHT;
    for message in &request.messages {
        let (role, blocks) = match message.role {
            Role::System | Role::Developer => {
                system.push(message.text_content());
                continue;
            }
            Role::User => ("user", user_blocks(message)),
            Role::Assistant => ("assistant", assistant_blocks(message, &mut budget)),
            Role::Tool => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": message.tool_call_id.clone().unwrap_or_default(),
                    "content": message.text_content(),
                })],
            ),
        };
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, earlier)) if *last == role => earlier.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let max_tokens = request
        .max_tokens
        .or_else(|| request.extra.get("max_completion_tokens")?.as_u64())
        .unwrap_or(default_max_tokens);
    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    body.insert("max_tokens".into(), json!(max_tokens));
    body.insert(
        "messages".into(),
        Value::Array(
            turns
                .into_iter()
                .map(|(role, content)| json!({"role": role, "content": content}))
                .collect(),
        ),
    );
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    if !request.tools.is_empty() {
        let tools = request
            .tools
            .iter()
            .map(|tool| {
                let schema = if tool.function.parameters.is_object() {
                    tool.function.parameters.clone()
                } else {
                    json!({"type": "object", "properties": {}})
                };
                json!({
                    "name": tool.function.name,
                    "description": tool.function.description,
                    "input_schema": schema,
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(choice) = request.tool_choice.as_ref().and_then(tool_choice) {
        body.insert("tool_choice".into(), choice);
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if let Some(top_p) = request.extra.get("top_p") {
        body.insert("top_p".into(), top_p.clone());
    }
    match request.extra.get("stop") {
        Some(Value::String(stop)) => {
            body.insert("stop_sequences".into(), json!([stop]));
        }
        Some(stops @ Value::Array(_)) => {
            body.insert("stop_sequences".into(), stops.clone());
        }
        _ => {}
    }
    if request.stream {
        body.insert("stream".into(), json!(true));
    }
    Value::Object(body)
}

fn user_blocks(message: &ChatMessage) -> Vec<Value> {
    let text = message.text_content();
    if text.is_empty() {
        return Vec::new();
    }
    vec![json!({"type": "text", "text": text})]
}

fn assistant_blocks(message: &ChatMessage, budget: &mut usize) -> Vec<Value> {
    let mut blocks = Vec::new();
    let text = message.text_content();
    if !text.is_empty() {
        blocks.push(json!({"type": "text", "text": text}));
    }
    for call in &message.tool_calls {
        // `input` must be an object; arguments the model got wrong are kept
        // so it can see its mistake, and so are those past the budget.
        let input = match read_arguments(&call.function.arguments, budget) {
            Some(object @ Value::Object(_)) => object,
            _ => json!({ "_unparsed_arguments": call.function.arguments }),
        };
        blocks.push(json!({
            "type": "tool_use",
            "id": call.id,
            "name": call.function.name,
            "input": input,
        }));
    }
    blocks
}

/// A tool call's `arguments` read as JSON, when what they would take once
/// read fits what is left of the request's `budget` (taken from it): the
/// request's text was weighed with them as strings, so a call of many
/// small values is not read into values past the budget.
fn read_arguments(arguments: &str, budget: &mut usize) -> Option<Value> {
    let weight = crate::http::weight::text_weight(arguments.as_bytes()).ok()?;
    *budget = budget.checked_sub(weight)?;
    serde_json::from_str(arguments).ok()
}

fn tool_choice(choice: &Value) -> Option<Value> {
    match choice {
        Value::String(mode) => match mode.as_str() {
            "auto" => Some(json!({"type": "auto"})),
            "none" => Some(json!({"type": "none"})),
            "required" => Some(json!({"type": "any"})),
            _ => None,
        },
        Value::Object(_) => {
            let name = choice["function"]["name"].as_str()?;
            Some(json!({"type": "tool", "name": name}))
        }
        _ => None,
    }
}

/// OpenAI's `finish_reason` for an Anthropic `stop_reason`.
fn finish_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "tool_use" => "tool_calls",
        "max_tokens" => "length",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// Input tokens of an Anthropic `usage`, cache reads and writes included.
pub(super) fn input_tokens(usage: &Value) -> u64 {
    [
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ]
    .iter()
    .filter_map(|key| usage[*key].as_u64())
    .sum()
}

/// Translates a whole Messages API answer.
pub fn from_messages_response(answer: &Value) -> ChatResponse {
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in answer["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or_default()),
            Some("tool_use") => tool_calls.push(ToolCall {
                id: block["id"].as_str().unwrap_or_default().to_owned(),
                kind: "function".into(),
                function: FunctionCall {
                    name: block["name"].as_str().unwrap_or_default().to_owned(),
                    arguments: block["input"].to_string(),
                },
            }),
            _ => {}
        }
    }
    let usage = &answer["usage"];
    ChatResponse {
        id: answer["id"].as_str().unwrap_or_default().to_owned(),
        object: "chat.completion".into(),
        created: 0,
        model: answer["model"].as_str().unwrap_or_default().to_owned(),
        choices: vec![Choice {
            index: 0,
            message: ChatMessage {
                content: (!text.is_empty()).then_some(Value::String(text)),
                tool_calls,
                ..ChatMessage::text(Role::Assistant, "")
            },
            finish_reason: answer["stop_reason"]
                .as_str()
                .map(|reason| finish_reason(reason).to_owned()),
        }],
        usage: Some(Usage::new(
            input_tokens(usage),
            usage["output_tokens"].as_u64().unwrap_or(0),
        )),
    }
}

/// Turns Anthropic stream events into OpenAI chunks, one event at a time.
#[derive(Debug, Default)]
pub struct StreamTranslator {
    id: String,
    model: String,
    /// Anthropic block index → OpenAI tool call index, for `tool_use` blocks.
    tool_blocks: Vec<(u64, u32)>,
    usage: Usage,
    include_usage: bool,
    done: bool,
}

impl StreamTranslator {
    /// A translator; `include_usage` adds OpenAI's final usage chunk.
    pub fn new(include_usage: bool) -> Self {
        Self {
            include_usage,
            ..Self::default()
        }
    }

    /// Token counts seen so far.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// The OpenAI `data:` frames for one Anthropic event.
    pub fn push(&mut self, message: &SseMessage) -> Vec<String> {
        // Nothing follows `[DONE]`, whatever an upstream sends after its
        // end (found by fuzzing: a `message_delta` after `message_stop`).
        if self.done {
            return Vec::new();
        }
        let Ok(event) = serde_json::from_str::<Value>(&message.data) else {
            return Vec::new();
        };
        match event["type"].as_str().unwrap_or(&message.event) {
            "message_start" => {
                let start = &event["message"];
                start["id"]
                    .as_str()
                    .unwrap_or_default()
                    .clone_into(&mut self.id);
                start["model"]
                    .as_str()
                    .unwrap_or_default()
                    .clone_into(&mut self.model);
                self.usage = Usage::new(
                    input_tokens(&start["usage"]),
                    start["usage"]["output_tokens"].as_u64().unwrap_or(0),
                );
                vec![self.chunk(&json!({"role": "assistant", "content": ""}), None)]
            }
            "content_block_start" => self.block_start(&event),
            "content_block_delta" => self.block_delta(&event),
            "message_delta" => {
                if let Some(output) = event["usage"]["output_tokens"].as_u64() {
                    self.usage = Usage::new(self.usage.prompt_tokens, output);
                }
                match event["delta"]["stop_reason"].as_str() {
                    Some(reason) => vec![self.chunk(&json!({}), Some(finish_reason(reason)))],
                    None => Vec::new(),
                }
            }
            "message_stop" => self.finish(),
            "error" => {
                self.done = true;
                let error = json!({"error": {
                    "type": event["error"]["type"].as_str().unwrap_or("upstream_error"),
                    "message": event["error"]["message"].as_str().unwrap_or("upstream error"),
                }});
                vec![format!("data: {error}\n\n"), "data: [DONE]\n\n".to_owned()]
            }
            _ => Vec::new(),
        }
    }

    /// The closing frames: the usage chunk when asked for, and `[DONE]`.
    pub fn finish(&mut self) -> Vec<String> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let mut frames = Vec::new();
        if self.include_usage {
            let chunk = json!({
                "id": self.id, "object": "chat.completion.chunk", "created": 0,
                "model": self.model, "choices": [], "usage": self.usage,
            });
            frames.push(format!("data: {chunk}\n\n"));
        }
        frames.push("data: [DONE]\n\n".to_owned());
        frames
    }

    fn block_start(&mut self, event: &Value) -> Vec<String> {
        let block = &event["content_block"];
        if block["type"] != "tool_use" {
            return Vec::new();
        }
        let index = self.tool_blocks.len() as u32;
        self.tool_blocks
            .push((event["index"].as_u64().unwrap_or(0), index));
        vec![self.chunk(
            &json!({"tool_calls": [{
                "index": index, "id": block["id"], "type": "function",
                "function": {"name": block["name"], "arguments": ""},
            }]}),
            None,
        )]
    }

    fn block_delta(&mut self, event: &Value) -> Vec<String> {
        let delta = &event["delta"];
        match delta["type"].as_str() {
            Some("text_delta") => vec![self.chunk(&json!({"content": delta["text"]}), None)],
            Some("input_json_delta") => {
                let block = event["index"].as_u64().unwrap_or(0);
                let Some(&(_, index)) = self.tool_blocks.iter().find(|(at, _)| *at == block) else {
                    return Vec::new();
                };
                vec![self.chunk(
            &json!({"tool_calls": [{"index": index, "function": {"arguments": delta["partial_json"]}}]}),
                    None,
                )]
            }
            _ => Vec::new(),
        }
    }

    fn chunk(&self, delta: &Value, finish: Option<&str>) -> String {
        let chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": 0, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        });
        format!("data: {chunk}\n\n")
    }
}

/// The text of an upstream error body: its `error.message` when it has one.
pub fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let parsed = serde_json::from_str::<Value>(&text).ok().and_then(|value| {
        value["error"]["message"]
            .as_str()
            .or_else(|| value["error"].as_str())
            .map(str::to_owned)
    });
    parsed.unwrap_or_else(|| text.into_owned())
}

#[cfg(test)]
mod tests;
