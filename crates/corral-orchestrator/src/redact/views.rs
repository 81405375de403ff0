//! Encoded data wrapped into lines: `base64` breaks its output every 76
//! columns, PEM and `openssl` every 64, `xxd -p` every 60, so an encoded
//! secret can be cut by line breaks anywhere. This view of the text drops
//! every break (a run of `\r` and `\n`) that has an encoded-data byte on
//! both sides, and looks for the needles across each dropped break.
//!
//! Only the text near such a break is viewed: a needle that crosses no
//! dropped break is found in the text itself.

use super::exact::ExactFinder;
use super::scan::Hit;

/// Bytes of base64 (either alphabet, padding included) and hex.
fn encoded(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=' | b'_' | b'-')
}

fn line_break(byte: u8) -> bool {
    matches!(byte, b'\r' | b'\n')
}

/// The runs of breaks dropped in the view; a run that ends the text after
/// an encoded byte counts (what comes next may continue the data).
fn dropped_breaks(text: &[u8]) -> Vec<(usize, usize)> {
    let mut breaks = Vec::new();
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
        let before = start > 0 && encoded(text[start - 1]);
        let after = text.get(end).is_none_or(|&byte| encoded(byte));
        if before && after {
            breaks.push((start, end));
        }
        at = end;
    }
    breaks
}

/// Adds the needles that cross a dropped break; returns the earliest
/// position from which a needle could still complete across one.
pub fn joined<'a>(
    text: &[u8],
    from: usize,
    finder: &ExactFinder,
    names: &'a [String],
    hits: &mut Vec<Hit<'a>>,
) -> usize {
    let reach = finder.longest().saturating_sub(1);
    let breaks = dropped_breaks(text);
    let mut live = text.len();
    let mut index = 0;
    while index < breaks.len() {
        // One window: breaks closer than a needle's length to each other.
        let first = breaks[index];
        let mut last = first;
        index += 1;
        while let Some(&next) = breaks.get(index) {
            if next.0 > last.1 + 2 * reach {
                break;
            }
            last = next;
            index += 1;
        }
        let window_start = first.0.saturating_sub(reach);
        let window_end = (last.1 + reach).min(text.len());
        let (view, map) = view(text, window_start, window_end, &breaks);
        for found in finder.find_all(&view) {
            let (start, end) = (map[found.start], map[found.end - 1] + 1);
            if text[start..end].iter().any(|&byte| line_break(byte)) {
                hits.push(Hit::new(start, end, &names[found.needle]));
            }
        }
        if window_end == text.len() {
            let view_from = map.partition_point(|&position| position < from);
            if let Some(start) = finder.partial_start(&view, view_from) {
                live = live.min(map[start]);
            }
        }
    }
    live
}

/// `text[start..end]` without the dropped breaks, and the position in
/// `text` of each byte kept.
fn view(text: &[u8], start: usize, end: usize, breaks: &[(usize, usize)]) -> (Vec<u8>, Vec<usize>) {
    let mut bytes = Vec::with_capacity(end - start);
    let mut map = Vec::with_capacity(end - start);
    let mut at = start;
    let first = breaks.partition_point(|&(_, break_end)| break_end <= start);
    for &(break_start, break_end) in &breaks[first..] {
        if break_start >= end {
            break;
        }
        let kept = at..break_start.max(at);
        bytes.extend_from_slice(&text[kept.clone()]);
        map.extend(kept);
        at = at.max(break_end);
    }
    bytes.extend_from_slice(&text[at..end]);
    map.extend(at..end);
    (bytes, map)
}
