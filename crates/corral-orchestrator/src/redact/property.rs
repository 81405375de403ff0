//! The stream redactor's contract, checked on thousands of generated
//! cases: for any secrets and any text cut into any chunks (down to one
//! byte, across both streams), what the stream emits equals what the
//! whole-text redactor makes of the whole text, holds no form of any
//! secret, and holds nothing the redactor would still redact.

use corral_proto::event::OutputStream;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::dump_layouts::{hexdump, hexdump_words, od_c, od_words_and_cells, xxd};
use super::{Findings, Redactor, StreamRedactor, forms};

/// A xorshift generator: the same cases on every run.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    /// The next 64 random bits.
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub(super) fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound as u64).expect("small")
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// `min..=max` characters of `alphabet`.
    fn word(&mut self, alphabet: &str, min: usize, max: usize) -> String {
        let length = min + self.below(max - min + 1);
        let characters: Vec<char> = alphabet.chars().collect();
        (0..length)
            .map(|_| characters[self.below(characters.len())])
            .collect()
    }
}

const ALPHABETS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
    "0123456789abcdef",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
    "ab",
    "a-b_c.d/e+f\"g\\h<i>&j k!l#m$n%o:p;q'r(s)t*u?v@w[x]y{z}é",
];

/// One to four secrets, some built from the others.
fn secrets(rng: &mut Rng) -> Vec<String> {
    if rng.chance(20) {
        return vec!["s3cr3t-pass-word-s".to_owned()];
    }
    let mut secrets: Vec<String> = Vec::new();
    for _ in 0..=rng.below(4) {
        let alphabet = rng.pick(ALPHABETS);
        let fresh = rng.word(alphabet, 8, 24);
        let secret = match (secrets.last(), rng.below(6)) {
            // A prefix, a suffix, or an overlap of another secret.
            (Some(other), 0) if other.chars().count() > 9 => {
                other.chars().take(8 + rng.below(2)).collect()
            }
            (Some(other), 1) if other.chars().count() > 9 => {
                let count = other.chars().count();
                other.chars().skip(count - 8 - rng.below(2)).collect()
            }
            (Some(other), 2) => {
                let count = other.chars().count();
                let tail: String = other.chars().skip(count / 2).collect();
                format!("{tail}{}", rng.word(alphabet, 4, 4))
            }
            // A tail that begins the secret again.
            (_, 3) => {
                let head: String = fresh.chars().take(1 + rng.below(3)).collect();
                format!("{fresh}{head}")
            }
            _ => fresh,
        };
        secrets.push(secret);
    }
    secrets
}

fn wrapped(encoded: &str, width: usize, newline: &str) -> String {
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(width)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    lines.join(newline)
}

/// One piece of text: filler, a secret in some form, part of one, or a
/// token shape.
fn piece(rng: &mut Rng, secrets: &[String]) -> String {
    let secret = secrets[rng.below(secrets.len())].as_str();
    let around = format!("{}{secret}{}", rng.word("xyz", 0, 2), rng.word("\n.", 0, 1));
    match rng.below(18) {
        0..=2 => rng.word("abs3 \n-=_+/\"\\", 0, 11),
        3 | 4 => secret.to_owned(),
        5 => secret
            .chars()
            .take(rng.below(secret.chars().count()))
            .collect(),
        6 => wrapped(
            &STANDARD.encode(&around),
            rng.pick(&["76", "64"]).parse().expect("width"),
            rng.pick(&["\n", "\r\n"]),
        ),
        7 => format!("\n{}", hexdump(around.as_bytes())),
        8 => format!("\n{}", od_c(around.as_bytes(), rng.chance(2))),
        9 => format!("\n{}", xxd(around.as_bytes())),
        16 => format!("\n{}", hexdump_words(around.as_bytes(), true)),
        17 => format!("\n{}", od_words_and_cells(around.as_bytes())),
        10 => serde_json::to_string(secret).expect("json"),
        11 => forms::all(secret)[rng.below(forms::all(secret).len())].clone(),
        12 => format!("ghp_{}", rng.word(ALPHABETS[0], 36, 39)),
        13 => format!(
            "AKIA{} eyJ{}.eyJ{}.{}",
            rng.word("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, 16),
            rng.word(ALPHABETS[0], 10, 10),
            rng.word(ALPHABETS[0], 9, 9),
            rng.word(ALPHABETS[0], 12, 12)
        ),
        14 => {
            let body: Vec<String> = (0..=rng.below(4))
                .map(|_| rng.word(ALPHABETS[2], 64, 64))
                .collect();
            let end = if rng.chance(3) {
                ""
            } else {
                "-----END RSA PRIVATE KEY-----\n"
            };
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{}\n{end}",
                body.join("\n")
            )
        }
        _ => rng
            .pick(&["sk-", "gh", "-----BEG", "AKI", "\n", "0000", " 73 33"])
            .to_owned(),
    }
}

