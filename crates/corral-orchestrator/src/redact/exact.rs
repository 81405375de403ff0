//! Finding the exact needles (every secret in every encoded form) in text,
//! fast enough to sit in front of every byte a job prints.
//!
//! Every needle is at least [`MIN_NEEDLE`] bytes long, so any occurrence of
//! one covers [`STRIDE`] consecutive 4-byte windows starting inside it. The
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

/// The shortest needle: shorter encoded forms would match innocent text.
pub const MIN_NEEDLE: usize = 8;
/// Bytes in a window.
pub const GRAM: usize = 4;
/// Windows read: every `STRIDE`th position, so each needle occurrence
/// has exactly one window read among its first `STRIDE`.
const STRIDE: usize = MIN_NEEDLE - GRAM + 1;
/// Bits of the first-window bitmap: 8 KiB, in cache.
const FIRST_BITS: usize = 1 << 16;
/// Bitmap bits per stored window, keeping false hits near 1 in 64.
const BITS_PER_WINDOW: usize = 64;

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
    /// Longest needle, in bytes.
    longest: usize,
    /// One bit per hashed window.
    bitmap: Bitmap,
    /// The needles' first [`STRIDE`] windows, hashed into buckets.
    windows: FirstWindows,
    /// Every window of every needle, made when first asked for.
    all_windows: OnceLock<AllWindows>,
}

/// Every 4-byte window of every needle at every offset, hashed into
/// buckets: what a search that meets a needle in its middle looks up.
#[derive(Debug, Default)]
struct AllWindows {
    /// One bit per hashed window, 16 per entry: nearly every lookup of
    /// innocent text ends here, in cache.
    bitmap: Bitmap,
    /// `entries[buckets[b]..buckets[b + 1]]` hash to bucket `b`.
    buckets: Vec<u32>,
    /// (window, needle, offset), by bucket.
    entries: Vec<(u32, u32, u32)>,
    /// Right shift turning a 32-bit hash into a bucket.
    shift: u32,
}

impl AllWindows {
    fn new(needles: &[Box<[u8]>]) -> Self {
        let mut entries: Vec<(u32, u32, u32)> = Vec::new();
        for (index, needle) in needles.iter().enumerate() {
            if needle.len() < MIN_NEEDLE {
                continue;
            }
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for offset in 0..=needle.len() - GRAM {
                let offset_u32 = u32::try_from(offset).unwrap_or(u32::MAX);
                entries.push((window(&needle[offset..]), index, offset_u32));
            }
        }
        let buckets = entries.len().next_power_of_two().clamp(1 << 10, 1 << 20);
        let shift = 32 - buckets.trailing_zeros();
        entries.sort_unstable_by_key(|&(gram, needle, offset)| {
            (hash(gram, shift), gram, needle, offset)
        });
        entries.dedup();
        let mut starts = vec![0u32; buckets + 1];
        for &(gram, _, _) in &entries {
            starts[hash(gram, shift) + 1] += 1;
        }
        for bucket in 0..buckets {
            starts[bucket + 1] += starts[bucket];
        }
        let mut bitmap = Bitmap::new((entries.len() * 16).clamp(1 << 12, 1 << 23));
        for &(gram, _, _) in &entries {
            bitmap.insert(gram);
        }
        Self {
            bitmap,
            buckets: starts,
            entries,
            shift,
        }
    }

    fn find(&self, gram: u32) -> impl Iterator<Item = (usize, usize)> + '_ {
        let range = if self.bitmap.contains(gram) {
            let bucket = hash(gram, self.shift);
            self.buckets[bucket] as usize..self.buckets[bucket + 1] as usize
        } else {
            0..0
        };
        self.entries[range]
            .iter()
            .filter(move |&&(stored, _, _)| stored == gram)
            .map(|&(_, needle, offset)| (needle as usize, offset as usize))
    }
}

