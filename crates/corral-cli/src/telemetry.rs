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
    log_panics();
}

/// Logs a panic as an error line, without the text a panic message
/// quotes: a string slice out of bounds or off a character boundary
/// quotes up to 256 bytes of the string, which may be a job's output
/// holding a secret the leak detector was reading, and the default hook
/// printed all of it on stderr. The thread and, with `RUST_BACKTRACE`,
/// the backtrace (names of functions, never data) go with it; when the
/// log filter keeps errors out, the line goes straight to stderr.
fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = payload_text(info.payload()).unwrap_or_else(|| "(not a text)".to_owned());
        let panic = unquoted(&message);
        let location = info
            .location()
            .map(|at| format!("{}:{}", at.file(), at.line()))
            .unwrap_or_default();
        let current = std::thread::current();
        let thread = current.name().unwrap_or("unnamed");
        let backtrace = std::backtrace::Backtrace::capture();
        let trace = match backtrace.status() {
            std::backtrace::BacktraceStatus::Captured => format!("\n{backtrace}"),
            _ => String::new(),
        };
        if tracing::enabled!(tracing::Level::ERROR) {
            tracing::error!(%location, thread, %panic, "a thread panicked{trace}");
        } else {
            let line =
                format!("corral: thread '{thread}' panicked at {location}: {panic}{trace}\n");
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                crate::output::visible_log(&line).as_bytes(),
            );
        }
    }));
}

/// A panic's message: `panic!` with a literal gives a `&str`, with
/// arguments a `String`.
fn payload_text(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

/// `message` without the string a slicing panic quotes (`… of `TEXT``,
/// `… when slicing `TEXT``), which runs to its end.
fn unquoted(message: &str) -> String {
    [" of `", "when slicing `"]
        .iter()
        .filter_map(|quote| message.find(quote).map(|at| at + quote.len() - 1))
        .min()
        .map_or_else(
            || message.to_owned(),
            |at| format!("{} (the text it quoted left out)", &message[..at]),
        )
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

#[cfg(test)]
mod tests {
    use super::{payload_text, unquoted};

    fn panic_message(work: impl FnOnce() + std::panic::UnwindSafe) -> String {
        let payload = std::panic::catch_unwind(work).expect_err("a panic");
        payload_text(payload.as_ref()).expect("a message")
    }

    /// The standard library's slicing panics quote the string: the log
    /// line keeps what went wrong and where, not the text.
    #[test]
    fn a_slicing_panic_is_logged_without_the_text_it_quotes() {
        let text = std::hint::black_box(String::from("key sk-live-4f2a9c1d7e é and more"));
        for (from, to) in [(0, 24), (0, 400), (10, 2)] {
            let message = panic_message(|| {
                let _ = std::hint::black_box(&text[from..to]);
            });
            assert!(
                message.contains("sk-live"),
                "the standard message quotes it: {message}"
            );
            let logged = unquoted(&message);
            assert!(!logged.contains("sk-live"), "{logged}");
            assert!(logged.contains("text it quoted left out"), "{logged}");
        }
        let plain = "called `Option::unwrap()` on a `None` value";
        assert_eq!(unquoted(plain), plain, "other messages are kept whole");
    }
}
