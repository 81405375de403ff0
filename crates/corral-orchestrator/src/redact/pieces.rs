//! Bytes that may not be text, scanned as they come in pieces (a
//! download on its way from a sandbox): each piece is made text as
//! `binary` makes a whole file, a character cut between two pieces is
//! held for the next, and the text goes through a [`StreamRedactor`],
//! which finds what the whole text's scan finds.

use corral_proto::event::{OutputStream, incomplete_utf8_tail};

use super::binary::{OTHER, exact_into};
use super::{Findings, Redactor, StreamRedactor};

/// Text gathered before it is scanned: the stream rescans what it holds
/// at each push, so small pieces would be scanned again and again.
const BATCH: usize = 256 << 10;

/// Bytes scanned for findings as they come, piece by piece: what
/// [`Redactor::redact_text`] of [`Redactor::scannable`] of all of them would find,
/// or more (see [`StreamRedactor`] past its hold cap).
#[derive(Debug)]
pub struct ByteScan {
    exact: bool,
    /// Text gathered before a scan: [`BATCH`] (tests scan each piece).
    batch: usize,
    /// The end of the last piece when it may be a character cut short.
    cut_short: Vec<u8>,
    /// Pieces as text, not yet scanned (reused).
    text: Vec<u8>,
    stream: StreamRedactor,
    findings: Findings,
}

impl ByteScan {
    /// A scan for `redactor`'s needles.
    pub fn new(redactor: &Redactor) -> Self {
        Self {
            exact: redactor.needs_exact_text(),
            batch: BATCH,
            cut_short: Vec::new(),
            text: Vec::new(),
            stream: StreamRedactor::default(),
            findings: Findings::default(),
        }
    }

    /// Scans the next piece (once [`BATCH`] bytes have come).
    pub fn push(&mut self, redactor: &Redactor, piece: &[u8]) {
        if self.exact {
            self.cut_short.extend_from_slice(piece);
            let whole = self.cut_short.len() - incomplete_utf8_tail(&self.cut_short);
            exact_into(&self.cut_short[..whole], &mut self.text);
            self.cut_short.drain(..whole);
        } else {
            self.text.extend(
                piece
                    .iter()
                    .map(|&byte| if byte < 0x80 { byte } else { OTHER }),
            );
        }
        if self.text.len() >= self.batch {
            self.scan_text(redactor);
        }
    }

    /// Scans what is held as the end of the bytes; returns what was found.
    pub fn finish(mut self, redactor: &Redactor) -> Findings {
        exact_into(&self.cut_short, &mut self.text);
        self.scan_text(redactor);
        // What is emitted is not needed: only what was found.
        let _ = self.stream.flush(redactor, &mut self.findings);
        self.findings
    }

    fn scan_text(&mut self, redactor: &Redactor) {
        if self.text.is_empty() {
            return;
        }
        // Always text: ASCII, `OTHER` and whole characters. The checked
        // conversion is the fast one (ASCII a word at a time; the lossy one
        // walks byte by byte, a sixth of a download's time on random bytes).
        let text = match std::str::from_utf8(&self.text) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(&self.text),
        };
        let _ = self
            .stream
            .push(redactor, OutputStream::Stdout, &text, &mut self.findings);
        self.text.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::ByteScan;
    use crate::redact::{Findings, Redactor};

    /// What a scan of `bytes` cut into pieces at `cuts` finds.
    /// Each piece is scanned as it comes (not gathered into batches).
    fn found_in_pieces(redactor: &Redactor, bytes: &[u8], cuts: &[usize]) -> Vec<String> {
        let mut scan = ByteScan::new(redactor);
        scan.batch = 1;
        let mut at = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            scan.push(redactor, &bytes[at..cut]);
            at = cut;
        }
        scan.finish(redactor).names
    }

    fn found_whole(redactor: &Redactor, bytes: &[u8]) -> Vec<String> {
        let mut findings = Findings::default();
        redactor.redact_text(&redactor.scannable(bytes), &mut findings);
        findings.names
    }

    #[test]
    fn pieces_find_what_the_whole_finds_wherever_they_are_cut() {
        // One needle past ASCII (bytes are then kept as characters), one not.
        for secret in ["pässwörd-ünder-the-mät", "plain-ascii-secret-value-42"] {
            let redactor = Redactor::new([("K", secret)]);
            let mut bytes = b"\xff\x00binary head\xc3".to_vec();
            bytes.extend_from_slice(format!("key={secret}\n").as_bytes());
            bytes.extend_from_slice(b"\xe2\x82tail \xe2\x82\xac");
            let whole = found_whole(&redactor, &bytes);
            assert_eq!(whole, ["K"], "{secret}");
            for first in 0..=bytes.len() {
                for second in [first, (first + 3).min(bytes.len()), bytes.len()] {
                    let found = found_in_pieces(&redactor, &bytes, &[first, second]);
                    assert_eq!(found, whole, "{secret}: cut at {first} and {second}");
                }
            }
            // A secret cut short by the end, or one byte wrong, is none.
            let cut = &bytes[..bytes.len() - 20];
            assert!(found_in_pieces(&redactor, cut, &[7]).is_empty(), "{secret}");
        }
    }
}
