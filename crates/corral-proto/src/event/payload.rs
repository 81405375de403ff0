//! What each kind of event carries: one struct per [`EventKind`], built by
//! whoever sends the event and read back by whoever shows it, so neither
//! side writes or reads a field by its name in a string.
//!
//! An event stays `{kind, data}` on the wire and in the store; these types
//! are the `data` of each kind. [`EventData`] is all of them in one enum, for
//! checking what a sender wrote ([`EventData::parse`]) and for the API schema.
//! Claude Code's stream carries fields corral passes along untouched (its
//! raw line, model, tools, turn counts): those ride in `extra`.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exec::{ExecEndedData, ExecStartedData};
use super::records::{LlmUsageData, NetworkData};
use super::{EventKind, Payload};
use crate::JobState;
use crate::verify::ContainerProfile;

/// Phases a worker may report: Claude Code started, and it retries a model
/// call. The orchestrator's own (`waiting`, `ending`) it may not.
pub const WORKER_PHASES: [&str; 2] = [PHASE_CLAUDE_INIT, PHASE_CLAUDE_RETRY];
/// Claude Code started (worker).
pub const PHASE_CLAUDE_INIT: &str = "claude_init";
/// Claude Code retries a model call (worker).
pub const PHASE_CLAUDE_RETRY: &str = "claude_retry";
/// An interactive job waits for a prompt (orchestrator).
pub const PHASE_WAITING: &str = "waiting";
/// The user ended an interactive job; it finishes its turn (orchestrator).
pub const PHASE_ENDING: &str = "ending";

/// `status`: the job's state changed (the orchestrator's alone), or a step
/// within it (`phase`, which a worker may report).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusData {
    /// The new state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<JobState>,
    /// Why it changed, for an end that needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// With `running`: the container's profile as the engine reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ContainerProfile>,
    /// A step within the state (`ending`, `waiting`, `claude_init`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The step for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Fields passed along from Claude Code.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// Who a message is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    /// A prompt, recorded by the orchestrator.
    User,
    /// The model.
    Assistant,
    /// The agent's own account (Claude Code's system lines, its result).
    System,
}

/// `message`: a prompt, the model's text, or the agent's own account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MessageData {
    /// Who it is from.
    pub role: MessageRole,
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// With a user's message: the prompt's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<u64>,
    /// With a system message: what kind (`result`, Claude Code's subtypes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    /// With a `result`: whether the agent says it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
    /// Fields passed along from Claude Code.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl MessageData {
    /// A system message with nothing in it yet.
    pub fn system() -> Self {
        Self {
            role: MessageRole::System,
            text: None,
            prompt: None,
            subtype: None,
            ok: None,
            extra: BTreeMap::new(),
        }
    }

    /// A message of `role` saying `text`.
    pub fn new(role: MessageRole, text: impl Into<String>) -> Self {
        Self {
            role,
            text: Some(text.into()),
            prompt: None,
            subtype: None,
            ok: None,
            extra: BTreeMap::new(),
        }
    }
}

/// `tool_call`: a tool the agent called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ToolCallData {
    /// The call's id, which its result names.
    #[serde(default)]
    pub id: Option<String>,
    /// The tool.
    #[serde(default)]
    pub name: Option<String>,
    /// Its arguments, as the model wrote them.
    #[serde(default)]
    pub arguments: Value,
    /// Fields passed along from Claude Code.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// `tool_result`: what a tool returned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ToolResultData {
    /// The call it answers.
    #[serde(default)]
    pub id: Option<String>,
    /// The tool, when the sender knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the tool did what it was asked.
    pub ok: bool,
    /// What it returned, cut to a bound.
    #[serde(default)]
    pub output: String,
    /// How long the tool ran, when the sender timed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Fields passed along from Claude Code.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The stream a process wrote to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl OutputStream {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }

    /// The stream named `name` on the wire.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "stdout" => Some(Self::Stdout),
            "stderr" => Some(Self::Stderr),
            _ => None,
        }
    }
}

/// `output`: a piece of a process's output, as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputData {
    /// Where it was written.
    pub stream: OutputStream,
    /// The text.
    pub text: String,
    /// In a sandbox: the exec that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<u64>,
}

