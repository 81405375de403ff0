//! The redactor: a job's secrets and the token shapes, found in text and
//! JSON and replaced by `[REDACTED:NAME]`.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::Value;

use super::binary::OTHER;
use super::exact::ExactFinder;
use super::scan::{Findings, Hit, Scan};

/// Every form of `value` the detector searches for (as is, base64, hex,
/// URL- and JSON-escaped…), for the fuzz targets.
#[cfg(fuzzing)]
pub fn secret_forms(value: &str) -> Vec<String> {
    super::forms::all(value)
}

/// Redacts secrets from text. Built once per job.
#[derive(Debug, Default)]
pub struct Redactor {
    exact: ExactFinder,
    /// The secret name of each needle, by pattern index.
    needle_names: Vec<String>,
    /// Whether a needle holds a byte past ASCII or `binary::OTHER`, so
    /// bytes must become text character by character (see `binary`).
    exact_text: bool,
    /// Secrets that are numbers an `f64` cannot hold exactly (more digits
    /// than it keeps, which a JSON reader makes one of past `u64`, or
    /// written with a fraction or an exponent), as the `f64` a JSON
    /// reader makes of them, with their names: such a number in an
    /// event's data no longer prints the secret's digits.
    lossy_numbers: Vec<(f64, String)>,
}

