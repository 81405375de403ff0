//! The payloads only the orchestrator writes about a job's traffic: one
//! model call through its proxy (`llm_usage`), one connection through its
//! egress proxy (`network`).

use serde::{Deserialize, Serialize};

use super::EventKind;
use super::Payload;

/// `llm_usage`: one model call through the job's proxy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LlmUsageData {
    /// The provider it went to.
    pub provider: String,
    /// The model asked for.
    pub model: String,
    /// Tokens read.
    pub input_tokens: u64,
    /// Tokens written.
    pub output_tokens: u64,
    /// From the call to its last byte.
    pub latency_ms: u64,
    /// To the first byte of the answer, when it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<u64>,
    /// Whether the answer was streamed.
    pub stream: bool,
    /// Tries it took (retries included).
    pub attempts: u32,
    /// Its cost in US dollars, where the provider is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
}

/// `network`: a connection through the egress proxy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NetworkData {
    /// The host asked for.
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Whether the policy let it through.
    pub allowed: bool,
    /// How it went: `http` (forwarded), `tunnel` (TLS passed through),
    /// `inject` (TLS ended here to add a credential).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Why it was refused or ended early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The upstream's HTTP status, for a forwarded request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Bytes the job sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_up: Option<u64>,
    /// Bytes the job received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_down: Option<u64>,
}

impl Payload for LlmUsageData {
    const KIND: EventKind = EventKind::LlmUsage;
}

impl Payload for NetworkData {
    const KIND: EventKind = EventKind::Network;
}
