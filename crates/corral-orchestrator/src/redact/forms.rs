//! The forms a secret may take in output when ordinary tools print it: as
//! is, base64 (standard and URL-safe, each of the three alignments it can
//! have inside longer encoded data), URL-encoded (either hex case), hex in
//! both cases, bare or as space-separated bytes (`od -t x1`, `xxd -g1`),
//! and JSON-escaped the ways common serializers do it (`\"`, `\\`, `\/`,
//! `\u00xx`, HTML-safe, ASCII-only, and escaped twice for JSON inside
//! JSON). Its bytes as programs print a byte array on one line (`[122,
//! 113]`, Python's `b'p\xc3\xa4ss'`: see `byte_lists`). And a value past
//! ASCII with every byte's high bit cleared, as
//! `od -a` prints it (it names a byte by its low seven bits: `ä`, bytes
//! `c3 a4`, becomes `C` and `$`), read back from its cells by `dumps`.
//! Line-wrapped and dumped layouts are views, not forms: see `views` and
//! `dumps`. Deliberate obfuscation is out of scope.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Encoded needles shorter than this would match innocent text.
const MIN_FORM_LEN: usize = super::exact::MIN_NEEDLE;

/// Every distinct form of `value` worth searching for.
pub fn all(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned(), low_seven_bits(value)];
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            forms.push(base64_core(engine, value.as_bytes(), offset));
        }
    }
    forms.push(url_encode(value, false));
    forms.push(url_encode(value, true));
    forms.push(hex::encode(value));
    forms.push(hex::encode_upper(value));
    forms.push(spaced_hex(&hex::encode(value)));
    forms.push(spaced_hex(&hex::encode_upper(value)));
    forms.extend(byte_lists(value.as_bytes()));
    forms.extend(python_reprs(value));
    for style in 0..16u8 {
        let style = JsonStyle {
            slash: style & 1 != 0,
            ascii: style & 2 != 0,
            html: style & 4 != 0,
            upper: style & 8 != 0,
        };
        let once = json_escape(value, style);
        forms.push(json_escape(&once, style));
        forms.push(once);
    }
    let mut distinct = Vec::new();
    for form in forms {
        if form.len() >= MIN_FORM_LEN && !distinct.contains(&form) {
            distinct.push(form);
        }
    }
    distinct
}

/// `value` with the high bit of each byte cleared, as `od -a` shows it
/// (the same as `value` when it is ASCII).
fn low_seven_bits(value: &str) -> String {
    value.bytes().map(|byte| char::from(byte & 0x7f)).collect()
}

/// The base64 characters that depend only on `value` when it starts
/// `offset` bytes into a longer encoded input.
pub(crate) fn base64_core(engine: &impl Engine, value: &[u8], offset: usize) -> String {
    let mut input = vec![0u8; offset];
    input.extend_from_slice(value);
    let encoded = engine.encode(&input);
    let start = (offset * 8).div_ceil(6);
    let end = ((offset + value.len()) * 8) / 6;
    encoded.get(start..end).unwrap_or_default().to_owned()
}

/// Percent-encodes every byte but unreserved characters (RFC 3986).
fn url_encode(value: &str, lower: bool) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else if lower {
            let _ = write!(out, "%{byte:02x}");
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `7333` as `73 33`.
fn spaced_hex(hex: &str) -> String {
    let pairs: Vec<&str> = hex
        .as_bytes()
        .chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .collect();
    pairs.join(" ")
}

/// `value`'s bytes as programs print a byte array: numbers in a list
/// (`[122, 113]`: Rust's `{:?}`, Python's `list()`, Java's
/// `Arrays.toString`, signed past ASCII; `[122,113]`: JSON, JavaScript;
/// `[122 113]`: Go). Not hex literals (`0x7a, 0x71`), `\x` escapes nor
/// hex joined by `-` or `:`: each form is one more needle every byte of
/// output is searched for, and those three cost the detector about a
/// twentieth of its speed for what programs rarely print by accident.
fn byte_lists(bytes: &[u8]) -> Vec<String> {
    let joined = |separator: &str, each: &dyn Fn(u8) -> String| -> String {
        bytes
            .iter()
            .map(|&byte| each(byte))
            .collect::<Vec<_>>()
            .join(separator)
    };
    let mut lists = Vec::new();
    for separator in [", ", ",", " "] {
        lists.push(joined(separator, &|byte| byte.to_string()));
        lists.push(joined(separator, &|byte| {
            i8::from_ne_bytes([byte]).to_string()
        }));
    }
    lists
}

/// `value` inside Python's `repr` of it as a string (and its `ascii()`)
/// and of its bytes (`'p\\ss'`, `b'p\xc3\xa4ss'`), which is also how it
/// prints in a dict, a list or an exception's text (`KeyError`), each with
/// `'` escaped as `\'` and not (Python quotes with `"` a value holding `'`
/// and no `"`, but the value may sit inside a longer string that decides),
/// and each of those inside JSON the two ways serializers write it (as is,
/// and ASCII-only as Python's `json.dumps` does): a `repr` in a logged
/// error message. And the `repr` of a string holding the value's JSON or
/// its `repr` (a dict holding `json.dumps` of another, a list of an
/// exception's text).
fn python_reprs(value: &str) -> Vec<String> {
    let strings = python_str_reprs(value);
    let mut reprs = strings.clone();
    for quote_escaped in [false, true] {
        if quote_escaped && !value.contains('\'') {
            break;
        }
        reprs.push(python_bytes(value.as_bytes(), quote_escaped));
    }
    let mut forms = Vec::new();
    for repr in reprs {
        for ascii in [false, true] {
            let style = JsonStyle {
                ascii,
                ..JsonStyle::default()
            };
            forms.push(json_escape(&repr, style));
        }
        forms.push(repr);
    }
    // A repr of a string that holds the value's JSON (`{'body':
    // json.dumps({'k': v})}`) or its repr (`[str(KeyError(v))]`).
    let json = [false, true].map(|ascii| {
        let style = JsonStyle {
            ascii,
            ..JsonStyle::default()
        };
        json_escape(value, style)
    });
    for text in json.iter().chain(&strings) {
        forms.extend(python_str_reprs(text));
    }
    forms
}

/// `text` inside Python's `repr` and `ascii()` of it, `'` escaped and
/// not.
fn python_str_reprs(text: &str) -> Vec<String> {
    let mut reprs = Vec::new();
    for quote_escaped in [false, true] {
        if quote_escaped && !text.contains('\'') {
            break;
        }
        for ascii in [false, true] {
            reprs.push(python_str(text, quote_escaped, ascii));
        }
    }
    reprs
}

/// `value` inside Python's `repr` of a string: `\\`, `\t`, `\n`, `\r`,
/// `\'` when `quote_escaped`, and `\xNN`, `\uNNNN` or `\UNNNNNNNN` for
/// every other character Python does not print (`str.isprintable`: the
/// Unicode categories Other and Separator but the space), or, when
/// `ascii` (its `ascii()`, `%a`), past ASCII.
fn python_str(value: &str, quote_escaped: bool, ascii: bool) -> String {
    #[expect(
        clippy::expect_used,
        reason = "a constant pattern, compiled by the tests"
    )]
    static NOT_PRINTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[\p{C}\p{Z}--\x20]$").expect("a valid pattern")
    });
    let mut out = String::with_capacity(value.len() * 2);
    let mut one = [0u8; 4];
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\'' if quote_escaped => out.push_str("\\'"),
            other
                if (ascii && !other.is_ascii())
                    || NOT_PRINTED.is_match(other.encode_utf8(&mut one)) =>
            {
                let code = u32::from(other);
                let _ = match code {
                    0..=0xff => write!(out, "\\x{code:02x}"),
                    0x100..=0xffff => write!(out, "\\u{code:04x}"),
                    _ => write!(out, "\\U{code:08x}"),
                };
            }
            other => out.push(other),
        }
    }
    out
}

