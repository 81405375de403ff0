//! Dump lines of numbers alone. `od` prints octal words by default (`od
//! FILE`, `od -o`, `hexdump -o`: six digits each), and decimal words or
//! bytes when asked (`od -d`, `hexdump -d`, `od -t u1`, `od -t d1`,
//! `od -t d2`). How many bytes a decimal number stands for is not printed
//! (the columns' width depends on the other formats beside it), so a line
//! is read both ways that fit: a byte a number, and a little-endian word
//! a number, each into a stream of its own. A stream read the wrong way
//! holds bytes no needle matches; a line of numbers too large for two
//! bytes is read as words of four (`od -i`, `od -t u4`, `od -t o4`).
//! Numbers this reader does not turn back into bytes (`od -f`, `od -t
//! u8`) still make a dump line:
//! it gives no byte, but a find in its group covers it (see `runs`).

use super::streams::{BYTES, Sink, WORDS};

/// Most numbers a line holds (`od -t u1 -w32`).
const MAX_NUMBERS: usize = 32;
/// Most digits of a number: a word of four bytes in octal (`od -t o4`).
const MOST_DIGITS: usize = 11;
/// The fewest columns a word of two bytes takes (`od -d`: `   303`).
const WORD_FIELD: usize = 6;

/// Reads `line[at..]` (the line after its offset, from `start` in the
/// text) when it is decimal or octal numbers alone, into the streams
/// that fit them; false when it is not, or none fits (then nothing went in).
pub fn read(line: &[u8], at: usize, start: usize, sink: &mut impl Sink) -> bool {
    let rest = &line[at..];
    // Nearly every dump line has a hex letter or a column: no at a glance.
    if rest
        .iter()
        .all(|&byte| byte.is_ascii_digit() || matches!(byte, b' ' | b'-'))
    {
        read_numbers(rest, start + at, sink)
    } else {
        false
    }
}

/// [`read`] of `rest`, digits, spaces and signs alone, from `start` in
/// the text.
#[inline(never)]
fn read_numbers(rest: &[u8], start: usize, sink: &mut impl Sink) -> bool {
    // Each number: where its digits start and end in `rest`, and its sign.
    let mut numbers = [(0usize, 0usize, false); MAX_NUMBERS];
    let mut count = 0;
    let mut index = 0;
    while index < rest.len() {
        if rest[index] == b' ' {
            index += 1;
            continue;
        }
        let negative = rest[index] == b'-';
        let digits_start = index + usize::from(negative);
        index = digits_start;
        while rest.get(index).is_some_and(u8::is_ascii_digit) {
            index += 1;
        }
        let digits = index - digits_start;
        let ends = rest.get(index).is_none_or(|&byte| byte == b' ');
        if digits == 0 || digits > MOST_DIGITS || !ends || count == MAX_NUMBERS {
            return false;
        }
        numbers[count] = (digits_start, index, negative);
        count += 1;
    }
    if count == 0 {
        return false;
    }
    let numbers = &numbers[..count];
    let range = |from: usize, to: usize| (start + from, start + to);
    // `od` prints octal words zero-padded: six digits for two bytes,
    // eleven for four. A decimal word of two bytes has five at most.
    let octal = |digits: usize| {
        numbers.iter().all(|&(from, to, negative)| {
            !negative && to - from == digits && rest[from..to].iter().all(|&d| d <= b'7')
        })
    };
    let base = if octal(6) || octal(11) { 8 } else { 10 };
    let signed = |(from, to, negative): (usize, usize, bool)| {
        let magnitude = i64::try_from(value(&rest[from..to], base)).unwrap_or(i64::MAX);
        if negative { -magnitude } else { magnitude }
    };
    let fit = |low: i64, high: i64| {
        numbers
            .iter()
            .all(|&number| (low..=high).contains(&signed(number)))
    };
    // A byte each only in decimal (`-t u1`, `-t d1`; `od -b` is cells).
    let bytes = base == 10 && fit(-128, 255);
    // `od` and `hexdump` give a word of two bytes six columns at least
    // (`   303`, a number's spaces, sign and digits): numbers closer are
    // bytes (`od -t u1`, or `od -c`'s escapes, ` 303 244`, read as
    // numbers), and read as words would put junk between a secret's bytes.
    let wide = numbers
        .iter()
        .scan(0, |end, &(_, to, _)| {
            let field = to - *end;
            *end = to;
            Some(field)
        })
        .all(|field| field >= WORD_FIELD);
    // A word each of two bytes, or else of four (`od -i`, `-t u4`, `-t o4`).
    let word = if fit(-32768, 65535) {
        if wide { 2 } else { 0 }
    } else if fit(-(1 << 31), (1 << 32) - 1) {
        4
    } else {
        0
    };
    for &number in numbers {
        let (from, to, negative) = number;
        // Two's complement, as `od -t d1` and `-t d2` print them.
        let value = signed(number).to_le_bytes();
        // Printed with its sign, which tells of the bytes too.
        let printed = range(from - usize::from(negative), to);
        if bytes {
            sink.push(BYTES, value[0], printed);
        }
        for &byte in &value[..word] {
            sink.push(WORDS, byte, printed);
        }
    }
    bytes || word > 0
}

/// The value of `digits` (at most [`MOST_DIGITS`]) in `base`.
fn value(digits: &[u8], base: u64) -> u64 {
    digits
        .iter()
        .fold(0, |value, &digit| value * base + u64::from(digit - b'0'))
}

/// Whether `rest` (a line after its offset) is numbers alone, as `od`
/// prints the formats this reader does not turn back into bytes (`od -f`,
/// `od -t u8`).
pub fn not_read(rest: &[u8]) -> bool {
    let mut tokens = 0;
    for token in rest
        .split(|&byte| byte == b' ')
        .filter(|token| !token.is_empty())
    {
        if !unread_number(token) {
            return false;
        }
        tokens += 1;
    }
    tokens > 0
}

/// Whether `token` is a number as `od` prints one this reader does not
/// turn back into bytes: hex digits, `.`, `+` and `-` (`-1.5e+10`,
/// `ffffffffffffffff`), or a float that is no number (`nan`, `-inf`).
/// A line of them under an offset goes with the group's other formats.
pub fn unread_number(token: &[u8]) -> bool {
    let digits = token.strip_prefix(b"-").unwrap_or(token);
    matches!(digits, b"nan" | b"inf")
        || (!digits.is_empty()
            && digits
                .iter()
                .all(|&byte| byte.is_ascii_hexdigit() || matches!(byte, b'.' | b'+' | b'-')))
}
