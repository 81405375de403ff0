//! What a tool call may ask of a job beyond a locked-down one. The client's
//! model reads what jobs print; text in a job's output (or in a file a job
//! read) can steer that model to ask for a job that sends a granted secret
//! to a host it may reach, or that writes into a host directory. So a tool
//! call grants only the secrets, opens only the hosts and binds a project
//! only as the user who started the server allowed; and it steers (a
//! prompt, an exec, a file written) only jobs and sandboxes it could have
//! created. Copies of a project (`copy`, `isolate`) need no allowance:
//! nothing of the host is written.

use corral_proto::Job;
use corral_proto::egress::EgressSpec;
use corral_proto::job::{GrantSpec, ProjectMode, ProjectSpec};
use serde_json::Value;

/// Stands for every secret or every host in a list.
pub const ANY: &str = "*";

/// What tool calls may ask for; the default allows nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Secrets a job may be granted, or have injected by the egress proxy.
    pub grants: Vec<String>,
    /// `egress.allow` entries a job may hold, as written (any case).
    pub egress: Vec<String>,
    /// Whether a job may have a host directory bound read-write.
    pub bind: bool,
}

/// What a job holds or asks for, as far as the policy goes.
#[derive(Debug, Default)]
struct Asks {
    secrets: Vec<String>,
    hosts: Vec<String>,
    bound: Option<String>,
}

impl Policy {
    /// Whether a new job or sandbox of API spec `spec` is allowed; the
    /// error names the field and the server flag that would allow it. A
    /// field it cannot read is refused too (a server of a newer build may
    /// take more there than this one can check).
    pub fn check_spec(&self, spec: &Value) -> Result<(), String> {
        let mut asks = Asks::default();
        if let Some(grants) = read::<Vec<GrantSpec>>(spec, "grants")? {
            asks.secrets
                .extend(grants.into_iter().map(|grant| grant.secret));
        }
        if let Some(egress) = read::<EgressSpec>(spec, "egress")? {
            asks.hosts = egress.allow;
            asks.secrets
                .extend(egress.inject.into_iter().map(|rule| rule.secret));
        }
        if let Some(project) = read::<ProjectSpec>(spec, "project")? {
            let mode = match &project {
                ProjectSpec::Path(_) => ProjectMode::Bind,
                ProjectSpec::Options { mode, .. } => *mode,
            };
            if mode == ProjectMode::Bind {
                asks.bound = Some(project.path().to_owned());
            }
        }
        self.allows(&asks, "")
    }

    /// Whether a tool call may steer job (or sandbox) `job`: only one it
    /// could have created.
    pub fn check_job(&self, job: &Job) -> Result<(), String> {
        let mut asks = Asks {
            secrets: job
                .grants
                .iter()
                .map(|grant| grant.secret.clone())
                .collect(),
            ..Asks::default()
        };
        if let Some(egress) = &job.egress {
            asks.hosts.clone_from(&egress.allow);
            asks.secrets
                .extend(egress.inject.iter().map(|rule| rule.secret.clone()));
        }
        if job.project_mode == ProjectMode::Bind {
            asks.bound.clone_from(&job.project);
        }
        let whose = format!(
            "{} was created outside MCP with more than it allows: ",
            job.id
        );
        self.allows(&asks, &whose)
    }

