//! Leak detector throughput on a corpus built to look like job output (see
//! `corpus`): 100 texts of about 1 MiB, 100 secrets each planted in every
//! form and layout the detector documents, token shapes, near-misses of
//! every secret and prefixes of token shapes that are no token. Two modes:
//! whole 1 MiB texts, and all of it as one job's stream of 16 KiB chunks
//! through [`StreamRedactor`] (with its hold-back).
//!
//! Only the detector's calls are timed. Each mode must redact every
//! planting exactly once, under the right name and in order, and leave
//! every near-miss and decoy as it was; the stream must emit what the
//! whole texts gave. Anything else is listed after the table and fails
//! the benchmark.

mod corpus;
mod filler;
mod layout;
mod plant;

use corral_proto::event::OutputStream;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use corral_orchestrator::internals::{Findings, Redactor, StreamRedactor};

use crate::rng::Rng;
use corpus::{Corpus, Planted};

/// Texts of about 1 MiB.
const TEXTS: usize = 100;
/// Secrets the redactor knows, each planted in every form.
pub const SECRETS: usize = 100;
/// Tokens of each well-known shape planted.
const SHAPE_ROUNDS: usize = 10;
/// Texts of each kind of filler alone.
const KIND_TEXTS: usize = 8;
/// Chunk size of the streaming mode (the worker's read size).
pub const CHUNK: usize = 16 << 10;

/// What each mode did.
pub struct RedactFigures {
    /// Bytes redacted by each mode.
    pub bytes: usize,
    /// Plantings (secrets in every form, and token shapes).
    pub planted: usize,
    /// Near-misses and decoys, none of which may be redacted.
    pub decoys: usize,
    /// Whole 1 MiB texts.
    pub whole: Mode,
    /// 16 KiB chunks with hold-back.
    pub stream: Mode,
    /// MB/s of whole texts of one kind of filler alone, and the kind's
    /// share of the corpus's lines (in a hundred): where the time goes.
    pub by_kind: Vec<(&'static str, usize, f64)>,
    /// MB/s of whole texts of the one line the previous benchmark
    /// repeated, for comparison.
    pub one_line_mb_s: f64,
}

impl RedactFigures {
    /// What either mode got wrong; the run fails unless empty.
    pub fn problems(&self) -> Vec<String> {
        self.whole
            .problems
            .iter()
            .chain(&self.stream.problems)
            .cloned()
            .collect()
    }
}

/// One mode's time and what it redacted.
pub struct Mode {
    pub time: Duration,
    /// Redactions made.
    pub found: usize,
    /// Plantings missed, redactions not planted, decoys redacted.
    pub problems: Vec<String>,
}

impl Mode {
    #[expect(clippy::cast_precision_loss, reason = "byte counts far below 2^52")]
    pub fn mb_per_s(&self, bytes: usize) -> f64 {
        bytes as f64 / 1e6 / self.time.as_secs_f64()
    }
}

pub fn measure() -> RedactFigures {
    let corpus = Corpus::build(TEXTS, SECRETS, SHAPE_ROUNDS);
    let redactor = redactor_of(&corpus);
    let (whole, outputs) = whole_texts(&redactor, &corpus);
    let stream = streamed(&redactor, &corpus, &outputs);
    RedactFigures {
        bytes: corpus.bytes(),
        planted: corpus.planted(),
        decoys: corpus.decoys(),
        whole,
        stream,
        by_kind: by_kind(&redactor),
        one_line_mb_s: one_line(&redactor),
    }
}

/// For a profiler: the corpus (or, with `kind`, about 100 MiB of that
/// filler kind alone: a name from the by-kind table, or its first word)
/// streamed `rounds` times as [`measure`] streams it, with nothing else
/// in the process worth sampling; returns a line for each round (its MB/s). Built for
/// it: `RUSTFLAGS=-Cforce-frame-pointers=yes cargo build --profile
/// profiling -p corral-bench`, then `perf record --call-graph=fp
/// target/profiling/corral-bench 3 redact-profile:hexdump`.
pub fn profile(rounds: usize, kind: Option<&str>) -> anyhow::Result<Vec<String>> {
    let corpus = Corpus::build(TEXTS, SECRETS, SHAPE_ROUNDS);
    let redactor = redactor_of(&corpus);
    let all: String = match kind {
        None => corpus.texts.iter().map(|text| text.body.as_str()).collect(),
        Some(wanted) => {
            let (kind, _) = filler::KINDS
                .iter()
                .find(|(kind, _)| {
                    kind.name() == wanted || kind.name().trim_start_matches('`').starts_with(wanted)
                })
                .ok_or_else(|| anyhow::anyhow!("no filler kind `{wanted}`"))?;
            let mut rng = Rng::new(0x5EED_C0A1_2026_0003);
            let mut text = String::with_capacity(corpus.bytes() + (4 << 10));
            while text.len() < corpus.bytes() {
                kind.push(&mut rng, &mut text, &mut Vec::new());
            }
            text
        }
    };
    let mut lines = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let (time, findings, _) = stream_all(&redactor, &all);
        let mode = Mode {
            time,
            found: findings.names.len(),
            problems: Vec::new(),
        };
        lines.push(format!(
            "{:.0} MB/s, {} redacted",
            mode.mb_per_s(all.len()),
            mode.found
        ));
    }
    Ok(lines)
}

