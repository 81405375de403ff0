//! Well-known token shapes, redacted whether or not corral stores them.
//!
//! Every shape is bounded: a token is a literal prefix, then a body of one
//! character class, at most [`Shape::longest`] bytes in all. That bound is
//! what lets a stream decide, from the end of what it has, whether a shape
//! could still start or grow there ([`live`]). A private key is a PEM block
//! from its `BEGIN … PRIVATE KEY` line to its `END` line; one whose end does
//! not come within [`PEM_MAX`] bytes is redacted for those bytes anyway.
//!
//! Shapes are looked for in the text with every other find blanked out,
//! as they would read in the redacted output: a token glued to a secret
//! (`<secret>AKIA…`) is found, as it would stand alone once redacted.
//!
//! Clean text is crossed once, at SIMD speed, for the literal every shape
//! starts with; a shape's pattern runs only where its literal is, anchored
//! there, on a window of the masked text no longer than the shape.

use std::sync::LazyLock;

use aho_corasick::packed;
use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

use super::scan::{Hit, Masked};

/// A token shape.
struct Shape {
    name: &'static str,
    /// ASCII word boundaries (`(?-u:\b)`) keep it on the fast DFA engines.
    pattern: &'static str,
    /// Every literal a match starts with (also searched for as is: see
    /// [`PREFIXES`]).
    prefixes: &'static [&'static str],
    /// The class of every byte after the prefix (a superset is fine).
    body: fn(u8) -> bool,
    /// Shortest match, in bytes.
    shortest: usize,
    /// Longest match, in bytes.
    longest: usize,
}

impl Shape {
    /// Whether a match could start at `at`: one of the prefixes is there,
    /// after a word boundary, followed by enough body bytes. Blanks make
    /// no body bytes, so the text as is answers for the masked text.
    fn could_start(&self, masked: &Masked<'_>, at: usize) -> bool {
        let text = masked.text();
        let Some(prefix) = self
            .prefixes
            .iter()
            .find(|prefix| text[at..].starts_with(prefix.as_bytes()))
        else {
            return false;
        };
        let body = self.shortest - prefix.len();
        at.checked_sub(1)
            .is_none_or(|before| !word(masked.byte(before)))
            && text[at + prefix.len()..]
                .iter()
                .take(body)
                .take_while(|&&byte| (self.body)(byte))
                .count()
                == body
    }
}

fn alphanumeric(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

fn upper_alphanumeric(byte: u8) -> bool {
    byte.is_ascii_uppercase() || byte.is_ascii_digit()
}

fn word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

fn dashed_word(byte: u8) -> bool {
    word(byte) || byte == b'-'
}

fn dashed_alphanumeric(byte: u8) -> bool {
    alphanumeric(byte) || byte == b'-'
}

fn jwt_body(byte: u8) -> bool {
    dashed_word(byte) || byte == b'.'
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "aws-access-key",
        pattern: r"(?-u:\b)(?:AKIA|ASIA)[0-9A-Z]{16}(?-u:\b)",
        prefixes: &["AKIA", "ASIA"],
        body: upper_alphanumeric,
        shortest: 20,
        longest: 20,
    },
    Shape {
        name: "github-token",
        pattern: r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,255}(?-u:\b)",
        prefixes: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        body: alphanumeric,
        shortest: 40,
        longest: 259,
    },
    Shape {
        name: "github-token",
        pattern: r"(?-u:\b)github_pat_[A-Za-z0-9_]{22,255}(?-u:\b)",
        prefixes: &["github_pat_"],
        body: word,
        shortest: 33,
        longest: 266,
    },
    Shape {
        name: "anthropic-key",
        pattern: r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,512}",
        prefixes: &["sk-ant-"],
        body: dashed_word,
        shortest: 27,
        longest: 519,
    },
    Shape {
        name: "openai-key",
        pattern: r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,512}",
        prefixes: &["sk-"],
        body: dashed_word,
        shortest: 35,
        longest: 523,
    },
    Shape {
        name: "slack-token",
        pattern: r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,512}",
        prefixes: &["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"],
        body: dashed_alphanumeric,
        shortest: 15,
        longest: 517,
    },
    Shape {
        name: "jwt",
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096}",
        prefixes: &["eyJ"],
        body: jwt_body,
        shortest: 32,
        longest: 3 * 4096 + 8,
    },
];