/// An `output` event's payload read in place, without copying its text
/// (the hot path: every byte a job prints passes here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputRef<'a> {
    /// Where it was written.
    pub stream: OutputStream,
    /// The text.
    pub text: &'a str,
    /// In a sandbox: the exec that wrote it.
    #[serde(default)]
    pub exec: Option<u64>,
}

/// `error` or `warning`: something that failed, or is worth knowing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeData {
    /// What happened, for people.
    pub message: String,
}

impl NoticeData {
    /// A notice saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The payload of any event, one variant per kind.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EventData {
    /// `status` (boxed: it may carry a container profile).
    Status(Box<StatusData>),
    /// `message`.
    Message(MessageData),
    /// `tool_call`.
    ToolCall(ToolCallData),
    /// `tool_result`.
    ToolResult(ToolResultData),
    /// `output`.
    Output(OutputData),
    /// `llm_usage`.
    LlmUsage(LlmUsageData),
    /// `result`: the worker's own account of how the job ended.
    Result(Completion),
    /// `error`.
    Error(NoticeData),
    /// `warning`.
    Warning(NoticeData),
    /// `network`.
    Network(NetworkData),
    /// `exec_started`.
    ExecStarted(ExecStartedData),
    /// `exec_ended`.
    ExecEnded(ExecEndedData),
}

impl EventData {
    /// `data` read as the payload of `kind`; the error names the field at fault.
    pub fn parse(kind: EventKind, data: &Value) -> Result<Self, PayloadError> {
        fn read<T: DeserializeOwned>(data: &Value) -> Result<T, PayloadError> {
            serde_path_to_error::deserialize(data).map_err(|error| {
                let path = error.path().to_string();
                let message = crate::error::without_position(error.inner());
                // serde names a missing field in its message, at its parent's path.
                let missing = message
                    .strip_prefix("missing field `")
                    .and_then(|rest| rest.split('`').next());
                let field = match missing {
                    Some(name) if path == "." => name.to_owned(),
                    Some(name) => format!("{path}.{name}"),
                    None => path,
                };
                PayloadError { field, message }
            })
        }
        Ok(match kind {
            EventKind::Status => Self::Status(Box::new(read(data)?)),
            EventKind::Message => Self::Message(read(data)?),
            EventKind::ToolCall => Self::ToolCall(read(data)?),
            EventKind::ToolResult => Self::ToolResult(read(data)?),
            EventKind::Output => Self::Output(read(data)?),
            EventKind::LlmUsage => Self::LlmUsage(read(data)?),
            EventKind::Result => Self::Result(read(data)?),
            EventKind::Error => Self::Error(read(data)?),
            EventKind::Warning => Self::Warning(read(data)?),
            EventKind::Network => Self::Network(read(data)?),
            EventKind::ExecStarted => Self::ExecStarted(read(data)?),
            EventKind::ExecEnded => Self::ExecEnded(read(data)?),
        })
    }
}

/// A payload that is not what its kind carries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PayloadError {
    /// The field at fault, dotted (`.` for the payload itself).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// How the worker says its job went. The orchestrator records it, but
/// decides the job's state from the container's own exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CompletionStatus {
    /// The work finished as asked.
    Succeeded,
    /// It did not.
    Failed,
}

/// `POST /v1/complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Completion {
    /// The worker's view of the outcome.
    pub status: CompletionStatus,
    /// A line for people.
    #[serde(default)]
    pub summary: String,
    /// The command's exit code, in exec mode.
    #[serde(default)]
    pub exit_code: Option<i64>,
    /// Why it failed, in a few words (`iteration limit`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Payload for StatusData {
    const KIND: EventKind = EventKind::Status;
}
impl Payload for MessageData {
    const KIND: EventKind = EventKind::Message;
}
impl Payload for ToolCallData {
    const KIND: EventKind = EventKind::ToolCall;
}
impl Payload for ToolResultData {
    const KIND: EventKind = EventKind::ToolResult;
}
impl Payload for OutputData {
    const KIND: EventKind = EventKind::Output;
}
impl Payload for Completion {
    const KIND: EventKind = EventKind::Result;
}

#[cfg(test)]
mod tests;
