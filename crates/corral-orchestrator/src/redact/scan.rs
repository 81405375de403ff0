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

/// The text as the token shapes read it: every hit, and a covered range
/// (the redaction a stream's look-behind ends in, and what of it goes on
/// past: `Cover`), blanked to spaces, so a token glued to a redacted
/// secret reads as it will once redacted. Only the windows the shapes
/// look at are ever copied, and only when a blank falls in one.
pub struct Masked<'t> {
    text: &'t [u8],
    /// Blanked ranges, sorted and disjoint.
    blanks: Vec<(usize, usize)>,
}

impl<'t> Masked<'t> {
    /// `text` with `hits` blanked, and with `covered` `(from, end)`: the
    /// character before `from` and everything up to `end`.
    pub fn new(text: &'t str, hits: &[Hit<'_>], covered: Option<(usize, usize)>) -> Self {
        let mut blanks: Vec<(usize, usize)> = hits.iter().map(|hit| (hit.start, hit.end)).collect();
        if let Some((from, end)) = covered {
            let start = from
                .checked_sub(1)
                .map_or(0, |before| floor_boundary(text, before));
            if start < end {
                blanks.push((start, end));
            }
        }
        blanks.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(blanks.len());
        for (start, end) in blanks {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        Self {
            text: text.as_bytes(),
            blanks: merged,
        }
    }

    /// The text as is.
    pub fn text(&self) -> &'t [u8] {
        self.text
    }

    /// The byte at `at` as the shapes read it.
    pub fn byte(&self, at: usize) -> u8 {
        let index = self.blanks.partition_point(|&(_, end)| end <= at);
        match self.blanks.get(index) {
            Some(&(start, _)) if start <= at => b' ',
            _ => self.text[at],
        }
    }

    /// `text[start..end]` as the shapes read it.
    pub fn window(&self, start: usize, end: usize) -> Cow<'t, [u8]> {
        let first = self
            .blanks
            .partition_point(|&(_, blank_end)| blank_end <= start);
        let inside = self.blanks[first..]
            .iter()
            .take_while(|&&(blank_start, _)| blank_start < end);
        let mut copy: Option<Vec<u8>> = None;
        for &(blank_start, blank_end) in inside {
            let bytes = copy.get_or_insert_with(|| self.text[start..end].to_vec());
            bytes[blank_start.max(start) - start..blank_end.min(end) - start].fill(b' ');
        }
        copy.map_or(Cow::Borrowed(&self.text[start..end]), Cow::Owned)
    }
}

/// What a redaction pass replaced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    /// The secret or pattern names found, in order, repeats included.
    pub names: Vec<String>,
}

impl Findings {
    /// Whether anything was redacted.
    pub fn any(&self) -> bool {
        !self.names.is_empty()
    }
}
