//! A job's event stream: everything a job says, in order, numbered densely.

mod access;
mod exec;
mod payload;
mod records;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

pub use exec::{ExecEndedData, ExecStartedData};
pub use payload::{
    Completion, CompletionStatus, EventData, MessageData, MessageRole, NoticeData, OutputData,
    OutputRef, OutputStream, PHASE_CLAUDE_INIT, PHASE_CLAUDE_RETRY, PHASE_ENDING, PHASE_WAITING,
    PayloadError, StatusData, ToolCallData, ToolResultData, WORKER_PHASES,
};
pub use records::{LlmUsageData, NetworkData};

/// Length of a UTF-8 sequence cut short at the end of `bytes` (0 to 3):
/// whoever reads output in pieces holds it back and judges it with the
/// bytes after it, as one text would, so an `output` event never carries
/// half a character.
pub fn incomplete_utf8_tail(bytes: &[u8]) -> usize {
    for back in 1..=bytes.len().min(3) {
        let byte = bytes[bytes.len() - back];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: its lead is further back
        }
        let needed = match byte {
            0b1100_0000..=0b1101_1111 => 2,
            0b1110_0000..=0b1110_1111 => 3,
            0b1111_0000..=0b1111_0111 => 4,
            _ => return 0,
        };
        return if needed > back { back } else { 0 };
    }
    0
}

/// What an event is about. Unknown kinds are refused at the boundary so the
/// stream stays something clients can render.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The job changed state: `{"state": "...", "reason": "..."}`.
    Status,
    /// Assistant text.
    Message,
    /// A tool the agent called.
    ToolCall,
    /// What that tool returned.
    ToolResult,
    /// A chunk of a process's output: `{"stream": "stdout"|"stderr", "text": "..."}`.
    Output,
    /// One model call's usage and cost.
    LlmUsage,
    /// The worker's own account of how the job ended.
    Result,
    /// Something failed.
    Error,
    /// Something worth knowing that did not end the job (a child killed by OOM).
    Warning,
    /// A connection through the egress proxy: `{"host", "port", "allowed",
    /// "reason", "bytes_up", "bytes_down"}`.
    Network,
    /// A sandbox began an exec.
    ExecStarted,
    /// A sandbox's exec ended: its exit code and duration.
    ExecEnded,
}

impl EventKind {
    /// The name used on the wire and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Message => "message",
            Self::ToolCall => "tool_call",
            Self::ToolResult => "tool_result",
            Self::Output => "output",
            Self::LlmUsage => "llm_usage",
            Self::Result => "result",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Network => "network",
            Self::ExecStarted => "exec_started",
            Self::ExecEnded => "exec_ended",
        }
    }

    /// Parses a stored kind name.
    pub fn parse(name: &str) -> Option<Self> {
        serde_json::from_value(Value::String(name.to_owned())).ok()
    }
}

/// An event not yet stored: the store gives it its job, number and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewEvent {
    /// What the event is about.
    pub kind: EventKind,
    /// Kind-specific payload: the `data` of `EventData` for its `kind`.
    #[serde(default)]
    pub data: Value,
    /// Set by the orchestrator's leak detector; whatever a sender says is ignored.
    #[serde(default, skip_serializing_if = "is_false")]
    pub redacted: bool,
}

impl NewEvent {
    /// An event of `kind` carrying `data`.
    pub fn new(kind: EventKind, data: Value) -> Self {
        Self {
            kind,
            data,
            redacted: false,
        }
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

/// A stored event, as every reader sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// The job it belongs to.
    pub job_id: String,
    /// Dense, increasing per job, starting at 1.
    pub seq: u64,
    /// When the orchestrator stored it.
    #[serde(with = "crate::timestamp")]
    pub ts: OffsetDateTime,
    /// What it is about.
    pub kind: EventKind,
    /// Kind-specific payload: the `data` of `EventData` for its `kind`.
    pub data: Value,
    /// Something in it was replaced by `[REDACTED:…]`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub redacted: bool,
}

/// The `data` of one kind of event.
pub trait Payload: Serialize + DeserializeOwned {
    /// The kind of event that carries it.
    const KIND: EventKind;
}
