//! Tool arguments as the tools' schemas describe them, parsed so that a
//! mistake names its argument (`wait_seconds: expected a whole number…`)
//! rather than a position in JSON text the caller never wrote.
//!
//! rmcp finds a tool's input schema by the name `Parameters` in the
//! handler's signature, so this wrapper keeps that name.

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::schemars;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// A tool's arguments, deserialized with the path of any failing field.
#[derive(Debug)]
pub struct Parameters<P>(pub P);

impl<P: schemars::JsonSchema> schemars::JsonSchema for Parameters<P> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        P::json_schema(generator)
    }
}

impl<S, P: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<P> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = Value::Object(context.arguments.take().unwrap_or_default());
        parse(arguments)
            .map(Parameters)
            .map_err(|message| rmcp::ErrorData::invalid_params(message, None))
    }
}

/// `arguments` as a `P`, or a message naming the argument at fault.
pub fn parse<P: DeserializeOwned>(arguments: Value) -> Result<P, String> {
    serde_path_to_error::deserialize(arguments).map_err(|error| {
        let path = error.path().to_string();
        let inner = corral_proto::error::without_position(error.inner());
        if path == "." {
            format!("arguments: {inner}")
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// A command as `create_job` takes it.
#[derive(Debug, schemars::JsonSchema)]
#[schemars(untagged)]
pub enum CommandArg {
    /// A shell line, run with `sh -c`.
    Line(String),
    /// Arguments, run as they are.
    Argv(Vec<String>),
}

impl<'de> Deserialize<'de> for CommandArg {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = "a shell line (a string) or a list of arguments (strings)";
        match Value::deserialize(deserializer)? {
            Value::String(line) => Ok(Self::Line(line)),
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(argument) => Ok(argument),
                    other => Err(serde::de::Error::custom(format!(
                        "expected {expected}, got a list holding {other}"
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(Self::Argv),
            other => Err(serde::de::Error::custom(format!(
                "expected {expected}, got {other}"
            ))),
        }
    }
}

/// `create_job`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateJob {
    /// `exec` (run a command), `worker` (corral's agent) or `claude` (Claude Code); `exec` by default.
    #[serde(default)]
    pub(super) mode: Option<String>,
    /// exec mode: the command, a shell line run with `sh -c`, or a list of
    /// arguments run as is (as the HTTP API takes it).
    #[serde(default)]
    pub(super) command: Option<CommandArg>,
    /// worker and claude modes: what the agent should do.
    #[serde(default)]
    pub(super) prompt: Option<String>,
    /// An absolute host directory for /workspace, under one the MCP server allows; bound read-write only when it allows binding, else set `copy` (or `isolate`).
    #[serde(default)]
    pub(super) project: Option<String>,
    /// Work on a copy of `project` (a git branch `corral/<job-id>`) to review before applying.
    #[serde(default)]
    pub(super) isolate: Option<bool>,
    /// Copy `project` into the container instead of binding it: the job's changes stay in the container and are dropped with it.
    #[serde(default)]
    pub(super) copy: Option<bool>,
    /// The image; the server's default when left out.
    #[serde(default)]
    pub(super) image: Option<String>,
    /// Stored secrets the job's processes get in their environment, as `NAME` or `NAME=ENV_VAR`: only those the MCP server allows.
    #[serde(default)]
    pub(super) grants: Option<Vec<String>>,
    /// Hosts the job may reach through corral's egress proxy (none otherwise): `{"allow": ["pypi.org", "*.github.com", "git.example.com:8443", "tcp://db.example.com:5432"], "inject": [{"host", "header", "secret", "format": "Bearer {}"}], "max_connections", "max_bytes"}`. Only hosts and `SECRET@HOST` injections the MCP server allows; none at all when left out.
    #[serde(default)]
    pub(super) egress: Option<Map<String, Value>>,
    /// Limits: `memory` ("512m"), `timeout` ("10m"), `pids`, `cpu_shares`, `tmpfs`, `max_llm_calls`, `max_tokens`, `max_iterations`, `idle_timeout`.
    #[serde(default)]
    pub(super) limits: Option<Map<String, Value>>,
    /// Agent modes: the model, and optionally its provider.
    #[serde(default)]
    pub(super) model: Option<String>,
    /// Agent modes: the provider (`openai`, `anthropic`, …).
    #[serde(default)]
    pub(super) provider: Option<String>,
    /// Agent modes: keep the job open for follow-up prompts (`send_prompt`).
    #[serde(default)]
    pub(super) interactive: Option<bool>,
    /// Wait up to this many seconds (at most 600) for the job to end, and return its result and a summary of its events.
    #[serde(default)]
    pub(super) wait_seconds: Option<u64>,
}

/// A job, by id.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobId {
    /// The job id (`j-` and 16 hex digits).
    pub(super) id: String,
}

/// `list_jobs`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListJobs {
    /// Only jobs in this state: `queued`, `starting`, `running`, `succeeded`, `failed`, `cancelled`, `timed_out`.
    #[serde(default)]
    pub(super) state: Option<String>,
    /// Most jobs to list (default 20).
    #[serde(default)]
    pub(super) limit: Option<u32>,
}

/// `get_job_events`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JobEvents {
    /// The job id.
    pub(super) id: String,
    /// Only events after this sequence number (0 for all).
    #[serde(default)]
    pub(super) after: Option<u64>,
    /// Most events to return (default 100, at most 500).
    #[serde(default)]
    pub(super) limit: Option<u32>,
}

/// `send_prompt`'s arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendPrompt {
    /// The job id (an interactive job).
    pub(super) id: String,
    /// The follow-up prompt.
    pub(super) prompt: String,
}
