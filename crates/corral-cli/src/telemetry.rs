//! Tracing for the `corral` binary: `RUST_LOG` filter, text or JSON lines on
//! stderr. Client commands log warnings only unless `RUST_LOG` says more.
//! A log value can hold a job's text (an image name, an error quoting a
//! file), and `tracing` escapes only messages and errors: each line is made
//! visible before it reaches stderr, keeping only the formatter's colours,
//! which it writes only when stderr is a terminal.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber; with `spans`, each span's busy and idle
/// time is logged when it closes.
pub fn init(format: LogFormat, serving: bool, spans: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| VisibleStderr(std::io::stderr()))
        // Colours only for a person at a terminal: a file or a pipe gets
        // plain text (and `NO_COLOR` turns them off anywhere).
        .with_ansi(crate::output::colour())
        .with_target(false)
        .with_span_events(if spans { FmtSpan::CLOSE } else { FmtSpan::NONE });
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Stderr behind [`output::visible_log`](crate::output::visible_log): the
/// formatter writes each event as one whole line, so no character is split.
struct VisibleStderr(std::io::Stderr);

impl std::io::Write for VisibleStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0
            .write_all(crate::output::visible_log(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
