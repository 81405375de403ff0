//! What the user typed for the flag behind an API field, so an error the
//! server answers in API terms reads as the flag: `--memory 8m: at least 16m`.

use crate::cli::{JobsArgs, RunArgs};
use corral_client::{ApiFailure, ClientError, split_index};

/// `error` with the value the user gave the failing field's flag, when
/// `value_of` knows it.
pub fn with_flag_value(
    mut error: ClientError,
    value_of: impl Fn(&str) -> Option<String>,
) -> ClientError {
    if let Some(failure) = error.api_failure_mut()
        && let Some(field) = &failure.field
    {
        failure.value = value_of(field);
    }
    error
}

/// The `corral run` flag value behind an API field of a job spec.
pub fn of_run(field: &str, args: &RunArgs) -> Option<String> {
    let (head, index) = split_index(field);
    let nth = |values: &[String]| index.and_then(|index| values.get(index).cloned());
    match head {
        "limits.memory" => args.memory.clone(),
        "limits.cpu_shares" => args.cpu_shares.map(|value| value.to_string()),
        "limits.pids" => args.pids.map(|value| value.to_string()),
        "limits.timeout" => args.timeout.clone(),
        "limits.tmpfs" => args.tmpfs.clone(),
        "limits.max_llm_calls" => args.agent.max_llm_calls.map(|value| value.to_string()),
        "limits.max_tokens" => args.agent.max_tokens.map(|value| value.to_string()),
        "limits.max_iterations" => args.agent.max_iterations.map(|value| value.to_string()),
        "limits.idle_timeout" => args.agent.idle_timeout.clone(),
        "grants" => nth(&args.grants),
        "egress.allow" => nth(&args.allow_hosts),
        "egress.inject" => nth(&args.injects),
        "image" => args.image.clone(),
        "isolation" => args.isolation.clone(),
        "llm.provider" => args.agent.provider.clone(),
        "llm.model" => args.agent.model.clone(),
        "claude.max_turns" => args.agent.max_turns.map(|value| value.to_string()),
        _ if head == "project" || head.starts_with("project.") => {
            args.project.as_ref().map(|path| path.display().to_string())
        }
        _ => None,
    }
}

/// The `corral jobs` flag value behind a field of the list query.
pub fn of_jobs(field: &str, args: &JobsArgs) -> Option<String> {
    match field {
        "state" => args.state.clone(),
        "limit" => Some(args.limit.to_string()),
        "before" => args.before.clone(),
        _ => None,
    }
}

/// An error for people: an API failure in flag terms (after any context
/// added to it), anything else with its causes.
pub fn describe_error(error: &anyhow::Error) -> String {
    let Some(failure) = error
        .downcast_ref::<ClientError>()
        .and_then(ClientError::api_failure)
    else {
        return format!("{error:#}");
    };
    let mut parts: Vec<String> = error
        .chain()
        .take_while(|cause| !cause.is::<ClientError>() && !cause.is::<ApiFailure>())
        .map(ToString::to_string)
        .collect();
    parts.push(failure.in_flag_terms());
    parts.join(": ")
}
