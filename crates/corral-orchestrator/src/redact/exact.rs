//! Finding the exact needles (every secret in every encoded form) in text,
//! fast enough to sit in front of every byte a job prints.
//!
//! Every needle is at least [`MIN_NEEDLE`] bytes long, so any occurrence of
//! one covers `STRIDE` (five) consecutive 4-byte windows starting inside it. The
//! search reads one 4-byte window every `STRIDE` bytes, and checks it
//! against a bitmap of every needle's first `STRIDE` windows: almost always
//! a miss, so the text is crossed at about one load and one bit test per
//! five bytes. A hit is looked up among the needles' windows and each
//! candidate is compared in full. Every occurrence is reported, overlapping
//! ones too: the redactor covers their union, which (unlike a
//! leftmost-longest choice) does not depend on where a text was cut.
//!
//! [`ExactFinder::partial_start`] answers the stream's question: from where
//! could the end of a text still become a needle once more bytes arrive.

use std::sync::OnceLock;

mod tables;

use tables::{AllWindows, Bitmap, FirstWindows, STRIDE, head, window};
pub use tables::{GRAM, MIN_NEEDLE};

/// Bits of the first-window bitmap: 8 KiB, in cache.
const FIRST_BITS: usize = 1 << 16;
/// Bits of the bitmap of needles' first two and three bytes: 16 KiB.
const PREFIX_BITS: usize = 1 << 17;
/// Bitmap bits per stored window, keeping false hits near 1 in 64.
const BITS_PER_WINDOW: usize = 64;

/// `bytes` (two or three of them) as a word tagged with their count, for
/// the bitmap of needles' short prefixes.
fn short_prefix(bytes: &[u8]) -> u32 {
    let mut word = [0; GRAM];
    word[..bytes.len()].copy_from_slice(bytes);
    word[GRAM - 1] = u8::try_from(bytes.len()).unwrap_or(u8::MAX);
    u32::from_le_bytes(word)
}

/// A match: byte range and needle index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// The needle's index, as given to [`ExactFinder::new`].
    pub needle: usize,
}

/// The needles and their window index.
#[derive(Debug, Default)]
pub struct ExactFinder {
    needles: Vec<Box<[u8]>>,
    /// The needles in byte order, for the partial-match question.
    sorted: Vec<Box<[u8]>>,
    /// Which bytes begin some needle.
    first_bytes: Box<[bool]>,
    /// One bit per hashed first window of a needle ([`FIRST_BITS`]).
    first_windows: Bitmap,
    /// One bit per hashed [`short_prefix`] of a needle ([`PREFIX_BITS`]).
    short_prefixes: Bitmap,
    /// Longest needle, in bytes.
    longest: usize,
    /// One bit per hashed window.
    bitmap: Bitmap,
    /// The needles' first [`STRIDE`] windows, hashed into buckets.
    windows: FirstWindows,
    /// Every window of every needle, made when first asked for.
    all_windows: OnceLock<AllWindows>,
}

impl ExactFinder {
    /// A finder for `needles`; those shorter than [`MIN_NEEDLE`] bytes are
    /// never found (the caller leaves them out).
    pub fn new(needles: &[String]) -> Self {
        let windows = FirstWindows::new(needles);
        let mut bitmap = Bitmap::new((windows.len() * BITS_PER_WINDOW).clamp(1 << 12, 1 << 22));
        for gram in windows.grams() {
            bitmap.insert(gram);
        }
        let mut sorted: Vec<Box<[u8]>> = needles
            .iter()
            .filter(|needle| needle.len() >= MIN_NEEDLE)
            .map(|needle| needle.as_bytes().into())
            .collect();
        sorted.sort_unstable();
        let mut first_bytes = vec![false; 256].into_boxed_slice();
        let mut first_windows = Bitmap::new(FIRST_BITS);
        let mut short_prefixes = Bitmap::new(PREFIX_BITS);
        for needle in &sorted {
            first_bytes[usize::from(needle[0])] = true;
            first_windows.insert(window(needle));
            for len in 2..GRAM {
                short_prefixes.insert(short_prefix(&needle[..len]));
            }
        }
        Self {
            needles: needles
                .iter()
                .map(|needle| needle.as_bytes().into())
                .collect(),
            longest: sorted.iter().map(|needle| needle.len()).max().unwrap_or(0),
            sorted,
            first_bytes,
            first_windows,
            short_prefixes,
            bitmap,
            windows,
            all_windows: OnceLock::new(),
        }
    }

