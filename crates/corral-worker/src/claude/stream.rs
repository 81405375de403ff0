//! `claude -p --output-format stream-json --verbose` lines to corral events.
//! Pure: a line in, events and what it says about the run out.

use std::collections::BTreeMap;

use corral_proto::NewEvent;
use corral_proto::event::{
    MessageData, MessageRole, PHASE_CLAUDE_INIT, PHASE_CLAUDE_RETRY, StatusData, ToolCallData,
    ToolResultData,
};
use serde_json::{Value, json};

/// Longest tool output kept in an event; the rest is cut with a marker.
const MAX_EVENT_TEXT: usize = 64 << 10;

/// How a `claude` run ended, from its `result` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    /// Whether it did what it was asked.
    pub ok: bool,
    /// Its final text, or why it failed.
    pub text: String,
}

/// What one line said.
#[derive(Debug, Default)]
pub struct Mapped {
    /// Events to send.
    pub events: Vec<NewEvent>,
    /// The session, from the `init` line (or any line carrying it).
    pub session_id: Option<String>,
    /// The run's end, from the `result` line.
    pub result: Option<RunResult>,
}

/// Maps one stream-json line. A line that is not JSON becomes a warning.
pub fn map_line(line: &str) -> Mapped {
    let line = line.trim();
    if line.is_empty() {
        return Mapped::default();
    }
    let Ok(value) = serde_json::from_str::<Value>(line) else {
        let shown: String = line.chars().take(200).collect();
        return Mapped {
            events: vec![NewEvent::warning(format!(
                "unreadable line from claude: {shown}"
            ))],
            ..Mapped::default()
        };
    };
    let session_id = value["session_id"].as_str().map(str::to_owned);
    let mut mapped = match value["type"].as_str().unwrap_or_default() {
        "assistant" => Mapped {
            events: assistant(&value),
            ..Mapped::default()
        },
        "user" => Mapped {
            events: tool_results(&value),
            ..Mapped::default()
        },
        "system" => Mapped {
            events: vec![system(&value)],
            ..Mapped::default()
        },
        "result" => result(&value),
        other => Mapped {
            events: vec![system_message(other, &value)],
            ..Mapped::default()
        },
    };
    mapped.session_id = session_id;
    keep_raw(&mut mapped.events, value, line.len());
    mapped
}

/// Puts the line as `claude` printed it on the first of its events, so a
/// reader can see what corral's mapping left out; a line too long for an
/// event is named by its size instead.
fn keep_raw(events: &mut [NewEvent], value: Value, size: usize) {
    let Some(Value::Object(data)) = events.first_mut().map(|event| &mut event.data) else {
        return;
    };
    if data.contains_key("raw") {
        return;
    }
    if size <= MAX_EVENT_TEXT {
        data.insert("raw".into(), value);
    } else {
        data.insert("raw_bytes".into(), json!(size));
    }
}

fn assistant(value: &Value) -> Vec<NewEvent> {
    let mut events = Vec::new();
    for block in value["message"]["content"].as_array().into_iter().flatten() {
        match block["type"].as_str() {
            Some("text") => {
                let text = block["text"].as_str().unwrap_or_default();
                if !text.is_empty() {
                    events.push(NewEvent::of(&MessageData::new(
                        MessageRole::Assistant,
                        text,
                    )));
                }
            }
            Some("tool_use") => events.push(NewEvent::of(&ToolCallData {
                id: block["id"].as_str().map(str::to_owned),
                name: block["name"].as_str().map(str::to_owned),
                arguments: block["input"].clone(),
                extra: BTreeMap::new(),
            })),
            _ => {}
        }
    }
    events
}

