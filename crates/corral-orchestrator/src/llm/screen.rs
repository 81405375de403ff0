//! What a job may ask its model provider for, checked before a request
//! leaves with the real key: the job's model (any other is rewritten to
//! it), an output cap within what is left of the token budget, one answer
//! per call, and nothing the provider would run or fetch on the job's
//! behalf (server-side tools, MCP servers, content by URL or stored file):
//! a job without a network must not get one through its model.
//!
//! Fields are allow-listed: a request that carries anything else is
//! refused, not trimmed, so the job sees why.

use corral_proto::llm::ChatRequest;
use serde_json::{Map, Value};

use super::endpoint::{Endpoint, NotAllowed};

/// Top-level fields of a Messages API body that are forwarded: the
/// documented request, and what the pinned `claude` CLI sends.
const MESSAGES_FIELDS: &[&str] = &[
    "model",
    "messages",
    "system",
    "max_tokens",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_k",
    "top_p",
    "tools",
    "tool_choice",
    "thinking",
    "context_management",
    "output_config",
];
/// Anthropic tool types run by the client (the job), not the provider.
const CLIENT_TOOL_PREFIXES: &[&str] = &["bash_", "text_editor_", "computer_", "memory_"];
/// `source` types that carry their content inline.
const INLINE_SOURCES: &[&str] = &["base64", "text", "content"];
/// Chat Completions fields forwarded besides the typed ones.
const CHAT_FIELDS: &[&str] = &[
    "top_p",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
    "parallel_tool_calls",
    "max_completion_tokens",
    "stream_options",
    "reasoning_effort",
    "logprobs",
    "top_logprobs",
    "n",
];
/// Chat content parts forwarded (an image only as a `data:` URL).
const CHAT_PARTS: &[&str] = &["text", "image_url", "input_audio"];

/// Why a request was not forwarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// An endpoint that is not on the list.
    #[error(transparent)]
    Endpoint(#[from] NotAllowed),
    /// A body that is not a JSON object.
    #[error("the request body is not a JSON object")]
    NotAnObject,
    /// A body that would take far more memory once read than its length,
    /// or that holds a key the JSON reader keeps for itself (see
    /// `http::weight`).
    #[error(transparent)]
    Body(#[from] crate::http::weight::Refused),
    /// A field the proxy does not forward.
    #[error("field `{field}` is not forwarded to the model provider")]
    Field {
        /// Its name.
        field: String,
    },
    /// A tool the provider would run itself.
    #[error(
        "tool type `{kind}` runs on the model provider's side and is not forwarded: only the \
         job's own tools are"
    )]
    ProviderTool {
        /// Its type.
        kind: String,
    },
    /// Content the provider would fetch itself.
    #[error(
        "content by {what} is fetched by the model provider and is not forwarded: send it inline"
    )]
    RemoteContent {
        /// What kind: a URL, a stored file.
        what: String,
    },
    /// More than one answer asked for in one call.
    #[error("`n` must be 1: one answer per model call")]
    Choices,
}

/// What screening changed, for the job's warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Screened {
    /// The model the request named, when it was not the job's and was
    /// rewritten to it.
    pub rewritten_model: Option<String>,
}

/// Checks a Messages API body for `endpoint` and makes it the job's:
/// its `model`, and a `max_tokens` within `remaining` tokens.
pub fn screen_messages(
    body: &mut Value,
    endpoint: Endpoint,
    model: &str,
    remaining: u64,
) -> Result<Screened, Refusal> {
    let object = body.as_object_mut().ok_or(Refusal::NotAnObject)?;
    if let Some(field) = object
        .keys()
        .find(|field| !MESSAGES_FIELDS.contains(&field.as_str()))
    {
        return Err(Refusal::Field {
            field: field.clone(),
        });
    }
    for tool in object
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check_tool_type(tool)?;
    }
    for field in ["messages", "system"] {
        if let Some(content) = object.get(field) {
            check_inline(content)?;
        }
    }
    let screened = Screened {
        rewritten_model: rewrite_model(object, model),
    };
    if endpoint.is_model_call() {
        cap_messages_output(object, remaining.max(1));
    }
    Ok(screened)
}

