//! Where a shape may start, and whether one does: the literals found at
//! SIMD speed, each pattern run anchored on a window of the masked text.

use std::sync::LazyLock;

use aho_corasick::packed;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

use super::table::{PEM_LITERAL, SHAPES};
use crate::redact::scan::Masked;

pub static COMPILED: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    SHAPES
        .iter()
        .map(|shape| Regex::new(shape.pattern).ok())
        .collect()
});

/// Every shape's literals and the key block's, as a SIMD (Teddy)
/// searcher: over 10 GB/s here, where an `AhoCorasick` over the same
/// literals measured under 0.5 GB/s (its automaton walked every byte).
/// `None` where the CPU lacks the instructions: then every position is a
/// candidate.
static PREFIXES: LazyLock<Option<packed::Searcher>> = LazyLock::new(|| {
    let literals = SHAPES
        .iter()
        .flat_map(|shape| shape.prefixes.iter().copied())
        .chain([PEM_LITERAL]);
    packed::Searcher::new(literals)
});

/// The positions in `text[from..to]` where some shape's literal starts,
/// overlapping ones included, in order.
pub fn candidates(text: &[u8], from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= to {
            return None;
        }
        let found = match PREFIXES.as_ref() {
            Some(searcher) => searcher
                .find_in(text, aho_corasick::Span::from(at..to))
                .map(|found| found.start())?,
            None => at,
        };
        at = found + 1;
        Some(found)
    })
}

/// The end of `regex`'s match anchored at `at` in the masked text, if
/// one starts there; `longest` bounds it, `end` is the text's end.
pub fn anchored(
    regex: &Regex,
    masked: &Masked<'_>,
    at: usize,
    longest: usize,
    end: usize,
) -> Option<usize> {
    // One byte before, for `\b`; one after the longest match, for the same.
    let start = at.saturating_sub(1);
    let window = masked.window(start, end.min(at + longest + 1));
    let input = Input::new(&*window)
        .span(at - start..window.len())
        .anchored(Anchored::Yes);
    regex.search(&input).map(|found| start + found.end())
}
