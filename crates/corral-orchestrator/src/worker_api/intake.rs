//! What a worker may put in its event batches. The worker runs inside the
//! job and may be the job's own code, so every event is read as its kind's
//! payload and refused (400, naming the event and field) when it is not one,
//! and the kinds and fields only the orchestrator reports are refused from
//! it: a job's state, the user's prompts, model usage, network connections
//! and the job's result.

use corral_proto::NewEvent;
use corral_proto::event::{EventData, MessageRole};

use crate::http::ApiError;

/// Checks a worker's batch; the first event at fault is named.
pub(super) fn check(events: &[NewEvent]) -> Result<(), ApiError> {
    for (index, event) in events.iter().enumerate() {
        let data = EventData::parse(event.kind, &event.data).map_err(|error| {
            let field = error.field.trim_start_matches('.');
            let at = if field.is_empty() {
                format!("events[{index}].data")
            } else {
                format!("events[{index}].data.{field}")
            };
            ApiError::bad_field(
                at,
                format!("not a `{}` event: {}", event.kind.as_str(), error.message),
            )
        })?;
        match data {
            // A worker may say what phase it is in, but a job's state is
            // the orchestrator's alone to report.
            EventData::Status(status) if status.state.is_some() || status.phase.is_none() => {
                return Err(ApiError::bad_field(
                    format!("events[{index}].data"),
                    "a worker's status event names a `phase` and no `state` (states come from the orchestrator only)",
                ));
            }
            // The user's prompts are the orchestrator's to record.
            EventData::Message(message)
                if message.role == MessageRole::User || message.prompt.is_some() =>
            {
                return Err(ApiError::bad_field(
                    format!("events[{index}].data.role"),
                    "a worker's message is the assistant's or the system's (the user's prompts come from the orchestrator only)",
                ));
            }
            EventData::LlmUsage(_) | EventData::Network(_) | EventData::Result(_) => {
                return Err(ApiError::bad_field(
                    format!("events[{index}].kind"),
                    format!(
                        "`{}` events come from the orchestrator only (a worker reports its end on /v1/complete)",
                        event.kind.as_str()
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use corral_proto::EventKind;
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
        ];
        check(&batch).expect("a worker's own kinds");
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
            "events[1].data"
        );
        assert_eq!(
            refused(EventKind::Output, json!({"stream": "tty", "text": "x"})),
            "events[1].data.stream"
        );
        assert_eq!(
            refused(EventKind::Error, json!({"text": "no message"})),
            "events[1].data.text"
        );
    }
}
