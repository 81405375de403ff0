//! What is planted in the corpus: each secret in every form and layout the
//! detector documents (`corral_orchestrator::redact`: as is, base64 and
//! URL-safe base64 at each of the three alignments, percent-encoded and
//! hex in both cases, space-separated hex, JSON-escaped as five
//! serializers do it and escaped twice, base64 and hex wrapped into lines,
//! and eleven dump layouts), each well-known token shape, and near-misses:
//! a secret with one character changed, as is, in base64 and in hex.
//!
//! Every block stands on lines of its own, so one planting is exactly one
//! redaction.

use super::layout::{self, JsonHabits, Offsets};
use crate::rng::{ALNUM, Rng};

/// A planted block of lines.
pub struct Block {
    /// The name its redaction carries; `None` for a near-miss.
    pub expect: Option<String>,
    /// What it is, for a failure's message.
    pub kind: &'static str,
    /// Its lines, each ending in `\n`.
    pub text: String,
    /// Strings in it that must come out as they went in.
    pub decoys: Vec<String>,
}

/// Characters of secrets: letters, digits, and what URL and JSON escape.
const SECRET_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+=_.~!\"\\<>&%";

/// `count` distinct secrets, 24 to 40 bytes; every fourth has a
/// character outside ASCII, which only some escapes change.
pub fn secrets(rng: &mut Rng, count: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|index| {
            let mut value = rng.string_in(SECRET_CHARS, 24, 38);
            if index % 4 == 0 {
                let at = rng.between(4, value.len() - 4);
                value.insert(at, *rng.pick(&['é', '€', 'ß']));
            }
            (format!("SECRET_{index:02}"), value)
        })
        .collect()
}

fn block(expect: &str, kind: &'static str, text: String) -> Block {
    Block {
        expect: Some(expect.to_owned()),
        kind,
        text,
        decoys: Vec::new(),
    }
}

/// Random bytes around `value`: `before.0..=before.1` of them first.
fn around(rng: &mut Rng, value: &[u8], before: (usize, usize)) -> Vec<u8> {
    let mut bytes = rng.bytes_in(before.0, before.1);
    bytes.extend_from_slice(value);
    bytes.extend(rng.bytes_in(1, 40));
    bytes
}

/// A prefix of `length` letters: base64 of what follows starts at that
/// alignment.
fn aligned(rng: &mut Rng, value: &str, alignment: usize) -> Vec<u8> {
    let mut bytes = {
        let length = 3 * rng.between(1, 6) + alignment;
        rng.string(ALNUM, length)
    }
    .into_bytes();
    bytes.extend_from_slice(value.as_bytes());
    bytes.extend(rng.string_in(ALNUM, 0, 5).into_bytes());
    bytes
}

/// Every form and layout of secret `name` = `value`.
#[expect(
    clippy::too_many_lines,
    reason = "one arm a form: the list reads best whole"
)]
pub fn secret_forms(rng: &mut Rng, name: &str, value: &str) -> Vec<Block> {
    let bytes = value.as_bytes();
    let mut blocks = vec![block(
        name,
        "as is",
        format!("[INFO] using credential {value} for upload\n"),
    )];
    for (alignment, kind) in [(0, "base64, aligned"), (1, "base64, +1"), (2, "base64, +2")] {
        let encoded = layout::base64(&aligned(rng, value, alignment));
        blocks.push(block(
            name,
            kind,
            format!("> Authorization: Basic {encoded}\n"),
        ));
    }
    for (alignment, kind) in [
        (0, "URL-safe base64, aligned"),
        (1, "URL-safe base64, +1"),
        (2, "URL-safe base64, +2"),
    ] {
        let encoded = layout::base64_url(&aligned(rng, value, alignment));
        blocks.push(block(
            name,
            kind,
            format!("GET /oauth/callback?state={encoded}&code=ok 302\n"),
        ));
    }
    for (upper, kind) in [
        (false, "percent-encoded, %2f"),
        (true, "percent-encoded, %2F"),
    ] {
        let encoded = layout::percent(value, upper);
        blocks.push(block(
            name,
            kind,
            format!(
                "+ curl -d 'grant_type=password&password={encoded}' http://127.0.0.1:8080/token\n"
            ),
        ));
    }
    for (upper, kind) in [(false, "hex"), (true, "HEX")] {
        let encoded = layout::hex(bytes, upper);
        blocks.push(block(name, kind, format!("key_hex={encoded}\n")));
    }
    for (upper, kind) in [(false, "spaced hex"), (true, "spaced HEX")] {
        let encoded = layout::spaced_hex(bytes, upper);
        blocks.push(block(
            name,
            kind,
            format!("read 0x{:x} bytes: {encoded}\n", bytes.len()),
        ));
    }
    let serializers = [
        ("JSON, serde_json / JSON.stringify", JsonHabits::default()),
        (
            "JSON, Python json.dumps",
            JsonHabits {
                ascii: true,
                ..JsonHabits::default()
            },
        ),
        (
            "JSON, PHP json_encode",
            JsonHabits {
                slash: true,
                ascii: true,
                ..JsonHabits::default()
            },
        ),
        (
            "JSON, Go encoding/json",
            JsonHabits {
                html: true,
                ..JsonHabits::default()
            },
        ),
        (
            "JSON, ASCII-only with upper-case \\u",
            JsonHabits {
                ascii: true,
                upper: true,
                ..JsonHabits::default()
            },
        ),
    ];
    for (kind, habits) in serializers {
        let escaped = layout::json(value, habits);
        blocks.push(block(
            name,
            kind,
            format!("{{\"level\":\"debug\",\"msg\":\"env\",\"API_TOKEN\":\"{escaped}\"}}\n"),
        ));
    }
    let inner = format!(
        "{{\"token\":\"{}\"}}",
        layout::json(value, JsonHabits::default())
    );
    blocks.push(block(
        name,
        "JSON inside JSON",
        format!(
            "{{\"event\":\"request\",\"body\":\"{}\"}}\n",
            layout::json(&inner, JsonHabits::default())
        ),
    ));
    // Wrapped so the secret's encoding crosses a line break.
    let blob = around(rng, bytes, (36, 48));
    blocks.push(block(
        name,
        "base64 wrapped at 76 (`base64`)",
        format!(
            "Content-Transfer-Encoding: base64\n\n{}\n",
            layout::wrap(&layout::base64(&blob), 76, "\n")
        ),
    ));
    let blob = around(rng, bytes, (27, 40));
    blocks.push(block(
        name,
        "base64 wrapped at 64, CRLF",
        format!(
            "-- attachment --\r\n{}\r\n",
            layout::wrap(&layout::base64(&blob), 64, "\r\n")
        ),
    ));
    let blob = around(rng, bytes, (18, 26));
    blocks.push(block(
        name,
        "hex wrapped at 60 (`xxd -p`)",
        format!("$ xxd -p key.bin\n{}", layout::xxd_plain(&blob)),
    ));
    let mut dump = |kind: &'static str, command: &str, layout: &dyn Fn(&[u8]) -> String| {
        let mut blob = around(rng, bytes, (0, 40));
        if blob.len() % 2 == 1 {
            blob.push(b'.'); // words need pairs
        }
        blocks.push(block(
            name,
            kind,
            format!("$ {command} /tmp/creds.bin\n{}", layout(&blob)),
        ));
    };
    dump("`hexdump -C`", "hexdump -C", &layout::hexdump_canonical);
    dump("`xxd`", "xxd", &layout::xxd);
    dump("`od -t x1`", "od -t x1", &|blob| {
        layout::od_bytes(blob, Offsets::Octal)
    });
    dump("`od -An -t x1`", "od -An -t x1", &|blob| {
        layout::od_bytes(blob, Offsets::Absent)
    });
    dump(
        "`od -A x -t x1z`",
        "od -A x -t x1z",
        &layout::od_bytes_printable,
    );
    dump("`od -x`", "od -x", &|blob| layout::words(blob, false));
    dump("`hexdump`", "hexdump", &|blob| layout::words(blob, true));
    dump("`od -c`", "od -c", &|blob| {
        layout::characters(blob, Some(Offsets::Octal), false)
    });
    dump("`od -An -c`", "od -An -c", &|blob| {
        layout::characters(blob, None, false)
    });
    dump("`hexdump -c`", "hexdump -c", &|blob| {
        layout::characters(blob, None, true)
    });
    blocks
}

