//! Redactor throughput: 100 MB of job-like output through the leak detector
//! with 100 secrets, as whole texts and as a stream of 16 KiB chunks.

use std::time::Instant;

use corral_orchestrator::redact::{Findings, Redactor, StreamRedactor};

/// Bytes pushed through each mode.
const TOTAL_BYTES: usize = 100 << 20;
/// Secrets the redactor knows.
const SECRETS: usize = 100;
/// Chunk size of the streaming mode (the worker's read size).
const CHUNK: usize = 16 << 10;

/// MB/s of each mode.
pub struct RedactFigures {
    /// Whole 1 MiB texts.
    pub plain_mb_s: f64,
    /// 16 KiB chunks with hold-back.
    pub stream_mb_s: f64,
    /// Secrets found (a check that the work was done).
    pub found: usize,
}

#[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
pub fn measure() -> RedactFigures {
    let secrets: Vec<(String, String)> = (0..SECRETS)
        .map(|index| {
            (
                format!("SECRET_{index}"),
                format!("s3cr3t-{index:04}-{}", "q".repeat(16)),
            )
        })
        .collect();
    let redactor = Redactor::new(
        secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let block = sample_block(&secrets[7].1);
    let mb = TOTAL_BYTES as f64 / 1e6;

    let mut findings = Findings::default();
    let started = Instant::now();
    for _ in 0..TOTAL_BYTES / block.len() {
        let _ = redactor.redact_text(&block, &mut findings);
    }
    let plain_mb_s = mb / started.elapsed().as_secs_f64();
    let found = findings.names.len();

    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let started = Instant::now();
    for _ in 0..TOTAL_BYTES / block.len() {
        for chunk in block.as_bytes().chunks(CHUNK) {
            let chunk = std::str::from_utf8(chunk).unwrap_or_default();
            let _ = stream.push(&redactor, "stdout", chunk, &mut findings);
        }
    }
    let stream_mb_s = mb / started.elapsed().as_secs_f64();
    RedactFigures {
        plain_mb_s,
        stream_mb_s,
        found: found.max(findings.names.len()),
    }
}

/// 1 MiB of build-log-like ASCII with one secret in it.
fn sample_block(secret: &str) -> String {
    let line = "   Compiling corral-orchestrator v0.1.0 (/work/crates/corral-orchestrator) ok 200 GET /v1/jobs\n";
    let mut block = String::with_capacity(1 << 20);
    while block.len() < (1 << 20) - line.len() - secret.len() - 1 {
        block.push_str(line);
    }
    block.push_str(secret);
    block.push('\n');
    block
}
