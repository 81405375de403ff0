//! Model providers from `corral.toml`, the environment and `--llm`.
//!
//! ```toml
//! [llm]
//! default = "anthropic"
//! [llm.providers.anthropic]
//! kind = "anthropic"
//! api_key_secret = "ANTHROPIC_API_KEY"   # a secret in corral's store
//! model = "claude-sonnet-4-5"
//! input_price = 3.0                       # US dollars per million tokens
//! output_price = 15.0
//! ```
//!
//! `CORRAL_OPENAI_BASE_URL`/`_API_KEY`/`_MODEL` and the `CORRAL_ANTHROPIC_`
//! ones define (or complete) the providers `openai` and `anthropic`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use crate::llm::{
    ANTHROPIC_BASE_URL, DEFAULT_ANTHROPIC_MAX_TOKENS, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_SECS,
    LlmSettings, OPENAI_BASE_URL, Provider, ProviderKey, ProviderKind, SCRIPTED_PROVIDER,
};
use crate::secrets::SecretValue;
use corral_proto::env_vars::{
    CORRAL_ANTHROPIC_API_KEY, CORRAL_ANTHROPIC_BASE_URL, CORRAL_ANTHROPIC_MODEL,
    CORRAL_ANTHROPIC_OAUTH_TOKEN, CORRAL_OPENAI_API_KEY, CORRAL_OPENAI_BASE_URL,
    CORRAL_OPENAI_MODEL,
};

/// Most retries a server may configure.
const MAX_RETRIES: u32 = 10;

/// `[llm]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct FileLlm {
    default: Option<String>,
    max_retries: Option<u32>,
    timeout: Option<corral_proto::DurationSpec>,
    providers: BTreeMap<String, FileProvider>,
}

/// `[llm.providers.NAME]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileProvider {
    kind: ProviderKind,
    base_url: Option<String>,
    api_key_env: Option<String>,
    api_key_secret: Option<String>,
    model: Option<String>,
    input_price: Option<f64>,
    output_price: Option<f64>,
    max_tokens: Option<u64>,
    /// The key is an OAuth token (Anthropic), sent as `Authorization: Bearer`.
    #[serde(default)]
    oauth: bool,
}

/// One provider's settings from the environment.
#[derive(Debug, Default)]
struct EnvProvider {
    base_url: Option<String>,
    api_key: Option<SecretValue>,
    /// An OAuth token instead of an API key (Anthropic).
    oauth_token: Option<SecretValue>,
    model: Option<String>,
}

/// The `CORRAL_OPENAI_*` and `CORRAL_ANTHROPIC_*` variables.
#[derive(Debug, Default)]
pub(super) struct LlmEnv {
    openai: EnvProvider,
    anthropic: EnvProvider,
    /// Variables named by `api_key_env`, read on demand.
    named: BTreeMap<String, SecretValue>,
}

impl LlmEnv {
    /// Reads the variables, and those `file` names in `api_key_env`.
    #[expect(
        clippy::disallowed_methods,
        reason = "the config module is where the environment is read"
    )]
    pub(super) fn read(file: &FileLlm) -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let named = file
            .providers
            .values()
            .filter_map(|provider| provider.api_key_env.as_deref())
            .filter_map(|name| Some((name.to_owned(), SecretValue::new(var(name)?))))
            .collect();
        Self {
            openai: EnvProvider {
                base_url: var(CORRAL_OPENAI_BASE_URL),
                api_key: var(CORRAL_OPENAI_API_KEY).map(SecretValue::new),
                oauth_token: None,
                model: var(CORRAL_OPENAI_MODEL),
            },
            anthropic: EnvProvider {
                base_url: var(CORRAL_ANTHROPIC_BASE_URL),
                api_key: var(CORRAL_ANTHROPIC_API_KEY).map(SecretValue::new),
                oauth_token: var(CORRAL_ANTHROPIC_OAUTH_TOKEN).map(SecretValue::new),
                model: var(CORRAL_ANTHROPIC_MODEL),
            },
            named,
        }
    }
}

fn invalid(message: String) -> ConfigError {
    ConfigError::Invalid {
        key: "llm",
        message,
    }
}