/// Whole texts of one build-log line repeated (what this benchmark
/// measured before it had a corpus).
fn one_line(redactor: &Redactor) -> f64 {
    let line = "   Compiling corral-orchestrator v0.1.0 (/work/crates/corral-orchestrator) ok 200 GET /v1/jobs\n";
    let text = line.repeat(corpus::TEXT_BYTES / line.len());
    let mut time = Duration::ZERO;
    for _ in 0..KIND_TEXTS {
        let started = Instant::now();
        let _ = redactor.redact_text(&text, &mut Findings::default());
        time += started.elapsed();
    }
    Mode {
        time,
        found: 0,
        problems: Vec::new(),
    }
    .mb_per_s(text.len() * KIND_TEXTS)
}

/// Whole texts of one kind of filler alone, no plantings.
fn by_kind(redactor: &Redactor) -> Vec<(&'static str, usize, f64)> {
    let mut rng = Rng::new(0x5EED_C0A1_2026_0002);
    filler::KINDS
        .iter()
        .map(|&(kind, share)| {
            let mut time = Duration::ZERO;
            let mut bytes = 0;
            for _ in 0..KIND_TEXTS {
                let mut text = String::with_capacity(corpus::TEXT_BYTES + (4 << 10));
                let mut decoys = Vec::new();
                while text.len() < corpus::TEXT_BYTES {
                    kind.push(&mut rng, &mut text, &mut decoys);
                }
                let started = Instant::now();
                let _ = redactor.redact_text(&text, &mut Findings::default());
                time += started.elapsed();
                bytes += text.len();
            }
            (
                kind.name(),
                share,
                Mode {
                    time,
                    found: 0,
                    problems: Vec::new(),
                }
                .mb_per_s(bytes),
            )
        })
        .collect()
}

/// Each text at once; returns the mode and the redacted texts.
fn whole_texts(redactor: &Redactor, corpus: &Corpus) -> (Mode, Vec<String>) {
    let mut time = Duration::ZERO;
    let mut names = Vec::new();
    let mut outputs = Vec::with_capacity(corpus.texts.len());
    for text in &corpus.texts {
        let mut findings = Findings::default();
        let started = Instant::now();
        let redacted = redactor.redact_text(&text.body, &mut findings);
        time += started.elapsed();
        outputs.push(redacted.unwrap_or_else(|| text.body.clone()));
        names.extend(findings.names);
    }
    let found = names.len();
    let problems = check("whole texts", &names, corpus, &outputs.concat());
    (
        Mode {
            time,
            found,
            problems,
        },
        outputs,
    )
}

/// All texts as one stream of chunks; what it emits must equal `outputs`.
fn streamed(redactor: &Redactor, corpus: &Corpus, outputs: &[String]) -> Mode {
    let all: String = corpus.texts.iter().map(|text| text.body.as_str()).collect();
    let (time, findings, emitted) = stream_all(redactor, &all);
    let mut problems = check("stream", &findings.names, corpus, &emitted);
    if emitted != outputs.concat() {
        problems.push("stream: it emitted other text than the whole texts redacted".into());
    }
    Mode {
        time,
        found: findings.names.len(),
        problems,
    }
}

