//! A default model for an OpenAI-compatible provider whose configuration
//! names none, asked of the provider itself (`GET {base_url}/models`) when
//! the server starts. A server that offers exactly one model (a local vLLM,
//! llama.cpp or Ollama with one model loaded) makes it the default; one that
//! offers several (OpenAI itself) leaves the choice to the user, and the
//! refusal of a job without a model lists what the provider offered.
//!
//! The answer is untrusted: read up to a bound, and only names that are
//! valid model names are kept.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Deserialize;
use tracing::{info, warn};

use super::{LlmSettings, Offered, Provider, ProviderKey, ProviderKind};
use crate::secrets::{SecretValue, Secrets};

/// How long one provider may take to list its models.
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Most of a model list read.
const MAX_LIST_BYTES: usize = 1 << 20;
/// Longest model name kept.
pub const MAX_MODEL_NAME: usize = 200;
/// Most offered names kept for the refusal's message.
const MAX_OFFERED: usize = 12;

#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    id: String,
}

/// Whether `name` may be a model name: short ASCII letters, digits and
/// `. _ : / @ + -` (`gpt-4o`, `meta-llama/Llama-3.1-8B`, `qwen2.5:7b`,
/// `claude-sonnet-4-5@20250929`), so no invisible or bidi character
/// reaches a message, a log or a terminal.
pub fn is_model_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_MODEL_NAME
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '@' | '+' | '-')
        })
}

/// Asks every OpenAI-compatible provider without a model which models it
/// serves; a lone one becomes its default, several are remembered for the
/// message that asks the user to choose.
pub async fn default_models(settings: &mut LlmSettings, secrets: &Secrets) {
    let client = match reqwest::Client::builder()
        .timeout(DISCOVERY_TIMEOUT)
        .user_agent(concat!("corral/", env!("CARGO_PKG_VERSION")))
        // The key goes with the request: not to wherever a redirect points.
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            warn!(error = %error, "cannot build the HTTP client to list models");
            return;
        }
    };
    for provider in settings.providers.values_mut() {
        if provider.kind != ProviderKind::Openai || provider.model.is_some() {
            continue;
        }
        match list(&client, provider, secrets).await {
            Ok(offered) if offered.total == 1 => {
                let model = offered.names.into_iter().next();
                info!(provider = %provider.name, model = ?model, "the provider serves one model: it is the default");
                provider.model = model;
            }
            Ok(offered) => {
                info!(provider = %provider.name, models = offered.total, "the provider serves several models: jobs must name one");
                settings.offered.insert(provider.name.clone(), offered);
            }
            Err(error) => {
                warn!(provider = %provider.name, error = %error, "cannot list the provider's models");
            }
        }
    }
}

async fn list(
    client: &reqwest::Client,
    provider: &Provider,
    secrets: &Secrets,
) -> Result<Offered, String> {
    let url = format!("{}/models", provider.base_url.trim_end_matches('/'));
    let mut request = client.get(url);
    let key = match &provider.key {
        ProviderKey::None => None,
        ProviderKey::Value(value) => Some(value.clone()),
        ProviderKey::Secret(name) => Some(
            secrets
                .reveal(name)
                .await
                .map_err(|_| format!("cannot open the stored key `{name}`"))?,
        ),
    };
    if let Some(key) = &key {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", key.expose()))
            .map_err(|_| "the provider key is not a valid header value".to_owned())?;
        value.set_sensitive(true);
        request = request.header(reqwest::header::AUTHORIZATION, value);
    }
    let response = request
        .send()
        .await
        .map_err(|error| format!("no answer: {}", error.without_url()))?;
    if !response.status().is_success() {
        return Err(format!("answered {}", response.status()));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|error| format!("the answer broke off: {}", error.without_url()))?;
        if body.len() + chunk.len() > MAX_LIST_BYTES {
            return Err(format!("the list is over {MAX_LIST_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    parse(&body, key.as_ref().map(SecretValue::expose))
}

/// The valid names in a `GET /models` answer; none holding `key` (an
/// upstream that echoes the request must not show its key to users).
fn parse(body: &[u8], key: Option<&str>) -> Result<Offered, String> {
    let list: ModelList =
        serde_json::from_slice(body).map_err(|_| "the answer is not a model list".to_owned())?;
    let mut names: Vec<String> = list
        .data
        .into_iter()
        .map(|entry| entry.id)
        .filter(|name| is_model_name(name))
        .filter(|name| key.is_none_or(|key| !name.contains(key)))
        .collect();
    names.sort();
    names.dedup();
    let total = names.len();
    names.truncate(MAX_OFFERED);
    Ok(Offered { names, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_names_are_kept_sorted_and_counted() {
        let body = br#"{"object": "list", "data": [
            {"id": "b-model"}, {"id": "a-model"}, {"id": "a-model"},
            {"id": "evil\u001b[2Jname"}, {"id": "has space"}, {"id": ""},
            {"id": "rtl\u202egnp.exe"}, {"id": "zero\u200bwidth"}
        ]}"#;
        let offered = parse(body, None).expect("a list");
        assert_eq!(offered.names, ["a-model", "b-model"]);
        assert_eq!(offered.total, 2);
    }

    #[test]
    fn a_name_holding_the_provider_key_is_dropped() {
        let body = br#"{"data": [{"id": "gpt-a"}, {"id": "echo-sk-secret123-x"}]}"#;
        let offered = parse(body, Some("sk-secret123")).expect("a list");
        assert_eq!(offered.names, ["gpt-a"]);
        assert_eq!(offered.total, 1);
    }

    #[test]
    fn a_long_list_keeps_a_few_names_and_the_count() {
        let entries: Vec<String> = (0..40)
            .map(|n| format!(r#"{{"id": "m-{n:02}"}}"#))
            .collect();
        let body = format!(r#"{{"data": [{}]}}"#, entries.join(","));
        let offered = parse(body.as_bytes(), None).expect("a list");
        assert_eq!(offered.total, 40);
        assert_eq!(offered.names.len(), MAX_OFFERED);
    }

    #[test]
    fn an_answer_that_is_not_a_list_is_an_error() {
        assert!(parse(b"<html>", None).is_err());
        assert!(parse(br#"{"data": "x"}"#, None).is_err());
    }
}
