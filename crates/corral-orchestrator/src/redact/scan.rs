//! What one pass over a text finds: every range any detector wants
//! redacted, and the earliest position from which more text could still
//! change that (the stream holds everything from there).
//!
//! Ranges are merged when they overlap (not when they only touch), and
//! each merged range becomes one `[REDACTED:NAME]`, named after its
//! leftmost, then longest, range. A union does not depend on where a text
//! was cut, which is what makes a stream's output equal the whole text's.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::Findings;

/// A range of the text to redact, and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'a> {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The secret or shape name.
    pub name: &'a str,
}

impl<'a> Hit<'a> {
    /// The range `start..end`, named `name`.
    pub fn new(start: usize, end: usize, name: &'a str) -> Self {
        Self { start, end, name }
    }
}

/// A text's hits and the earliest position still open.
#[derive(Debug, Default)]
pub struct Scan<'a> {
    /// Every hit ending after the scan's start, in no order.
    pub hits: Vec<Hit<'a>>,
    /// The earliest position at or after the scan's start from which a
    /// hit could still start or grow once more text follows; the text's
    /// length when none.
    pub live: usize,
}

/// Merges `hits` into disjoint ranges, in order, each named after its
/// leftmost-longest hit.
pub fn merge<'a>(mut hits: Vec<Hit<'a>>) -> Vec<Hit<'a>> {
    hits.sort_unstable_by(|a, b| {
        (a.start.cmp(&b.start))
            .then(b.end.cmp(&a.end))
            .then(a.name.cmp(b.name))
    });
    let mut merged: Vec<Hit<'a>> = Vec::with_capacity(hits.len());
    for hit in hits {
        match merged.last_mut() {
            Some(last) if hit.start < last.end => last.end = last.end.max(hit.end),
            _ => merged.push(hit),
        }
    }
    merged
}

/// Appends `text[from..to]` to `out` with every merged range inside it
/// replaced; `merged` holds only ranges within `from..to`.
pub fn write_redacted(
    text: &str,
    from: usize,
    to: usize,
    merged: &[Hit<'_>],
    out: &mut String,
    findings: &mut Findings,
) {
    let mut at = from;
    for hit in merged {
        out.push_str(&text[at..hit.start]);
        let _ = write!(out, "[REDACTED:{}]", hit.name);
        findings.names.push(hit.name.to_owned());
        at = hit.end;
    }
    out.push_str(&text[at..to]);
}

/// The largest char boundary of `text` at or below `at`.
pub fn floor_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// `text` with every hit, and the character before `covered_end` when
/// given, blanked to spaces: what the token shapes read, so a token
/// glued to a redacted secret reads as it will once redacted.
pub fn blank<'t>(text: &'t str, hits: &[Hit<'_>], covered_end: Option<usize>) -> Cow<'t, str> {
    if hits.is_empty() && covered_end.is_none_or(|end| end == 0) {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for hit in hits {
        bytes[hit.start..hit.end].fill(b' ');
    }
    if let Some(end) = covered_end.filter(|&end| end > 0) {
        let start = floor_boundary(text, end - 1);
        bytes[start..end].fill(b' ');
    }
    // Whole characters were blanked: still UTF-8.
    Cow::Owned(
        String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned()),
    )
}