fn window(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl ExactFinder {
    /// A finder for `needles`; those shorter than [`MIN_NEEDLE`] bytes are
    /// never found (the caller leaves them out).
    pub fn new(needles: &[String]) -> Self {
        let windows = FirstWindows::new(needles);
        let mut bitmap =
            Bitmap::new((windows.entries.len() * BITS_PER_WINDOW).clamp(1 << 12, 1 << 22));
        for entry in &windows.entries {
            bitmap.insert(entry.gram);
        }
        let mut sorted: Vec<Box<[u8]>> = needles
            .iter()
            .filter(|needle| needle.len() >= MIN_NEEDLE)
            .map(|needle| needle.as_bytes().into())
            .collect();
        sorted.sort_unstable();
        let mut first_bytes = vec![false; 256].into_boxed_slice();
        let mut first_windows = Bitmap::new(FIRST_BITS);
        for needle in &sorted {
            first_bytes[usize::from(needle[0])] = true;
            first_windows.insert(window(needle));
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
        self.all_windows
            .get_or_init(|| AllWindows::new(&self.needles))
            .find(u32::from_le_bytes(bytes))
    }

    /// Whether `bytes` (4 of them) may sit in some needle: `false` is
    /// certain, and costs one bitmap probe.
    pub fn may_hold_window(&self, bytes: [u8; GRAM]) -> bool {
        self.all_windows
            .get_or_init(|| AllWindows::new(&self.needles))
            .bitmap
            .contains(u32::from_le_bytes(bytes))
    }

    /// Longest needle, in bytes.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Where the longest suffix of `text` that is a proper prefix of some
    /// needle starts, at or after `from`: the earliest position from which
    /// a needle could still complete once more bytes come.
    pub fn partial_start(&self, text: &[u8], from: usize) -> Option<usize> {
        let lowest = text
            .len()
            .saturating_sub(self.longest.saturating_sub(1))
            .max(from);
        (lowest..text.len()).find(|&start| {
            if !self.first_bytes[usize::from(text[start])] {
                return false;
            }
            let suffix = &text[start..];
            if suffix.len() >= GRAM && !self.first_windows.contains(window(suffix)) {
                return false;
            }
            // Needles that extend `suffix` sort right after it.
            let after = self.sorted.partition_point(|needle| **needle <= *suffix);
            self.sorted
                .get(after)
                .is_some_and(|needle| needle.starts_with(suffix))
        })
    }

    /// Every needle occurrence in `text`, overlapping ones included, by
    /// start then end.
    pub fn find_all(&self, text: &[u8]) -> Vec<Found> {
        let mut found = Vec::new();
        if self.windows.entries.is_empty() {
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

/// A needle's window among its first [`STRIDE`], and what settles a
/// candidate at once: the needle's first eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    gram: u32,
    needle: u32,
    offset: u8,
    head: u64,
}

/// The needles' first windows, hashed into buckets: a window read from
/// the text is looked up in one bucket, a cache line or two, where a
/// sorted list took a dozen dependent loads (hex dumps, whose windows
/// are often those of a secret's hex form, paid that every few bytes).
#[derive(Debug, Default)]
struct FirstWindows {
    /// `entries[buckets[b]..buckets[b + 1]]` hash to bucket `b`.
    buckets: Vec<u32>,
    entries: Vec<Entry>,
    /// Right shift turning a 32-bit hash into a bucket.
    shift: u32,
}

impl FirstWindows {
    fn new(needles: &[String]) -> Self {
        let mut entries = Vec::new();
        for (index, needle) in needles.iter().enumerate() {
            let bytes = needle.as_bytes();
            if bytes.len() < MIN_NEEDLE {
                continue;
            }
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for offset in 0..STRIDE {
                entries.push(Entry {
                    gram: window(&bytes[offset..]),
                    needle: index,
                    offset: u8::try_from(offset).unwrap_or(u8::MAX),
                    head: head(bytes),
                });
            }
        }
        let buckets = entries.len().next_power_of_two().clamp(1 << 6, 1 << 22);
        let shift = 32 - buckets.trailing_zeros();
        entries.sort_unstable_by_key(|entry| (hash(entry.gram, shift), *entry));
        entries.dedup();
        let mut starts = vec![0u32; buckets + 1];
        for entry in &entries {
            starts[hash(entry.gram, shift) + 1] += 1;
        }
        for bucket in 0..buckets {
            starts[bucket + 1] += starts[bucket];
        }
        Self {
            buckets: starts,
            entries,
            shift,
        }
    }

    fn find(&self, gram: u32) -> impl Iterator<Item = &Entry> + '_ {
        let bucket = hash(gram, self.shift);
        let range = self.buckets[bucket] as usize..self.buckets[bucket + 1] as usize;
        self.entries[range]
            .iter()
            .filter(move |entry| entry.gram == gram)
    }
}

/// The first eight bytes of `bytes` (at least that long), as one word.
fn head(bytes: &[u8]) -> u64 {
    let mut word = [0; MIN_NEEDLE];
    word.copy_from_slice(&bytes[..MIN_NEEDLE]);
    u64::from_le_bytes(word)
}

/// One bit per hashed window: "no" is certain, "yes" is to be checked.
#[derive(Debug, Default)]
struct Bitmap {
    words: Box<[u64]>,
    /// Right shift turning a 32-bit hash into a bit index.
    shift: u32,
}

impl Bitmap {
    /// At least `bits` bits (a power of two is taken).
    fn new(bits: usize) -> Self {
        let bits = bits.next_power_of_two().max(64);
        Self {
            words: vec![0; bits / 64].into_boxed_slice(),
            shift: 32 - bits.trailing_zeros(),
        }
    }

    fn insert(&mut self, gram: u32) {
        let bit = hash(gram, self.shift);
        self.words[bit >> 6] |= 1 << (bit & 63);
    }

    fn contains(&self, gram: u32) -> bool {
        let bit = hash(gram, self.shift);
        self.words[bit >> 6] & (1 << (bit & 63)) != 0
    }
}

/// Multiplicative hash of a window to a bitmap index of `32 - shift` bits.
fn hash(gram: u32, shift: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> shift) as usize
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
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % below as u64).expect("small")
        };
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
        }
    }
}