/// Builds the providers; `flag` is `--llm`.
pub(super) fn settings(
    file: FileLlm,
    flag: Option<&str>,
    env: &LlmEnv,
) -> Result<LlmSettings, ConfigError> {
    let mut providers = file_providers(file.providers, env)?;
    add_env_providers(&mut providers, env);
    for provider in providers.values() {
        check_base_url(provider)?;
    }
    let (default_provider, scripted) = match flag.or(file.default.as_deref()) {
        Some(choice) => match choice.strip_prefix("scripted:") {
            Some(path) if !path.is_empty() => (
                Some(SCRIPTED_PROVIDER.to_owned()),
                Some(PathBuf::from(path)),
            ),
            Some(_) => return Err(invalid("--llm scripted: needs a script file".into())),
            None if providers.contains_key(choice) => (Some(choice.to_owned()), None),
            None => {
                return Err(invalid(format!(
                    "unknown provider `{choice}`; configure it in corral.toml [llm.providers] \
                     or set CORRAL_{}_API_KEY",
                    choice.to_uppercase()
                )));
            }
        },
        None => (None, None),
    };
    let max_retries = file.max_retries.unwrap_or(DEFAULT_MAX_RETRIES);
    if max_retries > MAX_RETRIES {
        return Err(invalid(format!("max_retries is at most {MAX_RETRIES}")));
    }
    Ok(LlmSettings {
        default_provider,
        providers,
        scripted,
        max_retries,
        timeout_secs: file.timeout.map_or(DEFAULT_TIMEOUT_SECS, |d| d.0.max(1)),
        offered: BTreeMap::new(),
    })
}

/// The providers `corral.toml` names.
fn file_providers(
    written: BTreeMap<String, FileProvider>,
    env: &LlmEnv,
) -> Result<BTreeMap<String, Provider>, ConfigError> {
    let mut providers = BTreeMap::new();
    for (name, written) in written {
        let key = match (written.api_key_env, written.api_key_secret) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "provider `{name}`: set api_key_env or api_key_secret, not both"
                )));
            }
            (Some(variable), None) => match env.named.get(&variable) {
                Some(value) => ProviderKey::Value(value.clone()),
                None => {
                    return Err(invalid(format!(
                        "provider `{name}`: environment variable {variable} (api_key_env) is not set"
                    )));
                }
            },
            (None, Some(secret)) => ProviderKey::Secret(secret),
            (None, None) => ProviderKey::None,
        };
        let base_url = written
            .base_url
            .unwrap_or_else(|| default_base_url(written.kind).to_owned());
        providers.insert(
            name.clone(),
            Provider {
                name,
                kind: written.kind,
                base_url,
                key,
                model: written.model.or_else(|| default_model(written.kind)),
                input_price: written.input_price,
                output_price: written.output_price,
                max_tokens: written.max_tokens.unwrap_or(DEFAULT_ANTHROPIC_MAX_TOKENS),
                oauth: written.oauth,
            },
        );
    }
    Ok(providers)
}

/// `openai` and `anthropic` from `CORRAL_*` variables, completing any of
/// the same name from the file.
fn add_env_providers(providers: &mut BTreeMap<String, Provider>, env: &LlmEnv) {
    for (name, kind, from_env) in [
        ("openai", ProviderKind::Openai, &env.openai),
        ("anthropic", ProviderKind::Anthropic, &env.anthropic),
    ] {
        if from_env.api_key.is_none()
            && from_env.oauth_token.is_none()
            && from_env.base_url.is_none()
        {
            continue;
        }
        let provider = providers
            .entry(name.to_owned())
            .or_insert_with(|| Provider {
                name: name.to_owned(),
                kind,
                base_url: default_base_url(kind).to_owned(),
                key: ProviderKey::None,
                model: default_model(kind),
                input_price: None,
                output_price: None,
                max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
                oauth: false,
            });
        if let Some(base_url) = &from_env.base_url {
            base_url.clone_into(&mut provider.base_url);
        }
        if let Some(key) = &from_env.api_key {
            provider.key = ProviderKey::Value(key.clone());
        } else if let Some(token) = &from_env.oauth_token {
            provider.key = ProviderKey::Value(token.clone());
            provider.oauth = true;
        }
        if from_env.model.is_some() {
            provider.model.clone_from(&from_env.model);
        }
    }
}

