//! Redacting a stream: a chunk's tail that could be the start of a secret
//! is held back and joined to the next chunk, so a value split across two
//! writes is still found. The held tail is released by [`StreamRedactor::flush`].

use std::collections::HashMap;

use super::{Findings, Redactor};

/// Per-stream held-back tails of one job.
#[derive(Debug, Default)]
pub struct StreamRedactor {
    pending: HashMap<String, String>,
}

impl StreamRedactor {
    /// Redacts `chunk` of `stream`; returns what may be emitted now.
    pub fn push(
        &mut self,
        redactor: &Redactor,
        stream: &str,
        chunk: &str,
        findings: &mut Findings,
    ) -> String {
        let mut text = self.pending.remove(stream).unwrap_or_default();
        text.push_str(chunk);
        let mut cut = text.len() - redactor.hold_back(&text);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let held = text.split_off(cut);
        if !held.is_empty() {
            self.pending.insert(stream.to_owned(), held);
        }
        redactor.redact_text(&text, findings).unwrap_or(text)
    }

    /// Releases every held tail (redacted), by stream.
    pub fn flush(&mut self, redactor: &Redactor, findings: &mut Findings) -> Vec<(String, String)> {
        let mut tails: Vec<(String, String)> = self.pending.drain().collect();
        tails.sort();
        for (_, text) in &mut tails {
            if let Some(clean) = redactor.redact_text(text, findings) {
                *text = clean;
            }
        }
        tails
    }
}
