//! Dumps: `hexdump -C`, `xxd`, `od -t x1` (with or without offsets) lay
//! bytes out as hex, and `od -c` and `hexdump -c` as four-column cells,
//! 16 to a line beside an offset, most with an ASCII column. A secret
//! longer than a line is cut across lines and columns, so this view reads
//! the bytes back: runs of consecutive dump lines become one byte stream
//! (and one of their ASCII columns), searched for every needle; a find is
//! redacted from its first byte's column to its last's.
//!
//! A dump line is at most [`MAX_LINE`] bytes. A stream holds a line that
//! could still become one until it ends, so the text is only ever read in
//! whole lines.

use super::exact::ExactFinder;
use super::scan::Hit;

/// Longest dump line (`xxd -c 32` is 124 bytes).
pub const MAX_LINE: usize = 200;
/// Most bytes one dump line holds.
const MAX_LINE_BYTES: usize = 32;

/// Bytes read back from consecutive dump lines: each byte's range in the
/// text, and the start of its line.
#[derive(Default)]
struct Run {
    bytes: Vec<u8>,
    ranges: Vec<(usize, usize)>,
    lines: Vec<usize>,
}

impl Run {
    fn push(&mut self, byte: u8, range: (usize, usize), line: usize) {
        self.bytes.push(byte);
        self.ranges.push(range);
        self.lines.push(line);
    }
}

/// Adds every needle found in the dumps of `text` (whose first line is
/// whole when `at_line_start`); returns the earliest position at or after
/// `from` that more text could still make part of a find.
pub fn find<'a>(
    text: &[u8],
    from: usize,
    at_line_start: bool,
    finder: &ExactFinder,
    names: &'a [String],
    hits: &mut Vec<Hit<'a>>,
) -> usize {
    let mut live = text.len();
    let mut line_start = if at_line_start {
        0
    } else {
        match memchr::memchr(b'\n', text) {
            Some(end) => end + 1,
            None => return live,
        }
    };
    let (mut data, mut ascii) = (Run::default(), Run::default());
    while line_start < text.len() {
        let line_end = memchr::memchr(b'\n', &text[line_start..])
            .map_or(text.len(), |offset| line_start + offset);
        if line_end == text.len() && could_be_dump(&text[line_start..]) {
            // Unfinished: it, and any run it may continue, wait for its end.
            live = live
                .min(line_start)
                .min(run_live(&data, from, finder))
                .min(run_live(&ascii, from, finder));
        }
        let parsed = parse(text, line_start, line_end, &mut data, &mut ascii);
        if !parsed && (!data.bytes.is_empty() || !ascii.bytes.is_empty()) {
            search(&data, finder, names, hits);
            search(&ascii, finder, names, hits);
            data = Run::default();
            ascii = Run::default();
        }
        line_start = line_end + 1;
    }
    search(&data, finder, names, hits);
    search(&ascii, finder, names, hits);
    // A run that reaches the end may go on in the next line.
    live = live
        .min(run_live(&data, from, finder))
        .min(run_live(&ascii, from, finder));
    live.max(from)
}

/// The line of the earliest byte from which `run` could still complete a
/// needle; `usize::MAX` when none.
fn run_live(run: &Run, from: usize, finder: &ExactFinder) -> usize {
    let run_from = run.ranges.partition_point(|&(start, _)| start < from);
    finder
        .partial_start(&run.bytes, run_from)
        .map_or(usize::MAX, |start| run.lines[start])
}

fn search<'a>(run: &Run, finder: &ExactFinder, names: &'a [String], hits: &mut Vec<Hit<'a>>) {
    if run.bytes.len() < 2 {
        return;
    }
    for found in finder.find_all(&run.bytes) {
        let (start, end) = (run.ranges[found.start].0, run.ranges[found.end - 1].1);
        hits.push(Hit::new(start, end, &names[found.needle]));
    }
}

/// Whether an unfinished line may yet be a dump line.
fn could_be_dump(line: &[u8]) -> bool {
    line.len() <= MAX_LINE
        && line
            .first()
            .is_none_or(|&byte| byte.is_ascii_hexdigit() || byte == b' ')
}

