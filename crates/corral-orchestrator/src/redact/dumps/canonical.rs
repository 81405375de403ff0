//! A full line of `hexdump -C`, nearly every line of a dump in job
//! output, read straight into its streams: exactly what the general
//! reading (`parse::general`) gives for it, without trying each layout
//! first. Such a line has no `od -c` cells and no numbers (its ASCII
//! column is between `|`s), only sixteen bytes and that column.

use super::columns::{ascii_column, hex_digit};
use super::streams::{DATA, SWAPPED, Sink};

/// The length of a full line: an offset of eight digits, two spaces,
/// sixteen bytes (a space after each, and one more after the eighth), a
/// space, and sixteen characters between `|`s.
pub const LINE: usize = 78;

/// Where byte `k` of the sixteen is printed.
const fn column(k: usize) -> usize {
    if k < 8 { 10 + 3 * k } else { 35 + 3 * (k - 8) }
}

/// Reads `line` (from `start` in the text, without its line break) into
/// `sink` when it is a full `hexdump -C` line; false, with nothing given,
/// for any other line.
pub fn read(line: &[u8], start: usize, sink: &mut impl Sink) -> bool {
    if line.len() != LINE
        || line[8..10] != *b"  "
        || line[34] != b' '
        || line[58..61] != *b"  |"
        || !line[..8].iter().all(u8::is_ascii_hexdigit)
    {
        return false;
    }
    let mut bytes = [0u8; 16];
    for (k, byte) in bytes.iter_mut().enumerate() {
        let at = column(k);
        let (Some(high), Some(low)) = (hex_digit(line[at]), hex_digit(line[at + 1])) else {
            return false;
        };
        if line[at + 2] != b' ' {
            return false;
        }
        *byte = high << 4 | low;
    }
    for (k, &byte) in bytes.iter().enumerate() {
        let range = (start + column(k), start + column(k) + 2);
        sink.push(DATA, byte, range);
        sink.push(SWAPPED, byte, range);
    }
    ascii_column(line, column(15) + 2, start, sink);
    true
}
