//! Reading one line as a dump line: its offset column, then hex tokens
//! (bytes, or little-endian words), `od -c` cells, and an ASCII column,
//! each byte handed to a [`Sink`] with where it was printed.

use super::columns::{ascii_column, hex_digit};
use super::numbers;
use super::streams::{CELLS, DATA, SWAPPED, Sink};

/// Longest dump line (`xxd -c 32` is 124 bytes).
pub const MAX_LINE: usize = 200;
/// Most bytes one dump line holds.
pub const MAX_LINE_BYTES: usize = 32;

/// Whether an unfinished line may yet be a dump line: so far, an offset
/// (or a space and hex) as [`parse`] wants it.
pub fn could_be_dump(line: &[u8]) -> bool {
    if line.len() > MAX_LINE {
        return false;
    }
    // Every start [`plausible`] takes, cut anywhere.
    if let [b' ', rest @ ..] = line {
        return match rest {
            // Or a negative number first (`od -An -t d1`).
            [] | [b' ' | b'-'] | [b' ', b' ' | b'\\', ..] | [b' ', b'-'] => true,
            [b'-', digit, ..] | [b' ', b'-', digit, ..] => digit.is_ascii_digit(),
            [b' ', first, after @ ..] | [first, after @ ..] => {
                (first.is_ascii_hexdigit() && after.first().is_none_or(u8::is_ascii_hexdigit))
                    || could_be_name_cell(line)
            }
        };
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

/// Whether `line` starts with an `od -a` cell naming a byte (`  sp`,
/// ` nul`, five wide `  nul`), one or two spaces before the name: so
/// starts `od -An -a` of text after a space or a line break. (Three
/// spaces or more start a line [`plausible`] takes anyway.)
fn name_cell_first(line: &[u8]) -> bool {
    let (spaces, name) = first_token(line);
    (1..=2).contains(&spaces) && matches!(spaces + name.len(), 4 | 5) && named(name).is_some()
}

/// Whether an unfinished `line` may yet start a [`name_cell_first`] cell.
fn could_be_name_cell(line: &[u8]) -> bool {
    let (spaces, name) = first_token(line);
    if spaces + name.len() < line.len() {
        return name_cell_first(line);
    }
    (1..=2).contains(&spaces)
        && name.len() <= 3
        && (NAMES.iter().any(|whole| whole.starts_with(name)) || b"del".starts_with(name))
}

/// The spaces `line` starts with, and the token after them (to a space).
fn first_token(line: &[u8]) -> (usize, &[u8]) {
    let spaces = line.iter().take_while(|&&byte| byte == b' ').count();
    let rest = &line[spaces..];
    let token = rest.iter().take_while(|&&byte| byte != b' ').count();
    (spaces, &rest[..token])
}

/// Whether `line` (without its `\r`) may be a dump line: nearly every
/// line is rejected here, at a byte or two.
pub fn plausible(line: &[u8]) -> bool {
    let start = match line {
        // `od -An -c` cells: a printable byte, or an escape (`  \n`); the
        // same under an offset's width of spaces (`od -xc`).
        [b' ', b' ', b' ' | b'\\', ..] => true,
        // A negative number first, with no offset (`od -An -t d1`).
        [b' ', b' ', b'-', digit, ..] | [b' ', b'-', digit, ..] => digit.is_ascii_digit(),
        // A byte in hex after a space, or two (`od -An -t x1 -c` lines its
        // bytes up with four-column cells).
        [b' ', b' ', first, second, ..] | [b' ', first, second, ..] => {
            (first.is_ascii_hexdigit() && second.is_ascii_hexdigit()) || name_cell_first(line)
        }
        [a, b, c, d, ..] => [a, b, c, d].iter().all(|byte| byte.is_ascii_hexdigit()),
        _ => false,
    };
    start && line.len() <= MAX_LINE
}

/// [`plausible`], and [`first_token_fits`]: whether a run of dump lines
/// reads `line` (without its `\r`) at all.
pub fn worth_reading(line: &[u8]) -> bool {
    plausible(line) && first_token_fits(line)
}

/// Whether the first token of `line` may start a dump line, when `line`
/// starts with a space (no offset): [`general`] takes such a line only
/// as cells (every token three bytes at most), numbers (digits and `-`),
/// hex, or numbers it does not read ([`numbers::unread_number`], which
/// holds for the other two). So a longer token of any other kind
/// (`   Compiling`, `    Finished`, as build tools indent) is no dump
/// line, known before it is read.
pub fn first_token_fits(line: &[u8]) -> bool {
    if line.first() != Some(&b' ') {
        return true;
    }
    let (_, token) = first_token(line);
    token.len() <= 3 || numbers::unread_number(token)
}

/// Reads `text[start..end]` as a dump line into `sink`; false when it is
/// none (and then nothing went in).
pub fn parse(text: &[u8], start: usize, end: usize, sink: &mut impl Sink) -> bool {
    let mut line_end = end;
    if line_end > start && text[line_end - 1] == b'\r' {
        line_end -= 1;
    }
    let line = &text[start..line_end];
    super::canonical::read(line, start, sink) || general(line, start, sink)
}

/// Reads `line` (from `start` in the text, without its line break) as a
/// dump line of any layout.
pub(super) fn general(line: &[u8], start: usize, sink: &mut impl Sink) -> bool {
    if !plausible(line) {
        return false;
    }
    let Some(after_offset) = offset(line) else {
        return false;
    };
    if cells(line, after_offset, start, sink) {
        // Cells of three digits may be `od -t u1` numbers too, not cells
        // of one digit (`   4   2`: they would give the numbers junk).
        let rest = &line[after_offset..];
        if rest
            .split(|&byte| byte == b' ')
            .all(|token| token.is_empty() || token.len() == 3)
        {
            numbers::read(line, after_offset, start, sink);
        }
        return true;
    }
    let numbers = numbers::read(line, after_offset, start, sink);
    let mut count = 0;
    let mut at = after_offset;
    let xxd = at > 0 && line[at - 1] == b':';
    loop {
        // The common layout first: one byte, two digits after one space.
        if let [b' ', high, low, rest @ ..] = &line[at..]
            && let (Some(high), Some(low)) = (hex_digit(*high), hex_digit(*low))
            && rest.first().is_none_or(|&byte| byte == b' ')
        {
            let range = (start + at + 1, start + at + 3);
            sink.push(DATA, high << 4 | low, range);
            sink.push(SWAPPED, high << 4 | low, range);
            count += 1;
            at += 3;
            if count >= MAX_LINE_BYTES {
                break;
            }
            continue;
        }
        let spaces = line[at..].iter().take_while(|&&byte| byte == b' ').count();
        let token_start = at + spaces;
        let digits = line[token_start..]
            .iter()
            .take_while(|byte| byte.is_ascii_hexdigit())
            .count();
        let token_end = token_start + digits;
        let ends_token = line.get(token_end).is_none_or(|&byte| byte == b' ');
        let line_full = count >= 16;
        if spaces == 0
            // The ASCII column: after a full line (`hexdump -C` puts two
            // spaces after its eighth byte too), or any `xxd` line (one
            // of `-c 8` whose column is `ec` gave a byte more).
            || (spaces >= 2 && (line_full || xxd))
            || digits == 0
            || digits % 2 != 0
            || digits > 16
            // Six digits are octal words (`hexdump -o`), but in `xxd -g 3`.
            || (digits == 6 && !xxd)
            || !ends_token
        {
            break;
        }
        let mut token = [(0u8, (0usize, 0usize)); 8];
        for (slot, pair) in token.iter_mut().zip((token_start..token_end).step_by(2)) {
            // Every digit of the token was checked to be one.
            let digit = |at: usize| hex_digit(line[at]).unwrap_or_default();
            let byte = digit(pair) << 4 | digit(pair + 1);
            *slot = (byte, (start + pair, start + pair + 2));
        }
        // A token of several bytes may be a little-endian word (`od -x`,
        // `od -t x4`, `-t x8`): the swapped stream reads it backwards;
        // `xxd -g 8` prints eight bytes in order.
        let token = &token[..digits / 2];
        if token.len() > 1 {
            sink.diverges();
        }
        for &(byte, range) in token {
            sink.push(DATA, byte, range);
        }
        for &(byte, range) in token.iter().rev() {
            sink.push(SWAPPED, byte, range);
        }
        count += token.len();
        at = token_end;
        if count >= MAX_LINE_BYTES {
            break;
        }
    }
    if count == 0 {
        return numbers || numbers::not_read(&line[after_offset..]);
    }
    // Also after numbers: the last line of `xxd -c 4` of digits is
    // numbers alone (`3738 3930  7890`).
    ascii_column(line, at, start, sink);
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

/// Whether `line` and `head` both start with an offset column of the
/// same value: `hexdump` prints it again on each format's line,
/// `00000010` and `0000010` alike.
#[inline]
pub fn same_offset(line: &[u8], head: &[u8]) -> bool {
    // Most lines have no offset, or another one than the line above.
    let (Some(&last), Some(&head_last)) = (line.get(3), head.get(3)) else {
        return false;
    };
    if !last.is_ascii_hexdigit() || !head_last.is_ascii_hexdigit() {
        return false;
    }
    match (offset_digits(line), offset_digits(head)) {
        (Some(line), Some(head)) if line.len() == head.len() => line == head,
        (Some(line), Some(head)) => without_zeros(line) == without_zeros(head),
        _ => false,
    }
}

/// The digits of a line's offset column, when it has one and the
/// column ends there.
fn offset_digits(line: &[u8]) -> Option<&[u8]> {
    let after = offset(line).filter(|&after| after > 0)?;
    let digits = line[..after].strip_suffix(b":").unwrap_or(&line[..after]);
    matches!(line.get(digits.len()), Some(b' ' | b':')).then_some(digits)
}

fn without_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&byte| byte == b'0').count();
    &digits[zeros..]
}

/// `od -c` cells: four columns each, a character right-aligned, a
/// backslash escape, or three octal digits; five beside `od -t d1`.
fn cells(line: &[u8], at: usize, start: usize, sink: &mut impl Sink) -> bool {
    cells_of(line, at, start, 4, sink) || cells_of(line, at, start, 5, sink)
}

/// [`cells`] `width` columns wide.
#[inline]
fn cells_of(line: &[u8], mut at: usize, start: usize, width: usize, sink: &mut impl Sink) -> bool {
    let indent = line.len().saturating_sub(at) % width;
    if at == 0 && indent != 0 {
        // A second format's line under the first's offset (`od -xc`,
        // `od -t x1 -c`): blank where the offset was, five to seven
        // columns (od's offsets below 16 MiB), then the cells.
        let blank = indent + width;
        if !line
            .get(..blank)
            .is_some_and(|blank| blank.iter().all(|&byte| byte == b' '))
        {
            return false;
        }
        at = blank;
    }
    let rest = &line[at..];
    // Every cell is `width` wide: `   s`, `  \n`, or ` 377` (a byte shown
    // in octal fills three columns of them).
    let pad = width - 4;
    let first_cell = rest.len() > pad
        && rest[..pad].iter().all(|&byte| byte == b' ')
        && match &rest[pad..] {
            [b' ', b' ', ..] => true,
            [b' ', a, b, c, ..] => {
                [a, b, c].iter().all(|byte| (b'0'..=b'7').contains(byte))
                    || named(&[*a, *b, *c]).is_some()
            }
            _ => false,
        };
    // Five wide, every cell has two spaces at least: a quick no to most
    // lines (`hexdump -C`) before the cells are read.
    let second_cell =
        width == 4 || rest.len() == width || rest.get(width..width + 2) == Some(b"  ".as_slice());
    if rest.is_empty() || !rest.len().is_multiple_of(width) || !first_cell || !second_cell {
        return false;
    }
    // Read the whole line before giving any of it: a line with one cell
    // that is none is no `od -c` line.
    let mut bytes = [(0u8, 0usize); MAX_LINE / 4];
    let mut count = 0;
    for (index, cell) in rest.chunks(width).enumerate() {
        let token = &cell[cell
            .iter()
            .take_while(|&&byte| byte == b' ')
            .count()
            .min(width - 1)..];
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
            // `od -a`: a name (`sp`, `nl`).
            name => match named(name) {
                Some(byte) => Some(byte),
                None => return false,
            },
        };
        if let Some(byte) = byte {
            bytes[count] = (byte, start + at + index * width);
            count += 1;
        }
    }
    // Cells that give no byte (`**` only) are no `od -c` line.
    if count == 0 {
        return false;
    }
    for &(byte, cell_start) in &bytes[..count] {
        sink.push(CELLS, byte, (cell_start, cell_start + width));
    }
    true
}

/// The names `od -a` gives the control characters, in order from 0, and
/// the space.
const NAMES: [&[u8]; 33] = [
    b"nul", b"soh", b"stx", b"etx", b"eot", b"enq", b"ack", b"bel", b"bs", b"ht", b"nl", b"vt",
    b"ff", b"cr", b"so", b"si", b"dle", b"dc1", b"dc2", b"dc3", b"dc4", b"nak", b"syn", b"etb",
    b"can", b"em", b"sub", b"esc", b"fs", b"gs", b"rs", b"us", b"sp",
];

/// The byte an `od -a` cell names (`sp`, `nl`, `del`…); it prints a byte
/// past 127 as the name of its low seven bits.
#[inline]
fn named(token: &[u8]) -> Option<u8> {
    if !(2..=3).contains(&token.len()) || !token[0].is_ascii_lowercase() {
        return None;
    }
    if token == b"del" {
        return Some(127);
    }
    let index = NAMES.iter().position(|name| *name == token)?;
    u8::try_from(index).ok()
}
