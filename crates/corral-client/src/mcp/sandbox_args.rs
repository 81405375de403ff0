//! The sandbox tools' arguments.

use std::collections::BTreeMap;

use rmcp::schemars;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::args::CommandArg;

/// `sandbox_create`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSandbox {
    /// Image to run; the server's default when left out.
    pub image: Option<String>,
    /// Hard maximum life, like `2h`, `30m` or seconds (default 2h).
    pub ttl: Option<String>,
    /// How long it may do nothing before it ends, like `15m` (default 15m).
    pub idle_timeout: Option<String>,
    /// Limits: `memory` (`512m`), `cpu_shares`, `pids`, `tmpfs` (the size
    /// of `/tmp`, `$HOME` and `/workspace`, and the largest file upload).
    pub limits: Option<Map<String, Value>>,
    /// Stored secrets its commands receive in their environment: `NAME`
    /// or `NAME=ENV_VAR`; only those the MCP server allows.
    pub grants: Option<Vec<String>>,
    /// Egress: `{"allow": ["pypi.org"]}`; no network at all when left out.
    /// Only hosts and `SECRET@HOST` injections the MCP server allows.
    pub egress: Option<Map<String, Value>>,
    /// An absolute host directory for `/workspace`, under one the MCP
    /// server allows; bound read-write only when it allows binding, else
    /// set `copy`.
    pub project: Option<String>,
    /// Copy the project in instead of binding it.
    pub copy: Option<bool>,
}

/// `sandbox_exec`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxExec {
    /// The sandbox's id.
    pub id: String,
    /// A shell line (`sh -c`) or a list of arguments.
    pub cmd: CommandArg,
    /// Working directory; `/workspace` when left out.
    pub cwd: Option<String>,
    /// Extra environment variables.
    pub env: Option<BTreeMap<String, String>>,
    /// Text on its standard input (at most 1 MiB).
    pub stdin: Option<String>,
    /// Kill it after this many seconds (default 600).
    pub timeout_seconds: Option<u64>,
    /// Wait at most this many seconds for it to end (default 60, at most
    /// 600); past it the tool answers with its exec number, and its output
    /// stays in the sandbox's events.
    pub wait_seconds: Option<u64>,
}

/// `sandbox_write_file`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WriteFile {
    /// The sandbox's id.
    pub id: String,
    /// An absolute path under `/workspace`, `/tmp` or `/home/corral`;
    /// missing directories are made.
    pub path: String,
    /// The file's text (UTF-8).
    pub content: String,
}

/// `sandbox_read_file` and `sandbox_list_files`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxPath {
    /// The sandbox's id.
    pub id: String,
    /// An absolute path under `/workspace`, `/tmp` or `/home/corral`.
    pub path: String,
}

/// `sandbox_delete`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SandboxId {
    /// The sandbox's id.
    pub id: String,
}
