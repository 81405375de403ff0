//! The LLM proxy: every model call of a job goes through here, where the
//! provider keys live. A job's worker speaks OpenAI Chat Completions on its
//! socket; the proxy sets the job's model, counts its budget, forwards to an
//! OpenAI-compatible upstream or translates to Anthropic's Messages API,
//! retries what is worth retrying, streams answers through as they arrive
//! and records an `llm_usage` event per call.
//!
//! # Layout
//! - `anthropic`: OpenAI ↔ Anthropic translation, streaming included
//! - `settings`: the configured providers and their defaults
//! - `discover`: a default model for a provider that serves only one
//! - `upstream`: the HTTP call, retried with backoff
//! - `proxy`: one job's [`ModelProxy`]: budget, usage, the call
//! - `relay`: answers back to the worker, whole or streamed, usage counted
//! - `echo`: the provider's key blanked in whatever its answers quote back
//! - `order`: a call's usage stored before what the worker posts after it
//! - `endpoint`: the Anthropic endpoints claude mode may reach
//! - `screen`: what a request may ask for: the job's model, its budget, no
//!   provider-side tools or fetches
//! - `passthrough`: claude mode's Anthropic requests, checked, placeholder
//!   key swapped
//! - `warning`: the proxy's `warning` events, redacted and rate-limited
//! - `scripted`: the scripted model servers (demo default and tests)

#[cfg(not(fuzzing))]
mod anthropic;
/// Public in fuzz builds only, for `fuzz/fuzz_targets/anthropic.rs`.
#[cfg(fuzzing)]
pub mod anthropic;
pub mod discover;
mod echo;
mod endpoint;
mod order;
mod passthrough;
mod proxy;
mod relay;
mod screen;
pub mod scripted;
mod settings;
mod upstream;
mod warning;

pub use proxy::{ModelProxy, ProxyContext, ProxyError};
pub use upstream::Upstream;
pub use warning::MAX_WARNINGS;

pub use settings::{
    ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, DEFAULT_ANTHROPIC_MAX_TOKENS, DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT_SECS, LlmSettings, OPENAI_BASE_URL, Offered, Provider, ProviderKey,
    ProviderKind, SCRIPTED_PROVIDER,
};
