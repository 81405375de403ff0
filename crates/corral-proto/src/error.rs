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

/// `error`'s message without `serde_json`'s `at line 1 column 45`: once the
/// field is named, a position in text the caller may never have written
/// (a tool's arguments, a form) only confuses.
pub fn without_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(bare) => bare.to_owned(),
        None => message,
    }
}
