//! Encoded data wrapped into lines: `base64` breaks its output every 76
//! columns, PEM and `openssl` every 64, `xxd -p` every 60, so an encoded
//! secret can be cut by line breaks anywhere. This view of the text drops
//! every break (a run of `\r` and `\n`) that has an encoded-data byte on
//! both sides, and looks for the needles across each dropped break.
//!
//! Only the text near such a break is viewed: a needle that crosses no
//! dropped break is found in the text itself.
//!
//! A wrap is a line break or two (`\n`, `\r\n`, one blank line at most,
//! `\r\r\n` as a terminal writes `\r\n`): a longer run is not dropped.
//! Were it, a byte that may start a needle followed by endless line breaks
//! would keep a stream holding, and scanning again, everything after it.

use std::collections::HashSet;

use super::exact::{ExactFinder, GRAM, MIN_NEEDLE};
use super::scan::Hit;

/// Bytes of base64 (either alphabet, padding included) and hex.
fn encoded(byte: u8) -> bool {
    ENCODED[usize::from(byte)]
}

/// [`encoded`] of every byte: one load, no branch on which byte it is
/// (the bytes around line breaks follow no pattern a branch could learn).
const ENCODED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let value = byte as u8;
        table[byte] =
            value.is_ascii_alphanumeric() || matches!(value, b'+' | b'/' | b'=' | b'_' | b'-');
        byte += 1;
    }
    table
};

fn line_break(byte: u8) -> bool {
    matches!(byte, b'\r' | b'\n')
}

/// The most `\n` in a run of breaks dropped as a wrap...
const MAX_WRAP_LINES: usize = 2;
/// ...and the most bytes (`\r\r\n\r\r\n`).
const MAX_WRAP: usize = 6;

/// Whether the run of breaks `text[start..end]` may be a wrap.
fn is_wrap(text: &[u8], start: usize, end: usize) -> bool {
    end - start <= MAX_WRAP
        && memchr::memchr_iter(b'\n', &text[start..end]).count() <= MAX_WRAP_LINES
}

/// The runs of breaks dropped in the view: wraps ([`is_wrap`]) between
/// encoded bytes; a run that ends the text after an encoded byte
/// counts (what comes next may continue the data).
/// `newlines` are the positions of every `\n` in `text`.
fn dropped_breaks(text: &[u8], newlines: &[usize]) -> Vec<(usize, usize)> {
    let mut breaks = Vec::new();
    let between = |start: usize, end: usize| {
        let before = start > 0 && encoded(text[start - 1]);
        let after = text.get(end).is_none_or(|&byte| encoded(byte));
        before & after
    };
    if memchr::memchr(b'\r', text).is_none() {
        let mut index = 0;
        while let Some(&start) = newlines.get(index) {
            let mut end = start + 1;
            index += 1;
            while newlines.get(index) == Some(&end) {
                end += 1;
                index += 1;
            }
            // A run of `\n` alone: a wrap when it holds two at most.
            if between(start, end) && end - start <= MAX_WRAP_LINES {
                breaks.push((start, end));
            }
        }
        return breaks;
    }
    let mut keep = |start: usize, end: usize| {
        if between(start, end) && is_wrap(text, start, end) {
            breaks.push((start, end));
        }
    };
    let mut at = 0;
    for start in memchr::memchr2_iter(b'\n', b'\r', text) {
        if start < at {
            continue; // inside the run already seen
        }
        let end = start
            + text[start..]
                .iter()
                .take_while(|&&byte| line_break(byte))
                .count();
        keep(start, end);
        at = end;
    }
    breaks
}