/// Name of the PEM shape.
const PEM_NAME: &str = "private-key";
/// The line a private key starts with.
const PEM_BEGIN: &str = "-----BEGIN ";
/// What the search for a key block looks for: [`PEM_BEGIN`] without its
/// space, which a blank could make (`-----BEGIN<secret>`).
const PEM_LITERAL: &str = "-----BEGIN";
/// Longest `BEGIN` line: the prefix, 40 bytes of kind, `PRIVATE KEY-----`.
const PEM_HEADER_MAX: usize = PEM_BEGIN.len() + 40 + 16;
/// Longest private key block searched for its `END` line (an RSA-8192 key
/// is about 6.5 KiB). Past it, the block is redacted up to this length
/// and the stream moves on: a stream never holds more of a key than this.
pub const PEM_MAX: usize = 16 << 10;

/// The longest any shape can be, and so the end of the text that may
/// still hold a shape that has not ended.
const TAIL: usize = {
    let mut longest = PEM_HEADER_MAX;
    let mut index = 0;
    while index < SHAPES.len() {
        if SHAPES[index].longest > longest {
            longest = SHAPES[index].longest;
        }
        index += 1;
    }
    longest
};

static COMPILED: LazyLock<Vec<Option<Regex>>> = LazyLock::new(|| {
    SHAPES
        .iter()
        .map(|shape| Regex::new(shape.pattern).ok())
        .collect()
});

static PEM_HEADER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----").ok());

static PEM_FOOTER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY-----").ok());

/// Every shape's literals and the key block's, as a SIMD (Teddy)
/// searcher: over 10 GB/s here, where an `AhoCorasick` over the same
/// literals measured under 0.5 GB/s (its automaton walked every byte).
/// `None` where the CPU lacks the instructions: then every position is a
/// candidate.
static PREFIXES: LazyLock<Option<packed::Searcher>> = LazyLock::new(|| {
    let literals = SHAPES
        .iter()
        .flat_map(|shape| shape.prefixes.iter().copied())
        .chain([PEM_LITERAL]);
    packed::Searcher::new(literals)
});

/// The positions in `text[from..to]` where some shape's literal starts,
/// overlapping ones included, in order.
fn candidates(text: &[u8], from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
    let mut at = from;
    std::iter::from_fn(move || {
        if at >= to {
            return None;
        }
        let found = match PREFIXES.as_ref() {
            Some(searcher) => searcher
                .find_in(text, aho_corasick::Span::from(at..to))
                .map(|found| found.start())?,
            None => at,
        };
        at = found + 1;
        Some(found)
    })
}

/// The end of `regex`'s match anchored at `at` in the masked text, if
/// one starts there; `longest` bounds it, `end` is the text's end.
fn anchored(
    regex: &Regex,
    masked: &Masked<'_>,
    at: usize,
    longest: usize,
    end: usize,
) -> Option<usize> {
    // One byte before, for `\b`; one after the longest match, for the same.
    let start = at.saturating_sub(1);
    let window = masked.window(start, end.min(at + longest + 1));
    let input = Input::new(&*window)
        .span(at - start..window.len())
        .anchored(Anchored::Yes);
    regex.search(&input).map(|found| start + found.end())
}

/// Adds every shape starting at or after `from` in the masked text (each
/// shape's matches leftmost-first, as a search from `from` would find
/// them), as if the text ended there.
pub fn find(masked: &Masked<'_>, from: usize, hits: &mut Vec<Hit<'_>>) {
    let text = masked.text();
    let mut next = [from; SHAPES.len()];
    let mut next_key = from;
    for at in candidates(text, from, text.len()) {
        for (index, (shape, regex)) in SHAPES.iter().zip(COMPILED.iter()).enumerate() {
            let Some(regex) = regex else { continue };
            if at < next[index] || !shape.could_start(masked, at) {
                continue;
            }
            if let Some(end) = anchored(regex, masked, at, shape.longest, text.len()) {
                hits.push(Hit::new(at, end, shape.name));
                next[index] = end;
            }
        }
        if at >= next_key
            && text[at..].starts_with(PEM_LITERAL.as_bytes())
            && let Some((start, end, _)) = pem_block(masked, at, text.len())
        {
            hits.push(Hit::new(start, end, PEM_NAME));
            next_key = end;
        }
    }
}

