//! The forms a secret may take in output: as is, base64 (standard and
//! URL-safe, each of the three alignments it can have inside longer
//! encoded data), URL-encoded, and hex in both cases.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

/// Encoded needles shorter than this would match innocent text.
const MIN_FORM_LEN: usize = super::exact::MIN_NEEDLE;

/// Every distinct form of `value` worth searching for.
pub fn all(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            forms.push(base64_core(engine, value.as_bytes(), offset));
        }
    }
    forms.push(url_encode(value));
    forms.push(hex::encode(value));
    forms.push(hex::encode_upper(value));
    let mut distinct = Vec::new();
    for form in forms {
        if form.len() >= MIN_FORM_LEN && !distinct.contains(&form) {
            distinct.push(form);
        }
    }
    distinct
}

/// The base64 characters that depend only on `value` when it starts
/// `offset` bytes into a longer encoded input.
fn base64_core(engine: &impl Engine, value: &[u8], offset: usize) -> String {
    let mut input = vec![0u8; offset];
    input.extend_from_slice(value);
    let encoded = engine.encode(&input);
    let start = (offset * 8).div_ceil(6);
    let end = ((offset + value.len()) * 8) / 6;
    encoded.get(start..end).unwrap_or_default().to_owned()
}

/// Percent-encodes every byte but unreserved characters (RFC 3986).
fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
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
}
