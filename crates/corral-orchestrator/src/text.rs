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

/// What a task that did not finish did, in words: never its panic's
/// message, which may quote a job's text (a user's 502, a reason or a log
/// line would carry it).
pub fn task_failure(error: &tokio::task::JoinError) -> &'static str {
    if error.is_panic() {
        "it panicked"
    } else {
        "it was cancelled"
    }
}

#[cfg(test)]
mod tests {
    use super::{cut_chars, task_failure};

    #[test]
    fn a_cut_keeps_whole_characters_and_marks_itself() {
        assert_eq!(cut_chars("short", 5), "short");
        assert_eq!(cut_chars("éééé", 2), "éé…");
        assert_eq!(cut_chars("", 0), "");
    }

    /// A task's panic is told as a panic, its message left out.
    #[tokio::test]
    async fn a_task_failure_never_quotes_the_panic() {
        let error = tokio::task::spawn_blocking(|| panic!("sk-from-inside-the-sandbox"))
            .await
            .expect_err("it panicked");
        assert_eq!(task_failure(&error), "it panicked");
        assert!(
            error.to_string().contains("sk-from-inside"),
            "what it replaces"
        );
    }
}