/// Near-misses of `value`: one character in its middle changed, as is,
/// in base64 and in hex. None may be redacted.
pub fn near_misses(rng: &mut Rng, value: &str) -> Vec<Block> {
    let mut near = value.to_owned();
    loop {
        let at = rng.between(3, near.len() - 4);
        if !near.is_char_boundary(at) || !near.is_char_boundary(at + 1) {
            continue;
        }
        let replacement = char::from(*rng.pick(ALNUM)).to_string();
        if near[at..=at] != replacement {
            near.replace_range(at..=at, &replacement);
            break;
        }
    }
    let alignment = rng.below(3);
    let base64 = layout::base64(&aligned(rng, &near, alignment));
    let hex = layout::hex(near.as_bytes(), false);
    [
        (
            "near-miss, as is",
            format!("[INFO] using credential {near} for upload\n"),
            near.clone(),
        ),
        (
            "near-miss, base64",
            format!("> Authorization: Basic {base64}\n"),
            base64,
        ),
        ("near-miss, hex", format!("key_hex={hex}\n"), hex),
    ]
    .into_iter()
    .map(|(kind, text, decoy)| Block {
        expect: None,
        kind,
        text,
        decoys: vec![decoy],
    })
    .collect()
}

/// One token of each well-known shape.
pub fn token_shapes(rng: &mut Rng) -> Vec<Block> {
    const UPPER32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const DASHED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const DIGITS: &[u8] = b"0123456789";
    let pem_body = layout::wrap(&layout::base64(&rng.bytes(1190)), 64, "\n");
    let jwt = format!(
        "eyJ{}.eyJ{}.{}",
        rng.string(DASHED, 30),
        rng.string(DASHED, 60),
        rng.string(DASHED, 43)
    );
    vec![
        block(
            "aws-access-key",
            "AWS access key",
            format!("aws_access_key_id = AKIA{}\n", rng.string(UPPER32, 16)),
        ),
        block(
            "github-token",
            "GitHub token",
            format!("export GH_TOKEN=ghp_{}\n", rng.string(ALNUM, 36)),
        ),
        block(
            "github-token",
            "GitHub fine-grained token",
            format!("token: github_pat_{}\n", rng.string(ALNUM, 82)),
        ),
        block(
            "openai-key",
            "OpenAI key",
            format!("OPENAI_API_KEY=sk-proj-{}\n", rng.string(DASHED, 48)),
        ),
        block(
            "anthropic-key",
            "Anthropic key",
            format!(
                "ANTHROPIC_API_KEY=sk-ant-api03-{}\n",
                rng.string(DASHED, 80)
            ),
        ),
        block(
            "slack-token",
            "Slack token",
            format!(
                "SLACK_BOT_TOKEN=xoxb-{}-{}-{}\n",
                rng.string(DIGITS, 12),
                rng.string(DIGITS, 13),
                rng.string(ALNUM, 24)
            ),
        ),
        block("jwt", "JWT", format!("> Authorization: Bearer {jwt}\n")),
        block(
            "private-key",
            "PEM private key",
            format!("-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----\n"),
        ),
    ]
}