    /// The bytes of needle `index`.
    pub fn needle(&self, index: usize) -> &[u8] {
        &self.needles[index]
    }

    /// Every (needle, offset) where `bytes` (4 of them) sit in a needle.
    pub fn windows_of(&self, bytes: [u8; GRAM]) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.all_windows().find(u32::from_le_bytes(bytes))
    }

    /// Whether a window (4 bytes) may sit in some needle: `false` is
    /// certain, and costs one bitmap probe. The table is found once, for
    /// all the windows asked about.
    pub fn window_filter(&self) -> impl Fn([u8; GRAM]) -> bool + '_ {
        let all = self.all_windows();
        move |bytes| all.may_hold(u32::from_le_bytes(bytes))
    }

    /// Longest needle, in bytes.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Where the longest suffix of `text` that is a proper prefix of some
    /// needle starts, at or after `from`: the earliest position from which
    /// a needle could still complete once more bytes come.
    ///
    /// A suffix of four bytes or more ends with the text's last window, so
    /// it starts where that window sits in some needle: those places are
    /// looked up at once instead of trying every start (one bitmap probe
    /// settles nearly every text). A window that sits in more places than
    /// there are starts to try is tried start by start.
    pub fn partial_start(&self, text: &[u8], from: usize) -> Option<usize> {
        let lowest = text
            .len()
            .saturating_sub(self.longest.saturating_sub(1))
            .max(from);
        let short = text.len().saturating_sub(GRAM - 1).max(lowest);
        let long = if lowest < short {
            self.long_partial(text, lowest, short)
        } else {
            None
        };
        long.or_else(|| (short..text.len()).find(|&start| self.extends(text, start)))
    }

    /// [`Self::partial_start`] among the starts `lowest..short`, whose
    /// suffixes hold the text's last window.
    fn long_partial(&self, text: &[u8], lowest: usize, short: usize) -> Option<usize> {
        let last_at = text.len() - GRAM;
        // Empty when the bitmap says no, as it nearly always does.
        let places = self.all_windows().find(window(&text[last_at..]));
        if places.clone().nth(short - lowest).is_some() {
            return (lowest..short).find(|&start| self.extends(text, start));
        }
        places
            .filter_map(|(needle, offset)| {
                let start = last_at.checked_sub(offset)?;
                let suffix = &text[start..];
                let bytes = &self.needles[needle];
                (start >= lowest && bytes.len() > suffix.len() && bytes.starts_with(suffix))
                    .then_some(start)
            })
            .min()
    }

    /// Whether `text[start..]` is a proper prefix of some needle.
    fn extends(&self, text: &[u8], start: usize) -> bool {
        if !self.first_bytes[usize::from(text[start])] {
            return false;
        }
        let suffix = &text[start..];
        let may_start = match suffix.len() {
            // Every needle is longer than one byte.
            1 => return true,
            2..GRAM => self.short_prefixes.contains(short_prefix(suffix)),
            _ => self.first_windows.contains(window(suffix)),
        };
        if !may_start {
            return false;
        }
        // Needles that extend `suffix` sort right after it. The bitmaps
        // above settle nearly every suffix first: this search reads a
        // dozen needles spread over the heap, most of them a cache miss.
        let after = self.sorted.partition_point(|needle| **needle <= *suffix);
        self.sorted
            .get(after)
            .is_some_and(|needle| needle.starts_with(suffix))
    }

    fn all_windows(&self) -> &AllWindows {
        self.all_windows
            .get_or_init(|| AllWindows::new(&self.needles))
    }

    /// Every needle occurrence in `text`, overlapping ones included, by
    /// start then end.
    pub fn find_all(&self, text: &[u8]) -> Vec<Found> {
        let mut found = Vec::new();
        if self.windows.is_empty() {
            return found;
        }
        let mut at = 0;
        while let Some(bytes) = text.get(at..at + GRAM) {
            let gram = window(bytes);
            if self.bitmap.contains(gram) {
                self.verify(text, at, gram, &mut found);
            }
            at += STRIDE;
        }
        found.sort_unstable_by_key(|found| (found.start, found.end, found.needle));
        found
    }

    /// Adds every needle whose stored window `gram` sits at `at`.
    fn verify(&self, text: &[u8], at: usize, gram: u32, found: &mut Vec<Found>) {
        for entry in self.windows.find(gram) {
            let Some(start) = at.checked_sub(usize::from(entry.offset)) else {
                continue;
            };
            // The first eight bytes settle nearly every candidate.
            if text.get(start..start + MIN_NEEDLE).map(head) != Some(entry.head) {
                continue;
            }
            let needle = entry.needle as usize;
            let bytes = &self.needles[needle];
            if text.get(start..start + bytes.len()) == Some(&bytes[..]) {
                found.push(Found {
                    start,
                    end: start + bytes.len(),
                    needle,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, MatchKind};

    fn oracle(needles: &[String], text: &str) -> Vec<Found> {
        let kept: Vec<(usize, &String)> = needles
            .iter()
            .enumerate()
            .filter(|(_, needle)| needle.len() >= MIN_NEEDLE)
            .collect();
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(kept.iter().map(|(_, needle)| needle.as_str()))
            .expect("automaton");
        let mut found: Vec<Found> = automaton
            .find_overlapping_iter(text)
            .map(|found| Found {
                start: found.start(),
                end: found.end(),
                needle: kept[found.pattern().as_usize()].0,
            })
            .collect();
        found.sort_unstable_by_key(|found| (found.start, found.end, found.needle));
        found
    }

    /// The earliest start at or after `from` whose suffix is a proper
    /// prefix of a needle, trying every start.
    fn partial_oracle(needles: &[String], text: &str, from: usize) -> Option<usize> {
        (from..text.len()).find(|&start| {
            let suffix = &text.as_bytes()[start..];
            needles.iter().any(|needle| {
                needle.len() >= MIN_NEEDLE
                    && needle.len() > suffix.len()
                    && needle.as_bytes().starts_with(suffix)
            })
        })
    }

    #[test]
    fn needles_at_every_offset_and_overlapping_are_all_found() {
        let needles: Vec<String> = ["abcdefgh", "abcdefghij", "efghijklmn", "short", "zzzzzzzz"]
            .map(str::to_owned)
            .to_vec();
        for prefix in 0..12 {
            let text = format!("{}abcdefghijklmn zzzzzzzzz", "x".repeat(prefix));
            let finder = ExactFinder::new(&needles);
            assert_eq!(
                finder.find_all(text.as_bytes()),
                oracle(&needles, &text),
                "{text}"
            );
        }
        let finder = ExactFinder::new(&needles);
        assert!(finder.find_all(b"short short").is_empty());
        assert!(finder.find_all(b"abcdefg").is_empty(), "one byte short");
        assert_eq!(finder.find_all(b"abcdefgh").len(), 1, "at the very end");
        assert_eq!(finder.partial_start(b"xx abcdefg", 0), Some(3));
        assert_eq!(
            finder.partial_start(b"xx abcdefg", 4),
            Some(7),
            "not before `from`: `efg…`"
        );
        assert_eq!(
            finder.partial_start(b"zzzzzzzz", 0),
            Some(1),
            "a whole needle is no partial, its tail is"
        );
    }

    /// Random needles over a tiny alphabet (so they overlap and repeat
    /// often) against random texts, checked against Aho-Corasick.
    #[test]
    fn it_finds_what_aho_corasick_finds() {
        let mut rng = crate::redact::property::Rng(0x2545_F491_4F6C_DD1D);
        let mut next = |below: usize| rng.below(below);
        let mut letters = |count: usize, alphabet: &[u8]| -> String {
            (0..count)
                .map(|_| char::from(alphabet[next(alphabet.len())]))
                .collect()
        };
        for case in 0..3000 {
            let needles: Vec<String> = (0..=(case % 7))
                .map(|_| {
                    let length = 8 + case % 5;
                    letters(length, b"ab")
                })
                .collect();
            let text = letters(case % 200, b"abc");
            let finder = ExactFinder::new(&needles);
            assert_eq!(
                finder.find_all(text.as_bytes()),
                oracle(&needles, &text),
                "needles {needles:?} in {text:?}"
            );
            let from = case % 13;
            assert_eq!(
                finder.partial_start(text.as_bytes(), from),
                partial_oracle(&needles, &text, from),
                "needles {needles:?} after {from} in {text:?}"
            );
        }
    }
}
