//! What agent jobs (worker and claude modes) add: the model, Claude Code's
//! settings, usage, follow-up prompts.

use serde::{Deserialize, Serialize};

/// Claude Code settings as a user writes them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ClaudeSpec {
    /// The only built-in tools Claude may use (`Read`, `Edit`, `Bash`…); its
    /// default set when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Vec<String>>,
    /// Tools it may not use, also as rules (`Bash(rm:*)`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disallowed_tools: Option<Vec<String>>,
    /// Most agentic turns for one prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u32>,
}

/// Claude Code settings a job runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClaudeSettings {
    /// The built-in tools it may use; empty for Claude's default set.
    pub allowed_tools: Vec<String>,
    /// Tools and rules it may not use.
    pub disallowed_tools: Vec<String>,
    /// Most agentic turns for one prompt.
    pub max_turns: u32,
    /// The ended claude job whose Claude session this one resumes: set on a
    /// job started by a follow-up prompt to that job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues: Option<String>,
}

/// Which model an agent job talks to, as a user writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSpec {
    /// A provider the server knows (`openai`, `anthropic`, `scripted`, or a
    /// name from `corral.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The provider's model name; the provider's default when left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Whether the agent streams answers (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// The model an agent job talks to, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobLlm {
    /// The provider's name on this server.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Whether the agent streams answers.
    pub stream: bool,
}

/// What a job's model calls cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobUsage {
    /// Model calls made.
    pub llm_calls: u64,
    /// Tokens read.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
    /// US dollars, where the provider has a price.
    pub cost_usd: f64,
}

/// `POST /v1/jobs/{id}/prompts`: a follow-up prompt for an interactive job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptSpec {
    /// The text.
    pub prompt: String,
}

/// A queued follow-up prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Prompt {
    /// Numbered from 1 per job; 0 when it went to a continuation job.
    pub seq: u64,
    /// The text.
    pub text: String,
    /// Set when the prompted claude job had ended: the new job that resumes
    /// its Claude session with this prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_in: Option<String>,
    /// Not a prompt but the user's end: the job finishes once the prompts
    /// before it are answered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub end: bool,
}