/// Adds the needles that cross a dropped break; returns the earliest
/// position from which a needle could still complete across one.
///
/// A needle that crosses a break holds the last byte before it and the
/// first after it, and at least [`MIN_NEEDLE`] bytes in all: three of
/// them on one side at least, so the window of four bytes that starts one
/// byte before the joint, or the one that starts three before, lies
/// wholly inside it. Those two are looked up among every window of every
/// needle, and each needle one sits in is read in the view from where it
/// would start.
pub fn joined<'a>(
    text: &[u8],
    newlines: &[usize],
    from: usize,
    finder: &ExactFinder,
    names: &'a [String],
    hits: &mut Vec<Hit<'a>>,
) -> usize {
    let breaks = dropped_breaks(text, newlines);
    let Some(&(_, last_end)) = breaks.last() else {
        return text.len();
    };
    let view = View::new(text, &breaks);
    let may_hold = finder.window_filter();
    // Each (needle, where it would start in the view) is read once, however
    // many joints it crosses.
    let mut tried: HashSet<(usize, usize)> = HashSet::new();
    let first_hit = hits.len();
    // Probed for every break first: the probes, into a table larger than
    // the cache, then overlap one another.
    let spans: Vec<u8> = (0..breaks.len())
        .map(|index| may_span(text, &breaks, index, &may_hold))
        .collect();
    for (index, &(joint, after)) in breaks.iter().enumerate() {
        let spanning = spans[index];
        if spanning == 0 || after == text.len() {
            continue; // nothing after it yet, or no needle crosses it
        }
        for back in SPANNING {
            if spanning & (1 << (back - 1)) == 0 {
                continue;
            }
            // `index` breaks end before the joint.
            let Some(start) = view.back_from(joint, back, index) else {
                continue;
            };
            let mut starting_before = index;
            while starting_before > 0 && breaks[starting_before - 1].0 > start {
                starting_before -= 1;
            }
            let Some(window) = view.window_from(start, starting_before) else {
                continue;
            };
            let in_view = start - view.dropped[starting_before];
            for (needle, offset) in finder.windows_of(window) {
                let Some(view_start) = in_view.checked_sub(offset) else {
                    continue;
                };
                if !tried.insert((needle, view_start)) {
                    continue;
                }
                let bytes = finder.needle(needle);
                if let Some((needle_start, end)) =
                    view.reads_around(start, starting_before, bytes, offset)
                {
                    hits.push(Hit::new(needle_start, end, &names[needle]));
                }
            }
        }
    }
    // A needle across several joints is met at each.
    let mut found = hits.split_off(first_hit);
    found.sort_unstable_by_key(|hit| (hit.start, hit.end, hit.name));
    found.dedup();
    hits.append(&mut found);
    let reach = finder.longest().saturating_sub(1);
    if last_end + reach < text.len() {
        return text.len();
    }
    // The view's last bytes, for a needle that may yet complete: every
    // break starts before the text's end.
    let (mut tail, mut bytes): (Vec<usize>, Vec<u8>) = view
        .bytes_before(text.len(), breaks.len())
        .take_while(|&(position, _)| position >= from)
        .take(reach)
        .unzip();
    tail.reverse();
    bytes.reverse();
    finder
        .partial_start(&bytes, 0)
        .map_or(text.len(), |start| tail[start])
}

/// How far before a joint the windows [`joined`] looks up start: one
/// byte (three after it) and three (one after it). A needle crossing the
/// joint with `k` bytes before it and `n` after, `k + n` at least
/// [`MIN_NEEDLE`], holds the first when `n >= 3` and the second when
/// `k >= 3`, and one of those holds. The window two before adds nothing.
const SPANNING: [usize; 2] = [1, GRAM - 1];
const _: () = assert!(
    MIN_NEEDLE > 2 * (GRAM - 2),
    "two windows cover every crossing"
);

/// Which of the [`SPANNING`] windows at the joint of break `index` may sit
/// in some needle: bit `k` for the one starting `k + 1` bytes before the
/// joint. Settled with two bitmap probes at a break with three bytes of
/// text on each side before any other break (nearly every one); every bit
/// elsewhere. A window with its bit clear is in no needle, so no needle is
/// read from it.
fn may_span(
    text: &[u8],
    breaks: &[(usize, usize)],
    index: usize,
    may_hold: &impl Fn([u8; GRAM]) -> bool,
) -> u8 {
    let (joint, after) = breaks[index];
    let lone = joint >= GRAM - 1
        && index
            .checked_sub(1)
            .is_none_or(|previous| breaks[previous].1 <= joint - (GRAM - 1))
        && after + GRAM - 1 <= text.len()
        && breaks
            .get(index + 1)
            .is_none_or(|&(next, _)| next >= after + GRAM - 1);
    if !lone {
        return 0b101;
    }
    let [b0, b1, b2] = [text[joint - 3], text[joint - 2], text[joint - 1]];
    let [a0, a1, a2] = [text[after], text[after + 1], text[after + 2]];
    u8::from(may_hold([b2, a0, a1, a2])) | u8::from(may_hold([b0, b1, b2, a0])) << 2
}

