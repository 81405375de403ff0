//! The glance against the reader it stands before: no line `parse` reads
//! may be ruled out for its first token.

use super::super::keyed::Bytes;
use super::super::parse::parse;
use super::{may_start, plausible};
use crate::redact::dump_layouts;
use crate::redact::property::Rng;

/// Whether `parse` reads `line` as a dump line (whatever the glance says).
fn read(line: &str) -> bool {
    parse(line.as_bytes(), 0, line.len(), &mut Bytes::default())
}

/// What the first token of a line that starts with spaces may be, dump
/// or not: cells, escapes, names, octal, hex, numbers, floats, and words
/// of text.
const TOKENS: &[&str] = &[
    "a",
    "Z",
    "~",
    "|",
    ">",
    "\\n",
    "\\0",
    "\\\\",
    "**",
    "nul",
    "sp",
    "del",
    "nl",
    "nan",
    "inf",
    "-inf",
    "377",
    "141",
    "08",
    "61",
    "6162",
    "deadbeef",
    "0011223344556677",
    "0x1f",
    "12",
    "-12",
    "65535",
    "-32768",
    "1.5e+10",
    "-2.25e-300",
    "1.0000000e+00",
    "Compiling",
    "Finished",
    "-->",
    "ab",
    "abc",
    "abcd",
    "ghij",
    "--",
    "+1",
    "e",
    "DEAD",
    "x1",
    "a1",
    "ok",
    "=",
    "...",
    "{",
    "\"ts\":",
    "000000",
    "0000010",
];

#[test]
fn no_line_the_reader_takes_is_ruled_out() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut lines, mut taken, mut ruled_out) = (Vec::new(), 0, 0);
    for _ in 0..300 {
        let count = 1 + rng.below(48);
        let bytes: Vec<u8> = (0..count)
            .map(|_| u8::try_from(rng.below(256)).expect("a byte"))
            .collect();
        for dump in [
            dump_layouts::hexdump(&bytes),
            dump_layouts::od_c(&bytes, false),
            dump_layouts::od_c(&bytes, true),
            dump_layouts::xxd(&bytes),
            dump_layouts::hexdump_words(&bytes, false),
            dump_layouts::hexdump_words(&bytes, true),
            dump_layouts::od_words_and_cells(&bytes),
        ] {
            lines.extend(dump.lines().map(str::to_owned));
        }
    }
    // Lines of tokens after spaces, as cells, numbers and text space them.
    for _ in 0..200_000 {
        let mut line = " ".repeat(1 + rng.below(8));
        let tokens = 1 + rng.below(6);
        for index in 0..tokens {
            if index > 0 {
                let spaces = 1 + rng.below(4);
                line.push_str(&" ".repeat(spaces));
            }
            line.push_str(rng.pick(TOKENS));
        }
        lines.push(line);
    }
    for line in &lines {
        let glanced = plausible(line.as_bytes());
        if read(line) {
            taken += 1;
            assert!(
                glanced,
                "the reader takes {line:?}, the glance rules it out"
            );
        } else if may_start(line.as_bytes()) && !glanced {
            ruled_out += 1;
        }
    }
    // Both sides are met many times, or the test shows nothing.
    assert!(taken > 10_000, "only {taken} lines read");
    assert!(ruled_out > 10_000, "only {ruled_out} lines ruled out");
}

#[test]
fn build_log_lines_that_start_with_spaces_are_ruled_out_at_a_glance() {
    for line in [
        "   Compiling corral-orchestrator v0.1.0 (/work/crates/corral-orchestrator)",
        "   --> crates/corral/src/lib.rs:12:5",
        "    Finished `release` profile [optimized] target(s) in 41.2s",
        "  Downloaded serde v1.0.219",
        "    Running unittests src/lib.rs",
    ] {
        assert!(!read(line), "{line:?} is no dump line");
        assert!(!plausible(line.as_bytes()), "{line:?} passed the glance");
    }
    // What a glance cannot rule out: a token a cell, hex or a number may be.
    for line in [
        "   a   b   c",
        "  61 62 63",
        "   1.5e+10",
        "  nul  sp",
        "   ab cd",
    ] {
        assert!(plausible(line.as_bytes()), "{line:?}");
    }
}
