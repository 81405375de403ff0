//! The windows the finder reads and its lookup tables: bitmaps that answer "no" for certain, and
//! windows hashed into buckets, where a window read from the text is
//! looked up in one bucket (a cache line or two) instead of by a dozen
//! dependent loads through a sorted list.

/// The shortest needle: shorter encoded forms would match innocent text.
pub const MIN_NEEDLE: usize = 8;
/// Bytes in a window.
pub const GRAM: usize = 4;
/// Windows read: every `STRIDE`th position, so each needle occurrence
/// has exactly one window read among its first `STRIDE`.
pub const STRIDE: usize = MIN_NEEDLE - GRAM + 1;

/// A window's bytes as one word.
pub fn window(bytes: &[u8]) -> u32 {
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The first eight bytes of `bytes` (at least that long), as one word.
pub fn head(bytes: &[u8]) -> u64 {
    let mut word = [0; MIN_NEEDLE];
    word.copy_from_slice(&bytes[..MIN_NEEDLE]);
    u64::from_le_bytes(word)
}

/// Multiplicative hash of a window to an index of `32 - shift` bits.
fn hash(gram: u32, shift: u32) -> usize {
    (gram.wrapping_mul(0x9E37_79B1) >> shift) as usize
}

/// One bit per hashed window: "no" is certain, "yes" is to be checked.
#[derive(Debug, Default)]
pub struct Bitmap {
    words: Box<[u64]>,
    /// Right shift turning a 32-bit hash into a bit index.
    shift: u32,
}

impl Bitmap {
    /// At least `bits` bits (a power of two is taken).
    pub fn new(bits: usize) -> Self {
        let bits = bits.next_power_of_two().max(64);
        Self {
            words: vec![0; bits / 64].into_boxed_slice(),
            shift: 32 - bits.trailing_zeros(),
        }
    }

    pub fn insert(&mut self, gram: u32) {
        let bit = hash(gram, self.shift);
        self.words[bit >> 6] |= 1 << (bit & 63);
    }

    pub fn contains(&self, gram: u32) -> bool {
        let bit = hash(gram, self.shift);
        self.words[bit >> 6] & (1 << (bit & 63)) != 0
    }
}

/// Values keyed by window, hashed into buckets.
#[derive(Debug)]
pub struct Buckets<V> {
    /// `entries[starts[b]..starts[b + 1]]` hash to bucket `b`.
    starts: Vec<u32>,
    /// (window, value), by bucket.
    entries: Vec<(u32, V)>,
    /// Right shift turning a 32-bit hash into a bucket.
    shift: u32,
}

impl<V> Default for Buckets<V> {
    fn default() -> Self {
        Self {
            starts: vec![0, 0],
            entries: Vec::new(),
            shift: 31,
        }
    }
}

impl<V: Copy + Ord> Buckets<V> {
    /// About one bucket an entry, `buckets` bounding their count.
    fn new(mut entries: Vec<(u32, V)>, buckets: std::ops::RangeInclusive<usize>) -> Self {
        let count = entries
            .len()
            .next_power_of_two()
            .clamp(*buckets.start(), *buckets.end());
        let shift = 32 - count.trailing_zeros();
        entries.sort_unstable_by_key(|&(gram, value)| (hash(gram, shift), gram, value));
        entries.dedup();
        let mut starts = vec![0u32; count + 1];
        for &(gram, _) in &entries {
            starts[hash(gram, shift) + 1] += 1;
        }
        for bucket in 0..count {
            starts[bucket + 1] += starts[bucket];
        }
        Self {
            starts,
            entries,
            shift,
        }
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    fn grams(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries.iter().map(|&(gram, _)| gram)
    }

    fn find(&self, gram: u32) -> impl Iterator<Item = &V> + Clone + '_ {
        let bucket = hash(gram, self.shift);
        let range = self.starts[bucket] as usize..self.starts[bucket + 1] as usize;
        self.entries[range]
            .iter()
            .filter(move |&&(stored, _)| stored == gram)
            .map(|(_, value)| value)
    }
}

/// Where a needle's window among its first [`STRIDE`] sits, and what
/// settles a candidate at once: the needle's first eight bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct First {
    pub needle: u32,
    pub offset: u8,
    pub head: u64,
}

/// The needles' first [`STRIDE`] windows: what the search reads one of in
/// each needle occurrence.
#[derive(Debug, Default)]
pub struct FirstWindows {
    table: Buckets<First>,
}

impl FirstWindows {
    pub fn new(needles: &[String]) -> Self {
        let mut entries = Vec::new();
        for (index, needle) in needles.iter().enumerate() {
            let bytes = needle.as_bytes();
            if bytes.len() < MIN_NEEDLE {
                continue;
            }
            let needle = u32::try_from(index).unwrap_or(u32::MAX);
            for offset in 0..STRIDE {
                let offset_byte = u8::try_from(offset).unwrap_or(u8::MAX);
                let first = First {
                    needle,
                    offset: offset_byte,
                    head: head(bytes),
                };
                entries.push((window(&bytes[offset..]), first));
            }
        }
        Self {
            table: Buckets::new(entries, 1 << 6..=1 << 22),
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn grams(&self) -> impl Iterator<Item = u32> + '_ {
        self.table.grams()
    }

    pub fn find(&self, gram: u32) -> impl Iterator<Item = &First> + '_ {
        self.table.find(gram)
    }
}

/// Every 4-byte window of every needle at every offset: what a search that
/// meets a needle in its middle looks up.
#[derive(Debug, Default)]
pub struct AllWindows {
    /// One bit per hashed window, 16 per entry: nearly every lookup of
    /// innocent text ends here, in cache.
    bitmap: Bitmap,
    /// (needle, offset) by window.
    table: Buckets<(u32, u32)>,
}

impl AllWindows {
    pub fn new(needles: &[Box<[u8]>]) -> Self {
        let mut entries = Vec::new();
        for (index, needle) in needles.iter().enumerate() {
            if needle.len() < MIN_NEEDLE {
                continue;
            }
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            for offset in 0..=needle.len() - GRAM {
                let offset_u32 = u32::try_from(offset).unwrap_or(u32::MAX);
                entries.push((window(&needle[offset..]), (index, offset_u32)));
            }
        }
        let table = Buckets::new(entries, 1 << 10..=1 << 20);
        let mut bitmap = Bitmap::new((table.len() * 16).clamp(1 << 12, 1 << 23));
        for gram in table.grams() {
            bitmap.insert(gram);
        }
        Self { bitmap, table }
    }

    /// Whether `gram` may sit in some needle: `false` is certain.
    pub fn may_hold(&self, gram: u32) -> bool {
        self.bitmap.contains(gram)
    }

    /// Every (needle, offset) where `gram` sits.
    pub fn find(&self, gram: u32) -> impl Iterator<Item = (usize, usize)> + Clone + '_ {
        let found = if self.may_hold(gram) {
            Some(self.table.find(gram))
        } else {
            None
        };
        found
            .into_iter()
            .flatten()
            .map(|&(needle, offset)| (needle as usize, offset as usize))
    }
}
