//! What `create_job` with `wait_seconds` says of a job's events, built a
//! page at a time within fixed bounds: counts of each kind, the last
//! answer, the errors, the tools called and the end of the output. A job
//! may store tens of MiB of events and this runs in the server for `/mcp`:
//! nothing here grows with them.

use corral_proto::Event;
use corral_proto::event::{EventData, MessageRole};
use serde_json::{Map, Value, json};

/// Output kept, from its end.
const OUTPUT_CHARS: usize = 4000;
/// Most of the last answer kept, from its start.
const ANSWER_CHARS: usize = 8000;
/// Errors kept (the last ones), and most of each.
const ERRORS: usize = 20;
const ERROR_CHARS: usize = 1000;
/// Tool names kept (the first ones).
const TOOLS: usize = 100;

/// A summary being built.
#[derive(Debug, Default)]
pub struct Summary {
    count: u64,
    by_kind: Map<String, Value>,
    answer: Option<String>,
    errors: Vec<String>,
    errors_left_out: u64,
    tools: Vec<Option<String>>,
    tools_left_out: u64,
    /// The end of the output: at most twice [`OUTPUT_CHARS`] bytes between
    /// trims, cut to its last [`OUTPUT_CHARS`] characters at the end.
    output: String,
}

impl Summary {
    /// Takes in one event.
    pub fn add(&mut self, event: &Event) {
        self.count += 1;
        let count = self.by_kind.entry(event.kind.as_str()).or_insert(json!(0));
        *count = json!(count.as_u64().unwrap_or(0) + 1);
        match EventData::parse(event.kind, &event.data) {
            Ok(EventData::Output(said)) => {
                self.output.push_str(&said.text);
                if self.output.len() > 8 * OUTPUT_CHARS {
                    self.output = tail(&self.output, OUTPUT_CHARS).to_owned();
                }
            }
            Ok(EventData::Message(message)) if message.role == MessageRole::Assistant => {
                self.answer = message.text.as_deref().map(|text| cut(text, ANSWER_CHARS));
            }
            Ok(EventData::Error(error)) => {
                if self.errors.len() == ERRORS {
                    self.errors.remove(0);
                    self.errors_left_out += 1;
                }
                self.errors.push(cut(&error.message, ERROR_CHARS));
            }
            Ok(EventData::ToolCall(call)) => {
                if self.tools.len() < TOOLS {
                    self.tools
                        .push(call.name.as_deref().map(|name| cut(name, 200)));
                } else {
                    self.tools_left_out += 1;
                }
            }
            _ => {}
        }
    }

    /// The summary.
    pub fn finish(self) -> Value {
        let mut summary = json!({
            "count": self.count,
            "by_kind": self.by_kind,
            "last_answer": self.answer,
            "tools_called": self.tools,
            "errors": self.errors,
            "output_tail": tail(&self.output, OUTPUT_CHARS),
        });
        if self.errors_left_out > 0 {
            summary["errors_left_out"] = json!(self.errors_left_out);
        }
        if self.tools_left_out > 0 {
            summary["tools_called_left_out"] = json!(self.tools_left_out);
        }
        summary
    }
}

/// The last `chars` characters of `text`.
fn tail(text: &str, chars: usize) -> &str {
    let start = text.char_indices().rev().nth(chars).map_or(0, |(at, _)| at);
    &text[start..]
}

/// The first `chars` characters of `text`, marked when cut.
fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use corral_proto::EventKind;

    use super::*;

    fn event(seq: u64, kind: EventKind, data: Value) -> Event {
        Event {
            job_id: "j-1".into(),
            seq,
            ts: time::OffsetDateTime::UNIX_EPOCH,
            kind,
            data,
            redacted: false,
        }
    }

    /// However many and however long its events, a summary stays within
    /// its bounds and keeps the end of the output and the last errors.
    #[test]
    fn a_summary_stays_bounded_whatever_the_events() {
        let mut summary = Summary::default();
        for seq in 0..5_000 {
            let text = format!("line {seq} {}\n", "o".repeat(200));
            summary.add(&event(
                seq,
                EventKind::Output,
                json!({"stream": "stdout", "text": text}),
            ));
            summary.add(&event(
                seq,
                EventKind::Error,
                json!({"message": "e".repeat(50_000)}),
            ));
            summary.add(&event(
                seq,
                EventKind::ToolCall,
                json!({"id": format!("t{seq}"), "name": "shell", "arguments": {}}),
            ));
            summary.add(&event(
                seq,
                EventKind::Message,
                json!({"role": "assistant", "text": "a".repeat(100_000)}),
            ));
            assert!(summary.output.len() <= 9 * OUTPUT_CHARS);
        }
        let done = summary.finish();
        let size = done.to_string().len();
        assert!(size < 64 << 10, "{size} bytes");
        assert_eq!(done["count"], 20_000);
        assert!(
            done["output_tail"]
                .as_str()
                .unwrap_or("")
                .ends_with("line 4999 ".to_owned().as_str())
                || done["output_tail"]
                    .as_str()
                    .unwrap_or("")
                    .contains("line 4999 ")
        );
        assert_eq!(done["errors"].as_array().map(Vec::len), Some(ERRORS));
        assert_eq!(done["errors_left_out"], 5_000 - ERRORS as u64);
        assert_eq!(done["tools_called_left_out"], 5_000 - TOOLS as u64);
    }
}
