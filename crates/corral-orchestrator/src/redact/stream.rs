//! Redacting a job's output as it comes. Both of a job's streams go
//! through one redactor, in the order their chunks arrived: a value split
//! between stdout and stderr is the interleaving a person reads, so it is
//! caught there, and each emitted piece keeps the stream it came from (a
//! redaction, the stream of its first byte).
//!
//! After each chunk the redactor emits the longest prefix that no later
//! text could change, and holds the rest: from the earliest position where
//! a find could still start or grow (`Scan::live`), or from the start of a
//! find that crosses it. The concatenation of everything emitted equals
//! [`Redactor::redact_text`] of the whole output. A few bytes already
//! emitted stay as look-behind (a word boundary, the start of a dump line).
//!
//! What is held is bounded by the longest find (a private key block,
//! [`PEM_MAX`]) except when finds keep overlapping one another; past
//! [`HOLD_CAP`] the held text is let go up to the live position, finds
//! crossing it redacted in parts (the rest of such a find, and the
//! [`GROUP_REST`] bytes after it, which a dump find may still gain, are
//! redacted whether a later scan sees it whole or not: [`Cover`]): the
//! output then redacts no less, but may differ from the whole text's. Should the live
//! position itself stay [`MAX_HELD`] behind the end (a needle longer than
//! that), everything held is let go as one redaction named [`TOO_LONG`],
//! which goes on over the next [`Redactor::reach`] bytes of output (the rest of whatever was open):
//! output is lost, nothing that might be a secret is, and memory stays
//! bounded.
//!
//! A long hold is not scanned again for every small chunk: past
//! [`RESCAN_FLOOR`] bytes, only once a quarter as much came since the last
//! scan (holding longer is always safe), so the scans of a stream cost
//! time linear in its length, whatever its chunks.

use super::dumps::GROUP_REST;
use super::scan::{self, Hit};
use super::shapes::PEM_MAX;
use super::{Findings, Redactor};
use corral_proto::event::OutputStream;

/// Most output held back before it is let go in parts.
pub const HOLD_CAP: usize = 64 << 10;
/// Most output held at all; past it what is held is redacted whole.
pub(super) const MAX_HELD: usize = 1 << 20;
/// The name of the redaction a stream starts with after a restart.
pub const AFTER_RESTART: &str = "held-across-a-restart";
/// The name of the redaction after output the stream never got.
pub const LOST: &str = "after-lost-output";
/// The name of the redaction of what a stream held when the output after
/// it was dropped.
pub const CUT: &str = "held-when-output-was-cut";
/// The name of a redaction made because [`MAX_HELD`] was reached.
pub(super) const TOO_LONG: &str = "held-too-long-to-scan";
/// Text at which a push no longer rescans at once: past it, the text is
/// scanned again only once a quarter of it came since the last scan, so
/// small chunks after a long hold cost linear time, not quadratic.
const RESCAN_FLOOR: usize = 4 << 10;
/// Look-behind kept after an ordinary cut: back to the line's start if it
/// is at most this far (a dump line is shorter), else this much.
const CONTEXT: usize = 256;
/// Look-behind kept after a forced cut, for the scans after it: a find
/// crossing the cut that starts within it is found again, so the output
/// is more often the whole text's. Nothing relies on it: a find crossing
/// the cut is redacted to its end and over what a dump's lines may still
/// add to it ([`GROUP_REST`]) by its `Cover`, which the token shapes read
/// as blank, whether or not its start is still held.
const FORCED_CONTEXT: usize = PEM_MAX + (4 << 10);

/// Emitted text of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPiece {
    /// Where the process wrote it.
    pub stream: OutputStream,
    /// The text, redacted.
    pub text: String,
}

/// The held-back output of one job.
#[derive(Debug, Default, Clone)]
pub struct StreamRedactor {
    /// `text[..emitted]` is look-behind already emitted; the rest is held.
    text: String,
    emitted: usize,
    /// Whether `text` starts inside a line (its start is gone).
    mid_line: bool,
    /// Whether the last byte emitted was part of a redaction.
    covered: bool,
    /// Which stream each byte of `text` came from: (end, stream), in order.
    labels: Vec<(usize, OutputStream)>,
    /// Bytes at the end of `text` not scanned yet.
    unscanned: usize,
    /// The rest of a redaction a forced cut or a let-go cut short.
    cover: Option<Cover>,
}

/// What follows the emitted text up to `end` is redacted as `name`,
/// whether the scan finds it again or not: the look-behind kept after a
/// forced cut may no longer hold the whole of what it was part of.
#[derive(Debug, Clone)]
struct Cover {
    end: usize,
    name: String,
}

