//! An API error as the server sent it, and the same error in the terms of
//! the command line: the server names a request field (`limits.memory`),
//! the user typed a flag (`--memory 8m`). The JSON `field` stays the API's;
//! only what the CLI prints is translated.

use std::fmt;

use crate::sanitize::visible_line;

/// Why a call of the user API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Setup(#[source] reqwest::Error),
    /// Nothing answered at the server's address.
    #[error(
        "cannot reach the corral server at {base} (is `corral serve` running? set --server or CORRAL_URL)"
    )]
    Unreachable {
        /// The server's base URL.
        base: String,
    },
    /// The request failed on the way.
    #[error("request to {base} failed")]
    Request {
        /// The server's base URL.
        base: String,
        /// What failed.
        source: reqwest::Error,
    },
    /// A 401: the token is missing or wrong.
    #[error(
        "the server refused the API token (set CORRAL_TOKEN, or --data-dir to the server's data directory)"
    )]
    Unauthorized,
    /// The server refused the call with its JSON error.
    #[error(transparent)]
    Api(#[from] ApiFailure),
    /// The server refused the call without a JSON error.
    #[error("server answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: reqwest::StatusCode,
        /// Its body, on one visible line.
        body: String,
    },
    /// The answer was not what the API promises.
    #[error("cannot decode the server's answer")]
    Decode(#[source] reqwest::Error),
    /// The event stream said the server failed while streaming.
    #[error("the server failed while streaming events: {0}")]
    StreamFailed(String),
    /// An event on the stream was not an event.
    #[error("cannot decode an event from the stream")]
    StreamDecode(#[source] serde_json::Error),
    /// The event stream kept dropping.
    #[error("the event stream of {0} kept dropping")]
    StreamDropped(String),
    /// A short job id named no job, or several.
    #[error("{0}")]
    Id(String),
}

/// An error and its causes on one line, `outer: inner`, as `anyhow`'s
/// `{:#}` writes them.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

impl ClientError {
    /// The server's refusal, when that is what this is.
    pub fn api_failure(&self) -> Option<&ApiFailure> {
        match self {
            Self::Api(failure) => Some(failure),
            _ => None,
        }
    }

    /// The server's refusal, to add what the user typed to it.
    pub fn api_failure_mut(&mut self) -> Option<&mut ApiFailure> {
        match self {
            Self::Api(failure) => Some(failure),
            _ => None,
        }
    }
}

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