/// Reads `text[start..end]` as a dump line onto `data` and `ascii`;
/// false when it is none.
fn parse(text: &[u8], start: usize, end: usize, data: &mut Run, ascii: &mut Run) -> bool {
    let mut line_end = end;
    if line_end > start && text[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    let line = &text[start..line_end];
    // Nearly every line is rejected here, at a byte or two.
    let plausible = match line {
        [b' ', first, second, ..] => first.is_ascii_hexdigit() && second.is_ascii_hexdigit(),
        [a, b, c, d, ..] => [a, b, c, d].iter().all(|byte| byte.is_ascii_hexdigit()),
        _ => false,
    };
    if !plausible || line.len() > MAX_LINE {
        return false;
    }
    let Some(after_offset) = offset(line) else {
        return false;
    };
    if cells(line, after_offset, start, data) {
        return true;
    }
    let before = data.bytes.len();
    let mut at = after_offset;
    loop {
        let spaces = line[at..].iter().take_while(|&&byte| byte == b' ').count();
        let token_start = at + spaces;
        let digits = line[token_start..]
            .iter()
            .take_while(|byte| byte.is_ascii_hexdigit())
            .count();
        let token_end = token_start + digits;
        let ends_token = line.get(token_end).is_none_or(|&byte| byte == b' ');
        let line_full = data.bytes.len() - before >= 16;
        if spaces == 0
            || (spaces >= 2 && line_full)
            || digits == 0
            || digits % 2 != 0
            || digits > 8
            || !ends_token
        {
            break;
        }
        for pair in (token_start..token_end).step_by(2) {
            let byte = hex_value(line[pair]) << 4 | hex_value(line[pair + 1]);
            data.push(byte, (start + pair, start + pair + 2), start);
        }
        at = token_end;
        if data.bytes.len() - before >= MAX_LINE_BYTES {
            break;
        }
    }
    if data.bytes.len() == before {
        return false;
    }
    ascii_column(line, at, start, ascii);
    true
}

/// Where the data starts after an offset column (hex digits, `:` for
/// `xxd`); 0 for a line with no offset that starts with a space.
fn offset(line: &[u8]) -> Option<usize> {
    let digits = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    if digits == 0 {
        return (line.first() == Some(&b' ')).then_some(0);
    }
    if !(4..=16).contains(&digits) {
        return None;
    }
    Some(digits + usize::from(line.get(digits) == Some(&b':')))
}

/// `od -c` cells: four columns each, a character right-aligned, a
/// backslash escape, or three octal digits.
fn cells(line: &[u8], at: usize, start: usize, data: &mut Run) -> bool {
    let rest = &line[at..];
    if rest.is_empty() || !rest.len().is_multiple_of(4) || !rest.starts_with(b"  ") {
        return false;
    }
    let mut bytes = Vec::with_capacity(rest.len() / 4);
    for (index, cell) in rest.chunks(4).enumerate() {
        let token = &cell[cell.iter().take_while(|&&byte| byte == b' ').count().min(3)..];
        let byte = match token {
            [byte] => Some(*byte),
            [b'\\', escape] => match escape {
                b'n' => Some(b'\n'),
                b't' => Some(b'\t'),
                b'r' => Some(b'\r'),
                b'0' => Some(0),
                b'a' => Some(7),
                b'b' => Some(8),
                b'f' => Some(12),
                b'v' => Some(11),
                b'\\' => Some(b'\\'),
                _ => return false,
            },
            [b'*', b'*'] => None,
            [a, b, c] if [a, b, c].iter().all(|byte| (b'0'..=b'7').contains(byte)) => {
                Some((a - b'0') << 6 | (b - b'0') << 3 | (c - b'0'))
            }
            _ => return false,
        };
        let cell_start = start + at + index * 4;
        if let Some(byte) = byte {
            bytes.push((byte, (cell_start, cell_start + 4)));
        }
    }
    for (byte, range) in bytes {
        data.push(byte, range, start);
    }
    true
}

/// The ASCII column after the hex: between `|`s (`hexdump -C`), `>` and
/// `<` (`od -t x1z`), or the rest of the line after two spaces (`xxd`).
fn ascii_column(line: &[u8], at: usize, start: usize, ascii: &mut Run) {
    let spaces = line[at..].iter().take_while(|&&byte| byte == b' ').count();
    let column = at + spaces;
    let (from, to) = match line.get(column) {
        Some(b'|') => (column + 1, b'|'),
        Some(b'>') => (column + 1, b'<'),
        Some(_) if spaces >= 2 => (column, b'\n'),
        _ => return,
    };
    for (index, &byte) in line[from..].iter().enumerate() {
        if byte == to {
            break;
        }
        let position = start + from + index;
        ascii.push(byte, (position, position + 1), start);
    }
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit.wrapping_sub(b'A').wrapping_add(10) & 15,
    }
}