impl StreamRedactor {
    /// A stream whose first `reach` bytes are redacted as one, named
    /// [`AFTER_RESTART`]: it held something when the orchestrator before
    /// this one died, and what comes first may be the rest of a secret.
    pub fn after_restart(reach: usize) -> Self {
        Self {
            cover: Some(Cover {
                end: reach,
                name: AFTER_RESTART.to_owned(),
            }),
            ..Self::default()
        }
    }

    /// Output the stream never got (a batch the worker gave up sending)
    /// came after what it holds: what it holds and the next `reach` bytes
    /// are redacted as one, named [`LOST`], since what comes next may be
    /// the rest of a secret whose start was lost.
    pub fn lost_before_next(&mut self, reach: usize) {
        let end = self.text.len() + reach;
        if self.cover.as_ref().is_none_or(|cover| cover.end < end) {
            self.cover = Some(Cover {
                end,
                name: LOST.to_owned(),
            });
        }
    }

    /// The output that follows what the stream holds will never come (it
    /// was dropped: its job's budget is spent): what it holds, which may
    /// be the start of a secret, is redacted as one, named [`CUT`], when
    /// it is let go, not scanned as a whole text's end.
    pub fn cut_short(&mut self) {
        let end = self.text.len();
        if self.held() > 0 && self.cover.as_ref().is_none_or(|cover| cover.end < end) {
            self.cover = Some(Cover {
                end,
                name: CUT.to_owned(),
            });
        }
    }

    /// Bytes received and not yet emitted.
    pub fn held(&self) -> usize {
        self.text.len() - self.emitted
    }

    /// Whether it holds output, or owes the redaction of some still to come
    /// (a find a forced cut went through, a restart): lost with the
    /// orchestrator, either would let the rest of a secret out.
    pub fn holds(&self) -> bool {
        self.held() > 0 || self.cover.is_some()
    }

    /// Redacts `chunk` of `stream`; returns what may be emitted now.
    pub fn push(
        &mut self,
        redactor: &Redactor,
        stream: OutputStream,
        chunk: &str,
        findings: &mut Findings,
    ) -> Vec<OutputPiece> {
        if chunk.is_empty() {
            return Vec::new();
        }
        self.text.push_str(chunk);
        match self.labels.last_mut() {
            Some((end, last)) if *last == stream => *end = self.text.len(),
            _ => self.labels.push((self.text.len(), stream)),
        }
        self.unscanned += chunk.len();
        let scanned = self.text.len() - self.unscanned;
        if scanned >= RESCAN_FLOOR && self.unscanned < scanned / 4 {
            // Held, as everything after the live position is: holding
            // longer is always safe.
            return Vec::new();
        }
        self.unscanned = 0;
        let scan = redactor.scan(&self.text, self.emitted, !self.mid_line, self.covered_to());
        let cover = self.cover.clone();
        let merged = self.merged(scan.hits, cover.as_ref());
        let mut cut = scan::floor_boundary(&self.text, scan.live);
        if let Some(crossing) = merged.iter().find(|hit| hit.start < cut && cut < hit.end) {
            cut = crossing.start;
        }
        let mut forced = false;
        if self.text.len() - cut > HOLD_CAP {
            forced = true;
            cut = scan::floor_boundary(&self.text, scan.live.max(self.emitted));
        }
        if self.text.len() - cut > MAX_HELD {
            // Whatever the live position held open may go on past the end.
            return self.let_go_redacted(cut, merged, redactor.reach(), findings);
        }
        if let Some(crossing) = merged.iter().find(|hit| hit.start < cut && cut < hit.end) {
            // Only a forced cut goes through a find. The find may still grow
            // (a dump's last group, as lines join it) where the scans after
            // the cut no longer see its start: its cover goes on over all it
            // could gain, whatever kind of find it is.
            let end = crossing.end + GROUP_REST;
            if self.cover.as_ref().is_none_or(|cover| cover.end < end) {
                self.cover = Some(Cover {
                    end,
                    name: crossing.name.to_owned(),
                });
            }
        }
        let pieces = self.emit(cut, &merged, findings);
        self.covered = merged.iter().any(|hit| hit.start < cut && cut <= hit.end)
            || (cut == self.emitted && self.covered);
        self.keep_from(cut, forced);
        pieces
    }

    /// `hits` merged, with what `cover` still redacts.
    fn merged<'a>(&self, mut hits: Vec<Hit<'a>>, cover: Option<&'a Cover>) -> Vec<Hit<'a>> {
        if let Some(cover) = cover {
            let mut end = cover.end.min(self.text.len());
            while !self.text.is_char_boundary(end) {
                end += 1;
            }
            if end > self.emitted {
                hits.push(Hit::new(self.emitted, end, &cover.name));
            }
        }
        scan::merge(hits)
    }

