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
    /// (`*.github.com`, which does not match `github.com` itself), on port
    /// 443 through `CONNECT` (TLS naming the host) and 80 for plain HTTP;
    /// `HOST:PORT` for another port instead (`git.example.com:8443`), and
    /// `tcp://HOST:PORT` for a tunnel carrying any bytes (`tcp://db.example.com:5432`).
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
    /// `allow` entries, each in its canonical spelling (lowercase).
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

/// Where the worker's proxy listens inside every container with egress.
pub const PROXY_ADDR: &str = "127.0.0.1:3128";
