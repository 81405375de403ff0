//! The leak detector's table.

use std::fmt::Write as _;

use crate::redact::RedactFigures;

/// The redactor figures as a Markdown table.
#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
pub fn redact_table(figures: &RedactFigures) -> String {
    let problems = figures.problems();
    let checks = if problems.is_empty() {
        "Each mode redacted every planting once, under its name and in order, and no near-miss \
         or decoy; the stream emitted exactly what the whole texts gave."
            .to_owned()
    } else {
        format!(
            "**The checks failed** (so the run fails): {}.",
            problems.join("; ")
        )
    };
    let streamed = figures.stream.mb_per_s(figures.bytes);
    let verdict = if streamed >= 1000.0 {
        format!("met ({streamed:.0} MB/s)")
    } else {
        format!("**not met**: {streamed:.0} MB/s")
    };
    let mut kinds = String::new();
    for (kind, share, mb_s) in &figures.by_kind {
        let _ = writeln!(kinds, "| {kind} | {share} | {mb_s:.0} |");
    }
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
         {checks} Goal: ≥ 1,000 MB/s streamed: {verdict}.\n\n\
         Where the time goes: whole 1 MiB texts of one kind of filler alone, no plantings:\n\n\
         | text | lines in a hundred of the corpus | MB/s |\n|---|---:|---:|\n{}\
         | for comparison: one 95-byte build-log line, repeated (this benchmark before it had a \
         corpus) | | {:.0} |\n",
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
        kinds,
        figures.one_line_mb_s,
    )
}