/// `bytes` inside Python's `repr` of them (`b'p\xc3\xa4ss'`): printable
/// ASCII as is, `\\`, `\t`, `\n`, `\r`, `\'` when `quote_escaped`, and
/// `\xNN` for every other byte.
fn python_bytes(bytes: &[u8], quote_escaped: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        match byte {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\'' if quote_escaped => out.push_str("\\'"),
            0x20..=0x7e => out.push(char::from(byte)),
            _ => {
                let _ = write!(out, "\\x{byte:02x}");
            }
        }
    }
    out
}

/// The choices JSON serializers make beyond the mandatory escapes.
#[derive(Debug, Clone, Copy, Default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "four independent choices, each one serializer's habit"
)]
struct JsonStyle {
    /// `/` as `\/` (PHP).
    slash: bool,
    /// Non-ASCII as `\uXXXX` (Python's default).
    ascii: bool,
    /// `<`, `>`, `&` as `\u003c`… (Go).
    html: bool,
    /// `\u00XX` in upper-case hex.
    upper: bool,
}

/// `value` inside a JSON string, as a serializer of `style` writes it.
fn json_escape(value: &str, style: JsonStyle) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let unicode = |out: &mut String, unit: u16| {
        let _ = if style.upper {
            write!(out, "\\u{unit:04X}")
        } else {
            write!(out, "\\u{unit:04x}")
        };
    };
    for character in value.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if style.slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => {
                unicode(&mut out, u16::try_from(u32::from(character)).unwrap_or(0));
            }
            control if u32::from(control) < 0x20 => {
                unicode(&mut out, u16::try_from(u32::from(control)).unwrap_or(0));
            }
            wide if style.ascii && !wide.is_ascii() => {
                let mut units = [0u16; 2];
                for unit in wide.encode_utf16(&mut units) {
                    unicode(&mut out, *unit);
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alignment_of_base64_is_found_inside_longer_data() {
        let value = "s3cret/value+42";
        let forms = all(value);
        for prefix in ["", "a", "ab", "abc"] {
            let encoded = STANDARD_NO_PAD.encode(format!("{prefix}{value}tail"));
            assert!(
                forms.iter().any(|form| encoded.contains(form.as_str())),
                "prefix {prefix:?}: {encoded}"
            );
        }
        assert!(forms.contains(&"s3cret%2Fvalue%2B42".to_owned()));
        assert!(forms.contains(&hex::encode(value)));
    }

    #[test]
    fn json_escapes_of_common_serializers_are_forms() {
        let value = "p\"a/ss\\w<é>\n";
        let forms = all(value);
        for escaped in [
            serde_json::to_string(value).expect("json"),
            r#""p\"a\/ss\\w<\u00e9>\n""#.to_owned(),
            r#""p\"a/ss\\w\u003C\u00E9\u003E\n""#.to_owned(),
        ] {
            let inner = &escaped[1..escaped.len() - 1];
            assert!(forms.iter().any(|form| form == inner), "{inner}");
        }
        let twice =
            serde_json::to_string(&serde_json::to_string(value).expect("json")).expect("json");
        assert!(
            forms.iter().any(|form| twice.contains(form.as_str())),
            "{twice}"
        );
        assert!(all("s3cr3t-pass").contains(&"73 33 63 72 33 74 2d 70 61 73 73".to_owned()));
    }
}