    fn allows(&self, asks: &Asks, whose: &str) -> Result<(), String> {
        if let Some(secret) = asks
            .secrets
            .iter()
            .find(|secret| !listed(&self.grants, secret, false))
        {
            return Err(format!(
                "grants: {whose}the MCP server lets tool calls grant no secret `{secret}` \
                 (grants or egress.inject); the user allows it with `--allow-grant {secret}` \
                 on `corral mcp`, `--mcp-allow-grant` on `corral serve` for /mcp"
            ));
        }
        if let Some(host) = asks
            .hosts
            .iter()
            .find(|host| !listed(&self.egress, host, true))
        {
            return Err(format!(
                "egress.allow: {whose}the MCP server lets tool calls open no egress to `{host}`; \
                 the user allows it with `--allow-egress {host}` on `corral mcp`, \
                 `--mcp-allow-egress` on `corral serve` for /mcp"
            ));
        }
        if let Some(path) = asks.bound.as_deref().filter(|_| !self.bind) {
            return Err(format!(
                "project: {whose}the MCP server lets tool calls bind no host directory \
                 read-write (`{path}`); ask for a copy (`copy` or `isolate`), or the user \
                 allows it with `--allow-bind` on `corral mcp`, `--mcp-allow-bind` on \
                 `corral serve` for /mcp"
            ));
        }
        Ok(())
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

/// Whether `list` holds `item` or [`ANY`] (hosts in any case).
fn listed(list: &[String], item: &str, any_case: bool) -> bool {
    list.iter().any(|entry| {
        entry == ANY || entry == item || (any_case && entry.eq_ignore_ascii_case(item))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn allowing(grants: &[&str], egress: &[&str], bind: bool) -> Policy {
        Policy {
            grants: grants.iter().map(|&name| name.to_owned()).collect(),
            egress: egress.iter().map(|&host| host.to_owned()).collect(),
            bind,
        }
    }

    #[test]
    fn by_default_a_spec_gets_no_secret_no_egress_and_no_bound_directory() {
        let none = Policy::default();
        assert_eq!(
            none.check_spec(&json!({"mode": "exec", "command": "ls"})),
            Ok(())
        );
        assert_eq!(
            none.check_spec(&json!({"project": {"path": "/src", "mode": "copy"}})),
            Ok(())
        );
        assert_eq!(
            none.check_spec(&json!({"project": {"path": "/src", "mode": "branch"}})),
            Ok(())
        );
        let refused = [
            (json!({"grants": [{"secret": "GH_TOKEN"}]}), "grants:"),
            (
                json!({"egress": {"inject": [{"host": "api.github.com", "header": "Authorization", "secret": "GH_TOKEN"}]}}),
                "grants:",
            ),
            (json!({"egress": {"allow": ["pypi.org"]}}), "egress.allow:"),
            (json!({"project": "/home/me/src"}), "project:"),
            (json!({"project": {"path": "/home/me/src"}}), "project:"),
            (
                json!({"project": {"path": "/home/me/src", "mode": "bind"}}),
                "project:",
            ),
        ];
        for (spec, field) in refused {
            let error = none.check_spec(&spec).expect_err(&spec.to_string());
            assert!(error.starts_with(field), "{spec}: {error}");
        }
    }

    #[test]
    fn a_field_it_cannot_read_is_refused_naming_it() {
        let policy = allowing(&[ANY], &[ANY], true);
        let unknown = json!({"egress": {"allow": ["pypi.org"], "allow_everything": true}});
        let error = policy.check_spec(&unknown).unwrap_err();
        assert!(error.starts_with("egress"), "{error}");
        assert!(error.contains("allow_everything"), "{error}");
        let mistyped = json!({"grants": [{"secret": 7}]});
        let error = policy.check_spec(&mistyped).unwrap_err();
        assert!(error.starts_with("grants[0].secret: "), "{error}");
    }

    #[test]
    fn what_the_user_allowed_passes_and_nothing_more() {
        let policy = allowing(&["GH_TOKEN"], &["pypi.org", "*.github.com"], true);
        let allowed = json!({
            "grants": [{"secret": "GH_TOKEN", "env": "TOKEN"}],
            "egress": {"allow": ["PyPI.org", "*.github.com"], "inject": [{"host": "api.github.com", "header": "Authorization", "secret": "GH_TOKEN"}]},
            "project": "/home/me/src",
        });
        assert_eq!(policy.check_spec(&allowed), Ok(()));
        let other_secret = json!({"grants": [{"secret": "GH_TOKEN"}, {"secret": "AWS_KEY"}]});
        assert!(
            policy
                .check_spec(&other_secret)
                .unwrap_err()
                .contains("`AWS_KEY`")
        );
        let other_host = json!({"egress": {"allow": ["pypi.org", "evil.example"]}});
        assert!(
            policy
                .check_spec(&other_host)
                .unwrap_err()
                .contains("`evil.example`")
        );
        // A wider pattern than the one allowed is another entry.
        let wider = json!({"egress": {"allow": ["*.com"]}});
        assert!(policy.check_spec(&wider).is_err());
        let any = allowing(&[ANY], &[ANY], false);
        assert_eq!(any.check_spec(&other_secret), Ok(()));
        assert_eq!(any.check_spec(&other_host), Ok(()));
        assert!(any.check_spec(&json!({"project": "/src"})).is_err());
    }

    #[test]
    fn a_job_made_outside_mcp_with_more_is_not_steered() {
        let limits = corral_proto::Limits {
            memory_bytes: 1 << 30,
            cpu_shares: 1024,
            pids: 256,
            timeout_secs: 600,
            tmpfs_bytes: 1 << 28,
            max_llm_calls: 1,
            max_tokens: 1,
            max_iterations: 1,
            idle_timeout_secs: 1,
        };
        let queued = Job::queued(
            "j-0123456789abcdef".into(),
            corral_proto::JobMode::Exec,
            "x".into(),
            limits,
        );
        let job = Job {
            project: Some("/home/me/src".into()),
            project_mode: ProjectMode::Bind,
            grants: vec![corral_proto::job::Grant {
                secret: "GH_TOKEN".into(),
                env: "GH_TOKEN".into(),
            }],
            egress: Some(corral_proto::EgressPolicy {
                allow: vec!["api.github.com".into()],
                inject: Vec::new(),
                allow_ip_literals: false,
                max_connections: 1,
                max_bytes: 1,
            }),
            ..queued.clone()
        };
        assert_eq!(
            Policy::default().check_job(&queued),
            Ok(()),
            "a job with nothing more than a locked-down one"
        );
        let error = Policy::default().check_job(&job).unwrap_err();
        assert!(
            error.starts_with("grants: j-0123456789abcdef was created outside MCP"),
            "{error}"
        );
        let secrets_only = allowing(&["GH_TOKEN"], &[], false);
        assert!(
            secrets_only
                .check_job(&job)
                .unwrap_err()
                .starts_with("egress.allow:")
        );
        let no_bind = allowing(&["GH_TOKEN"], &["api.github.com"], false);
        assert!(no_bind.check_job(&job).unwrap_err().starts_with("project:"));
        assert_eq!(
            allowing(&["GH_TOKEN"], &["api.github.com"], true).check_job(&job),
            Ok(())
        );
    }
}
