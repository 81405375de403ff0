//! Controlled egress: the hosts a job may reach through the orchestrator's
//! proxy, and the credentials the proxy adds on the way out.

use serde::{Deserialize, Serialize};

use crate::size::ByteSize;

/// A job's egress policy as a user writes it. No egress at all unless some
/// host is allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EgressSpec {
    /// Hosts the job may reach: exact names (`pypi.org`) or `*.` suffixes
    /// (`*.github.com`, which does not match `github.com` itself).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Credentials the proxy adds to requests to a host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inject: Vec<InjectRule>,
    /// Whether `allow` may name IP addresses.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_ip_literals: bool,
    /// Most connections the job may open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u64>,
    /// Most bytes, up and down, over all its connections: `100m`, or bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<ByteSize>,
}

/// A header the proxy adds to every HTTPS request to `host`, its value a
/// stored secret: the job never sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InjectRule {
    /// An exact host the job is allowed to reach.
    pub host: String,
    /// The header, e.g. `Authorization`.
    pub header: String,
    /// The secret's name in the secrets store.
    pub secret: String,
    /// The header's value, `{}` standing for the secret (`Bearer {}`); the
    /// secret as is when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// A job's egress policy, checked and with its limits resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EgressPolicy {
    /// Host patterns, lowercased.
    pub allow: Vec<String>,
    /// Credentials added on the way out.
    pub inject: Vec<InjectRule>,
    /// Whether `allow` may name IP addresses.
    pub allow_ip_literals: bool,
    /// Most connections.
    pub max_connections: u64,
    /// Most bytes, up and down.
    pub max_bytes: u64,
}

impl EgressPolicy {
    /// Whether `host` (lowercased, no port) is allowed.
    #[must_use]
    pub fn allows(&self, host: &str) -> bool {
        self.allow.iter().any(|pattern| matches(pattern, host))
    }

    /// The rule adding a credential for `host`, if any.
    #[must_use]
    pub fn inject_for(&self, host: &str) -> Option<&InjectRule> {
        self.inject.iter().find(|rule| rule.host == host)
    }
}

/// Whether `host` matches `pattern`: equal, or under a `*.` suffix.
#[must_use]
pub fn matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => host
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => pattern == host,
    }
}

/// Where the worker's proxy listens inside every container with egress.
pub const PROXY_ADDR: &str = "127.0.0.1:3128";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_patterns_match_subdomains_only() {
        assert!(matches("*.github.com", "api.github.com"));
        assert!(matches("*.github.com", "a.b.github.com"));
        assert!(!matches("*.github.com", "github.com"));
        assert!(!matches("*.github.com", "evilgithub.com"));
        assert!(!matches("*.github.com", ".github.com"));
        assert!(matches("pypi.org", "pypi.org"));
        assert!(!matches("pypi.org", "x.pypi.org"));
    }
}