/// Checks a chat call and makes it the job's: its model, one answer, an
/// output cap within `remaining` tokens.
pub fn screen_chat(
    request: &mut ChatRequest,
    model: &str,
    remaining: u64,
) -> Result<Screened, Refusal> {
    if let Some(field) = request
        .extra
        .keys()
        .find(|field| !CHAT_FIELDS.contains(&field.as_str()))
    {
        return Err(Refusal::Field {
            field: field.clone(),
        });
    }
    if request
        .extra
        .get("n")
        .is_some_and(|n| n.as_u64() != Some(1))
    {
        return Err(Refusal::Choices);
    }
    if let Some(tool) = request.tools.iter().find(|tool| tool.kind != "function") {
        return Err(Refusal::ProviderTool {
            kind: tool.kind.clone(),
        });
    }
    for message in &request.messages {
        for part in message
            .content
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            check_chat_part(part)?;
        }
    }
    let rewritten_model = request.model.take().filter(|asked| asked != model);
    let remaining = remaining.max(1);
    if let Some(max_tokens) = &mut request.max_tokens {
        *max_tokens = (*max_tokens).min(remaining);
    }
    if let Some(cap) = request.extra.get_mut("max_completion_tokens") {
        cap_tokens(cap, remaining);
    }
    Ok(Screened { rewritten_model })
}

fn check_tool_type(tool: &Value) -> Result<(), Refusal> {
    let kind = match tool.get("type") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(kind)) => kind.as_str(),
        Some(other) => {
            return Err(Refusal::ProviderTool {
                kind: other.to_string(),
            });
        }
    };
    if kind == "custom"
        || CLIENT_TOOL_PREFIXES
            .iter()
            .any(|prefix| kind.starts_with(prefix))
    {
        return Ok(());
    }
    Err(Refusal::ProviderTool {
        kind: kind.to_owned(),
    })
}

/// Refuses content the provider would fetch: a `source` that is not
/// inline, or a reference to a stored file, anywhere in `value`.
fn check_inline(value: &Value) -> Result<(), Refusal> {
    match value {
        Value::Array(items) => items.iter().try_for_each(check_inline),
        Value::Object(object) => {
            if object.contains_key("file_id") {
                return Err(Refusal::RemoteContent {
                    what: "stored file".into(),
                });
            }
            if let Some(source) = object.get("source").and_then(Value::as_object) {
                let kind = source.get("type").and_then(Value::as_str).unwrap_or("");
                if !INLINE_SOURCES.contains(&kind) {
                    return Err(Refusal::RemoteContent {
                        what: format!("`{kind}` source"),
                    });
                }
            }
            object.values().try_for_each(check_inline)
        }
        _ => Ok(()),
    }
}

fn check_chat_part(part: &Value) -> Result<(), Refusal> {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
    if !CHAT_PARTS.contains(&kind) {
        return Err(Refusal::RemoteContent {
            what: format!("`{kind}` part"),
        });
    }
    let url = part.pointer("/image_url/url").and_then(Value::as_str);
    if kind == "image_url" && !url.is_some_and(|url| url.starts_with("data:")) {
        return Err(Refusal::RemoteContent { what: "URL".into() });
    }
    Ok(())
}

/// Sets the job's model; returns the one asked for when it differed.
fn rewrite_model(object: &mut Map<String, Value>, model: &str) -> Option<String> {
    let asked = object.insert("model".into(), Value::String(model.to_owned()));
    match asked {
        Some(Value::String(asked)) if asked == model => None,
        Some(Value::String(asked)) => Some(asked),
        Some(other) => Some(other.to_string()),
        None => None,
    }
}

/// Lowers `max_tokens` (and a thinking budget, which must stay below it)
/// to what is left of the job's tokens.
fn cap_messages_output(object: &mut Map<String, Value>, remaining: u64) {
    let Some(cap) = object.get_mut("max_tokens") else {
        return;
    };
    cap_tokens(cap, remaining);
    let Some(max_tokens) = cap.as_u64() else {
        return;
    };
    if let Some(budget) = object
        .get_mut("thinking")
        .and_then(|thinking| thinking.get_mut("budget_tokens"))
        && budget.as_u64().is_some_and(|budget| budget >= max_tokens)
    {
        *budget = Value::from(max_tokens.saturating_sub(1));
    }
}

/// Lowers a token count to `remaining`; anything but a count becomes it.
fn cap_tokens(value: &mut Value, remaining: u64) {
    match value.as_u64() {
        Some(count) if count <= remaining => {}
        _ => *value = Value::from(remaining),
    }
}

#[cfg(test)]
mod tests;
