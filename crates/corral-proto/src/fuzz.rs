//! A small deterministic mutation fuzzer, so the decoders are also
//! hammered in the ordinary test run, with seeded random inputs derived
//! from valid ones. Coverage-guided fuzzing is in `fuzz/` (cargo-fuzz on
//! the stable toolchain: `scripts/fuzz.sh`).

/// xorshift64*: fast, seeded, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (never zero inside).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    /// `seed` with a few random edits: bytes flipped, inserted, removed,
    /// duplicated ranges, or interesting bytes (quotes, braces, NUL, UTF-8
    /// lead bytes, newlines).
    pub fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        const INTERESTING: &[u8] = b"\"{}[]:,\\\n\r\0 \xc3\xe2\x80\xff0-9eE.";
        let mut bytes = seed.to_vec();
        for _ in 0..=self.below(8) {
            let at = self.below(bytes.len() + 1);
            match self.below(5) {
                0 if !bytes.is_empty() => {
                    let at = at.min(bytes.len() - 1);
                    bytes[at] ^= 1 << self.below(8);
                }
                1 => bytes.insert(at, INTERESTING[self.below(INTERESTING.len())]),
                2 if at < bytes.len() => {
                    let end = (at + self.below(16)).min(bytes.len());
                    bytes.drain(at..end);
                }
                3 if at < bytes.len() => {
                    let end = (at + self.below(32)).min(bytes.len());
                    let copy = bytes[at..end].to_vec();
                    let to = self.below(bytes.len() + 1);
                    bytes.splice(to..to, copy);
                }
                _ => bytes.insert(at, self.next_u64() as u8),
            }
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseParser;

    #[test]
    fn the_sse_parser_never_panics_and_chunking_never_changes_what_it_reads() {
        let seed =
            b"id: 1\nevent: output\ndata: {\"a\":1}\n\n: keep-alive\n\nevent: end\ndata: x\r\n\r\n";
        let mut rng = Rng::new(7);
        for _ in 0..20_000 {
            let input = rng.mutate(seed);
            let mut whole = SseParser::default();
            let at_once = whole.feed(&input);
            let mut pieces = SseParser::default();
            let mut split = Vec::new();
            let mut rest = input.as_slice();
            while !rest.is_empty() {
                let cut = 1 + rng.below(rest.len());
                split.extend(pieces.feed(&rest[..cut]));
                rest = &rest[cut..];
            }
            assert_eq!(
                at_once,
                split,
                "input {:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }

    #[test]
    fn wire_types_decode_any_mutation_without_panicking() {
        let seeds: [&[u8]; 3] = [
            br#"{"batch": 3, "events": [{"kind": "output", "data": {"stream": "stdout", "text": "hi"}}]}"#,
            br#"{"mode": "worker", "prompt": "x", "limits": {"memory": "256m", "timeout": 30}, "llm": {"model": "m"}}"#,
            br#"{"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "stream": true}"#,
        ];
        let mut rng = Rng::new(11);
        for round in 0..30_000 {
            let input = rng.mutate(seeds[round % seeds.len()]);
            let _ = serde_json::from_slice::<crate::worker::EventBatch>(&input);
            let _ = serde_json::from_slice::<crate::JobSpec>(&input);
            let _ = serde_json::from_slice::<crate::llm::ChatRequest>(&input);
            let _ = serde_json::from_slice::<crate::llm::ChatChunk>(&input);
        }
    }
}
