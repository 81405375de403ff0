//! Finding the shapes in a masked text, and where one could still start
//! or grow once more text follows.

use super::key::{pem_block, pem_header_live};
use super::matching::{BY_FIRST_BYTE, COMPILED, candidates, first_match};
use super::table::{PEM_HEADER_MAX, PEM_LITERAL, PEM_NAME, SHAPES, Shape};
use crate::redact::scan::{Hit, Masked};

/// The longest any shape can be, and so the end of the text that may
/// still hold a shape that has not ended.
const TAIL: usize = {
    let mut longest = PEM_HEADER_MAX;
    let mut index = 0;
    while index < SHAPES.len() {
        if SHAPES[index].longest > longest {
            longest = SHAPES[index].longest;
        }
        index += 1;
    }
    longest
};

/// Adds every shape starting at or after `from` in the masked text (each
/// shape's matches leftmost-first, as a search from `from` would find
/// them), as if the text ended there.
pub fn find(masked: &Masked<'_>, from: usize, hits: &mut Vec<Hit<'_>>) {
    let text = masked.text();
    // No match of each shape starts before its entry, other than those found.
    let mut next = [from; SHAPES.len()];
    let mut next_key = from;
    for at in candidates(text, from, text.len()) {
        let mut shapes = BY_FIRST_BYTE[usize::from(text[at])];
        while shapes != 0 {
            let index = shapes.trailing_zeros() as usize;
            shapes &= shapes - 1;
            let (shape, Some(regex)) = (&SHAPES[index], &COMPILED[index]) else {
                continue;
            };
            if at < next[index] || !shape.could_start(masked, at) {
                continue;
            }
            next[index] = match first_match(regex, masked, at, shape.longest, text.len()) {
                Some((start, end)) => {
                    hits.push(Hit::new(start, end, shape.name));
                    end
                }
                None => at + shape.longest,
            };
        }
        if at >= next_key
            && text[at] == b'-'
            && text[at..].starts_with(PEM_LITERAL.as_bytes())
            && let Some((start, end, _)) = pem_block(masked, at, text.len())
        {
            hits.push(Hit::new(start, end, PEM_NAME));
            next_key = end;
        }
    }
}

/// The earliest position at or after `from` where a shape could still
/// start, or grow, once more text follows the masked text cut at `len`;
/// `len` if none.
pub fn live(masked: &Masked<'_>, from: usize, len: usize) -> usize {
    let mut earliest = len;
    let tail_start = len.saturating_sub(TAIL).max(from).min(len);
    let tail = masked.window(tail_start, len);
    for shape in SHAPES {
        if let Some(start) = shape_live(shape, &tail) {
            earliest = earliest.min(tail_start + start);
        }
    }
    if let Some(start) = pem_header_live(&tail) {
        earliest = earliest.min(tail_start + start);
    }
    // Only the last key block can be open; blocks are read in turn, as
    // `find` reads them.
    let mut at = from;
    let key_starts = memchr::memmem::find_iter(&masked.text()[from..len], PEM_LITERAL.as_bytes());
    for candidate in key_starts.map(|found| from + found) {
        if candidate < at {
            continue;
        }
        if let Some((start, end, open)) = pem_block(masked, candidate, len) {
            if open {
                earliest = earliest.min(start);
                break;
            }
            at = end;
        }
    }
    earliest
}

/// The earliest start, in the last [`Shape::longest`] bytes, of a prefix
/// (whole or cut short by the end) followed only by body bytes.
fn shape_live(shape: &Shape, bytes: &[u8]) -> Option<usize> {
    let window = bytes.len().saturating_sub(shape.longest);
    let run = bytes.len()
        - bytes[window..]
            .iter()
            .rev()
            .take_while(|&&byte| (shape.body)(byte))
            .count();
    shape
        .prefixes
        .iter()
        .filter_map(|prefix| {
            let lowest = run.saturating_sub(prefix.len()).max(window);
            (lowest..bytes.len()).find(|&start| {
                let rest = &bytes[start..];
                if rest.len() < prefix.len() {
                    prefix.as_bytes().starts_with(rest)
                } else {
                    rest.starts_with(prefix.as_bytes())
                }
            })
        })
        .min()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::redact::shapes::key::{PEM_FOOTER, PEM_HEADER};
    use crate::redact::shapes::matching::READ;
    use crate::redact::shapes::table::PEM_MAX;

    #[test]
    fn every_shape_compiles() {
        assert!(COMPILED.iter().all(Option::is_some));
        assert!(PEM_HEADER.is_some() && PEM_FOOTER.is_some());
    }

    fn live_of(text: &str, from: usize) -> usize {
        live(&Masked::new(text, &[], None), from, text.len())
    }

    #[test]
    fn a_shape_is_live_while_it_could_still_grow() {
        let token = format!("ghp_{}", "a".repeat(40));
        assert_eq!(
            live_of(&format!("x {token}"), 0),
            2,
            "more letters may follow"
        );
        let ended = format!("x {token} ");
        assert_eq!(live_of(&ended, 0), ended.len(), "ended by a space");
        assert_eq!(live_of("text gh", 0), 5, "a prefix cut short");
        assert_eq!(live_of("key -----BEGIN RSA PRI", 0), 4);
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n";
        assert_eq!(live_of(key, 0), 0, "a key block without its end");
        let whole = format!("{key}-----END RSA PRIVATE KEY-----");
        assert_eq!(
            live_of(&whole, 0),
            whole.len() - 5,
            "only the dashes could begin a key"
        );
        let mut hits = Vec::new();
        let long = format!("{key}{}", "A".repeat(PEM_MAX));
        find(&Masked::new(&long, &[], None), 0, &mut hits);
        assert_eq!(
            hits.iter().map(|hit| hit.end).max(),
            Some(PEM_MAX),
            "capped"
        );
    }

    /// Every shape's search settles its length of text, so a text of
    /// prefixes is read a few times per shape, never once per prefix.
    #[test]
    fn a_text_full_of_prefixes_is_read_a_bounded_number_of_times() {
        for unit in [
            "sk-",
            "eyJ-",
            "xoxb-",
            "sk-ant-",
            "github_pat_",
            "AKIA",
            "-----BEGIN ",
        ] {
            let text = unit.repeat(20_000);
            let before = READ.with(Cell::get);
            let mut hits = Vec::new();
            find(&Masked::new(&text, &[], None), 0, &mut hits);
            let read = READ.with(Cell::get) - before;
            assert!(
                read <= 3 * SHAPES.len() * text.len(),
                "{unit}: read {read} bytes of a {}-byte text",
                text.len()
            );
        }
    }
}
