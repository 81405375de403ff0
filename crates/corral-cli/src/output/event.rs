//! One event for people: a job's output on stdout and stderr as it wrote
//! it (made visible unless `--raw`), the rest as notes on stderr, every
//! field made visible before corral paints it.

use corral_proto::{Event, EventKind};

use super::{JobOutput, job_stderr, job_stdout, line, note, painted, visible_line};

/// The colour of a job state.
fn state_colour(state: &str) -> &'static str {
    match state {
        "succeeded" => "32",
        "failed" | "timed_out" => "31",
        "cancelled" => "33",
        "running" | "starting" => "36",
        _ => "2",
    }
}

/// Renders a job's events in order, saying each thing once: a terminal
/// state whose reason repeats the job's last error shows without it.
pub struct Events {
    mode: JobOutput,
    last_error: Option<String>,
}

impl Events {
    /// A renderer; `mode` applies to the job's own output only.
    pub fn new(mode: JobOutput) -> Self {
        Self {
            mode,
            last_error: None,
        }
    }

    /// Renders the next event.
    pub fn show(&mut self, shown: &Event) {
        let message = |key: &str| shown.data.get(key).and_then(|value| value.as_str());
        match shown.kind {
            EventKind::Error => self.last_error = message("message").map(str::to_owned),
            EventKind::Status
                if message("reason").is_some()
                    && message("reason") == self.last_error.as_deref() =>
            {
                let mut quiet = shown.clone();
                if let Some(data) = quiet.data.as_object_mut() {
                    data.remove("reason");
                }
                return event(&quiet, self.mode);
            }
            _ => {}
        }
        event(shown, self.mode);
    }
}

/// Renders one event; `mode` applies to the job's own output only.
fn event(event: &Event, mode: JobOutput) {
    let text = |key: &str| {
        event
            .data
            .get(key)
            .and_then(|value| value.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    match event.kind {
        EventKind::Output if text("stream") == "stderr" => job_stderr(&text("text"), mode),
        EventKind::Output => job_stdout(&text("text"), mode),
        EventKind::Status if text("state").is_empty() => {
            painted(
                "2",
                &visible_line(&format!("{} {}", event.job_id, text("text"))),
            );
        }
        EventKind::Status => {
            let reason = text("reason");
            let suffix = if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            };
            let state = text("state");
            // One line: a reason cannot add a line of its own.
            painted(
                state_colour(&state),
                &visible_line(&format!("{} {state}{suffix}", event.job_id)),
            );
        }
        EventKind::Warning => painted("33", &format!("warning: {}", text("message"))),
        EventKind::Network => network(event),
        EventKind::Error => painted("31", &format!("error: {}", text("message"))),
        EventKind::Message if text("role") == "user" => {
            painted("33", &format!("prompt: {}", text("text")));
        }
        EventKind::Message if text("role") == "system" => {
            let said = text("text");
            if !said.is_empty() && text("subtype") != "result" {
                painted("2", &said);
            }
        }
        EventKind::Message => line(&text("text")),
        EventKind::ToolCall => note(&format!(
            "tool {} {}",
            visible_line(&text("name")),
            event
                .data
                .get("arguments")
                .map(ToString::to_string)
                .unwrap_or_default()
        )),
        EventKind::ToolResult => {
            let output = text("output");
            let first = output.lines().next().unwrap_or_default();
            let status = if event.data["ok"] == true {
                "ok"
            } else {
                "failed"
            };
            let code = if status == "ok" { "2" } else { "31" };
            painted(
                code,
                &format!("tool {} {status}: {first}", visible_line(&text("name"))),
            );
        }
        EventKind::LlmUsage => painted(
            "2",
            &format!(
                "model {}: {} tokens in, {} out, {} ms",
                visible_line(&text("model")),
                event.data["input_tokens"],
                event.data["output_tokens"],
                event.data["latency_ms"]
            ),
        ),
        EventKind::Result => {}
    }
}

/// A connection through the egress proxy.
fn network(event: &Event) {
    let text = |key: &str| event.data[key].as_str().unwrap_or_default().to_owned();
    let allowed = event.data["allowed"].as_bool().unwrap_or(false);
    let reason = text("reason");
    let line = format!(
        "network {} {}:{}{}{}",
        if allowed { "allowed" } else { "DENIED" },
        text("host"),
        event.data["port"],
        if allowed {
            format!(
                " ({} up, {} down)",
                event.data["bytes_up"], event.data["bytes_down"]
            )
        } else {
            String::new()
        },
        if reason.is_empty() {
            String::new()
        } else {
            format!(": {reason}")
        },
    );
    painted(if allowed { "2" } else { "31" }, &visible_line(&line));
}
