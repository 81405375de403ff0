//! `corral config`: the settings `corral serve` would run with, after
//! defaults < `corral.toml` < `CORRAL_*` < flags, with every key masked,
//! under the keys and in the units `corral.toml` takes (`limits.memory =
//! "2g"`), so a line can be copied into the file.

use std::process::ExitCode;

use anyhow::Context;
use corral_orchestrator::Config;
use corral_orchestrator::ProviderKey;
use serde_json::{Value, json};

use crate::cli::{ConfigArgs, GlobalArgs};
use crate::output;

pub fn run(global: &GlobalArgs, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(super::serve::overrides(global, args.serve))
        .context("invalid configuration")?;
    let view = describe(&config);
    if args.json {
        output::json(&view);
    } else {
        print_flat("", &view);
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings as JSON; keys appear only as where they come from.
fn describe(config: &Config) -> Value {
    let limits = &config.default_limits;
    let providers: serde_json::Map<String, Value> = config
        .llm
        .providers
        .values()
        .map(|provider| {
            let key = match &provider.key {
                ProviderKey::None => "none".to_owned(),
                ProviderKey::Value(_) => "set (environment or api_key_env), hidden".to_owned(),
                ProviderKey::Secret(name) => format!("secret {name}"),
            };
            (
                provider.name.clone(),
                json!({
                    "kind": format!("{:?}", provider.kind).to_lowercase(),
                    "base_url": provider.base_url,
                    "model": provider.model,
                    "key": key,
                    "oauth": provider.oauth,
                    "input_price": provider.input_price,
                    "output_price": provider.output_price,
                }),
            )
        })
        .collect();
    json!({
        "data_dir": config.data_dir,
        "listen": config.listen.to_string(),
        "worker_bin": config.worker_bin,
        "image": config.default_image,
        "claude_image": config.claude_image,
        "isolation": config.isolation,
        "max_concurrent_jobs": config.max_concurrent_jobs,
        "oci_runtime": config.oci_runtime,
        "max_output_bytes": size(config.max_output_bytes),
        "reap_interval": duration(config.reap_interval_secs),
        "workspace_retention": duration(config.workspace_retention_secs),
        "master_key": if config.master_key.is_some() {
            "from CORRAL_MASTER_KEY, hidden".to_owned()
        } else {
            format!("key file {}", config.data_dir.join("master.key").display())
        },
        "limits": {
            "memory": size(limits.memory_bytes),
            "cpu_shares": limits.cpu_shares,
            "pids": limits.pids,
            "timeout": duration(limits.timeout_secs),
            "tmpfs": size(limits.tmpfs_bytes),
            "max_llm_calls": limits.max_llm_calls,
            "max_tokens": limits.max_tokens,
            "max_iterations": limits.max_iterations,
            "idle_timeout": duration(limits.idle_timeout_secs),
        },
        "runtime": {
            "socket": config.engine_socket.path.display().to_string(),
        },
        "mcp": {
            "allow_grants": config.mcp.grants,
            "allow_injects": config.mcp.injects,
            "allow_egress": config.mcp.egress,
            "allow_projects": config.mcp.projects,
            "allow_bind": config.mcp.bind,
        },
        "pool": {
            "size": config.pool.size,
            "images": config.pool.images,
        },
        "llm": {
            "default": config.llm.default_provider,
            "scripted": config.llm.scripted,
            "max_retries": config.llm.max_retries,
            "timeout": duration(config.llm.timeout_secs),
            "providers": providers,
        },
    })
}

/// A size as `corral.toml` takes it: `"2g"`.
fn size(bytes: u64) -> String {
    corral_proto::ByteSize(bytes).to_string()
}

/// A duration as `corral.toml` takes it: `"10m"`.
fn duration(secs: u64) -> String {
    output::human_duration(secs)
}

/// `key = value` lines under their dotted `corral.toml` keys, strings
/// quoted as TOML writes them, unset values as a comment.
fn print_flat(prefix: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                print_flat(&path, inner);
            }
        }
        Value::Null => output::line(&format!("# {prefix} is not set")),
        Value::String(text) => output::line(&format!("{prefix} = {}", Value::String(text.clone()))),
        other => output::line(&format!("{prefix} = {other}")),
    }
}