/// `all` as one job's stream of [`CHUNK`]s: the time of the detector's
/// calls alone, what it found, and what it emitted.
fn stream_all(redactor: &Redactor, all: &str) -> (Duration, Findings, String) {
    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let mut emitted = String::with_capacity(all.len() + (1 << 20));
    let mut time = Duration::ZERO;
    let mut at = 0;
    while at < all.len() {
        let mut end = (at + CHUNK).min(all.len());
        while !all.is_char_boundary(end) {
            end -= 1;
        }
        let started = Instant::now();
        let pieces = stream.push(redactor, OutputStream::Stdout, &all[at..end], &mut findings);
        time += started.elapsed();
        for piece in &pieces {
            emitted.push_str(&piece.text);
        }
        at = end;
    }
    let started = Instant::now();
    let pieces = stream.flush(redactor, &mut findings);
    time += started.elapsed();
    for piece in &pieces {
        emitted.push_str(&piece.text);
    }
    (time, findings, emitted)
}

/// The redactor of the corpus's secrets.
fn redactor_of(corpus: &Corpus) -> Redactor {
    Redactor::new(
        corpus
            .secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )
}

/// What is wrong with `names` (the redactions made, in order) against
/// the corpus's plantings, and which decoys are missing from `output`.
fn check(mode: &str, names: &[String], corpus: &Corpus, output: &str) -> Vec<String> {
    let planted: Vec<(usize, &Planted)> = corpus
        .texts
        .iter()
        .enumerate()
        .flat_map(|(index, text)| text.planted.iter().map(move |planted| (index, planted)))
        .collect();
    let mut problems = Vec::new();
    let in_order = names.len() == planted.len()
        && names
            .iter()
            .zip(&planted)
            .all(|(name, (_, planted))| *name == planted.name);
    if !in_order {
        let (missed, extra) = align(names, &planted);
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, planted) in &missed {
            *kinds.entry(planted.kind).or_insert(0) += 1;
        }
        let first: Vec<String> = missed
            .iter()
            .take(3)
            .map(|(text, planted)| {
                format!("{} in text {text} at byte {}", planted.kind, planted.at)
            })
            .collect();
        problems.push(format!(
            "{mode}: {} redactions for {} plantings; not redacted: {kinds:?} (first: {first:?}); \
             redactions no planting explains: {extra:?}",
            names.len(),
            planted.len()
        ));
    }
    let mut from = 0;
    let mut redacted = Vec::new();
    for decoy in corpus.texts.iter().flat_map(|text| &text.decoys) {
        match output[from..].find(decoy.as_str()) {
            Some(found) => from += found + decoy.len(),
            None => redacted.push(decoy.as_str()),
        }
    }
    if !redacted.is_empty() {
        problems.push(format!(
            "{mode}: {} near-misses or decoys redacted, first {:?}",
            redacted.len(),
            redacted.first()
        ));
    }
    problems
}

/// The plantings missed and the redactions no planting explains: what
/// is outside a longest common subsequence of the two.
fn align<'a, 'p>(
    names: &'a [String],
    planted: &[(usize, &'p Planted)],
) -> (Vec<(usize, &'p Planted)>, Vec<&'a str>) {
    let width = names.len() + 1;
    // common[i * width + j]: the longest common subsequence of
    // planted[i..] and names[j..].
    let mut common = vec![0u32; (planted.len() + 1) * width];
    for i in (0..planted.len()).rev() {
        for j in (0..names.len()).rev() {
            common[i * width + j] = if planted[i].1.name == names[j] {
                common[(i + 1) * width + j + 1] + 1
            } else {
                common[(i + 1) * width + j].max(common[i * width + j + 1])
            };
        }
    }
    let (mut missed, mut extra) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < planted.len() && j < names.len() {
        if planted[i].1.name == names[j] {
            (i, j) = (i + 1, j + 1);
        } else if common[(i + 1) * width + j] >= common[i * width + j + 1] {
            missed.push(planted[i]);
            i += 1;
        } else {
            extra.push(names[j].as_str());
            j += 1;
        }
    }
    missed.extend_from_slice(&planted[i..]);
    extra.extend(names[j..].iter().map(String::as_str));
    (missed, extra)
}

#[cfg(test)]
mod tests;
