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
//! Each run of 12 bytes of a value's own part (not a prefix every token of
//! its kind shares, see `own_from`) is searched for too, overlapping ones
//! all: an echo cut short (an error message an upstream truncated) keeps
//! none of it but its first 11 bytes.
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
/// How far into a value a prefix its kind shares may reach (see
/// [`own_from`]).
const OWN_FROM: usize = 16;
/// The fewest bytes of a value's own part in each run searched for: a
/// run may start in the prefix its kind shares, but not hold it alone.
const OWN_IN_RUN: usize = 6;

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
    /// Every whole form, leftmost-longest.
    whole: AhoCorasick,
    /// Every [`FRAGMENT`]-byte run of each value's own part, overlapping:
    /// searched after the whole forms, so a whole form is blanked whole
    /// before a run of it could break it up, and all of them, so an echo
    /// cut anywhere keeps no run of it.
    runs: AhoCorasick,
    /// The hash ([`extend`]) of every proper prefix of every form and run,
    /// lowercased: what a chunk's tail may be the start of. Hashes, not
    /// the prefixes, whose bytes grow with the square of a long value's
    /// forms; a collision only holds a tail longer.
    prefixes: HashSet<u64>,
    /// The longest form, in bytes.
    longest: usize,
}

impl Scrubber {
    /// A search for `values` in every form.
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, ScrubError> {
        let mut whole: Vec<Vec<u8>> = Vec::new();
        let mut runs: Vec<Vec<u8>> = Vec::new();
        // A long value has thousands of runs: kept once each by a set.
        let mut seen = HashSet::new();
        for value in values {
            for (needles, found) in [(&mut whole, forms(value)), (&mut runs, fragments(value))] {
                for form in found {
                    let form = form.into_bytes();
                    if form.len() >= MIN_NEEDLE && seen.insert(form.clone()) {
                        needles.push(form);
                    }
                }
            }
        }
        let mut builder = AhoCorasick::builder();
        builder.ascii_case_insensitive(true);
        let finders = (
            builder
                .match_kind(MatchKind::LeftmostLongest)
                .build(&whole)?,
            builder.match_kind(MatchKind::Standard).build(&runs)?,
        );
        let needles = whole.iter().chain(&runs);
        let mut prefixes = HashSet::new();
        for needle in needles.clone() {
            let mut hash = 0;
            for &byte in &needle[..needle.len() - 1] {
                hash = extend(hash, byte);
                prefixes.insert(hash);
            }
        }
        let longest = needles.map(Vec::len).max().unwrap_or(0);
        Ok(Self {
            whole: finders.0,
            runs: finders.1,
            prefixes,
            longest,
        })
    }

    /// Overwrites every match in `bytes`; how many there were.
    pub fn scrub(&self, bytes: &mut [u8]) -> usize {
        self.scrub_held(bytes, true).found
    }

    /// Overwrites every match in `bytes` but in the tail that could still
    /// begin one once more bytes come (none at the `end`), found before
    /// anything is blanked: a match is taken only where it starts before
    /// that tail (each such match is whole in `bytes`, and no longer one
    /// can start there: a longer tail would be held), and blanked up to
    /// it; the rest of it is the held tail's start to blank once it was
    /// searched again with what comes next. So what streams out is what
    /// scrubbing the whole body gives (but where matches overlap in the
    /// held tail: then more may be blanked, never less).
    fn scrub_held(&self, bytes: &mut [u8], end: bool) -> Scrubbed {
        let held = if end { 0 } else { self.held(bytes) };
        let settled = bytes.len() - held;
        let (whole, whole_reach) = blank_found(&self.whole, false, bytes, settled);
        let (runs, runs_reach) = blank_found(&self.runs, true, bytes, settled);
        Scrubbed {
            found: whole + runs,
            held,
            cover: whole_reach.max(runs_reach).saturating_sub(settled),
        }
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

    /// Length of the longest tail of `bytes` that could begin a match:
    /// each tail's hash grows from the last byte back, one byte a step.
    fn hold_back(&self, bytes: &[u8]) -> usize {
        let most = self.longest.saturating_sub(1).min(bytes.len());
        let (mut hash, mut power, mut longest) = (0u64, 1u64, 0);
        for length in 1..=most {
            let byte = bytes[bytes.len() - length].to_ascii_lowercase();
            hash = hash.wrapping_add(u64::from(byte).wrapping_mul(power));
            power = power.wrapping_mul(HASH_BASE);
            if self.prefixes.contains(&hash) {
                longest = length;
            }
        }
        longest
    }
}

/// The multiplier of the prefixes' polynomial hash.
const HASH_BASE: u64 = 0x100_0000_01b3;

/// The hash of a text one byte longer, `byte` (lowercased) at its end.
fn extend(hash: u64, byte: u8) -> u64 {
    hash.wrapping_mul(HASH_BASE)
        .wrapping_add(u64::from(byte.to_ascii_lowercase()))
}

/// What one search of a stream's text did.
struct Scrubbed {
    /// Matches blanked.
    found: usize,
    /// Bytes at the end held back, searched again with what comes next.
    held: usize,
    /// Bytes at the start of those that a run found reaches: blanked once
    /// they were searched again.
    cover: usize,
}

/// Overwrites every match of `finder` (all of them, overlapping ones
/// too, when `overlapping`) that starts before `settled`, in `bytes` and
/// then in their view through escapes, up to `settled`; how many there
/// were, and where the furthest of them ends. In the view, only matches
/// ending where it is settled count: an escape cut short at the end
/// reads as its characters now, as an escape once the rest comes.
fn blank_found(
    finder: &AhoCorasick,
    overlapping: bool,
    bytes: &mut [u8],
    settled: usize,
) -> (usize, usize) {
    let found = |text: &[u8]| -> Vec<std::ops::Range<usize>> {
        if overlapping {
            finder
                .find_overlapping_iter(text)
                .map(|m| m.range())
                .collect()
        } else {
            finder.find_iter(text).map(|m| m.range()).collect()
        }
    };
    let mut ranges: Vec<_> = found(bytes)
        .into_iter()
        .filter(|range| range.start < settled)
        .collect();
    for range in &ranges {
        bytes[range.start..range.end.min(settled)].fill(BLANK);
    }
    let raw = ranges.len();
    let view = unescape::View::of(bytes);
    ranges.extend(
        found(view.text())
            .into_iter()
            .filter(|range| range.end <= view.settled())
            .map(|range| view.origin(range))
            .filter(|range| range.start < settled),
    );
    for range in &ranges[raw..] {
        bytes[range.start..range.end.min(settled)].fill(BLANK);
    }
    let reach = ranges.iter().map(|range| range.end).max().unwrap_or(0);
    (ranges.len(), reach)
}

/// A body being scrubbed as it streams.
#[derive(Debug)]
pub struct ScrubStream {
    scrubber: Arc<Scrubber>,
    held: Vec<u8>,
    /// Bytes at the start of `held` a run found before reaches: blanked
    /// once they were searched again, as they go.
    cover: usize,
}

impl ScrubStream {
    /// A stream searched by `scrubber`.
    pub fn new(scrubber: Arc<Scrubber>) -> Self {
        Self {
            scrubber,
            held: Vec::new(),
            cover: 0,
        }
    }

