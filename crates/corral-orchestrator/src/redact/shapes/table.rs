//! The shapes themselves: each token's prefixes, body and length
//! bounds, and the private key block's lines.

use crate::redact::scan::Masked;

/// A token shape.
pub struct Shape {
    pub name: &'static str,
    /// ASCII word boundaries (`(?-u:\b)`) keep it on the fast DFA engines.
    pub pattern: &'static str,
    /// Every literal a match starts with (also searched for as is: see
    /// [`PREFIXES`]).
    pub prefixes: &'static [&'static str],
    /// The class of every byte after the prefix (a superset is fine).
    pub body: fn(u8) -> bool,
    /// Shortest match, in bytes.
    pub shortest: usize,
    /// Longest match, in bytes.
    pub longest: usize,
}

impl Shape {
    /// Whether a match could start at `at`: one of the prefixes is there,
    /// after a word boundary, followed by enough body bytes. Blanks make
    /// no body bytes, so the text as is answers for the masked text.
    pub fn could_start(&self, masked: &Masked<'_>, at: usize) -> bool {
        let text = masked.text();
        let Some(prefix) = self
            .prefixes
            .iter()
            .find(|prefix| starts_with(&text[at..], prefix.as_bytes()))
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

/// `text.starts_with(prefix)` for the few bytes of a prefix, compared
/// in place (a call to `memcmp` cost more than the comparison).
fn starts_with(text: &[u8], prefix: &[u8]) -> bool {
    text.len() >= prefix.len() && prefix.iter().zip(text).all(|(a, b)| a == b)
}

fn alphanumeric(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
}

pub fn upper_alphanumeric(byte: u8) -> bool {
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

pub const SHAPES: &[Shape] = &[
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
pub const PEM_NAME: &str = "private-key";
/// The line a private key starts with.
pub const PEM_BEGIN: &str = "-----BEGIN ";
/// What the search for a key block looks for: [`PEM_BEGIN`] without its
/// space, which a blank could make (`-----BEGIN<secret>`).
pub const PEM_LITERAL: &str = "-----BEGIN";
/// Longest `BEGIN` line: the prefix, 40 bytes of kind, `PRIVATE KEY-----`.
pub const PEM_HEADER_MAX: usize = PEM_BEGIN.len() + 40 + 16;
/// Longest private key block searched for its `END` line (an RSA-8192 key
/// is about 6.5 KiB). Past it, the block is redacted up to this length
/// and the stream moves on: a stream never holds more of a key than this.
pub const PEM_MAX: usize = 16 << 10;
