//! Dump lines of numbers alone. `od` prints octal words by default (`od
//! FILE`, `od -o`, `hexdump -o`: six digits each), and decimal words or
//! bytes when asked (`od -d`, `hexdump -d`, `od -t u1`, `od -t d1`,
//! `od -t d2`). How many bytes a decimal number stands for is not printed
//! (the columns' width depends on the other formats beside it), so a line
//! is read both ways that fit: a byte a number, and a little-endian word
//! a number, each into a stream of its own. A stream read the wrong way
//! holds bytes no needle matches. Numbers this reader does not turn back
//! into bytes (`od -t x8`, `od -f`, `od -t u4`) still make a dump line:
//! it gives no byte, but a find in its group covers it (see `runs`).

use super::streams::{BYTES, Sink, WORDS};

/// Most numbers a line holds (`od -t u1 -w32`).
const MAX_NUMBERS: usize = 32;
/// Digits of an octal word (`050101`).
const OCTAL_DIGITS: usize = 6;

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
    // Each number: where it starts and ends in `rest`, and its sign.
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
        if digits == 0 || digits > OCTAL_DIGITS || !ends || count == MAX_NUMBERS {
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
    let octal = numbers.iter().all(|&(from, to, negative)| {
        !negative && to - from == OCTAL_DIGITS && rest[from..to].iter().all(|&d| d <= b'7')
    });
    if octal {
        let words: Option<Vec<u16>> = numbers
            .iter()
            .map(|&(from, to, _)| u16::try_from(value(&rest[from..to], 8)).ok())
            .collect();
        let Some(words) = words else {
            return false;
        };
        for (&(from, to, _), word) in numbers.iter().zip(words) {
            for byte in word.to_le_bytes() {
                sink.push(WORDS, byte, range(from, to));
            }
        }
        return true;
    }
    let signed = |(from, to, negative): (usize, usize, bool)| {
        let magnitude = i64::from(value(&rest[from..to], 10));
        if negative { -magnitude } else { magnitude }
    };
    let fit = |low: i64, high: i64| {
        numbers
            .iter()
            .all(|&number| (low..=high).contains(&signed(number)))
    };
    let (bytes, words) = (fit(-128, 255), fit(-32768, 65535));
    for &number in numbers {
        let (from, to, _) = number;
        // Two's complement, as `od -t d1` and `-t d2` print them.
        let value = signed(number);
        if bytes {
            sink.push(BYTES, value.to_le_bytes()[0], range(from, to));
        }
        if words {
            for &byte in &value.to_le_bytes()[..2] {
                sink.push(WORDS, byte, range(from, to));
            }
        }
    }
    bytes || words
}

/// The value of `digits` (at most six) in `base`.
fn value(digits: &[u8], base: u32) -> u32 {
    digits
        .iter()
        .fold(0, |value, &digit| value * base + u32::from(digit - b'0'))
}

/// Whether `rest` (a line after its offset) is numbers alone, as `od`
/// prints the formats this reader does not turn back into bytes (`od -t
/// x8`, `od -f`, `od -t u4`).
pub fn not_read(rest: &[u8]) -> bool {
    let mut tokens = 0;
    for token in rest
        .split(|&byte| byte == b' ')
        .filter(|token| !token.is_empty())
    {
        let digits = token.strip_prefix(b"-").unwrap_or(token);
        if digits.is_empty()
            || !digits
                .iter()
                .all(|&byte| byte.is_ascii_hexdigit() || matches!(byte, b'.' | b'+' | b'-'))
        {
            return false;
        }
        tokens += 1;
    }
    tokens > 0
}