    /// Takes `chunk`; returns what may go on now, and the matches it held.
    pub fn push(&mut self, chunk: &[u8]) -> (Bytes, usize) {
        let mut text = std::mem::take(&mut self.held);
        text.extend_from_slice(chunk);
        let scrubbed = self.scrubber.scrub_held(&mut text, false);
        let released = text.len() - scrubbed.held;
        text[..self.cover.min(released)].fill(BLANK);
        self.cover = scrubbed.cover.max(self.cover.saturating_sub(released));
        self.held = text.split_off(released);
        (Bytes::from(text), scrubbed.found)
    }

    /// The held tail, at the end of the body, and the matches it held:
    /// it ends in no whole value, but may hold a run of one.
    pub fn finish(&mut self) -> (Bytes, usize) {
        let mut held = std::mem::take(&mut self.held);
        let found = self.scrubber.scrub(&mut held);
        let cover = std::mem::take(&mut self.cover).min(held.len());
        held[..cover].fill(BLANK);
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

/// Each [`FRAGMENT`]-byte run of `value` with at least [`OWN_IN_RUN`]
/// bytes of its own part ([`own_from`]) as is, so an echo cut short (an
/// upstream's error message, a body it truncated) hands on none of it.
fn fragments(value: &str) -> Vec<String> {
    let first = own_from(value).saturating_sub(FRAGMENT - OWN_IN_RUN);
    value.as_bytes()[first..]
        .windows(FRAGMENT)
        .filter_map(|run| std::str::from_utf8(run).ok())
        .map(str::to_owned)
        .collect()
}

/// Where the part of `value` that is its own starts: past an auth scheme
/// (`Bearer `), and past what every token of its kind starts with: a
/// JWT's header and claims (an issuer's other tokens share them), a key's
/// kind label (`sk-ant-api03-`, `github_pat_`, `xoxb-`: words of lowercase
/// letters, each perhaps ending in digits, each followed by `-` or `_`,
/// in its first [`OWN_FROM`] bytes). Runs of those would blank every other
/// token of the kind in the answers, and a model writing an example key.
/// A random token's start that only looks like one (`123e4567-`, mixed
/// case) is its own.
fn own_from(value: &str) -> usize {
    let scheme = match value.split_once(' ') {
        Some((scheme, _)) if scheme.bytes().all(|byte| byte.is_ascii_alphabetic()) => {
            scheme.len() + 1
        }
        _ => 0,
    };
    let token = &value[scheme..];
    if token.starts_with("eyJ") && token.bytes().filter(|&byte| byte == b'.').count() == 2 {
        return scheme + token.rfind('.').map_or(0, |dot| dot + 1);
    }
    let mut label = 0;
    let head = &token.as_bytes()[..token.len().min(OWN_FROM)];
    for (at, &byte) in head.iter().enumerate() {
        if byte == b'-' || byte == b'_' {
            if !is_label_word(&head[label..at]) {
                break;
            }
            label = at + 1;
        }
    }
    scheme + label
}

/// Whether `word` may be part of a kind label: lowercase letters, then
/// perhaps digits (`sk`, `ant`, `api03`, `pat`).
fn is_label_word(word: &[u8]) -> bool {
    let letters = word
        .iter()
        .take_while(|byte| byte.is_ascii_lowercase())
        .count();
    letters > 0 && word[letters..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests;