/// The model an Anthropic provider runs when neither the job, the provider's
/// configuration nor `CORRAL_ANTHROPIC_MODEL` names one: a current
/// general-purpose Claude model, so `corral serve --llm anthropic` works as
/// the README writes it. OpenAI-compatible servers have no such model in
/// common (a local server may serve any), so they get none.
pub const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-4-5";

fn default_model(kind: ProviderKind) -> Option<String> {
    match kind {
        ProviderKind::Anthropic => Some(DEFAULT_ANTHROPIC_MODEL.to_owned()),
        ProviderKind::Openai => None,
    }
}

fn default_base_url(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai => OPENAI_BASE_URL,
        ProviderKind::Anthropic => ANTHROPIC_BASE_URL,
    }
}

fn check_base_url(provider: &Provider) -> Result<(), ConfigError> {
    let url = &provider.base_url;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(invalid(format!(
            "provider `{}`: base_url {url} must start with http:// or https://",
            provider.name
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> FileLlm {
        toml::from_str(text).expect("llm section parses")
    }

    #[test]
    fn the_environment_defines_providers_and_the_flag_picks_one() {
        let env = LlmEnv {
            anthropic: EnvProvider {
                api_key: Some(SecretValue::new("sk-ant-test".into())),
                model: Some("claude-x".into()),
                ..EnvProvider::default()
            },
            ..LlmEnv::default()
        };
        let built = settings(FileLlm::default(), Some("anthropic"), &env).expect("settings");
        let provider = built.provider(None).expect("default provider");
        assert_eq!(provider.kind, ProviderKind::Anthropic);
        assert_eq!(provider.base_url, ANTHROPIC_BASE_URL);
        assert_eq!(provider.model.as_deref(), Some("claude-x"));
        assert!(matches!(&provider.key, ProviderKey::Value(key) if key.expose() == "sk-ant-test"));
    }

    #[test]
    fn an_anthropic_provider_without_a_model_runs_the_default_one() {
        let env = LlmEnv {
            anthropic: EnvProvider {
                api_key: Some(SecretValue::new("sk-ant-test".into())),
                ..EnvProvider::default()
            },
            openai: EnvProvider {
                api_key: Some(SecretValue::new("sk-test".into())),
                ..EnvProvider::default()
            },
            ..LlmEnv::default()
        };
        let built = settings(FileLlm::default(), Some("anthropic"), &env).expect("settings");
        let anthropic = built.provider(Some("anthropic")).expect("anthropic");
        assert_eq!(anthropic.model.as_deref(), Some(DEFAULT_ANTHROPIC_MODEL));
        let openai = built.provider(Some("openai")).expect("openai");
        assert_eq!(
            openai.model, None,
            "no model is common to OpenAI-compatible servers"
        );
    }

    #[test]
    fn file_providers_name_their_key_source_and_bad_ones_are_refused() {
        let file = parse(
            "default = \"local\"\n[providers.local]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\napi_key_secret = \"LOCAL\"\n",
        );
        let built = settings(file, None, &LlmEnv::default()).expect("settings");
        let provider = built.provider(None).expect("default");
        assert!(matches!(&provider.key, ProviderKey::Secret(name) if name == "LOCAL"));

        let file = parse("[providers.x]\nkind = \"openai\"\nbase_url = \"ftp://x\"\n");
        let error = settings(file, None, &LlmEnv::default()).expect_err("bad url");
        assert!(error.to_string().contains("base_url"), "{error}");

        let error = settings(FileLlm::default(), Some("nope"), &LlmEnv::default())
            .expect_err("unknown provider");
        assert!(error.to_string().contains("nope"), "{error}");
    }

    #[test]
    fn scripted_takes_a_file() {
        let built = settings(
            FileLlm::default(),
            Some("scripted:/tmp/s.json"),
            &LlmEnv::default(),
        )
        .expect("settings");
        assert_eq!(built.scripted, Some(PathBuf::from("/tmp/s.json")));
        assert_eq!(built.default_provider.as_deref(), Some(SCRIPTED_PROVIDER));
        assert!(settings(FileLlm::default(), Some("scripted:"), &LlmEnv::default()).is_err());
    }
}
