//! A view of bytes with their escapes decoded, each decoded byte knowing
//! where it came from, so a match in the view blanks the right original
//! bytes. Escapes read: `%HH` (URLs), `\xHH`, `\uHHHH`, `\/`, `\"`, `\\`,
//! `\'` (JSON and string literals), and HTML character references (`&#45;`,
//! `&#x2d;`, `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`), each standing
//! for an ASCII character (a credential is a header value: ASCII), in any
//! mix. One level only: an escaped escape (`%252D`) stays as it is.

use std::ops::Range;

/// Longest escape read, in bytes (`&#x0002d;` and a spare).
const MAX_ESCAPE: usize = 10;

/// `bytes` with escapes decoded.
#[derive(Debug)]
pub struct View {
    text: Vec<u8>,
    /// Where each byte of `text` starts in the original, and its length last.
    starts: Vec<usize>,
    /// How much of `text` stands, whatever bytes come next: up to the
    /// first escape that more bytes could still complete.
    settled: usize,
}

impl View {
    /// The view of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let mut text = Vec::with_capacity(bytes.len());
        let mut starts = Vec::with_capacity(bytes.len() + 1);
        let mut unfinished = None;
        let mut at = 0;
        while let Some(rest) = bytes.get(at..).filter(|rest| !rest.is_empty()) {
            starts.push(at);
            if let Some((byte, length)) = unescape(rest) {
                text.push(byte);
                at += length;
                continue;
            }
            if unfinished.is_none() && might_grow(rest) {
                unfinished = Some(text.len());
            }
            text.push(rest[0]);
            at += 1;
        }
        starts.push(bytes.len());
        Self {
            settled: unfinished.unwrap_or(text.len()),
            text,
            starts,
        }
    }

    /// The decoded bytes.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The original bytes `range` of the view came from.
    pub fn origin(&self, range: Range<usize>) -> Range<usize> {
        self.starts[range.start]..self.starts[range.end]
    }

    /// Where byte `index` of the view starts in the original (its length
    /// for the view's length).
    pub fn origin_of(&self, index: usize) -> usize {
        self.starts[index]
    }

    /// How many bytes of the view stand whatever comes next: all but an
    /// escape cut short at the end and what follows it.
    pub fn settled(&self) -> usize {
        self.settled
    }
}

/// The ASCII byte an escape at the start of `bytes` stands for, and its
/// length.
fn unescape(bytes: &[u8]) -> Option<(u8, usize)> {
    match bytes {
        [b'%', high, low, ..] => Some((ascii(hex(&[*high, *low])?)?, 3)),
        [b'\\', b'x', high, low, ..] => Some((ascii(hex(&[*high, *low])?)?, 4)),
        [b'\\', b'u', digits @ ..] => Some((ascii(hex(digits.get(..4)?)?)?, 6)),
        [b'\\', quoted @ (b'/' | b'"' | b'\\' | b'\''), ..] => Some((*quoted, 2)),
        [b'&', rest @ ..] => reference(rest),
        _ => None,
    }
}

/// Whether `rest`, the original's tail, is the start of an escape that
/// more bytes could complete.
fn might_grow(rest: &[u8]) -> bool {
    let hex_digits = |digits: &[u8], most: usize| {
        digits.len() < most && digits.iter().all(u8::is_ascii_hexdigit)
    };
    match rest {
        [b'%', digits @ ..] | [b'\\', b'x', digits @ ..] => hex_digits(digits, 2),
        [b'\\', b'u', digits @ ..] => hex_digits(digits, 4),
        [b'\\'] => true,
        [b'&', name @ ..] => {
            name.len() < MAX_ESCAPE - 1
                && name
                    .iter()
                    .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'#')
        }
        _ => false,
    }
}

/// An HTML character reference, after its `&`.
fn reference(rest: &[u8]) -> Option<(u8, usize)> {
    let end = rest
        .iter()
        .take(MAX_ESCAPE - 1)
        .position(|byte| *byte == b';')?;
    let byte = match &rest[..end] {
        b"amp" => b'&',
        b"lt" => b'<',
        b"gt" => b'>',
        b"quot" => b'"',
        b"apos" => b'\'',
        [b'#', b'x' | b'X', digits @ ..] => ascii(hex(digits)?)?,
        [b'#', digits @ ..] => ascii(number(digits, 10)?)?,
        _ => return None,
    };
    Some((byte, end + 2))
}

fn hex(digits: &[u8]) -> Option<u32> {
    number(digits, 16)
}

/// `digits` in `radix`: one to six digits, nothing else.
fn number(digits: &[u8], radix: u32) -> Option<u32> {
    if digits.is_empty() || digits.len() > 6 {
        return None;
    }
    digits.iter().try_fold(0, |value, digit| {
        Some(value * radix + char::from(*digit).to_digit(radix)?)
    })
}

fn ascii(value: u32) -> Option<u8> {
    u8::try_from(value).ok().filter(u8::is_ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_of_every_kind_decode_and_map_back_to_their_bytes() {
        let original = br"a%2Db\u002dc\/d&#45;e&#x2D;f&amp;g\x41h%zz&bogus;";
        let view = View::of(original);
        assert_eq!(view.text(), b"a-b-c/d-e-f&gAh%zz&bogus;");
        assert_eq!(view.origin(1..2), 1..4, "%2D");
        assert_eq!(view.origin(3..4), 5..11, "\\u002d");
        assert_eq!(view.origin_of(view.text().len()), original.len());
        assert_eq!(view.settled(), view.text().len());
        for (tail, settled) in [
            (&b"ok %2"[..], 3),
            (b"ok \\u00", 3),
            (b"&#x2", 0),
            (b"%2D", 1),
        ] {
            assert_eq!(View::of(tail).settled(), settled, "{tail:?}");
        }
        assert_eq!(
            View::of(b"\\u00e9 &#233; %C3").text(),
            b"\\u00e9 &#233; %C3"
        );
    }
}
