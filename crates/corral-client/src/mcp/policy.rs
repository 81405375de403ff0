//! What a tool call may ask of a job beyond a locked-down one. The client's
//! model reads what jobs print; text in a job's output (or in a file a job
//! read) can steer that model to ask for a job that sends a secret or a
//! host file out, or that writes into a host directory. So a tool call
//! grants only the secrets, injects a secret only for the host, opens only
//! the hosts and uses a project only under the directories the user who
//! started the server allowed (read-write only if allowed too); and it
//! steers or ends (a prompt, an exec, a file written, a cancel) only jobs
//! and sandboxes it could have created.
//!
//! This binds the client's model only through the tools: a model that can
//! also run commands on the host (read the API token, call the API) is not
//! held by it.

use std::path::PathBuf;

use corral_proto::Job;
use corral_proto::egress::EgressSpec;
use corral_proto::job::{GrantSpec, ProjectMode, ProjectSpec};
use serde_json::Value;

/// Stands for every secret, host or injection in a list.
pub const ANY: &str = "*";

/// What tool calls may ask for; the default allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Secrets a job's processes may be given in their environment.
    pub grants: Vec<String>,
    /// `SECRET@HOST`: the egress proxy may add SECRET to requests to HOST
    /// (which the job may then reach).
    pub injects: Vec<String>,
    /// `egress.allow` entries a job may hold, as written (any case).
    pub egress: Vec<String>,
    /// Directories under which a job's project may be (any mode).
    pub projects: Vec<PathBuf>,
    /// Whether a project under them may be bound read-write, not only copied.
    pub bind: bool,
}

/// What a job holds or asks for, as far as the policy goes.
#[derive(Debug, Default)]
struct Asks {
    grants: Vec<String>,
    /// (secret, host) of each injection.
    injects: Vec<(String, String)>,
    hosts: Vec<String>,
    /// The project, and whether it is bound read-write.
    project: Option<(String, bool)>,
    /// Whether the project is the path the server resolved and stored
    /// (compared as it is), not one asked for (resolved here first).
    stored: bool,
}

impl Policy {
    /// Whether a new job or sandbox of API spec `spec` is allowed; the
    /// error names the field and the setting that would allow it. A field
    /// it cannot read is refused too (a server of a newer build may take
    /// more there than this one can check).
    pub fn check_spec(&self, spec: &Value) -> Result<(), String> {
        let mut asks = Asks::default();
        if let Some(grants) = read::<Vec<GrantSpec>>(spec, "grants")? {
            asks.grants = grants.into_iter().map(|grant| grant.secret).collect();
        }
        if let Some(egress) = read::<EgressSpec>(spec, "egress")? {
            asks.hosts = egress.allow;
            asks.injects = egress
                .inject
                .into_iter()
                .map(|rule| (rule.secret, rule.host))
                .collect();
        }
        if let Some(project) = read::<ProjectSpec>(spec, "project")? {
            let mode = match &project {
                ProjectSpec::Path(_) => ProjectMode::Bind,
                ProjectSpec::Options { mode, .. } => *mode,
            };
            asks.project = Some((project.path().to_owned(), mode == ProjectMode::Bind));
        }
        self.allows(&asks, "")
    }

    /// Whether a tool call may steer or end job (or sandbox) `job`: only
    /// one it could have created.
    pub fn check_job(&self, job: &Job) -> Result<(), String> {
        let mut asks = Asks {
            grants: job
                .grants
                .iter()
                .map(|grant| grant.secret.clone())
                .collect(),
            ..Asks::default()
        };
        if let Some(egress) = &job.egress {
            asks.hosts.clone_from(&egress.allow);
            asks.injects = egress
                .inject
                .iter()
                .map(|rule| (rule.secret.clone(), rule.host.clone()))
                .collect();
        }
        asks.project = job
            .project
            .clone()
            .map(|path| (path, job.project_mode == ProjectMode::Bind));
        asks.stored = true;
        let whose = format!("{} was made outside MCP with more than it allows: ", job.id);
        self.allows(&asks, &whose)
    }

