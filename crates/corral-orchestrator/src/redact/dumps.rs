//! Dumps: `hexdump -C`, `xxd`, `od -t x1` (with or without offsets) lay
//! bytes out as hex (`hexdump` and `od -x` as little-endian words), and
//! `od -c` (with or without offsets) and `hexdump -c` as four-column cells,
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
    let mut runs = Runs::default();
    let first_line = line_start;
    let mut ends = memchr::memchr_iter(b'\n', text).filter(|&end| end >= first_line);
    while line_start < text.len() {
        let line_end = ends.next().unwrap_or(text.len());
        if line_end == text.len() && could_be_dump(&text[line_start..]) {
            // Unfinished: it, and any run it may continue, wait for its end.
            live = live.min(line_start).min(runs.live(from, finder));
        }
        let parsed = parse(text, line_start, line_end, &mut runs);
        if !parsed && !runs.data.bytes.is_empty() {
            runs.search(finder, names, hits);
            runs = Runs::default();
        }
        line_start = line_end + 1;
    }
    runs.search(finder, names, hits);
    // A run that reaches the end may go on in the next line.
    live.min(runs.live(from, finder)).max(from)
}

/// The byte streams of consecutive dump lines: as written, with 16-bit
/// words swapped (`hexdump` and `od -x` print little-endian words), and
/// the ASCII column.
#[derive(Default)]
struct Runs {
    data: Run,
    swapped: Run,
    ascii: Run,
}

impl Runs {
    fn search<'a>(&self, finder: &ExactFinder, names: &'a [String], hits: &mut Vec<Hit<'a>>) {
        for run in [&self.data, &self.swapped, &self.ascii] {
            search(run, finder, names, hits);
        }
    }

    fn live(&self, from: usize, finder: &ExactFinder) -> usize {
        [&self.data, &self.swapped, &self.ascii]
            .into_iter()
            .map(|run| run_live(run, from, finder))
            .min()
            .unwrap_or(usize::MAX)
    }
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
        // Swapped words put a byte's digits after the next one's.
        let ranges = &run.ranges[found.start..found.end];
        let start = ranges.iter().map(|range| range.0).min().unwrap_or(0);
        let end = ranges.iter().map(|range| range.1).max().unwrap_or(0);
        hits.push(Hit::new(start, end, &names[found.needle]));
    }
}

/// Whether an unfinished line may yet be a dump line: so far, an offset
/// (or a space and hex) as [`parse`] wants it.
fn could_be_dump(line: &[u8]) -> bool {
    if line.len() > MAX_LINE {
        return false;
    }
    if let [b' ', rest @ ..] = line {
        return rest.iter().take(2).all(u8::is_ascii_hexdigit)
            || rest.iter().take(2).all(|&byte| byte == b' ');
    }
    let digits = line
        .iter()
        .take_while(|byte| byte.is_ascii_hexdigit())
        .count();
    if digits == line.len() {
        return digits <= 16;
    }
    (4..=16).contains(&digits) && matches!(line[digits], b':' | b' ')
}

/// Reads `text[start..end]` as a dump line onto `runs`; false when it is
/// none.
fn parse(text: &[u8], start: usize, end: usize, runs: &mut Runs) -> bool {
    let mut line_end = end;
    if line_end > start && text[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    let line = &text[start..line_end];
    // Nearly every line is rejected here, at a byte or two.
    let plausible = match line {
        // `od -An -c` cells: a printable byte, or an escape (`  \n`).
        [b' ', b' ', b' ' | b'\\', ..] => true,
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
    if cells(line, after_offset, start, &mut runs.data) {
        return true;
    }
    let Runs {
        data,
        swapped,
        ascii,
    } = runs;
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
        let token: Vec<(u8, (usize, usize))> = (token_start..token_end)
            .step_by(2)
            .map(|pair| {
                let byte = hex_value(line[pair]) << 4 | hex_value(line[pair + 1]);
                (byte, (start + pair, start + pair + 2))
            })
            .collect();
        for &(byte, range) in &token {
            data.push(byte, range, start);
        }
        let words = if digits == 4 { 2 } else { 1 };
        for word in token.chunks(words) {
            for &(byte, range) in word.iter().rev() {
                swapped.push(byte, range, start);
            }
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
    // Every cell is four wide: `   s`, `  \n`, or ` 377` (a byte shown in
    // octal fills three of them).
    let first_cell = match rest {
        [b' ', b' ', ..] => true,
        [b' ', a, b, c, ..] => [a, b, c].iter().all(|byte| (b'0'..=b'7').contains(byte)),
        _ => false,
    };
    if rest.is_empty() || !rest.len().is_multiple_of(4) || !first_cell {
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
