//! Granting a stored secret to a job: the names only, never the value.

use serde::{Deserialize, Serialize};

/// A grant as a user writes it: a stored secret and, optionally, the
/// environment variable it appears in (the secret's name by default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantSpec {
    /// The stored secret's name.
    pub secret: String,
    /// The environment variable; the secret's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

/// A checked grant: names only, never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    /// The stored secret's name.
    pub secret: String,
    /// The environment variable the job's processes receive it in.
    pub env: String,
}
