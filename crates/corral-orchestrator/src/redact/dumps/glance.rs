//! Which lines may be dump lines, told at a glance (a few bytes each)
//! before `parse` reads one: nearly every line of job output is none.

/// Longest dump line (`xxd -c 32` is 124 bytes).
pub const MAX_LINE: usize = 200;

/// Whether an unfinished line may yet be a dump line: so far, an offset
/// (or a space and hex) as `parse` wants it.
pub fn could_be_dump(line: &[u8]) -> bool {
    if line.len() > MAX_LINE {
        return false;
    }
    // Every start [`may_start`] takes, cut anywhere.
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
/// spaces or more start a line [`may_start`] takes anyway.)
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
/// line is rejected here, at a byte or two, and most of the rest for
/// their first token.
pub fn plausible(line: &[u8]) -> bool {
    may_start(line) && !(line[0] == b' ' && ruled_out(line))
}

/// Whether `line` (without its `\r`) starts as a dump line does, and is
/// no longer than one.
pub fn may_start(line: &[u8]) -> bool {
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

/// Whether `line`, which starts with a space and as [`may_start`] takes, is still no dump line for its first token alone. Every dump
/// line that starts with a space starts its data with a cell (one
/// character, an escape, `**`, a name, three octal digits), hex digits
/// or a number (digits, a sign, a point, an exponent: `od -f`), each of
/// which `parse` reads whole up to a space; a longer token with any other
/// byte in it is none of these. A third of a build log's lines are such
/// (`   Compiling`, `   -->`, `    Finished`): one pass over the token
/// tells, where `parse` took several, each with branches such lines defeat.
fn ruled_out(line: &[u8]) -> bool {
    let (_, token) = first_token(line);
    token.len() >= 2
        && token[0] != b'\\'
        && token != b"**"
        && !token
            .iter()
            .all(|&byte| byte.is_ascii_hexdigit() || matches!(byte, b'.' | b'+' | b'-'))
        && named(token).is_none()
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
pub(super) fn named(token: &[u8]) -> Option<u8> {
    if !(2..=3).contains(&token.len()) || !token[0].is_ascii_lowercase() {
        return None;
    }
    if token == b"del" {
        return Some(127);
    }
    let index = NAMES.iter().position(|name| *name == token)?;
    u8::try_from(index).ok()
}

#[cfg(test)]
mod tests;
