//! The model providers a server is configured with, and the defaults
//! every provider starts from.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::secrets::SecretValue;

/// `OpenAI`'s API, for a provider that names no base URL.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Anthropic's API, for a provider that names no base URL.
pub const ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// The Messages API's version header.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// `max_tokens` for an Anthropic call that sets none (the API requires one).
pub const DEFAULT_ANTHROPIC_MAX_TOKENS: u64 = 8192;
/// Retries after the first attempt for 429s, 5xx and connection errors.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// Seconds without a byte from the upstream before a call fails.
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;
/// The provider name `--llm scripted:FILE` registers.
pub const SCRIPTED_PROVIDER: &str = "scripted";

/// Which API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// OpenAI Chat Completions: OpenAI, vLLM, Ollama, OpenRouter…
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
}

/// Where a provider's key comes from. The value never leaves the orchestrator.
#[derive(Debug, Clone)]
pub enum ProviderKey {
    /// No key (a local server).
    None,
    /// From the environment or the config file, read at start.
    Value(SecretValue),
    /// A secret in corral's store, opened when a job starts.
    Secret(String),
}

/// A model provider this server can call.
#[derive(Debug, Clone)]
pub struct Provider {
    /// Its name on this server.
    pub name: String,
    /// Its API.
    pub kind: ProviderKind,
    /// Its base URL: `https://api.openai.com/v1`, `https://api.anthropic.com`.
    pub base_url: String,
    /// Its key.
    pub key: ProviderKey,
    /// The model for jobs that name none.
    pub model: Option<String>,
    /// US dollars per million input tokens, for cost in `llm_usage`.
    pub input_price: Option<f64>,
    /// US dollars per million output tokens.
    pub output_price: Option<f64>,
    /// `max_tokens` for Anthropic calls that set none.
    pub max_tokens: u64,
    /// The key is an OAuth token (sent as `Authorization: Bearer`), not an API key.
    pub oauth: bool,
}

impl Provider {
    /// The cost of a call in US dollars, when this provider has prices.
    #[expect(
        clippy::cast_precision_loss,
        reason = "token counts stay far below 2^52; cost is an estimate"
    )]
    pub fn cost(&self, input_tokens: u64, output_tokens: u64) -> Option<f64> {
        if self.input_price.is_none() && self.output_price.is_none() {
            return None;
        }
        let per_token = |price: Option<f64>| price.unwrap_or(0.0) / 1_000_000.0;
        Some(
            input_tokens as f64 * per_token(self.input_price)
                + output_tokens as f64 * per_token(self.output_price),
        )
    }
}

/// The server's model settings.
#[derive(Debug, Clone, Default)]
pub struct LlmSettings {
    /// The provider for jobs that name none.
    pub default_provider: Option<String>,
    /// Every provider, by name.
    pub providers: BTreeMap<String, Provider>,
    /// A script to serve as the `scripted` provider (`--llm scripted:FILE`).
    pub scripted: Option<PathBuf>,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Seconds without a byte from the upstream before a call fails.
    pub timeout_secs: u64,
    /// What providers without a model offered when asked at startup, by
    /// provider name, for the message that asks a job to name one.
    pub offered: BTreeMap<String, Offered>,
}

impl LlmSettings {
    /// The provider named `name`, or the default one.
    pub fn provider(&self, name: Option<&str>) -> Result<&Provider, String> {
        let name = match name.or(self.default_provider.as_deref()) {
            Some(name) => name,
            None if self.providers.len() == 1 => {
                return self
                    .providers
                    .values()
                    .next()
                    .ok_or_else(|| "no model provider is configured".to_owned());
            }
            None => {
                return Err(
                    "no model provider is configured: start `corral serve` with --llm \
                     (openai, anthropic or scripted:FILE), or set CORRAL_OPENAI_API_KEY or \
                     CORRAL_ANTHROPIC_API_KEY"
                        .to_owned(),
                );
            }
        };
        self.providers.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            format!(
                "unknown provider `{name}`; this server has: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
    }
}

/// What a provider offered when asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Offered {
    /// Up to a dozen of the names (`discover`'s cap), sorted.
    pub names: Vec<String>,
    /// How many valid names it listed in all.
    pub total: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(name: &str) -> Provider {
        Provider {
            name: name.into(),
            kind: ProviderKind::Openai,
            base_url: "http://127.0.0.1:1/v1".into(),
            key: ProviderKey::None,
            model: None,
            input_price: Some(3.0),
            output_price: Some(15.0),
            max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
            oauth: false,
        }
    }

    #[test]
    fn a_lone_provider_is_the_default_and_unknown_names_list_the_known_ones() {
        let mut settings = LlmSettings::default();
        assert!(settings.provider(None).is_err());
        settings.providers.insert("a".into(), provider("a"));
        assert_eq!(settings.provider(None).expect("lone default").name, "a");
        settings.providers.insert("b".into(), provider("b"));
        assert!(settings.provider(None).is_err());
        let error = settings.provider(Some("c")).expect_err("unknown");
        assert!(error.contains("a, b"), "{error}");
    }

    #[test]
    fn cost_is_priced_per_million_tokens() {
        let cost = provider("a").cost(1_000_000, 100_000).expect("priced");
        assert!((cost - 4.5).abs() < 1e-9, "{cost}");
        let mut free = provider("a");
        free.input_price = None;
        free.output_price = None;
        assert_eq!(free.cost(10, 10), None);
    }
}
