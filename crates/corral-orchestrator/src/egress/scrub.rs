//! Keeping an injected credential out of what an inject host answers. An
//! upstream that echoes request headers (a debug endpoint, `TRACE`, an
//! error page, a redirect or a cookie built from them) would hand the job
//! the very value the proxy added. So every header name and value of an
//! answer and its whole body are searched for each credential (the secret
//! and the header value as set), as is, in base64 (standard and URL-safe,
//! in each of its three alignments) and in hex, in any ASCII case; and
//! searched again through its escapes (`%2D`, `\u002d`, `\/`, `&#45;`,
//! `&amp;`…, any mix of them, see `unescape`), so an echo percent-, JSON-
//! or HTML-encoded however its encoder likes is found too. A match is
//! overwritten with `*`, byte for byte, so lengths and framing hold.
//!
//! Each run of 12 bytes of a value is searched for too: an echo cut short
//! (an error message an upstream truncated) is blanked from its twelfth
//! byte on.
//!
//! A body is searched as it streams: the tail of a chunk that could begin a
//! match, or an escape, is held back and searched again with the next
//! chunk, so a value cut across chunks is still found.

mod unescape;

use std::collections::HashSet;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};

/// The shortest form searched for: shorter ones would match innocent text.
/// Secrets shorter than this are refused for injection.
pub const MIN_NEEDLE: usize = 8;
/// What a match is overwritten with.
const BLANK: u8 = b'*';
/// The shortest run of a value searched for on its own: a value cut to
/// fewer bytes leaves too little of it to matter, and shorter runs would
/// match innocent text.
pub const FRAGMENT: usize = 12;

/// Why the search could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ScrubError {
    /// The automaton refused the needles.
    #[error("cannot search answers for injected values: {0}")]
    Build(#[from] aho_corasick::BuildError),
}

/// The search for every form of the injected values.
#[derive(Debug)]
pub struct Scrubber {
    /// The whole forms, then the runs of [`FRAGMENT`] bytes: searched in
    /// that order, so a whole form is blanked whole before a run of it
    /// could break it up.
    finders: [AhoCorasick; 2],
    /// Every proper prefix of every form and run, lowercased: what a
    /// chunk's tail may be the start of.
    prefixes: HashSet<Vec<u8>>,
    /// The longest form, in bytes.
    longest: usize,
}

impl Scrubber {
    /// A search for `values` in every form.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, ScrubError> {
        let mut whole: Vec<Vec<u8>> = Vec::new();
        let mut runs: Vec<Vec<u8>> = Vec::new();
        for value in values {
            for (needles, found) in [(&mut whole, forms(value)), (&mut runs, fragments(value))] {
                for form in found {
                    let form = form.into_bytes();
                    if form.len() >= MIN_NEEDLE && !needles.contains(&form) {
                        needles.push(form);
                    }
                }
            }
        }
        let build = |needles: &[Vec<u8>]| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(true)
                .build(needles)
        };
        let finders = [build(&whole)?, build(&runs)?];
        let needles = whole.iter().chain(&runs);
        let prefixes = needles
            .clone()
            .flat_map(|needle| (1..needle.len()).map(|end| needle[..end].to_ascii_lowercase()))
            .collect();
        let longest = needles.map(Vec::len).max().unwrap_or(0);
        Ok(Self {
            finders,
            prefixes,
            longest,
        })
    }

    /// Overwrites every match in `bytes`; how many there were.
    pub fn scrub(&self, bytes: &mut [u8]) -> usize {
        self.scrub_held(bytes, true).0
    }

    /// Overwrites every match in `bytes`; how many there were, and how
    /// long a tail could still begin one once more bytes come (none at
    /// the `end`). Runs of a value are searched for only before that
    /// tail: searched early, a run of a whole value cut across chunks
    /// would be blanked, the value's end then too short to be found.
    fn scrub_held(&self, bytes: &mut [u8], end: bool) -> (usize, usize) {
        let [whole, runs] = &self.finders;
        let mut found = blank(whole, bytes);
        let held = if end { 0 } else { self.held(bytes) };
        let settled = bytes.len() - held;
        found += blank(runs, &mut bytes[..settled]);
        (found, held)
    }

    /// How long a tail of `bytes` could still begin a match in it or in
    /// its view: the tail of its view's settled part, and anything after
    /// (an escape cut short).
    fn held(&self, bytes: &[u8]) -> usize {
        let view = unescape::View::of(bytes);
        let settled = view.settled();
        let from = settled - self.hold_back(&view.text()[..settled]);
        self.hold_back(bytes)
            .max(bytes.len() - view.origin_of(from))
    }

    /// Length of the longest tail of `bytes` that could begin a match.
    fn hold_back(&self, bytes: &[u8]) -> usize {
        let most = self.longest.saturating_sub(1).min(bytes.len());
        let tail = bytes[bytes.len() - most..].to_ascii_lowercase();
        (1..=most)
            .rev()
            .find(|length| self.prefixes.contains(&tail[most - length..]))
            .unwrap_or(0)
    }
}

