//! Bytes that may not be text (a file from a sandbox) as text the detector
//! can scan, exactly as long as the bytes: every complete UTF-8 character
//! kept where it was, every other byte [`OTHER`].
//!
//! `OTHER` is a byte no part of the detector tells apart from a byte of a
//! non-ASCII character: not a letter, digit, space, line break, or any
//! byte a form, a dump or a token shape is made of. So while no needle
//! holds a non-ASCII character or `OTHER`, every byte past ASCII can
//! simply become `OTHER` ([`fold`], one pass the compiler vectorises)
//! and the detector finds the same; only otherwise is each character
//! checked ([`exact`], ~13 ns a byte on random bytes, where `fold` takes
//! about one). Either way a hostile file gains nothing over text:
//! an invalid byte acts as a character such as `é` already does.

/// What stands for a byte that is no part of a character.
pub const OTHER: u8 = 0x01;

/// `bytes` as text of the same length (see the module); `exact` when a
/// needle holds a byte past ASCII or `OTHER`.
pub fn scannable(bytes: &[u8], exact_needed: bool) -> String {
    let text = if exact_needed {
        exact(bytes)
    } else {
        fold(bytes)
    };
    String::from_utf8(text).unwrap_or_else(|error| {
        // Not reached: every byte left is ASCII or part of a checked
        // character. Were it, the lossy text still holds them all.
        String::from_utf8_lossy(error.as_bytes()).into_owned()
    })
}

/// Every byte past ASCII as `OTHER`.
pub fn fold(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|&byte| if byte < 0x80 { byte } else { OTHER })
        .collect()
}

/// Every well-formed character kept, every other byte `OTHER`.
fn exact(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes.len());
    exact_into(bytes, &mut text);
    text
}

/// [`exact`], appended to `text`.
pub(super) fn exact_into(bytes: &[u8], text: &mut Vec<u8>) {
    for chunk in bytes.utf8_chunks() {
        text.extend_from_slice(chunk.valid().as_bytes());
        text.extend(std::iter::repeat_n(OTHER, chunk.invalid().len()));
    }
}

#[cfg(test)]
mod tests {
    use super::{exact, fold, scannable};

    #[test]
    fn binary_becomes_text_of_the_same_length_keeping_what_is_text() {
        let bytes = b"\xffkey=s3cr3t\xfe\xc3\xa9\x80tail";
        let text = scannable(bytes, true);
        assert_eq!(text.len(), bytes.len());
        assert!(text.contains("key=s3cr3t"));
        assert!(text.contains('é'));
        assert!(text.ends_with("\u{1}tail"));
        let folded = scannable(bytes, false);
        assert_eq!(folded, "\u{1}key=s3cr3t\u{1}\u{1}\u{1}\u{1}tail");
    }

    #[test]
    fn random_bytes_keep_their_characters_and_fold_alike() {
        let mut rng = crate::redact::property::Rng(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next();
        for round in 0..400 {
            let len = (next() % 300) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let byte = next() as u8;
                    // Half the rounds mostly ASCII with some high bytes.
                    if round % 2 == 0 && !byte.is_multiple_of(5) {
                        byte & 0x7f
                    } else {
                        byte
                    }
                })
                .collect();
            let text = scannable(&bytes, true);
            assert_eq!(text.len(), bytes.len());
            // Where a character was kept, it is the bytes' own.
            for (at, character) in text.char_indices().filter(|(_, c)| !c.is_ascii()) {
                let width = character.len_utf8();
                assert_eq!(&bytes[at..at + width], character.to_string().as_bytes());
            }
            assert_eq!(fold(&exact(&bytes)), fold(&bytes));
            assert!(scannable(&bytes, false).bytes().all(|byte| byte.is_ascii()));
        }
        let text = "plain ascii, then é, ✓ and 🦀, a long enough run of text".repeat(9);
        assert_eq!(scannable(text.as_bytes(), true), text);
    }
}
