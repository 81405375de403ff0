//! Private key blocks: from a `BEGIN … PRIVATE KEY` line to its `END`
//! line, capped at [`PEM_MAX`] bytes.

use std::sync::LazyLock;

use regex_automata::meta::Regex;

use super::matching::anchored;
use super::table::{PEM_BEGIN, PEM_HEADER_MAX, PEM_MAX, upper_alphanumeric};
use crate::redact::scan::Masked;

pub static PEM_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----").ok());

pub static PEM_FOOTER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----").ok());

/// The private key block starting at `at` in the masked text cut at
/// `len`, if one does: its range, and whether it is open (no `END` yet and
/// shorter than [`PEM_MAX`]: more text could make it longer).
pub fn pem_block(masked: &Masked<'_>, at: usize, len: usize) -> Option<(usize, usize, bool)> {
    let header_end = anchored(PEM_HEADER.as_ref()?, masked, at, PEM_HEADER_MAX, len)?;
    // A cap inside a character is moved back to its start.
    let mut limit = len.min(at + PEM_MAX);
    while !is_boundary(masked.text(), limit) {
        limit -= 1;
    }
    let body = masked.window(header_end, limit.max(header_end));
    let footer = PEM_FOOTER.as_ref().and_then(|footer| footer.find(&*body));
    Some(match footer {
        Some(footer) => (at, header_end + footer.end(), false),
        None => (at, limit, len < at + PEM_MAX),
    })
}

/// Whether `at` is a character boundary of UTF-8 `text`.
fn is_boundary(text: &[u8], at: usize) -> bool {
    text.get(at).is_none_or(|&byte| (byte as i8) >= -0x40)
}

/// The start of a `BEGIN` line still being written at the end of `bytes`.
pub fn pem_header_live(bytes: &[u8]) -> Option<usize> {
    let window = bytes.len().saturating_sub(PEM_HEADER_MAX);
    (window..bytes.len()).find(|&start| {
        let rest = &bytes[start..];
        if rest.len() <= PEM_BEGIN.len() {
            return PEM_BEGIN.as_bytes().starts_with(rest);
        }
        rest.starts_with(PEM_BEGIN.as_bytes())
            && rest[PEM_BEGIN.len()..]
                .iter()
                .all(|&byte| upper_alphanumeric(byte) || byte == b' ' || byte == b'-')
    })
}
