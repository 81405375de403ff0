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

use std::sync::LazyLock;

use regex::Regex;

use super::scan::Hit;

/// A token shape.
struct Shape {
    name: &'static str,
    /// ASCII word boundaries (`(?-u:\b)`) keep it on the fast DFA engines.
    pattern: &'static str,
    /// Every literal a match starts with.
    prefixes: &'static [&'static str],
    /// The class of every byte after the prefix (a superset is fine).
    body: fn(u8) -> bool,
    /// Longest match, in bytes.
    longest: usize,
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
        longest: 20,
    },
    Shape {
        name: "github-token",
        pattern: r"(?-u:\b)gh[pousr]_[A-Za-z0-9]{36,255}(?-u:\b)",
        prefixes: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        body: alphanumeric,
        longest: 259,
    },
    Shape {
        name: "github-token",
        pattern: r"(?-u:\b)github_pat_[A-Za-z0-9_]{22,255}(?-u:\b)",
        prefixes: &["github_pat_"],
        body: word,
        longest: 266,
    },
    Shape {
        name: "anthropic-key",
        pattern: r"(?-u:\b)sk-ant-[A-Za-z0-9_-]{20,512}",
        prefixes: &["sk-ant-"],
        body: dashed_word,
        longest: 519,
    },
    Shape {
        name: "openai-key",
        pattern: r"(?-u:\b)sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,512}",
        prefixes: &["sk-"],
        body: dashed_word,
        longest: 523,
    },
    Shape {
        name: "slack-token",
        pattern: r"(?-u:\b)xox[abposr]-[A-Za-z0-9-]{10,512}",
        prefixes: &["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"],
        body: dashed_alphanumeric,
        longest: 517,
    },
    Shape {
        name: "jwt",
        pattern: r"(?-u:\b)eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8,4096}",
        prefixes: &["eyJ"],
        body: jwt_body,
        longest: 3 * 4096 + 8,
    },
];

/// Name of the PEM shape.
const PEM_NAME: &str = "private-key";
/// The line a private key starts with.
const PEM_BEGIN: &str = "-----BEGIN ";
/// Longest `BEGIN` line: the prefix, 40 bytes of kind, `PRIVATE KEY-----`.
const PEM_HEADER_MAX: usize = PEM_BEGIN.len() + 40 + 16;
/// Longest private key block searched for its `END` line (an RSA-8192 key
/// is about 6.5 KiB). Past it, the block is redacted up to this length
/// and the stream moves on: a stream never holds more of a key than this.
pub const PEM_MAX: usize = 16 << 10;

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

/// A literal every shape starts with: clean text, which is nearly all
/// text, is passed over at memchr speed and never reaches the regexes.
const PREFIXES: &[&str] = &[
    "AKIA",
    "ASIA",
    "gh",
    "github_pat_",
    "sk-",
    "xox",
    PEM_BEGIN,
    "eyJ",
];

/// The prefixes as a SIMD (Teddy) searcher: over 10 GB/s here, where an
/// `AhoCorasick` over the same eight literals measured under 0.5 GB/s
/// (its automaton walked every byte). `None` where the CPU lacks the
/// instructions; the regexes then do the work.
static PREFILTER: LazyLock<Option<aho_corasick::packed::Searcher>> =
    LazyLock::new(|| aho_corasick::packed::Searcher::new(PREFIXES.iter()));

/// Whether `text[from..]` holds one of the prefixes in full: when not,
/// no shape is found there, and only a prefix cut short by the end is live.
pub fn any_prefix(text: &str, from: usize) -> bool {
    PREFILTER
        .as_ref()
        .is_none_or(|prefilter| prefilter.find(&text[from..]).is_some())
}

/// Adds every shape starting at or after `from` in `text` (each shape's
/// matches leftmost-first, as `find_iter` would from `from`), as if the
/// text ended there.
pub fn find(text: &str, from: usize, hits: &mut Vec<Hit<'_>>) {
    if !any_prefix(text, from) {
        return;
    }
    for (shape, regex) in SHAPES.iter().zip(COMPILED.iter()) {
        let Some(regex) = regex else { continue };
        let mut at = from;
        while let Some(found) = regex.find_at(text, at) {
            hits.push(Hit::new(found.start(), found.end(), shape.name));
            at = found.end();
        }
    }
    let mut at = from;
    while let Some((start, end, _)) = pem_block(text, at) {
        hits.push(Hit::new(start, end, PEM_NAME));
        at = end;
    }
}

/// The first private key block at or after `from`: its range, and whether
/// it is open (no `END` yet and shorter than [`PEM_MAX`]: more text could
/// make it longer).
fn pem_block(text: &str, from: usize) -> Option<(usize, usize, bool)> {
    let header = PEM_HEADER.as_ref()?.find_at(text, from)?;
    let limit = text.len().min(header.start() + PEM_MAX);
    let footer = PEM_FOOTER
        .as_ref()
        .and_then(|footer| footer.find(&text[header.end()..limit]));
    Some(match footer {
        Some(footer) => (header.start(), header.end() + footer.end(), false),
        None => (header.start(), limit, limit < header.start() + PEM_MAX),
    })
}

/// The earliest position at or after `from` where a shape could still
/// start, or grow, once more text follows `text`; `text.len()` if none.
/// `prefixed` is [`any_prefix`] of the same text.
pub fn live(text: &str, from: usize, prefixed: bool) -> usize {
    let bytes = text.as_bytes();
    let mut earliest = text.len();
    if prefixed {
        for shape in SHAPES {
            if let Some(start) = shape_live(shape, bytes, from) {
                earliest = earliest.min(start);
            }
        }
        let mut at = from;
        while let Some((start, end, open)) = pem_block(text, at) {
            if open {
                earliest = earliest.min(start);
                break;
            }
            at = end;
        }
    } else {
        // Only a prefix cut short at the end can be live.
        for shape in SHAPES {
            if let Some(start) = shape_live(shape, bytes, from.max(text.len().saturating_sub(11))) {
                earliest = earliest.min(start);
            }
        }
    }
    if let Some(start) = pem_header_live(bytes, from) {
        earliest = earliest.min(start);
    }
    earliest
}

/// The earliest start, in the last [`Shape::longest`] bytes, of a prefix
/// (whole or cut short by the end) followed only by body bytes.
fn shape_live(shape: &Shape, bytes: &[u8], from: usize) -> Option<usize> {
    let window = bytes.len().saturating_sub(shape.longest).max(from);
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
fn pem_header_live(bytes: &[u8], from: usize) -> Option<usize> {
    let window = bytes.len().saturating_sub(PEM_HEADER_MAX).max(from);
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
        live(text, from, any_prefix(text, from))
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
        find(&format!("{key}{}", "A".repeat(PEM_MAX)), 0, &mut hits);
        assert_eq!(
            hits.iter().map(|hit| hit.end).max(),
            Some(PEM_MAX),
            "capped"
        );
    }
}