/// The text without its dropped breaks.
struct View<'t> {
    text: &'t [u8],
    /// Dropped breaks, in order.
    breaks: &'t [(usize, usize)],
    /// Bytes dropped before each break: `dropped[k]` for `breaks[..k]`.
    dropped: Vec<usize>,
}

impl<'t> View<'t> {
    fn new(text: &'t [u8], breaks: &'t [(usize, usize)]) -> Self {
        let mut dropped = Vec::with_capacity(breaks.len() + 1);
        let mut total = 0;
        dropped.push(0);
        for &(start, end) in breaks {
            total += end - start;
            dropped.push(total);
        }
        Self {
            text,
            breaks,
            dropped,
        }
    }

    /// The position of the view byte `count` bytes before the one at
    /// `at` (`at` itself when 0), given the number of breaks that end at
    /// or before `at`.
    fn back_from(&self, mut at: usize, count: usize, mut index: usize) -> Option<usize> {
        for _ in 0..count {
            if index > 0 && self.breaks[index - 1].1 == at {
                index -= 1;
                at = self.breaks[index].0;
            }
            at = at.checked_sub(1)?;
        }
        Some(at)
    }

    /// The view's bytes from `at` (a byte of the view) and the position
    /// of each, given the number of breaks that start at or before `at`.
    fn bytes_from(&self, at: usize, mut index: usize) -> impl Iterator<Item = (usize, u8)> + '_ {
        let mut position = at;
        std::iter::from_fn(move || {
            if let Some(&(_, end)) = self
                .breaks
                .get(index)
                .filter(|&&(start, _)| start == position)
            {
                position = end;
                index += 1;
            }
            let byte = *self.text.get(position)?;
            position += 1;
            Some((position - 1, byte))
        })
    }

    /// The four view bytes from `at`, given the number of breaks that
    /// start at or before it.
    fn window_from(&self, at: usize, index: usize) -> Option<[u8; GRAM]> {
        let mut window = [0; GRAM];
        let mut bytes = self.bytes_from(at, index);
        for slot in &mut window {
            *slot = bytes.next()?.1;
        }
        Some(window)
    }

    /// The view's bytes before `at` (a byte of the view, or the text's
    /// end), nearest first, and the position of each, given the number of
    /// breaks that start at or before `at` (there the same as those that
    /// end at or before it: `at` is inside none).
    fn bytes_before(&self, at: usize, mut index: usize) -> impl Iterator<Item = (usize, u8)> + '_ {
        let mut position = at;
        std::iter::from_fn(move || {
            if index > 0 && self.breaks[index - 1].1 == position {
                index -= 1;
                position = self.breaks[index].0;
            }
            position = position.checked_sub(1)?;
            Some((position, self.text[position]))
        })
    }

    /// Where `needle` starts and ends in the text if the view reads it
    /// with its byte `offset` at `at` (given the number of breaks that
    /// start at or before `at`): read outwards from there, so a needle
    /// that is not there costs only the bytes that agree.
    fn reads_around(
        &self,
        at: usize,
        index: usize,
        needle: &[u8],
        offset: usize,
    ) -> Option<(usize, usize)> {
        let mut end = at;
        let mut after = self.bytes_from(at, index);
        for &expected in &needle[offset..] {
            let (position, byte) = after.next()?;
            count_read();
            if byte != expected {
                return None;
            }
            end = position + 1;
        }
        let mut start = at;
        let mut before = self.bytes_before(at, index);
        for &expected in needle[..offset].iter().rev() {
            let (position, byte) = before.next()?;
            count_read();
            if byte != expected {
                return None;
            }
            start = position;
        }
        Some((start, end))
    }
}

// View bytes compared with needles on this thread, for the test that
// bounds them.
#[cfg(test)]
thread_local! {
    static READ: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn count_read() {
    READ.with(|read| read.set(read.get() + 1));
}

#[cfg(not(test))]
fn count_read() {}

#[cfg(test)]
mod tests;
