//! What a worker may put in its event batches. The worker runs inside the
//! job and may be the job's own code, so every event is read as its kind's
//! payload and refused (400, naming the event and field) when it is not one,
//! and the kinds and fields only the orchestrator reports are refused from
//! it: a job's state, the user's prompts, model usage, network connections
//! and the job's result.

use corral_proto::event::{EventData, MessageRole, WORKER_PHASES};
use corral_proto::{EventKind, NewEvent};

use crate::http::ApiError;

/// Whether a worker may send events of `kind`; the rest are the
/// orchestrator's own. Every kind is decided here, so a kind added later is
/// refused until someone says otherwise.
fn from_worker(kind: EventKind) -> bool {
    match kind {
        EventKind::Output
        | EventKind::Message
        | EventKind::ToolCall
        | EventKind::ToolResult
        | EventKind::Status
        | EventKind::Error
        | EventKind::Warning
        | EventKind::ExecStarted
        | EventKind::ExecEnded => true,
        EventKind::LlmUsage | EventKind::Network | EventKind::Result => false,
    }
}

/// Fields of a worker's `status` event that only the orchestrator writes,
/// refused even when `null`: a job's state, why it ended, its container's
/// profile.
const ORCHESTRATOR_STATUS_FIELDS: [&str; 3] = ["state", "reason", "profile"];

/// Most memory an event other than output may take once read (see
/// `http::weight`; a body's own bound, read from its text, allows up to
/// 48 times its length): every event of text passes, while one of many small
/// values (a message's `raw` of `[0,0,…]`) is refused, naming it, before
/// it is stored and read again by every follower (and it would never fit
/// a follower's window).
const MAX_EVENT_WEIGHT: usize = 16 << 20;

/// Checks a worker's batch; the first event at fault is named.
pub(super) fn check(events: &[NewEvent]) -> Result<(), ApiError> {
    for (index, event) in events.iter().enumerate() {
        check_event(event).map_err(|(field, message)| {
            ApiError::bad_field(format!("events[{index}]{field}"), message)
        })?;
    }
    Ok(())
}

/// Refuses what only a sandbox's worker sends (exec events, output tagged
/// with an exec): elsewhere an exec number would split the job's output
/// among redactors that each see part of a secret.
pub(super) fn no_execs(events: &[NewEvent]) -> Result<(), ApiError> {
    for (index, event) in events.iter().enumerate() {
        let tagged = event.output().is_some_and(|output| output.exec.is_some());
        if tagged || matches!(event.kind, EventKind::ExecStarted | EventKind::ExecEnded) {
            return Err(ApiError::bad_field(
                format!("events[{index}]"),
                "execs are a sandbox's: this job is not one",
            ));
        }
    }
    Ok(())
}