/// A redactor knowing `secrets` as `S0`, `S1`…
fn redactor_for(secrets: &[String]) -> Redactor {
    Redactor::new(
        secrets
            .iter()
            .enumerate()
            .map(|(index, secret)| (format!("S{index}"), secret.as_str()))
            .collect::<Vec<_>>()
            .iter()
            .map(|(name, secret)| (name.as_str(), *secret)),
    )
}

/// The text cut into chunks of either stream, on char boundaries.
fn chunks<'a>(rng: &mut Rng, text: &'a str) -> Vec<(OutputStream, &'a str)> {
    let longest = [1, 3, 16, 200][rng.below(4)];
    let mixed = rng.chance(3);
    let mut chunks = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + 1 + rng.below(longest)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let stream = if mixed && rng.chance(2) {
            OutputStream::Stderr
        } else {
            OutputStream::Stdout
        };
        chunks.push((stream, &text[at..end]));
        at = end;
    }
    chunks
}

#[test]
fn a_stream_emits_what_the_whole_text_redacts_and_no_form_of_a_secret() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..3000 {
        let secrets = secrets(&mut rng);
        let redactor = redactor_for(&secrets);
        let text: String = (0..=rng.below(12))
            .map(|_| piece(&mut rng, &secrets))
            .collect();
        let mut findings = Findings::default();
        let whole = redactor
            .redact_text(&text, &mut findings)
            .unwrap_or_else(|| text.clone());
        let mut stream = StreamRedactor::default();
        let mut streamed = String::new();
        for (name, chunk) in chunks(&mut rng, &text) {
            for piece in stream.push(&redactor, name, chunk, &mut findings) {
                streamed.push_str(&piece.text);
            }
        }
        for piece in stream.flush(&redactor, &mut findings) {
            streamed.push_str(&piece.text);
        }
        let context = format!("case {case}: secrets {secrets:?}\ntext {text:?}");
        assert_eq!(streamed, whole, "{context}");
        for secret in &secrets {
            for form in forms::all(secret) {
                assert!(
                    !whole.contains(&form),
                    "form {form:?} left in {whole:?}\n{context}"
                );
            }
        }
        let left: Vec<&str> = redactor
            .scan(&whole, 0, true, None)
            .hits
            .iter()
            .map(|hit| &whole[hit.start..hit.end])
            .collect();
        assert!(left.is_empty(), "{left:?} left in {whole:?}\n{context}");
    }
}

/// Bytes a file may hold past ASCII: characters, and bytes of none.
const NOT_ASCII: &[&[u8]] = &[
    "é".as_bytes(),
    "✓".as_bytes(),
    "🦀".as_bytes(),
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xe2\x9c",
    b"\x01",
];

#[test]
fn bytes_past_ascii_folded_into_one_find_what_checked_characters_find() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut folded_cases = 0;
    for case in 0..3000 {
        let secrets = secrets(&mut rng);
        let redactor = redactor_for(&secrets);
        // Pieces with bytes past ASCII between and inside them: in dump
        // lines, next to tokens, inside wrapped data.
        let mut bytes = Vec::new();
        for _ in 0..=rng.below(12) {
            let piece = piece(&mut rng, &secrets);
            let mut at = 0;
            while at < piece.len() {
                let mut end = (at + 1 + rng.below(40)).min(piece.len());
                while !piece.is_char_boundary(end) {
                    end += 1;
                }
                let part = &piece.as_bytes()[at..end];
                let other = NOT_ASCII[rng.below(NOT_ASCII.len())];
                match rng.below(6) {
                    // In place of an ASCII byte: a dump's separator, a
                    // cell, a digit, a byte next to a token.
                    0 if part.len() > 1 && part[0].is_ascii() => {
                        bytes.extend_from_slice(other);
                        bytes.extend_from_slice(&part[1..]);
                    }
                    1 | 2 => {
                        bytes.extend_from_slice(part);
                        bytes.extend_from_slice(other);
                    }
                    _ => bytes.extend_from_slice(part),
                }
                at = end;
            }
        }
        let checked = super::binary::scannable(&bytes, true);
        let fast = redactor.scannable(&bytes);
        if fast != checked {
            folded_cases += 1;
        }
        let redact = |text: &str| {
            let mut findings = Findings::default();
            let out = redactor
                .redact_text(text, &mut findings)
                .unwrap_or_else(|| text.to_owned());
            let mut found = findings.names;
            found.sort();
            (super::binary::fold(out.as_bytes()), found)
        };
        assert_eq!(
            redact(&fast),
            redact(&checked),
            "case {case}: secrets {secrets:?}\nbytes {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
    assert!(
        folded_cases > 1000,
        "the fast way taken {folded_cases} times"
    );
}