    fn allows(&self, asks: &Asks, whose: &str) -> Result<(), String> {
        let allowed = |list: &[String], item: &str| {
            list.iter()
                .any(|entry| entry == ANY || entry.eq_ignore_ascii_case(item))
        };
        if let Some(secret) = asks.grants.iter().find(|secret| {
            !self
                .grants
                .iter()
                .any(|name| name == ANY || name == *secret)
        }) {
            return Err(format!(
                "grants: {whose}tool calls may give a job no secret {} in its environment \
                 unless the user allowed it (`corral mcp --allow-grant`, for /mcp `corral \
                 serve --mcp-allow-grant` or `[mcp] allow_grants`)",
                quoted(secret)
            ));
        }
        let injected = |secret: &str, host: &str| {
            self.injects.iter().any(|entry| {
                entry == ANY
                    || entry
                        .split_once('@')
                        .is_some_and(|(name, to)| name == secret && to.eq_ignore_ascii_case(host))
            })
        };
        if let Some((secret, host)) = asks
            .injects
            .iter()
            .find(|(secret, host)| !injected(secret, host))
        {
            return Err(format!(
                "egress.inject: {whose}tool calls may have no secret {} added for {} unless \
                 the user allowed it (`corral mcp --allow-inject SECRET@HOST`, for /mcp \
                 `corral serve --mcp-allow-inject` or `[mcp] allow_injects`)",
                quoted(secret),
                quoted(host)
            ));
        }
        // A host an allowed injection names may be reached: that is what
        // the injection is for.
        if let Some(host) = asks.hosts.iter().find(|host| {
            !allowed(&self.egress, host)
                && !asks
                    .injects
                    .iter()
                    .any(|(_, to)| to.eq_ignore_ascii_case(host))
        }) {
            return Err(format!(
                "egress.allow: {whose}tool calls may open no egress to {} unless the user \
                 allowed it (`corral mcp --allow-egress`, for /mcp `corral serve \
                 --mcp-allow-egress` or `[mcp] allow_egress`); every host a job reaches can \
                 receive what the job can read",
                quoted(host)
            ));
        }
        if let Some((path, bound)) = &asks.project {
            if !self.holds_project(path, asks.stored) {
                return Err(format!(
                    "project: {whose}tool calls may use no host directory {} unless it lies \
                     under one the user allowed (`corral mcp --allow-project DIR`, for /mcp \
                     `corral serve --mcp-allow-project` or `[mcp] allow_projects`)",
                    quoted(path)
                ));
            }
            if *bound && !self.bind {
                return Err(format!(
                    "project: {whose}tool calls may bind no host directory read-write ({}) \
                     unless the user allowed it (`corral mcp --allow-bind`, for /mcp `corral \
                     serve --mcp-allow-bind` or `[mcp] allow_bind`); a copy (`copy`, \
                     `isolate`) needs no more",
                    quoted(path)
                ));
            }
        }
        Ok(())
    }

    /// Whether `path` lies in or under an allowed directory (resolved,
    /// links followed): `path` resolved here first, unless it is one the
    /// server `stored` (already resolved there: resolving it again would
    /// follow a link put there since). A path that cannot be resolved is
    /// not allowed.
    fn holds_project(&self, path: &str, stored: bool) -> bool {
        let resolved = if stored {
            PathBuf::from(path)
        } else {
            match std::fs::canonicalize(path) {
                Ok(resolved) => resolved,
                Err(_) => return false,
            }
        };
        self.resolved_projects()
            .iter()
            .any(|root| resolved.starts_with(root))
    }

    /// Has the server hold `spec`'s project (one [`Self::check_spec`]
    /// passed) to the allowed directories itself, resolved here:
    /// `project.within`, checked on the directory the server pins, so a
    /// link swapped in after this process looked cannot move it out. An
    /// error when none of them can be named (gone since, not UTF-8): an
    /// empty list would be sent as "none", but is refused here first.
    pub fn bound_within(&self, spec: &mut Value) -> Result<(), String> {
        let Some(project) = spec.get_mut("project") else {
            return Ok(());
        };
        let within: Vec<String> = self
            .resolved_projects()
            .into_iter()
            .filter_map(|root| root.to_str().map(str::to_owned))
            .collect();
        if within.is_empty() {
            return Err(
                "project: none of the directories the MCP server allows can be named here \
                 (gone, or not UTF-8)"
                    .to_owned(),
            );
        }
        if let Value::String(path) = project {
            *project = serde_json::json!({"path": path, "mode": "bind"});
        }
        if let Some(options) = project.as_object_mut() {
            options.insert("within".to_owned(), serde_json::json!(within));
        }
        Ok(())
    }

    /// The allowed project directories, resolved (links followed); one
    /// that cannot be resolved is left out, which only refuses more.
    pub fn resolved_projects(&self) -> Vec<PathBuf> {
        self.projects
            .iter()
            .filter_map(|root| std::fs::canonicalize(root).ok())
            .collect()
    }

    /// Whether every `injects` entry is `SECRET@HOST` or [`ANY`]; the
    /// error names the entry (for the flag or key that set it).
    pub fn check_injects(&self) -> Result<(), String> {
        for entry in &self.injects {
            let well_formed = entry == ANY
                || entry.split_once('@').is_some_and(|(secret, host)| {
                    !secret.is_empty()
                        && !host.is_empty()
                        && !host.contains('@')
                        && secret != ANY
                        && host != ANY
                });
            if !well_formed {
                return Err(format!(
                    "{entry:?} is not SECRET@HOST (a stored secret, the exact host it is added \
                     for) nor `*` (any secret for any host, which may then all be reached)"
                ));
            }
        }
        Ok(())
    }
}

/// A name the job's caller chose, in backquotes when it is made of what
/// names of secrets, hosts and paths are made of; otherwise not repeated
/// (it goes to a model, and may be offered to a user to copy).
fn quoted(name: &str) -> String {
    let plain = name.len() <= 256
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"_-.:/*@".contains(&byte));
    if plain {
        format!("`{name}`")
    } else {
        "(a name with other characters)".to_owned()
    }
}

/// Field `key` of `spec` as a `T`, when present; an error naming the
/// field when it is not one.
fn read<T: serde::de::DeserializeOwned>(spec: &Value, key: &str) -> Result<Option<T>, String> {
    let Some(value) = spec.get(key) else {
        return Ok(None);
    };
    serde_path_to_error::deserialize(value)
        .map(Some)
        .map_err(|error| {
            let path = error.path().to_string();
            let inner = corral_proto::error::without_position(error.inner());
            match path.trim_start_matches('.') {
                "" => format!("{key}: {inner}"),
                index if index.starts_with('[') => format!("{key}{index}: {inner}"),
                inside => format!("{key}.{inside}: {inner}"),
            }
        })
}

#[cfg(test)]
mod tests;
