//! Text cut to a length for a reason, a warning or an error message.

use std::borrow::Cow;

/// `text` cut to its first `most` characters and marked with `…`; as it
/// is when it fits. Cut what is already redacted: a cut through a secret
/// leaves its start, which no redaction finds.
pub fn cut_chars(text: &str, most: usize) -> Cow<'_, str> {
    match text.char_indices().nth(most) {
        Some((at, _)) => Cow::Owned(format!("{}…", &text[..at])),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::cut_chars;

    #[test]
    fn a_cut_keeps_whole_characters_and_marks_itself() {
        assert_eq!(cut_chars("short", 5), "short");
        assert_eq!(cut_chars("éééé", 2), "éé…");
        assert_eq!(cut_chars("", 0), "");
    }
}
