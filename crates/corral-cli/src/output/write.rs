//! The writers themselves: a job's output as [`JobOutput`] says, corral's
//! own lines, notes and errors, colour, JSON.

use std::io::{IsTerminal, Write};

use corral_client::sanitize::visible;

/// How a job's own output (its `output` events, its patch) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutput {
    /// With its control characters made visible: the default, terminal or not.
    Visible,
    /// Untouched (`--raw`), to a stream that is not a terminal.
    Raw,
}

impl JobOutput {
    /// `Raw` for `--raw`, refused when stdout is a terminal, where a job's
    /// bytes could rewrite what the user sees.
    pub fn from_raw_flag(raw: bool) -> anyhow::Result<Self> {
        if !raw {
            return Ok(Self::Visible);
        }
        if std::io::stdout().is_terminal() {
            anyhow::bail!(
                "--raw is refused when stdout is a terminal: a job's raw bytes could rewrite \
                 what you see; redirect or pipe it (corral logs --raw ID > job.log), or drop --raw"
            );
        }
        Ok(Self::Raw)
    }

    /// For a job's stderr: raw only when stderr is not a terminal either.
    fn for_stderr(self) -> Self {
        if self == Self::Raw && std::io::stderr().is_terminal() {
            Self::Visible
        } else {
            self
        }
    }
}

/// Writes a line to stdout, made visible.
pub fn line(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{}", visible(text));
}

/// Writes a job's own output to stdout, flushed.
pub fn job_stdout(text: &str, mode: JobOutput) {
    match mode {
        JobOutput::Visible => write_stdout(&visible(text)),
        JobOutput::Raw => write_stdout(text),
    }
}

/// Writes text to stdout as is, flushed: text made visible (and perhaps
/// painted) already, or bytes `--raw` asked for.
pub(super) fn write_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes a job's own error output to stderr, flushed.
pub fn job_stderr(text: &str, mode: JobOutput) {
    let mut stderr = std::io::stderr().lock();
    let _ = match mode.for_stderr() {
        JobOutput::Visible => stderr.write_all(visible(text).as_bytes()),
        JobOutput::Raw => stderr.write_all(text.as_bytes()),
    };
    let _ = stderr.flush();
}

/// Writes text corral made itself (a completion script) to stdout as is.
pub fn own_text(text: &str) {
    write_stdout(text);
}

/// A note from corral itself, on stderr.
pub fn note(text: &str) {
    write_note(&visible(text));
}

/// Writes a note already made visible (and perhaps painted).
fn write_note(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "corral: {text}");
}

/// Whether notes on stderr may be coloured: a terminal, and no `NO_COLOR`.
pub fn colour() -> bool {
    static COLOUR: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *COLOUR.get_or_init(|| {
        std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
    })
}

/// `text` made visible, then in an ANSI colour (`"31"` red…) when `colour`.
fn paint(code: &str, text: &str, colour: bool) -> String {
    let text = visible(text);
    if colour && !code.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.into_owned()
    }
}

/// A note in a colour.
pub(super) fn painted(code: &str, text: &str) {
    write_note(&paint(code, text, colour()));
}

/// An error, on stderr.
pub fn error(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "corral: error: {}", visible(text));
}

/// A JSON value on one line of stdout; serde escapes C0 controls, and the
/// characters it leaves raw that a terminal acts on become `\u` escapes.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string(value) {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{}", corral_client::sanitize::json_visible(&text));
        }
        Err(error) => self::error(&format!("cannot encode JSON: {error}")),
    }
}

/// Columns a table may use: the terminal's width on a terminal, else 100
/// (a file or a pipe keeps whole lines of a readable width).
pub fn table_width() -> usize {
    const NOT_A_TERMINAL: usize = 100;
    console::Term::stdout()
        .size_checked()
        .map_or(NOT_A_TERMINAL, |(_, columns)| usize::from(columns))
}