/// One event: `Err((field after "events[i]", message))`.
fn check_event(event: &NewEvent) -> Result<(), (String, String)> {
    let kind = event.kind.as_str();
    if !from_worker(event.kind) {
        return Err((
            ".kind".into(),
            format!(
                "`{kind}` events come from the orchestrator only (a worker reports its end on /v1/complete)"
            ),
        ));
    }
    let Some(fields) = event.data.as_object() else {
        return Err((
            ".data".into(),
            format!("a `{kind}` event's data is an object"),
        ));
    };
    // Output is the hot path: read in place, never copied; only a refused
    // one is parsed again below, to name its field.
    if event.kind == EventKind::Output && event.output().is_some() {
        return Ok(());
    }
    let weight = crate::http::weight::value_weight(&event.data);
    if weight > MAX_EVENT_WEIGHT {
        return Err((
            ".data".into(),
            format!(
                "weighs {weight} bytes once read, at most {MAX_EVENT_WEIGHT}: too many small values"
            ),
        ));
    }
    let data = EventData::parse(event.kind, &event.data).map_err(|error| {
        let field = error.field.trim_start_matches('.');
        let at = if field.is_empty() {
            ".data".to_owned()
        } else {
            format!(".data.{field}")
        };
        (at, format!("not a `{kind}` event: {}", error.message))
    })?;
    match data {
        // A worker may say what phase it is in, but a job's state (and why
        // it ended, and its container's profile) is the orchestrator's.
        EventData::Status(status)
            if !status
                .phase
                .as_deref()
                .is_some_and(|phase| WORKER_PHASES.contains(&phase))
                || ORCHESTRATOR_STATUS_FIELDS
                    .iter()
                    .any(|field| fields.contains_key(*field)) =>
        {
            Err((
                ".data".into(),
                format!(
                    "a worker's status event names a phase of its own ({}) and no `state`, `reason` or `profile` (those come from the orchestrator only)",
                    WORKER_PHASES.join(", ")
                ),
            ))
        }
        // The user's prompts are the orchestrator's to record, and the role
        // is a plain string, as every reader expects it.
        EventData::Message(message)
            if message.role == MessageRole::User
                || !fields.get("role").is_some_and(serde_json::Value::is_string)
                || fields.contains_key("prompt") =>
        {
            Err((
                ".data.role".into(),
                "a worker's message is the assistant's or the system's (the user's prompts come from the orchestrator only)".into(),
            ))
        }
        // Read as a payload but not in place: not the plain shape.
        EventData::Output(_) => Err((
            ".data".into(),
            "an `output` event is `{\"stream\", \"text\"}` as strings (and a sandbox exec's number, `exec`)".into(),
        )),
        // The kind is a worker's (`from_worker`); the payload is its own.
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn refused(kind: EventKind, data: serde_json::Value) -> String {
        match check(&[
            NewEvent::new(EventKind::Output, json!({"stream": "stdout", "text": "ok"})),
            NewEvent::new(kind, data),
        ]) {
            Err(ApiError::BadRequest { field, .. }) => field.unwrap_or_default(),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn what_a_worker_sends_is_accepted() {
        let batch = [
            NewEvent::new(EventKind::Output, json!({"stream": "stderr", "text": "x"})),
            NewEvent::new(
                EventKind::Message,
                json!({"role": "assistant", "text": "hi"}),
            ),
            NewEvent::new(
                EventKind::Message,
                json!({"role": "system", "subtype": "init", "raw": {"a": 1}}),
            ),
            NewEvent::new(
                EventKind::ToolCall,
                json!({"id": "1", "name": "shell", "arguments": {"command": "ls"}}),
            ),
            NewEvent::new(
                EventKind::ToolResult,
                json!({"id": "1", "ok": false, "output": "denied"}),
            ),
            NewEvent::new(
                EventKind::Status,
                json!({"phase": "claude_init", "text": "started", "model": "m"}),
            ),
            NewEvent::new(EventKind::Error, json!({"message": "boom"})),
            NewEvent::new(EventKind::Warning, json!({"message": "hm"})),
            NewEvent::new(
                EventKind::Output,
                json!({"stream": "stdout", "text": "x", "exec": 2}),
            ),
            NewEvent::new(
                EventKind::ExecStarted,
                json!({"exec": 2, "cmd": ["ls"], "cwd": "/workspace"}),
            ),
            NewEvent::new(
                EventKind::ExecEnded,
                json!({"exec": 2, "exit_code": 0, "duration_ms": 3}),
            ),
        ];
        check(&batch).expect("a worker's own kinds");
    }

    #[test]
    fn an_event_of_many_small_values_is_refused_one_of_long_strings_is_not() {
        // About 1.2 MB of JSON, some 38 MB once read.
        let zeros = json!({"role": "assistant", "text": "hi", "raw": vec![0; 600_000]});
        assert_eq!(refused(EventKind::Message, zeros), "events[1].data");
        let long = "x".repeat(8 << 20);
        check(&[NewEvent::new(
            EventKind::ToolResult,
            json!({"id": "1", "ok": true, "output": long}),
        )])
        .expect("8 MiB of text weighs about 8 MiB");
    }

    #[test]
    fn kinds_only_the_orchestrator_reports_are_refused_from_a_worker() {
        let network = json!({"host": "evil.example", "port": 443, "allowed": true});
        assert_eq!(refused(EventKind::Network, network), "events[1].kind");
        let usage = json!({"provider": "p", "model": "m", "input_tokens": 1, "output_tokens": 1,
            "latency_ms": 1, "stream": false, "attempts": 1});
        assert_eq!(refused(EventKind::LlmUsage, usage), "events[1].kind");
        let result = json!({"status": "succeeded", "summary": "all good"});
        assert_eq!(refused(EventKind::Result, result), "events[1].kind");
    }

    #[test]
    fn a_state_a_prompt_or_a_malformed_payload_is_refused_naming_the_field() {
        assert_eq!(
            refused(EventKind::Status, json!({"state": "succeeded"})),
            "events[1].data"
        );
        assert_eq!(
            refused(EventKind::Status, json!({"text": "no phase"})),
            "events[1].data"
        );
        assert_eq!(
            refused(EventKind::Message, json!({"role": "user", "text": "x"})),
            "events[1].data.role"
        );
        assert_eq!(
            refused(
                EventKind::Message,
                json!({"role": "assistant", "prompt": 1})
            ),
            "events[1].data.role"
        );
        assert_eq!(
            refused(EventKind::Output, json!({"stream": "stdout"})),
            "events[1].data.text"
        );
        assert_eq!(
            refused(EventKind::Output, json!({"stream": "tty", "text": "x"})),
            "events[1].data.stream"
        );
        assert_eq!(
            refused(EventKind::Error, json!({"text": "no message"})),
            "events[1].data.text"
        );
        // Present at all, even null, is refused: the key is the orchestrator's.
        assert_eq!(
            refused(
                EventKind::Status,
                json!({"phase": "waiting", "text": "succeeded"})
            ),
            "events[1].data",
            "the orchestrator's own phases are not a worker's"
        );
        assert_eq!(
            refused(
                EventKind::Status,
                json!({"phase": "claude_init", "state": null})
            ),
            "events[1].data"
        );
        assert_eq!(
            refused(
                EventKind::Status,
                json!({"phase": "claude_init", "profile": {}})
            ),
            "events[1].data"
        );
        assert_eq!(
            refused(
                EventKind::Message,
                json!({"role": "assistant", "prompt": null})
            ),
            "events[1].data.role"
        );
        assert_eq!(refused(EventKind::Error, json!(["boom"])), "events[1].data");
        assert_eq!(
            refused(
                EventKind::Message,
                json!({"role": {"system": null}, "text": "x"})
            ),
            "events[1].data.role"
        );
        assert_eq!(
            refused(
                EventKind::Output,
                json!({"stream": "stdout", "text": "x", "more": 1})
            ),
            "events[1].data.more"
        );
    }
}