/// The private key block starting at `at` in the masked text cut at
/// `len`, if one does: its range, and whether it is open (no `END` yet and
/// shorter than [`PEM_MAX`]: more text could make it longer).
fn pem_block(masked: &Masked<'_>, at: usize, len: usize) -> Option<(usize, usize, bool)> {
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

/// The earliest position at or after `from` where a shape could still
/// start, or grow, once more text follows the masked text cut at `len`;
/// `len` if none.
pub fn live(masked: &Masked<'_>, from: usize, len: usize) -> usize {
    let mut earliest = len;
    let tail_start = len.saturating_sub(TAIL).max(from).min(len);
    let tail = masked.window(tail_start, len);
    for shape in SHAPES {
        if let Some(start) = shape_live(shape, &tail) {
            earliest = earliest.min(tail_start + start);
        }
    }
    if let Some(start) = pem_header_live(&tail) {
        earliest = earliest.min(tail_start + start);
    }
    // Only the last key block can be open; blocks are read in turn, as
    // `find` reads them.
    let mut at = from;
    for candidate in candidates(masked.text(), from, len) {
        if candidate < at || !masked.text()[candidate..len].starts_with(PEM_LITERAL.as_bytes()) {
            continue;
        }
        if let Some((start, end, open)) = pem_block(masked, candidate, len) {
            if open {
                earliest = earliest.min(start);
                break;
            }
            at = end;
        }
    }
    earliest
}

/// The earliest start, in the last [`Shape::longest`] bytes, of a prefix
/// (whole or cut short by the end) followed only by body bytes.
fn shape_live(shape: &Shape, bytes: &[u8]) -> Option<usize> {
    let window = bytes.len().saturating_sub(shape.longest);
    let run = bytes.len()
        - bytes[window..]
            .iter()
            .rev()
            .take_while(|&&byte| (shape.body)(byte))
            .count();
    shape
        .prefixes
        .iter()
        .filter_map(|prefix| {
            let lowest = run.saturating_sub(prefix.len()).max(window);
            (lowest..bytes.len()).find(|&start| {
                let rest = &bytes[start..];
                if rest.len() < prefix.len() {
                    prefix.as_bytes().starts_with(rest)
                } else {
                    rest.starts_with(prefix.as_bytes())
                }
            })
        })
        .min()
}

/// The start of a `BEGIN` line still being written at the end of `bytes`.
fn pem_header_live(bytes: &[u8]) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape_compiles() {
        assert!(COMPILED.iter().all(Option::is_some));
        assert!(PEM_HEADER.is_some() && PEM_FOOTER.is_some());
    }

    fn live_of(text: &str, from: usize) -> usize {
        live(&Masked::new(text, &[], None), from, text.len())
    }

    #[test]
    fn a_shape_is_live_while_it_could_still_grow() {
        let token = format!("ghp_{}", "a".repeat(40));
        assert_eq!(
            live_of(&format!("x {token}"), 0),
            2,
            "more letters may follow"
        );
        let ended = format!("x {token} ");
        assert_eq!(live_of(&ended, 0), ended.len(), "ended by a space");
        assert_eq!(live_of("text gh", 0), 5, "a prefix cut short");
        assert_eq!(live_of("key -----BEGIN RSA PRI", 0), 4);
        let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n";
        assert_eq!(live_of(key, 0), 0, "a key block without its end");
        let whole = format!("{key}-----END RSA PRIVATE KEY-----");
        assert_eq!(
            live_of(&whole, 0),
            whole.len() - 5,
            "only the dashes could begin a key"
        );
        let mut hits = Vec::new();
        let long = format!("{key}{}", "A".repeat(PEM_MAX));
        find(&Masked::new(&long, &[], None), 0, &mut hits);
        assert_eq!(
            hits.iter().map(|hit| hit.end).max(),
            Some(PEM_MAX),
            "capped"
        );
    }
}
