//! Where a shape may start, and whether one does: the literals found at
//! SIMD speed, each pattern run on a bounded window of the masked text.

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

/// For each byte, the shapes (bit `i` for `SHAPES[i]`) a prefix of which
/// starts with it: a candidate is tried only against those.
const _: () = assert!(SHAPES.len() <= 32, "one bit a shape");

pub static BY_FIRST_BYTE: LazyLock<[u32; 256]> = LazyLock::new(|| {
    let mut table = [0u32; 256];
    for (index, shape) in SHAPES.iter().enumerate() {
        for prefix in shape.prefixes {
            table[usize::from(prefix.as_bytes()[0])] |= 1 << index;
        }
    }
    table
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

/// The first match of `regex` in the masked text that starts in
/// `at..at + longest` (a match is at most `longest` long, `end` is the
/// text's end), or `None` when none starts there.
///
/// One search reads at most twice `longest` and settles `longest`
/// positions, so a text full of prefixes (`sk-sk-sk-…`) costs at most
/// twice its length per shape; a search anchored at each prefix would
/// read up to `longest` bytes from every one of them.
pub fn first_match(
    regex: &Regex,
    masked: &Masked<'_>,
    at: usize,
    longest: usize,
    end: usize,
) -> Option<(usize, usize)> {
    // One byte before, for `\b`; one after the longest match, for the same.
    let start = at.saturating_sub(1);
    let window = masked.window(start, end.min(at + 2 * longest + 1));
    count_read(window.len());
    let input = Input::new(&*window).span(at - start..window.len());
    regex
        .search(&input)
        .map(|found| (start + found.start(), start + found.end()))
        .filter(|&(found, _)| found < at + longest)
}

// Bytes the searches read on this thread, for the test that bounds them.
#[cfg(test)]
thread_local! {
    pub static READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn count_read(bytes: usize) {
    READ.with(|read| read.set(read.get() + bytes));
}

#[cfg(not(test))]
fn count_read(_: usize) {}

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
    count_read(window.len());
    let input = Input::new(&*window)
        .span(at - start..window.len())
        .anchored(Anchored::Yes);
    regex.search(&input).map(|found| start + found.end())
}