impl Redactor {
    /// A redactor for `secrets` (name, value) and the well-known token shapes.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut needles: Vec<String> = Vec::new();
        let mut needle_names = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut lossy_numbers = Vec::new();
        for (name, value) in secrets {
            if let Some(number) = lossy_number(value) {
                lossy_numbers.push((number, name.to_owned()));
            }
            for form in super::forms::all(value) {
                if seen.insert(form.clone()) {
                    needles.push(form);
                    needle_names.push(name.to_owned());
                }
            }
        }
        let exact_text = needles
            .iter()
            .any(|needle| needle.bytes().any(|byte| !byte.is_ascii() || byte == OTHER));
        Self {
            exact: ExactFinder::new(&needles),
            needle_names,
            exact_text,
            lossy_numbers,
        }
    }

    /// `bytes` that may not be text (a file) as text of the same length,
    /// made the fastest way that still finds all of this redactor's
    /// needles (see `binary`).
    pub fn scannable(&self, bytes: &[u8]) -> String {
        super::binary::scannable(bytes, self.exact_text)
    }

    /// Output bytes the rest of a find could still take once its start is
    /// gone: every form of the longest secret spread by wraps and dump
    /// layouts (at most `dumps::MOST_TEXT_PER_BYTE` bytes of text a byte
    /// of it, and a dump part's first and last lines), or a whole private
    /// key block, which is longer than those two lines.
    pub fn reach(&self) -> usize {
        super::dumps::MOST_TEXT_PER_BYTE * self.exact.longest() + super::shapes::PEM_MAX
    }

    /// Whether bytes past ASCII must be kept as the characters they make
    /// (a needle holds one), not folded (see `binary`).
    pub(super) fn needs_exact_text(&self) -> bool {
        self.exact_text
    }

    /// Every range to redact in `text` that ends after `from` (the bytes
    /// before it are context a stream already emitted; `covered` when the
    /// last of them was redacted or a redaction starts at `from`: `Some` of
    /// where that redaction ends, at `from` or past it), as if the text
    /// ended here, and from where more text could still change that.
    pub(super) fn scan(
        &self,
        text: &str,
        from: usize,
        at_line_start: bool,
        covered: Option<usize>,
    ) -> Scan<'_> {
        let bytes = text.as_bytes();
        #[cfg(test)]
        SCANNED.with(|scanned| scanned.set(scanned.get() + bytes.len() as u64));
        let names = self.needle_names.as_slice();
        let mut hits: Vec<Hit<'_>> = self
            .exact
            .find_all(bytes)
            .into_iter()
            .map(|found| Hit::new(found.start, found.end, &names[found.needle]))
            .collect();
        let mut live = self.exact.partial_start(bytes, from).unwrap_or(text.len());
        let newlines = super::lines::newlines(bytes);
        live = live.min(super::views::joined(
            bytes,
            &newlines,
            from,
            &self.exact,
            names,
            &mut hits,
        ));
        live = live.min(super::dumps::find(
            bytes,
            &newlines,
            from,
            at_line_start,
            &self.exact,
            names,
            &mut hits,
        ));
        // The token shapes read the text with the secrets found blanked, and
        // the character before `from` when the last one emitted was
        // redacted or a cover starts at `from`. When that redaction goes on
        // past `from` (a stream's `Cover`), they read it again with all of
        // it blanked: a token glued to the end of a find the stream no
        // longer sees is found then, and one that starts inside a cover
        // running past what was seen still is by the first reading. Finds
        // of both count.
        let known = super::scan::floor_boundary(text, live);
        let past_from = covered
            .map(|end| end.min(text.len()))
            .filter(|&end| end > from)
            .map(|end| Some((from, end)));
        let readings = std::iter::once(covered.map(|_| (from, from))).chain(past_from);
        let mut shapes = Vec::new();
        for blanked in readings {
            let masked = super::scan::Masked::new(text, &hits, blanked);
            live = live.min(super::shapes::live(&masked, from, known));
            super::shapes::find(&masked, from, &mut shapes);
        }
        hits.append(&mut shapes);
        hits.retain(|hit| hit.end > from);
        for hit in &mut hits {
            // Only where a stream had to let go of a long hold.
            hit.start = hit.start.max(from);
        }
        Scan { hits, live }
    }

    /// Whether `text` holds a secret or a token shape: what
    /// [`Self::redact_text`] would replace, without writing the text
    /// again (for text refused, not redacted, when it holds one).
    pub fn finds(&self, text: &str) -> bool {
        !self.scan(text, 0, true, None).hits.is_empty()
    }

    /// Replaces every secret and token shape in `text`; `None` when there
    /// was none.
    pub fn redact_text(&self, text: &str, findings: &mut Findings) -> Option<String> {
        let merged = super::scan::merge(self.scan(text, 0, true, None).hits);
        if merged.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        super::scan::write_redacted(text, 0, text.len(), &merged, &mut out, findings);
        Some(out)
    }

    /// Redacts every string inside `value`, object keys included, in place.
    /// A key that redacts to one already there gets `#2`, `#3`… so no
    /// value is dropped.
    pub fn redact_json(&self, value: &mut Value, findings: &mut Findings) {
        match value {
            Value::String(text) => {
                if let Some(clean) = self.redact_text(text, findings) {
                    *text = clean;
                }
            }
            // A byte array holding a secret (`{"key": [122, 113, …]}`, as
            // serializers write bytes): redacted whole, as a number is.
            Value::Array(items) => {
                if let Some(name) = self.byte_array_named(items) {
                    findings.names.push(name.to_owned());
                    *value = Value::String(format!("[REDACTED:{name}]"));
                } else {
                    for item in items {
                        self.redact_json(item, findings);
                    }
                }
            }
            Value::Object(map) => {
                // The last suffix given to each key, so a thousand keys that
                // redact alike cost a thousand steps, not half a million.
                let mut suffixes: HashMap<String, u32> = HashMap::new();
                for (key, mut item) in std::mem::take(map) {
                    self.redact_json(&mut item, findings);
                    let key = self.redact_text(&key, findings).unwrap_or(key);
                    let unique = if key_taken(map, &key) {
                        let count = suffixes.entry(key.clone()).or_insert(1);
                        loop {
                            *count += 1;
                            let candidate = format!("{key}#{count}");
                            if !key_taken(map, &candidate) {
                                break candidate;
                            }
                        }
                    } else {
                        key
                    };
                    map.insert(unique, item);
                }
            }
            // A secret made of digits printed as a number (`{"pin":
            // 12345678}`): written as a string, redacted.
            Value::Number(number) => {
                if let Some(name) = self.lossy_number_named(number) {
                    findings.names.push(name.to_owned());
                    *value = Value::String(format!("[REDACTED:{name}]"));
                } else if let Some(clean) = self.redact_text(&number.to_string(), findings) {
                    *value = Value::String(clean);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
}

/// The fewest digits of a secret matched as a number JSON cannot hold:
/// an `f64` keeps fifteen to seventeen.
const MIN_LOSSY_DIGITS: usize = 16;
/// How far apart (in units of the last place) a number read from JSON and
/// a secret's may be and still be taken for it: readers round the last
/// digit their own ways.
const MOST_ULPS_APART: u64 = 4;

impl Redactor {
    /// The name of a secret `items` hold as bytes, when they are all
    /// bytes (0 to 255, or -128 to -1 as Java's signed bytes): read as the
    /// list a serializer prints (`122,113`), one of the secret's forms.
    fn byte_array_named(&self, items: &[Value]) -> Option<&str> {
        if items.len() < super::exact::MIN_NEEDLE {
            return None;
        }
        let mut list = String::with_capacity(items.len() * 4);
        for (index, item) in items.iter().enumerate() {
            let byte = item.as_i64().filter(|byte| (-128..=255).contains(byte))?;
            if index > 0 {
                list.push(',');
            }
            let _ = write!(list, "{byte}");
        }
        let found = self.exact.find_all(list.as_bytes());
        found
            .first()
            .map(|found| self.needle_names[found.needle].as_str())
    }

    /// The name of the secret `number` is, read as a JSON reader read it,
    /// when that secret is a number JSON cannot hold exactly (the digits
    /// are gone: `3.1415926535897933e25` for 26 of them), either sign.
    fn lossy_number_named(&self, number: &serde_json::Number) -> Option<&str> {
        // An integer past 2^53 too: one a reader made an `f64` of and wrote
        // back as an integer (JavaScript, jq, Go's `interface{}`) no longer
        // holds the digits (`12345678901234567` comes back `…568`).
        let magnitude = number.as_f64()?.abs();
        if !number.is_f64() && magnitude < 9_007_199_254_740_992.0 {
            return None;
        }
        self.lossy_numbers
            .iter()
            .find(|(secret, _)| magnitude.to_bits().abs_diff(secret.to_bits()) <= MOST_ULPS_APART)
            .map(|(_, name)| name.as_str())
    }
}

/// `value` as the magnitude a JSON reader makes of it, when it is a
/// decimal number (digits, a fraction, an exponent) of more digits than
/// an `f64` keeps, that it does not print back as it is written: then
/// the text of such a number read from JSON no longer holds the secret's
/// digits. One a `u64` holds too: written as an integer it is read back
/// exactly (and found as text), but written with a fraction or an
/// exponent, or negative past an `i64`, it becomes an `f64`. (Fewer
/// digits, and a number of that value could be any number's: `1.50` is
/// `1.5`.)
fn lossy_number(value: &str) -> Option<f64> {
    let digits = value.strip_prefix('-').unwrap_or(value);
    if digits.bytes().filter(u8::is_ascii_digit).count() < MIN_LOSSY_DIGITS
        || !digits
            .bytes()
            .next()
            .is_some_and(|byte| byte.is_ascii_digit())
        || !digits
            .bytes()
            .all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    // Read as event data is read (JSON readers round the last digit
    // differently: `…26433` is `…e25` ending `33` one way, `35` another).
    let number: f64 = serde_json::from_str(digits).ok()?;
    (number.is_finite() && number.to_string() != digits).then_some(number)
}

/// Whether `map` holds `key` (counted in tests: renaming must stay linear).
fn key_taken(map: &serde_json::Map<String, Value>, key: &str) -> bool {
    #[cfg(test)]
    KEY_PROBES.with(|probes| probes.set(probes.get() + 1));
    map.contains_key(key)
}

#[cfg(test)]
thread_local! {
    /// Lookups `key_taken` made on this thread.
    pub(super) static KEY_PROBES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// Bytes of text `scan` went over on this thread.
    pub(super) static SCANNED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}