    /// Emits up to `cut` as it is redacted, and everything after it as one
    /// [`TOO_LONG`] redaction, which goes on for `reach` bytes more.
    fn let_go_redacted(
        &mut self,
        cut: usize,
        mut merged: Vec<Hit<'_>>,
        reach: usize,
        findings: &mut Findings,
    ) -> Vec<OutputPiece> {
        merged.retain(|hit| hit.start < cut);
        if let Some(last) = merged.last_mut() {
            last.end = last.end.min(cut);
        }
        merged.push(Hit::new(cut, self.text.len(), TOO_LONG));
        let end = self.text.len();
        let pieces = self.emit(end, &merged, findings);
        self.covered = true;
        self.cover = Some(Cover {
            end: end + reach,
            name: TOO_LONG.to_owned(),
        });
        self.keep_from(end, true);
        pieces
    }

    /// Emits everything held, redacted as the end of the text.
    pub fn flush(&mut self, redactor: &Redactor, findings: &mut Findings) -> Vec<OutputPiece> {
        if self.held() == 0 {
            return Vec::new();
        }
        self.unscanned = 0;
        let scan = redactor.scan(&self.text, self.emitted, !self.mid_line, self.covered_to());
        let cover = self.cover.clone();
        let merged = self.merged(scan.hits, cover.as_ref());
        let pieces = self.emit(self.text.len(), &merged, findings);
        self.covered = merged.last().is_some_and(|hit| hit.end == self.text.len());
        self.keep_from(self.text.len(), false);
        pieces
    }

    /// The pieces of `text[emitted..cut]`, redacted; a hit crossing `cut`
    /// (only after a forced cut) is redacted up to it.
    fn emit(&self, cut: usize, merged: &[Hit<'_>], findings: &mut Findings) -> Vec<OutputPiece> {
        let mut pieces: Vec<OutputPiece> = Vec::new();
        let mut at = self.emitted;
        for hit in merged.iter().filter(|hit| hit.start < cut) {
            self.emit_plain(at, hit.start, &mut pieces);
            let mut marker = String::new();
            let end = hit.end.min(cut);
            scan::write_redacted(
                &self.text,
                hit.start,
                end,
                &[Hit::new(hit.start, end, hit.name)],
                &mut marker,
                findings,
            );
            push_piece(&mut pieces, self.stream_at(hit.start), &marker);
            at = end;
        }
        self.emit_plain(at, cut, &mut pieces);
        pieces
    }

    /// `text[from..to]` as is, split where its stream changes.
    fn emit_plain(&self, mut from: usize, to: usize, pieces: &mut Vec<OutputPiece>) {
        let first = self.labels.partition_point(|(end, _)| *end <= from);
        for (end, stream) in &self.labels[first..] {
            if from >= to {
                break;
            }
            let piece_end = (*end).min(to);
            push_piece(pieces, *stream, &self.text[from..piece_end]);
            from = piece_end;
        }
    }

    fn stream_at(&self, position: usize) -> OutputStream {
        let index = self.labels.partition_point(|(end, _)| *end <= position);
        self.labels
            .get(index)
            .map_or(OutputStream::Stdout, |(_, stream)| *stream)
    }

    /// Where the redaction at the end of the emitted text ends: where its
    /// [`Cover`] ends when there is one (a cover redacts from the end of
    /// what was emitted on, whether the last byte emitted was redacted or
    /// not, as on a stream's first push after a restart), else at the end
    /// of what was emitted when its last byte was redacted.
    fn covered_to(&self) -> Option<usize> {
        match &self.cover {
            Some(cover) => Some(cover.end),
            None => self.covered.then_some(self.emitted),
        }
    }

    /// Drops what no longer serves as look-behind; `cut` becomes the end
    /// of what was emitted.
    fn keep_from(&mut self, cut: usize, forced: bool) {
        let line_start = self.text[..cut].rfind('\n').map_or(0, |at| at + 1);
        let line_whole = line_start > 0 || !self.mid_line;
        let keep = if forced {
            cut.saturating_sub(FORCED_CONTEXT)
        } else if cut - line_start <= CONTEXT && line_whole {
            line_start
        } else {
            cut.saturating_sub(CONTEXT)
        };
        let keep = scan::floor_boundary(&self.text, keep);
        if keep > 0 {
            self.mid_line = self.text.as_bytes()[keep - 1] != b'\n';
        }
        self.text.drain(..keep);
        self.emitted = cut - keep;
        if let Some(cover) = &mut self.cover {
            cover.end = cover.end.saturating_sub(keep);
        }
        let emitted = self.emitted;
        self.cover = self.cover.take().filter(|cover| cover.end > emitted);
        self.labels.retain_mut(|(end, _)| {
            *end = end.saturating_sub(keep);
            *end > 0
        });
        if self.text.is_empty() {
            self.labels.clear();
        }
    }
}

fn push_piece(pieces: &mut Vec<OutputPiece>, stream: OutputStream, text: &str) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some(last) if last.stream == stream => last.text.push_str(text),
        _ => pieces.push(OutputPiece {
            stream,
            text: text.to_owned(),
        }),
    }
}
