//! The leak detector's table.

use crate::redact::RedactFigures;

/// The redactor figures as a Markdown table.
#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
pub fn redact_table(figures: &RedactFigures) -> String {
    let row = |name: &str, mode: &crate::redact::Mode| {
        format!(
            "| {name} | {:.0} | {} | {} |\n",
            mode.mb_per_s(figures.bytes),
            figures.planted,
            mode.found
        )
    };
    format!(
        "\nLeak detector, {:.1} MB of generated job output (build logs, JSON lines, base64 blobs, \
         hex dumps, {} near-misses and token-shape prefixes that are no secret) with {} secrets, \
         each planted in every form and layout the detector documents, and token shapes; \
         only the detector's calls are timed:\n\n\
         | mode | MB/s | planted | redacted |\n|---|---:|---:|---:|\n{}{}\n\
         Each mode redacted every planting once, under its name and in order, and no near-miss \
         or decoy (the run fails otherwise); the stream emitted exactly what the whole texts gave. \
         Goal: ≥ 1,000 MB/s streamed.\n",
        figures.bytes as f64 / 1e6,
        figures.decoys,
        crate::redact::SECRETS,
        row("whole 1 MiB texts", &figures.whole),
        row(
            &format!(
                "one stream of {} KiB chunks, with hold-back",
                crate::redact::CHUNK >> 10
            ),
            &figures.stream
        ),
    )
}
