//! Finding the exact needles (every secret in every encoded form) in text,
//! fast enough to sit in front of every byte a job prints.
//!
//! Every needle is at least [`MIN_NEEDLE`] bytes long, so any occurrence of
//! one covers [`STRIDE`] consecutive 4-byte windows starting inside it. The
//! search reads one 4-byte window every `STRIDE` bytes, and checks it
//! against a bitmap of every needle's first `STRIDE` windows: almost always
//! a miss, so the text is crossed at about one load and one bit test per
//! five bytes. A hit is looked up among the needles' windows and each
//! candidate is compared in full. Overlapping matches are settled
//! leftmost-longest, as a leftmost-longest Aho-Corasick search would.

/// The shortest needle: shorter encoded forms would match innocent text.
pub const MIN_NEEDLE: usize = 8;
/// Bytes in a window.
const GRAM: usize = 4;
/// Windows read: every `STRIDE`th position, so each needle occurrence
/// has exactly one window read among its first `STRIDE`.
const STRIDE: usize = MIN_NEEDLE - GRAM + 1;
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
    /// One bit per hashed window.
    bitmap: Vec<u64>,
    /// Right shift turning a 32-bit hash into a bitmap index.
    shift: u32,
    /// (window, needle, offset of the window in the needle), sorted.
    windows: Vec<(u32, u32, u8)>,
}

fn window(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

impl ExactFinder {
    /// A finder for `needles`; those shorter than [`MIN_NEEDLE`] bytes are
    /// never found (the caller leaves them out).
    pub fn new(needles: &[String]) -> Self {
        let mut windows = Vec::new();
        for (index, needle) in needles.iter().enumerate() {
            let bytes = needle.as_bytes();
            if bytes.len() < MIN_NEEDLE {
                continue;
            }
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for offset in 0..STRIDE {
                let offset_byte = u8::try_from(offset).unwrap_or(u8::MAX);
                windows.push((window(&bytes[offset..]), index, offset_byte));
            }
        }
        windows.sort_unstable();
        windows.dedup();
        let bits = (windows.len() * BITS_PER_WINDOW)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 22);
        let shift = 32 - bits.trailing_zeros();
        let mut bitmap = vec![0u64; bits / 64];
        for &(gram, _, _) in &windows {
            let bit = hash(gram, shift);
            bitmap[bit >> 6] |= 1 << (bit & 63);
        }
        Self {
            needles: needles
                .iter()
                .map(|needle| needle.as_bytes().into())
                .collect(),
            bitmap,
            shift,
            windows,
        }
    }

    /// Every needle occurrence in `text`, leftmost-longest, in order and
    /// not overlapping.
    pub fn find_all(&self, text: &[u8]) -> Vec<Found> {
        let mut found = Vec::new();
        if self.windows.is_empty() {
            return found;
        }
        let mut at = 0;
        while let Some(bytes) = text.get(at..at + GRAM) {
            let gram = window(bytes);
            let bit = hash(gram, self.shift);
            if self.bitmap[bit >> 6] & (1 << (bit & 63)) != 0 {
                self.verify(text, at, gram, &mut found);
            }
            at += STRIDE;
        }
        settle(found)
    }

    /// Adds every needle whose stored window `gram` sits at `at`.
    fn verify(&self, text: &[u8], at: usize, gram: u32, found: &mut Vec<Found>) {
        let first = self
            .windows
            .partition_point(|&(stored, _, _)| stored < gram);
        for &(_, needle, offset) in self.windows[first..]
            .iter()
            .take_while(|&&(stored, _, _)| stored == gram)
        {
            let Some(start) = at.checked_sub(usize::from(offset)) else {
                continue;
            };
            let needle = needle as usize;
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

/// Multiplicative hash of a window to a bitmap index of `32 - shift` bits.
fn hash(gram: u32, shift: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> shift) as usize
}

/// Leftmost-longest among overlapping matches: by start, the longest
/// first (the first needle given among equals), each kept when it starts at or after the last kept one's end.
fn settle(mut found: Vec<Found>) -> Vec<Found> {
    if found.len() < 2 {
        return found;
    }
    found.sort_unstable_by(|a, b| {
        (a.start.cmp(&b.start))
            .then(b.end.cmp(&a.end))
            .then(a.needle.cmp(&b.needle))
    });
    let mut kept: Vec<Found> = Vec::with_capacity(found.len());
    for candidate in found {
        if kept.last().is_none_or(|last| candidate.start >= last.end) {
            kept.push(candidate);
        }
    }
    kept
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
            .match_kind(MatchKind::LeftmostLongest)
            .build(kept.iter().map(|(_, needle)| needle.as_str()))
            .expect("automaton");
        automaton
            .find_iter(text)
            .map(|found| Found {
                start: found.start(),
                end: found.end(),
                needle: kept[found.pattern().as_usize()].0,
            })
            .collect()
    }

    #[test]
    fn needles_at_every_offset_and_overlapping_are_found_leftmost_longest() {
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