fn tool_results(value: &Value) -> Vec<NewEvent> {
    let mut events = Vec::new();
    for block in value["message"]["content"].as_array().into_iter().flatten() {
        if block["type"] != "tool_result" {
            continue;
        }
        let output = match &block["content"] {
            Value::String(text) => text.clone(),
            Value::Array(parts) => parts
                .iter()
                .filter_map(|part| part["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        };
        events.push(NewEvent::of(&ToolResultData {
            id: block["tool_use_id"].as_str().map(str::to_owned),
            name: None,
            ok: block["is_error"] != true,
            output: cut(&output),
            duration_ms: None,
            extra: BTreeMap::new(),
        }));
    }
    events
}

fn system(value: &Value) -> NewEvent {
    let subtype = value["subtype"].as_str().unwrap_or("system");
    match subtype {
        "init" => NewEvent::of(&StatusData {
            phase: Some(PHASE_CLAUDE_INIT.into()),
            text: Some(format!(
                "claude {} started: model {}, {} tools",
                value["claude_code_version"].as_str().unwrap_or("?"),
                value["model"].as_str().unwrap_or("?"),
                value["tools"].as_array().map_or(0, Vec::len)
            )),
            extra: passed_along(value, &["model", "tools"]),
            ..StatusData::default()
        }),
        "api_retry" => NewEvent::of(&StatusData {
            phase: Some(PHASE_CLAUDE_RETRY.into()),
            text: Some(format!(
                "the model API failed; claude retries ({})",
                summary(value)
            )),
            extra: BTreeMap::from([("raw".to_owned(), value.clone())]),
            ..StatusData::default()
        }),
        other => system_message(other, value),
    }
}

/// A Claude Code line corral has no event of its own for, kept whole.
fn system_message(subtype: &str, value: &Value) -> NewEvent {
    NewEvent::of(&MessageData {
        subtype: Some(subtype.to_owned()),
        extra: BTreeMap::from([("raw".to_owned(), value.clone())]),
        ..MessageData::system()
    })
}

/// `keys` of `value`, `null` where it has none, passed along as they are.
fn passed_along(value: &Value, keys: &[&str]) -> BTreeMap<String, Value> {
    keys.iter()
        .map(|key| ((*key).to_owned(), value[*key].clone()))
        .collect()
}

/// A short account of a line for people.
fn summary(value: &Value) -> String {
    let mut parts = Vec::new();
    for key in ["attempt", "max_retries", "error_status", "error"] {
        if let Some(found) = value.get(key).filter(|found| !found.is_null()) {
            parts.push(format!("{key} {found}"));
        }
    }
    parts.join(", ")
}

fn result(value: &Value) -> Mapped {
    let is_error = value["is_error"] == true;
    let subtype = value["subtype"].as_str().unwrap_or_default();
    let terminal = value["terminal_reason"].as_str().unwrap_or_default();
    let ok = !is_error
        && subtype == "success"
        && matches!(terminal, "" | "completed" | "end_turn" | "success");
    let text = value["result"].as_str().unwrap_or_default().to_owned();
    let text = if ok || !text.is_empty() {
        text
    } else if !terminal.is_empty() {
        format!("claude ended: {terminal}")
    } else {
        format!("claude ended: {subtype}")
    };
    let event = NewEvent::of(&MessageData {
        subtype: Some("result".into()),
        ok: Some(ok),
        text: Some(text.clone()),
        extra: passed_along(
            value,
            &[
                "num_turns",
                "total_cost_usd",
                "duration_api_ms",
                "terminal_reason",
                "permission_denials",
                "usage",
            ],
        ),
        ..MessageData::system()
    });
    Mapped {
        events: vec![event],
        session_id: None,
        result: Some(RunResult { ok, text }),
    }
}

fn cut(text: &str) -> String {
    if text.len() <= MAX_EVENT_TEXT {
        return text.to_owned();
    }
    let at = crate::tools::floor_boundary(text, MAX_EVENT_TEXT);
    format!("{}\n[… {} bytes cut]", &text[..at], text.len() - at)
}

#[cfg(test)]
mod tests {
    use corral_proto::EventKind;

    use super::*;

    #[test]
    fn assistant_text_and_tool_use_become_message_and_tool_call() {
        let mapped = map_line(
            r#"{"type":"assistant","session_id":"s1","message":{"content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"Bash","input":{"command":"ls"}}]}}"#,
        );
        assert_eq!(mapped.session_id.as_deref(), Some("s1"));
        let kinds: Vec<EventKind> = mapped.events.iter().map(|event| event.kind).collect();
        assert_eq!(kinds, [EventKind::Message, EventKind::ToolCall]);
        assert_eq!(mapped.events[1].data["arguments"]["command"], "ls");
    }

    #[test]
    fn tool_results_keep_their_error_flag_and_text_parts() {
        let mapped = map_line(
            r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"toolu_1","is_error":true,"content":[{"type":"text","text":"denied"}]}]}}"#,
        );
        assert_eq!(mapped.events[0].kind, EventKind::ToolResult);
        assert_eq!(mapped.events[0].data["ok"], false);
        assert_eq!(mapped.events[0].data["output"], "denied");
    }

    #[test]
    fn a_success_subtype_with_an_error_flag_is_a_failure() {
        let ok = map_line(
            r#"{"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":2,"total_cost_usd":0.01}"#,
        );
        assert_eq!(
            ok.result,
            Some(RunResult {
                ok: true,
                text: "done".into()
            })
        );
        let failed = map_line(
            r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 401 invalid x-api-key","terminal_reason":"api_error"}"#,
        );
        let failed = failed.result.expect("result");
        assert!(!failed.ok);
        assert!(failed.text.contains("401"), "{}", failed.text);
        let turns = map_line(r#"{"type":"result","subtype":"error_max_turns","is_error":false}"#);
        assert_eq!(
            turns.result.expect("result").text,
            "claude ended: error_max_turns"
        );
    }

    #[test]
    fn any_mutation_of_a_real_line_maps_without_panicking() {
        let seeds = [
            r#"{"type":"assistant","session_id":"s","message":{"content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"Bash","input":{"command":"ls"}}]}}"#,
            r#"{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","is_error":true,"content":[{"type":"text","text":"no"}]}]}}"#,
            r#"{"type":"result","subtype":"success","is_error":false,"result":"done","num_turns":2}"#,
            r#"{"type":"system","subtype":"init","model":"m","tools":["Bash"],"claude_code_version":"2"}"#,
        ];
        let mut rng = corral_proto::fuzz::Rng::new(5);
        for round in 0..20_000 {
            let input = rng.mutate(seeds[round % seeds.len()].as_bytes());
            let mapped = map_line(&String::from_utf8_lossy(&input));
            assert!(mapped.events.len() <= 16);
        }
    }

    #[test]
    fn init_and_retries_are_status_events_without_a_state() {
        let init = map_line(
            r#"{"type":"system","subtype":"init","session_id":"s9","model":"m","tools":["Bash","Read"],"claude_code_version":"2.1"}"#,
        );
        assert_eq!(init.session_id.as_deref(), Some("s9"));
        assert_eq!(init.events[0].kind, EventKind::Status);
        assert_eq!(init.events[0].data["phase"], "claude_init");
        assert_eq!(
            init.events[0].data["text"],
            "claude 2.1 started: model m, 2 tools"
        );
        let retry = map_line(
            r#"{"type":"system","subtype":"api_retry","attempt":1,"max_retries":2,"error_status":500}"#,
        );
        assert_eq!(retry.events[0].kind, EventKind::Status);
        assert_eq!(retry.events[0].data["phase"], "claude_retry");
        let text = retry.events[0].data["text"].as_str().expect("text");
        assert!(
            text.contains("attempt 1") && text.contains("error_status 500"),
            "{text}"
        );
        // A state is the orchestrator's to report, never the worker's.
        assert!(init.events[0].data.get("state").is_none());
        assert!(retry.events[0].data.get("state").is_none());
    }

    #[test]
    fn malformed_and_huge_lines_are_reported_not_fatal() {
        let mapped = map_line("{not json");
        assert_eq!(mapped.events[0].kind, EventKind::Warning);
        let huge = "x".repeat(5 << 20);
        let line = json!({"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content": huge}]}}).to_string();
        let mapped = map_line(&line);
        let output = mapped.events[0].data["output"].as_str().expect("output");
        assert!(output.len() < MAX_EVENT_TEXT + 100);
        assert!(output.ends_with("bytes cut]"));
        assert_eq!(mapped.events[0].data["raw_bytes"], line.len());
        assert!(mapped.events[0].data.get("raw").is_none());
    }

    #[test]
    fn the_raw_line_rides_on_its_first_event() {
        let line = r#"{"type":"assistant","message":{"content":[{"type":"text","text":"a"},{"type":"tool_use","id":"t","name":"Read","input":{"file_path":"/x"}}]},"parent_tool_use_id":null}"#;
        let mapped = map_line(line);
        let parsed: Value = serde_json::from_str(line).expect("json");
        assert_eq!(mapped.events[0].data["raw"], parsed);
        assert!(mapped.events[1].data.get("raw").is_none(), "once per line");
    }
}
