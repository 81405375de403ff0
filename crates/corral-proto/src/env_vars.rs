//! Names of the environment variables corral reads, in one place.

/// The data directory (`--data-dir`).
pub const CORRAL_DATA_DIR: &str = "CORRAL_DATA_DIR";
/// The user API's listen address (`--listen`).
pub const CORRAL_LISTEN: &str = "CORRAL_LISTEN";
/// A config file other than `<data-dir>/corral.toml` (`--config`).
pub const CORRAL_CONFIG: &str = "CORRAL_CONFIG";
/// The static worker binary (`--worker-bin`).
pub const CORRAL_WORKER_BIN: &str = "CORRAL_WORKER_BIN";
/// The default image for jobs that name none (`--image`).
pub const CORRAL_IMAGE: &str = "CORRAL_IMAGE";
/// How many jobs run at once (`--max-concurrent-jobs`).
pub const CORRAL_MAX_CONCURRENT_JOBS: &str = "CORRAL_MAX_CONCURRENT_JOBS";
/// The OCI runtime Docker uses for job containers (`--oci-runtime`).
pub const CORRAL_OCI_RUNTIME: &str = "CORRAL_OCI_RUNTIME";
/// Containers per pooled image kept started (`--pool-size`).
pub const CORRAL_POOL_SIZE: &str = "CORRAL_POOL_SIZE";
/// The user API's URL, for CLI commands other than `serve`.
pub const CORRAL_URL: &str = "CORRAL_URL";
/// The key sealing stored secrets: 64 hex digits (else `<data-dir>/master.key`).
pub const CORRAL_MASTER_KEY: &str = "CORRAL_MASTER_KEY";
/// The user API token, for CLI commands other than `serve`.
pub const CORRAL_TOKEN: &str = "CORRAL_TOKEN";
/// Base of the default data directory.
pub const XDG_DATA_HOME: &str = "XDG_DATA_HOME";
/// Fallback base of the default data directory.
pub const HOME: &str = "HOME";
/// The default model provider (`--llm`).
pub const CORRAL_LLM: &str = "CORRAL_LLM";
/// An OpenAI-compatible upstream's base URL (`https://api.openai.com/v1`).
pub const CORRAL_OPENAI_BASE_URL: &str = "CORRAL_OPENAI_BASE_URL";
/// Its key.
pub const CORRAL_OPENAI_API_KEY: &str = "CORRAL_OPENAI_API_KEY";
/// Its default model.
pub const CORRAL_OPENAI_MODEL: &str = "CORRAL_OPENAI_MODEL";
/// Anthropic's base URL (`https://api.anthropic.com`).
pub const CORRAL_ANTHROPIC_BASE_URL: &str = "CORRAL_ANTHROPIC_BASE_URL";
/// Its key.
pub const CORRAL_ANTHROPIC_API_KEY: &str = "CORRAL_ANTHROPIC_API_KEY";
/// Its default model.
pub const CORRAL_ANTHROPIC_MODEL: &str = "CORRAL_ANTHROPIC_MODEL";
/// An Anthropic OAuth token (claude mode), instead of an API key.
pub const CORRAL_ANTHROPIC_OAUTH_TOKEN: &str = "CORRAL_ANTHROPIC_OAUTH_TOKEN";
/// Skip the sandbox check at start (`--no-verify`).
pub const CORRAL_NO_VERIFY: &str = "CORRAL_NO_VERIFY";
/// Print tracing spans as they close (`--trace-spans`).
pub const CORRAL_TRACE_SPANS: &str = "CORRAL_TRACE_SPANS";
