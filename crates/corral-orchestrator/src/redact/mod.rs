//! The leak detector. Every event a job sends passes through it before it
//! is stored, streamed or logged; the worker may redact first as a courtesy,
//! but nothing relies on that.
//!
//! It finds, in one pass, the exact values of secrets and their
//! encoded forms (base64 in all three alignments, standard and URL-safe;
//! URL-encoded; hex), and with regular expressions the shapes of well-known
//! tokens. A match becomes `[REDACTED:NAME]`.
//!
//! # Layout
//! - `exact`: the search for every form of every secret at once
//! - `forms`: the encoded forms of a value
//! - `shapes`: well-known token shapes
//! - `stream`: holding back a chunk's tail so a value split across two
//!   output chunks is still caught

mod exact;
mod forms;
mod shapes;
mod stream;

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::Value;

use exact::ExactFinder;

pub use stream::StreamRedactor;

/// Redacts secrets from text. Built once per job.
#[derive(Debug, Default)]
pub struct Redactor {
    exact: ExactFinder,
    /// The secret name of each needle, by pattern index.
    needle_names: Vec<String>,
    /// Every proper prefix of every needle, for the stream hold-back.
    prefixes: HashSet<Vec<u8>>,
    /// Longest needle, in bytes.
    longest: usize,
}

/// What a redaction pass replaced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    /// The secret or pattern names found, in order, repeats included.
    pub names: Vec<String>,
}

impl Findings {
    /// Whether anything was redacted.
    pub fn any(&self) -> bool {
        !self.names.is_empty()
    }
}

impl Redactor {
    /// A redactor for `secrets` (name, value) and the well-known token shapes.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut needles: Vec<String> = Vec::new();
        let mut needle_names = Vec::new();
        for (name, value) in secrets {
            for form in forms::all(value) {
                if !needles.contains(&form) {
                    needles.push(form);
                    needle_names.push(name.to_owned());
                }
            }
        }
        let exact = ExactFinder::new(&needles);
        let prefixes = needles
            .iter()
            .flat_map(|needle| (1..needle.len()).map(move |end| needle.as_bytes()[..end].to_vec()))
            .collect();
        let longest = needles.iter().map(String::len).max().unwrap_or(0);
        Self {
            exact,
            needle_names,
            prefixes,
            longest,
        }
    }

    /// Replaces every secret and token shape in `text`.
    pub fn redact_text(&self, text: &str, findings: &mut Findings) -> Option<String> {
        let matches = self.exact.find_all(text.as_bytes());
        if matches.is_empty() {
            return shapes::redact(text, findings);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for found in matches {
            let name = &self.needle_names[found.needle];
            out.push_str(&text[last..found.start]);
            let _ = write!(out, "[REDACTED:{name}]");
            findings.names.push(name.clone());
            last = found.end;
        }
        out.push_str(&text[last..]);
        shapes::redact(&out, findings).or(Some(out))
    }

    /// Redacts every string inside `value`, in place.
    pub fn redact_json(&self, value: &mut Value, findings: &mut Findings) {
        match value {
            Value::String(text) => {
                if let Some(clean) = self.redact_text(text, findings) {
                    *text = clean;
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|item| self.redact_json(item, findings)),
            Value::Object(map) => map
                .values_mut()
                .for_each(|item| self.redact_json(item, findings)),
            _ => {}
        }
    }

    /// Length of the longest suffix of `text` that could be the start of a
    /// secret: what a stream must hold back until the next chunk.
    pub fn hold_back(&self, text: &str) -> usize {
        let bytes = text.as_bytes();
        (1..self.longest.min(bytes.len() + 1))
            .rev()
            .find(|length| self.prefixes.contains(&bytes[bytes.len() - length..]))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
