//! The JSON body every corral API error carries.

use serde::{Deserialize, Serialize};

/// Body of a 4xx/5xx answer: a message for people and, for bad input, the
/// dotted path of the field at fault (`limits.memory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong, lowercase, no trailing period.
    pub error: String,
    /// The request field that caused the error, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// A stable code for programs, where one applies (`budget_exceeded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}
