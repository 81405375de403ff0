//! An API error as the server sent it, and the same error in the terms of
//! the command line: the server names a request field (`limits.memory`),
//! the user typed a flag (`--memory 8m`). The JSON `field` stays the API's;
//! only what the CLI prints is translated.

use std::fmt;

use crate::sanitize::visible_line;

/// A 4xx/5xx answer with the server's `{"error", "field"}`.
#[derive(Debug)]
pub struct ApiFailure {
    /// The server's message (it may quote a job's text: shown on one line).
    pub message: String,
    /// The request field at fault, in API terms.
    pub field: Option<String>,
    /// What the user typed for that field's flag, when the command knows it.
    pub value: Option<String>,
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&visible_line(&self.message))
    }
}

impl std::error::Error for ApiFailure {}

impl ApiFailure {
    /// The message after the flag the field came from, with the value the
    /// user gave it: `--memory 8m: at least 16m`. A field no flag sets
    /// keeps the server's words.
    pub fn in_flag_terms(&self) -> String {
        let Some(field) = &self.field else {
            return self.to_string();
        };
        let Some((flag, hint)) = flag_of(field) else {
            return self.to_string();
        };
        let message = self
            .message
            .strip_prefix(field.as_str())
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&self.message);
        let value = self
            .value
            .as_ref()
            .map(|value| format!(" {value}"))
            .unwrap_or_default();
        let hint = hint.map(|hint| format!(" ({hint})")).unwrap_or_default();
        visible_line(&format!("{flag}{value}: {message}{hint}")).into_owned()
    }
}

/// The flag that sets an API field, and a hint to add to its errors.
fn flag_of(field: &str) -> Option<(&'static str, Option<&'static str>)> {
    let secret_hint = field.ends_with(".secret").then_some("corral secret list");
    let (head, _) = split_index(field);
    let flag = match head {
        "limits.memory" => "--memory",
        "limits.cpu_shares" => "--cpu-shares",
        "limits.pids" => "--pids",
        "limits.timeout" => "--timeout",
        "limits.tmpfs" => "--tmpfs",
        "limits.max_llm_calls" => "--max-llm-calls",
        "limits.max_tokens" => "--max-tokens",
        "limits.max_iterations" => "--max-iterations",
        "limits.idle_timeout" => "--idle-timeout",
        "grants" => "--grant",
        "egress.allow" => "--allow-host",
        "egress.inject" => "--inject",
        "image" => "--image",
        "mode" => "--mode",
        "isolation" => "--isolation",
        "llm.provider" => "--provider",
        "llm.model" => "--model",
        "claude.allowed_tools" => "--allowed-tools",
        "claude.disallowed_tools" => "--disallowed-tools",
        "claude.max_turns" => "--max-turns",
        "state" => "--state",
        "limit" => "--limit",
        "before" => "--before",
        _ if head == "project" || head.starts_with("project.") => "--project",
        _ => return None,
    };
    Some((flag, secret_hint))
}

/// `grants[1].env` as (`grants`, `Some(1)`); a field without an index as
/// itself and `None`.
pub fn split_index(field: &str) -> (&str, Option<usize>) {
    let Some((head, rest)) = field.split_once('[') else {
        return (field, None);
    };
    let index = rest
        .split_once(']')
        .and_then(|(index, _)| index.parse().ok());
    (head, index)
}

#[cfg(test)]
mod tests {
    use super::ApiFailure;

    fn failure(message: &str, field: &str, value: Option<&str>) -> String {
        ApiFailure {
            message: message.into(),
            field: Some(field.into()),
            value: value.map(str::to_owned),
        }
        .in_flag_terms()
    }

    #[test]
    fn api_fields_are_shown_as_the_flags_a_user_typed() {
        assert_eq!(
            failure("limits.memory: at least 16m", "limits.memory", Some("8m")),
            "--memory 8m: at least 16m"
        );
        assert_eq!(
            failure(
                "grants[0].secret: no secret named NOPE",
                "grants[0].secret",
                Some("NOPE")
            ),
            "--grant NOPE: no secret named NOPE (corral secret list)"
        );
        assert_eq!(
            failure("unknown state `bogus`: one of queued", "state", None),
            "--state: unknown state `bogus`: one of queued"
        );
        assert_eq!(
            failure("x.y: is odd", "x.y", Some("1")),
            "x.y: is odd",
            "a field no flag sets keeps the server's words"
        );
    }
}
