//! A xorshift generator: the same corpus on every run, with no dependency.

/// A 64-bit xorshift generator.
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (zero would stay zero, so it is nudged).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `length` characters of the ASCII `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], length: usize) -> String {
        (0..length)
            .map(|_| char::from(*self.pick(alphabet)))
            .collect()
    }

    /// `low..=high` characters of `alphabet`.
    pub fn string_in(&mut self, alphabet: &[u8], low: usize, high: usize) -> String {
        let length = self.between(low, high);
        self.string(alphabet, length)
    }

    /// `low..=high` random bytes.
    pub fn bytes_in(&mut self, low: usize, high: usize) -> Vec<u8> {
        let length = self.between(low, high);
        self.bytes(length)
    }

    /// `length` random bytes.
    pub fn bytes(&mut self, length: usize) -> Vec<u8> {
        (0..length).map(|_| self.next_u64() as u8).collect()
    }

    /// `items` in a random order (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for last in (1..items.len()).rev() {
            items.swap(last, self.below(last + 1));
        }
    }
}

/// Letters and digits.
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Lower-case hex digits.
pub const HEX: &[u8] = b"0123456789abcdef";