/// Overwrites every match of `finder` in `bytes` and in their view
/// through escapes; how many there were.
fn blank(finder: &AhoCorasick, bytes: &mut [u8]) -> usize {
    let exact: Vec<_> = finder.find_iter(&*bytes).map(|m| m.range()).collect();
    for range in &exact {
        bytes[range.clone()].fill(BLANK);
    }
    let view = unescape::View::of(bytes);
    let escaped: Vec<_> = finder
        .find_iter(view.text())
        .map(|m| view.origin(m.range()))
        .collect();
    for range in &escaped {
        bytes[range.clone()].fill(BLANK);
    }
    exact.len() + escaped.len()
}

/// A body being scrubbed as it streams.
#[derive(Debug)]
pub struct ScrubStream {
    scrubber: Arc<Scrubber>,
    held: Vec<u8>,
}

impl ScrubStream {
    /// A stream searched by `scrubber`.
    pub fn new(scrubber: Arc<Scrubber>) -> Self {
        Self {
            scrubber,
            held: Vec::new(),
        }
    }

    /// Takes `chunk`; returns what may go on now, and the matches it held.
    pub fn push(&mut self, chunk: &[u8]) -> (Bytes, usize) {
        let mut text = std::mem::take(&mut self.held);
        text.extend_from_slice(chunk);
        let (found, held) = self.scrubber.scrub_held(&mut text, false);
        self.held = text.split_off(text.len() - held);
        (Bytes::from(text), found)
    }

    /// The held tail, at the end of the body, and the matches it held:
    /// it ends in no whole value, but may hold a run of one.
    pub fn finish(&mut self) -> (Bytes, usize) {
        let mut held = std::mem::take(&mut self.held);
        let found = self.scrubber.scrub(&mut held);
        (Bytes::from(held), found)
    }
}

/// `headers` with every credential form in a value blanked, and every
/// header whose name holds one dropped; how many there were.
pub fn scrub_headers(scrubber: &Scrubber, headers: &HeaderMap) -> (HeaderMap, usize) {
    let mut clean = HeaderMap::with_capacity(headers.len());
    let mut found = 0;
    for (name, value) in headers {
        let mut name_bytes = name.as_str().as_bytes().to_vec();
        let in_name = scrubber.scrub(&mut name_bytes);
        let mut value_bytes = value.as_bytes().to_vec();
        let in_value = scrubber.scrub(&mut value_bytes);
        found += in_name + in_value;
        if in_name > 0 {
            continue;
        }
        if let Ok(value) = HeaderValue::from_bytes(&value_bytes) {
            clean.append(HeaderName::clone(name), value);
        }
    }
    (clean, found)
}

/// The forms of `value` searched for: as is, base64 and hex, and every
/// other form the leak detector knows (spaced hex, byte lists, escaped
/// twice…: `redact::forms`).
fn forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned(), hex::encode(value)];
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3 {
            forms.push(crate::redact::base64_core(engine, value.as_bytes(), offset));
        }
    }
    forms.extend(crate::redact::all_forms(value));
    forms
}

/// Each [`FRAGMENT`]-byte run of `value` as is, so an echo cut short (an
/// upstream's error message, a body it truncated) does not hand on most
/// of it.
fn fragments(value: &str) -> Vec<String> {
    if value.len() <= FRAGMENT {
        return Vec::new();
    }
    value
        .as_bytes()
        .windows(FRAGMENT)
        .filter_map(|run| std::str::from_utf8(run).ok())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests;
