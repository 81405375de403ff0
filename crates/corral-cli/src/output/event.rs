//! One event for people: a job's output on stdout and stderr as it wrote
//! it (made visible unless `--raw`), the rest as notes on stderr, every
//! field made visible before corral paints it.

use corral_proto::Event;
use corral_proto::event::{
    EventData, LlmUsageData, MessageData, MessageRole, NetworkData, OutputStream, StatusData,
    ToolResultData,
};

use super::visible_line;
use super::write::{JobOutput, job_stderr, job_stdout, line, note, painted};

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

    /// Renders the next event; one whose payload is not its kind's (the
    /// server refuses those from workers; a newer server may add fields)
    /// is named, not shown.
    pub fn show(&mut self, shown: &Event) {
        let Ok(mut data) = EventData::parse(shown.kind, &shown.data) else {
            note(&format!(
                "event {} ({}) is not in a shape this corral reads",
                shown.seq,
                shown.kind.as_str()
            ));
            return;
        };
        match &mut data {
            EventData::Error(error) => self.last_error = Some(error.message.clone()),
            EventData::Status(status)
                if status.reason.is_some() && status.reason == self.last_error =>
            {
                status.reason = None;
            }
            _ => {}
        }
        event(&shown.job_id, &data, self.mode);
    }
}

/// Renders one event; `mode` applies to the job's own output only.
fn event(job_id: &str, data: &EventData, mode: JobOutput) {
    match data {
        EventData::Output(output) if output.stream == OutputStream::Stderr => {
            job_stderr(&output.text, mode);
        }
        EventData::Output(output) => job_stdout(&output.text, mode),
        EventData::Status(status) => show_status(job_id, status),
        EventData::Warning(warning) => painted("33", &format!("warning: {}", warning.message)),
        EventData::Network(network) => show_network(network),
        EventData::Error(error) => painted("31", &format!("error: {}", error.message)),
        EventData::Message(message) => show_message(message),
        EventData::ToolCall(call) => note(&format!(
            "tool {} {}",
            visible_line(call.name.as_deref().unwrap_or_default()),
            if call.arguments.is_null() {
                String::new()
            } else {
                call.arguments.to_string()
            }
        )),
        EventData::ToolResult(result) => show_tool_result(result),
        EventData::LlmUsage(usage) => show_usage(usage),
        EventData::Result(_) => {}
        EventData::ExecStarted(started) => note(&format!(
            "exec {} in {}: {}",
            started.exec,
            visible_line(&started.cwd),
            visible_line(&match &started.cmd {
                corral_proto::CommandSpec::Shell(line) => line.clone(),
                corral_proto::CommandSpec::Argv(argv) => argv.join(" "),
            })
        )),
        EventData::ExecEnded(ended) => note(&format!(
            "exec {} ended: {} in {} ms{}",
            ended.exec,
            ended.exit_code.map_or_else(
                || "no exit code".to_owned(),
                |code| format!("exit code {code}")
            ),
            ended.duration_ms,
            if ended.timed_out { " (timed out)" } else { "" }
        )),
    }
}

/// A state change, or a step within one.
fn show_status(job_id: &str, status: &StatusData) {
    let Some(state) = status.state else {
        let text = status.text.as_deref().unwrap_or_default();
        painted("2", &visible_line(&format!("{job_id} {text}")));
        return;
    };
    let suffix = match status.reason.as_deref() {
        None | Some("") => String::new(),
        Some(reason) => format!(" ({reason})"),
    };
    let state = state.as_str();
    // One line: a reason cannot add a line of its own.
    painted(
        state_colour(state),
        &visible_line(&format!("{job_id} {state}{suffix}")),
    );
}

/// A prompt, the model's text, or the agent's own account.
fn show_message(message: &MessageData) {
    let text = message.text.as_deref().unwrap_or_default();
    match message.role {
        MessageRole::User => painted("33", &format!("prompt: {text}")),
        MessageRole::System => {
            if !text.is_empty() && message.subtype.as_deref() != Some("result") {
                painted("2", text);
            }
        }
        MessageRole::Assistant => line(text),
    }
}

/// What a tool returned: its first line.
fn show_tool_result(result: &ToolResultData) {
    let first = result.output.lines().next().unwrap_or_default();
    let (status, code) = if result.ok {
        ("ok", "2")
    } else {
        ("failed", "31")
    };
    painted(
        code,
        &format!(
            "tool {} {status}: {first}",
            visible_line(result.name.as_deref().unwrap_or_default())
        ),
    );
}

/// One model call.
fn show_usage(usage: &LlmUsageData) {
    painted(
        "2",
        &format!(
            "model {}: {} tokens in, {} out, {} ms",
            visible_line(&usage.model),
            usage.input_tokens,
            usage.output_tokens,
            usage.latency_ms
        ),
    );
}

/// A connection through the egress proxy.
fn show_network(network: &NetworkData) {
    let counted = |count: Option<u64>| count.map_or_else(|| "null".to_owned(), |n| n.to_string());
    let line = format!(
        "network {} {}:{}{}{}",
        if network.allowed { "allowed" } else { "DENIED" },
        network.host,
        network.port,
        if network.allowed {
            format!(
                " ({} up, {} down)",
                counted(network.bytes_up),
                counted(network.bytes_down)
            )
        } else {
            String::new()
        },
        match network.reason.as_deref() {
            None | Some("") => String::new(),
            Some(reason) => format!(": {reason}"),
        },
    );
    painted(
        if network.allowed { "2" } else { "31" },
        &visible_line(&line),
    );
}
