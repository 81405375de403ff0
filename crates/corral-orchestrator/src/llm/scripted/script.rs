//! The script a scripted model plays: its turns, and the failures it
//! answers with first.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

/// A script: the turns a model plays, and failures to answer with first.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    /// The model name answers carry.
    #[serde(default)]
    pub model: Option<String>,
    /// The turns, in conversation order.
    pub turns: Vec<Turn>,
    /// Answered, in order, to the first requests the server gets.
    #[serde(default)]
    pub failures: Vec<Failure>,
    /// A pause between streamed pieces, in milliseconds.
    #[serde(default)]
    pub piece_delay_ms: u64,
    /// A pause after a stream's last piece before it closes, in
    /// milliseconds: a reader sees `[DONE]` well before the end.
    #[serde(default)]
    pub end_delay_ms: u64,
    /// What `GET /v1/models` lists; the script's model alone when empty.
    #[serde(default)]
    pub models: Vec<String>,
}

/// One assistant turn: text, tool calls, or both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// What the assistant says.
    #[serde(default)]
    pub text: Option<String>,
    /// The tools it calls.
    #[serde(default)]
    pub tool_calls: Vec<ScriptedCall>,
}

/// A scripted tool call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedCall {
    /// The tool.
    pub name: String,
    /// Its arguments: a JSON value, or a string sent as is (which may be
    /// malformed JSON on purpose).
    #[serde(default)]
    pub arguments: Value,
}

impl ScriptedCall {
    pub(super) fn arguments_text(&self) -> String {
        match &self.arguments {
            Value::String(raw) => raw.clone(),
            Value::Null => "{}".to_owned(),
            other => other.to_string(),
        }
    }
}

/// An error answer the server gives before it plays the script.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// The HTTP status.
    pub status: u16,
    /// The error message.
    #[serde(default = "default_failure_message")]
    pub message: String,
    /// How many requests get it; every request when left out.
    #[serde(default)]
    pub times: Option<u64>,
    /// A `retry-after` header, in seconds.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

fn default_failure_message() -> String {
    "scripted failure".to_owned()
}

/// Why a script could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read.
    #[error("cannot read script {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid script.
    #[error("invalid script {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl Script {
    /// Reads a JSON script.
    pub fn load(path: &Path) -> Result<Self, ScriptError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ScriptError::Parse {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses a JSON script; the error says where it is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let script: Self = serde_json::from_str(text).map_err(|error| error.to_string())?;
        if script.turns.is_empty() {
            return Err("a script needs at least one turn".into());
        }
        Ok(script)
    }

    pub(super) fn turn(&self, assistant_turns: usize) -> &Turn {
        let last = self.turns.len() - 1;
        &self.turns[assistant_turns.min(last)]
    }
}

/// A request the scripted server received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The method.
    pub method: String,
    /// The path, with its query, as it arrived.
    pub path: String,
    /// Headers, names lowercase; repeated ones joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`null` when it was not JSON).
    pub body: Value,
}

/// The model name answers carry unless the script names one.
pub const SCRIPTED_MODEL: &str = "corral-scripted";
