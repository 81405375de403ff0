//! `[mcp]`: what tool calls at `/mcp` may ask of a job beyond a
//! locked-down one (see `corral_client::mcp::Policy`), and how the
//! `--mcp-allow-…` flags combine with it.

use std::path::PathBuf;
use std::sync::Arc;

use corral_client::mcp::Policy;
use serde::Deserialize;

use super::ConfigError;

/// `[mcp]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[expect(clippy::struct_field_names, reason = "the keys corral.toml takes")]
pub(super) struct FileMcp {
    allow_grants: Vec<String>,
    allow_injects: Vec<String>,
    allow_egress: Vec<String>,
    allow_projects: Vec<PathBuf>,
    allow_bind: bool,
}

/// The policy: each list the flags give, else the file's; a project may
/// be bound when either allows it.
pub(super) fn policy(file: FileMcp, flags: Policy) -> Result<Arc<Policy>, ConfigError> {
    fn or_file<T>(flags: Vec<T>, written: Vec<T>) -> Vec<T> {
        if flags.is_empty() { written } else { flags }
    }
    let policy = Policy {
        grants: or_file(flags.grants, file.allow_grants),
        injects: or_file(flags.injects, file.allow_injects),
        egress: or_file(flags.egress, file.allow_egress),
        projects: or_file(flags.projects, file.allow_projects),
        bind: flags.bind || file.allow_bind,
    };
    policy
        .check_injects()
        .map_err(|message| ConfigError::Invalid {
            key: "mcp.allow_injects",
            message,
        })?;
    Ok(Arc::new(policy))
}
