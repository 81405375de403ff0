//! Dumps: `hexdump -C`, `xxd`, `od -t x1` (with or without offsets) lay
//! bytes out as hex (`hexdump` and `od -x` as little-endian words), and
//! `od -c` (with or without offsets) and `hexdump -c` as four-column cells,
//! 16 to a line beside an offset, most with an ASCII column. A secret
//! longer than a line is cut across lines and columns, so this view reads
//! the bytes back: runs of consecutive dump lines become one byte stream
//! (and one of their ASCII columns), searched for every needle; a find is
//! redacted from its first byte's column to its last's. Where `od` prints
//! two or three formats under one offset (`od -xc`, `od -d -c`), the
//! offset line and the lines under it are a group, and a find in a group
//! covers all of it: a format not read back to bytes (`-t x8`, floats,
//! `-t u4`) goes with one that is. Lines of decimal or octal numbers
//! alone (`od`, whose default is octal words, `od -d`, `od -t u1`) are
//! read as bytes and as words (`numbers`). Only the bytes
//! are kept as lines are read; where each was printed is read again from
//! its line when something is found there.
//!
//! A dump line is at most `parse::MAX_LINE` bytes. A stream holds a line that
//! could still become one until it ends, so the text is only ever read in
//! whole lines.
//! # Layout
//! - `streams`: the byte streams a line is read into
//! - `parse`: reading one line as a dump line
//! - `columns`: hex digits and the ASCII column, which every hex layout shares
//! - `canonical`: a full `hexdump -C` line, read without trying each layout
//! - `numbers`: lines of decimal or octal numbers alone
//! - `keyed`: the streams a run keeps, by format and place in a group
//! - `runs`: runs of dump lines, searched as byte streams

mod canonical;
#[cfg(test)]
mod canonical_tests;
mod columns;
mod keyed;
mod numbers;
mod parse;
mod runs;
mod streams;

pub use runs::{MOST_TEXT_PER_BYTE, find};

/// Most text a dump find can still gain once made: a find covers its whole
/// group, and the last group may still be growing, by the rest of the
/// line its find ends in and the lines that may yet join it (a group is
/// at most [`keyed::MAX_GROUP`] lines of at most [`parse::MAX_LINE`] bytes
/// and a `\r\n`).
pub const GROUP_REST: usize = keyed::MAX_GROUP * (parse::MAX_LINE + 2);
