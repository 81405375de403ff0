//! Everything `corral` writes to the terminal goes through here.

use std::fmt::Write as _;
use std::io::Write;

use corral_proto::{Event, EventKind, Job};

/// Writes a line to stdout.
pub fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
}

/// Writes text to stdout as is, flushed (a job's own output).
pub fn raw_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes text to stderr as is, flushed (a job's own error output).
pub fn raw_stderr(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

/// A note from corral itself, on stderr.
pub fn note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "corral: {text}");
}

/// Whether notes on stderr may be coloured: a terminal, and no `NO_COLOR`.
pub fn colour() -> bool {
    use std::io::IsTerminal as _;
    static COLOUR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *COLOUR.get_or_init(|| {
        std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
    })
}

/// `text` in an ANSI colour (`"31"` red…) when [`colour`] allows.
fn paint(code: &str, text: &str) -> String {
    if colour() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// A note in a colour.
fn painted(code: &str, text: &str) {
    note(&paint(code, text));
}

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

/// An error, on stderr.
pub fn error(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "corral: error: {text}");
}

/// A JSON value on one line of stdout.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => line(&text),
        Err(error) => self::error(&format!("cannot encode JSON: {error}")),
    }
}

/// Renders one event for people: a job's output as it was written, the rest
/// as notes on stderr.
pub fn event(event: &Event) {
    let text = |key: &str| {
        event
            .data
            .get(key)
            .and_then(|value| value.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    match event.kind {
        EventKind::Output if text("stream") == "stderr" => raw_stderr(&text("text")),
        EventKind::Output => raw_stdout(&text("text")),
        EventKind::Status if text("state").is_empty() => {
            painted("2", &format!("{} {}", event.job_id, text("text")));
        }
        EventKind::Status => {
            let reason = text("reason");
            let suffix = if reason.is_empty() {
                String::new()
            } else {
                format!(" ({reason})")
            };
            let state = text("state");
            painted(
                state_colour(&state),
                &format!("{} {state}{suffix}", event.job_id),
            );
        }
        EventKind::Warning => painted("33", &format!("warning: {}", text("message"))),
        EventKind::Network => {
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
            painted(if allowed { "2" } else { "31" }, &line);
        }
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
            text("name"),
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
            painted(code, &format!("tool {} {status}: {first}", text("name")));
        }
        EventKind::LlmUsage => painted(
            "2",
            &format!(
                "model {}: {} tokens in, {} out, {} ms",
                text("model"),
                event.data["input_tokens"],
                event.data["output_tokens"],
                event.data["latency_ms"]
            ),
        ),
        EventKind::Result => {}
    }
}

/// A job as `key: value` lines.
pub fn job_details(job: &Job) {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| "-".into());
    let fields = [
        ("id", job.id.clone()),
        ("state", job.state.as_str().to_owned()),
        ("mode", job.mode.as_str().to_owned()),
        ("image", job.image.clone()),
        (
            "command",
            or_dash(job.command.as_ref().map(crate::commands::describe_command)),
        ),
        ("project", or_dash(job.project.clone())),
        (
            "prompt",
            or_dash(
                job.prompt
                    .as_ref()
                    .map(|prompt| prompt.lines().next().unwrap_or_default().to_owned()),
            ),
        ),
        (
            "model",
            or_dash(
                job.llm
                    .as_ref()
                    .map(|llm| format!("{}/{}", llm.provider, llm.model)),
            ),
        ),
        (
            "usage",
            if job.usage.llm_calls == 0 {
                "-".to_owned()
            } else {
                format!(
                    "{} calls, {} tokens in, {} out, ${:.4}",
                    job.usage.llm_calls,
                    job.usage.input_tokens,
                    job.usage.output_tokens,
                    job.usage.cost_usd
                )
            },
        ),
        (
            "exit code",
            or_dash(job.exit_code.map(|code| code.to_string())),
        ),
        ("reason", or_dash(job.reason.clone())),
        ("container", or_dash(job.container_id.clone())),
        (
            "memory",
            corral_proto::ByteSize(job.limits.memory_bytes).to_string(),
        ),
        ("cpu shares", job.limits.cpu_shares.to_string()),
        ("pids", job.limits.pids.to_string()),
        ("timeout", format!("{}s", job.limits.timeout_secs)),
        ("created", job.created_at.to_string()),
        ("started", or_dash(job.started_at.map(|at| at.to_string()))),
        (
            "finished",
            or_dash(job.finished_at.map(|at| at.to_string())),
        ),
    ];
    for (key, value) in fields {
        line(&format!("{key:>10}  {value}"));
    }
}

/// A unified diff; coloured (added green, removed red, hunks cyan) when
/// `colour` is set.
pub fn diff(patch: &str, colour: bool) {
    if !colour {
        raw_stdout(patch);
        return;
    }
    let mut out = String::with_capacity(patch.len() + patch.len() / 8);
    for line in patch.split_inclusive('\n') {
        let code =
            if line.starts_with("+++") || line.starts_with("---") || line.starts_with("diff ") {
                "1"
            } else if line.starts_with('+') {
                "32"
            } else if line.starts_with('-') {
                "31"
            } else if line.starts_with("@@") {
                "36"
            } else {
                ""
            };
        if code.is_empty() {
            out.push_str(line);
        } else {
            let _ = writeln!(out, "\x1b[{code}m{}\x1b[0m", line.trim_end_matches('\n'));
        }
    }
    raw_stdout(&out);
}

/// A spinner on stderr while something is awaited, on a terminal only.
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    /// Starts spinning with `message` (nothing when not on a terminal).
    pub fn start(message: &str) -> Self {
        if !colour() {
            return Self(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        Self(Some(bar))
    }

    /// Changes the message.
    pub fn say(&self, message: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.to_owned());
        }
    }

    /// Runs `print` with the spinner out of the way.
    pub fn suspend(&self, print: impl FnOnce()) {
        match &self.0 {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// Stops and clears it.
    pub fn stop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}
