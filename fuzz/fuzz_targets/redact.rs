//! The leak detector on hostile output: never a panic; streamed in any
//! chunks over both streams it emits exactly what redacting the whole text
//! does; and no form of any secret survives, whether the fuzzer wrote it
//! or planted it through the escape bytes below.
//!
//! Input: byte 0 seeds the chunking; the rest is the output text, where
//! `\x01`–`\x03` followed by a byte plants a form of secret 0–2 (every
//! form the detector knows, a hex dump, or base64 wrapped at 76).
#![no_main]

use corral_proto::event::OutputStream;
use std::fmt::Write as _;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use corral_orchestrator::internals::{Findings, Redactor, StreamRedactor, secret_forms};

/// `redact::stream::HOLD_CAP`.
const HOLD_CAP: usize = 64 << 10;

const SECRETS: [&str; 3] = [
    "s3cr3t-pass-word-s",
    "AbC/+xyz0123456789=",
    "p\"a/ss\\w<é>\n-k",
];

/// Built once: a redactor is per job, and building it is most of the cost.
static REDACTOR: LazyLock<Redactor> =
    LazyLock::new(|| Redactor::new([("A", SECRETS[0]), ("B", SECRETS[1]), ("C", SECRETS[2])]));
static FORMS: LazyLock<Vec<Vec<String>>> =
    LazyLock::new(|| SECRETS.iter().map(|secret| secret_forms(secret)).collect());

fn hexdump(bytes: &[u8]) -> String {
    let mut out = String::from("\n");
    for (line, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", line * 16);
        for byte in chunk {
            let _ = write!(out, "{byte:02x} ");
        }
        let ascii: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        let _ = writeln!(out, "{:pad$} |{ascii}|", "", pad = (16 - chunk.len()) * 3);
    }
    out
}

fn plant(secret: &str, choice: u8) -> String {
    let forms = &FORMS[SECRETS.iter().position(|s| *s == secret).unwrap_or(0)];
    let choice = usize::from(choice);
    match choice.checked_sub(forms.len()) {
        None => forms[choice].clone(),
        Some(0) => hexdump(format!("x{secret}y").as_bytes()),
        Some(_) => {
            let encoded = STANDARD.encode(format!("ab{secret}"));
            let lines: Vec<&str> = encoded
                .as_bytes()
                .chunks(76)
                .filter_map(|line| std::str::from_utf8(line).ok())
                .collect();
            lines.join("\n")
        }
    }
}

fn text(data: &[u8]) -> String {
    let mut raw = Vec::with_capacity(data.len());
    let mut bytes = data.iter().copied();
    while let Some(byte) = bytes.next() {
        match byte {
            1..=3 => {
                let secret = SECRETS[usize::from(byte - 1)];
                let choice =
                    bytes.next().unwrap_or(0) % (FORMS[usize::from(byte - 1)].len() as u8 + 2);
                raw.extend_from_slice(plant(secret, choice).as_bytes());
            }
            _ => raw.push(byte),
        }
    }
    String::from_utf8_lossy(&raw).into_owned()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let redactor = &*REDACTOR;
    let text = text(rest);
    let mut findings = Findings::default();
    let whole = redactor
        .redact_text(&text, &mut findings)
        .unwrap_or_else(|| text.clone());

    let mut state = u64::from(seed) | 0x100;
    let mut next = |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let longest = [1, 3, 16, 200][usize::from(seed & 3)];
    let mut stream = StreamRedactor::default();
    let mut streamed = String::new();
    let mut at = 0;
    while at < text.len() {
        let mut end = (at + 1 + next(longest)).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        let name = if seed & 4 != 0 && next(2) == 0 {
            OutputStream::Stderr
        } else {
            OutputStream::Stdout
        };
        for piece in stream.push(redactor, name, &text[at..end], &mut findings) {
            streamed.push_str(&piece.text);
        }
        at = end;
    }
    for piece in stream.flush(redactor, &mut findings) {
        streamed.push_str(&piece.text);
    }
    // Past the stream's hold cap (64 KiB) it may redact in parts: no less,
    // but not byte for byte what the whole text gives.
    if text.len() <= HOLD_CAP {
        assert_eq!(streamed, whole, "streamed differs from whole for {text:?}");
    }
    for forms in FORMS.iter() {
        for form in forms {
            assert!(
                !whole.contains(form.as_str()),
                "form {form:?} left in {whole:?} from {text:?}"
            );
            assert!(
                !streamed.contains(form.as_str()),
                "form {form:?} streamed in {streamed:?}"
            );
        }
    }
});
