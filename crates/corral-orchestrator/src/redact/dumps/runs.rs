//! Runs of consecutive dump lines, kept as the byte streams they print
//! and searched for every needle.

use super::parse::{
    ASCII, CELLS, DATA, MAX_LINE_BYTES, STREAMS, SWAPPED, Sink, could_be_dump, parse, plausible,
};
use crate::redact::exact::ExactFinder;
use crate::redact::scan::Hit;

/// The bytes alone, what the search reads. The swapped stream is the
/// data stream again until it diverges (a swapped word): only then is it
/// kept.
#[derive(Default)]
struct Bytes {
    runs: [Vec<u8>; STREAMS],
    diverged: bool,
}

impl Bytes {
    /// The length of stream `run`.
    fn len(&self, run: usize) -> usize {
        let run = if run == SWAPPED && !self.diverged {
            DATA
        } else {
            run
        };
        self.runs[run].len()
    }
}

impl Sink for Bytes {
    fn push(&mut self, run: usize, byte: u8, _range: (usize, usize)) {
        if run != SWAPPED || self.diverged {
            self.runs[run].push(byte);
        }
    }

    fn diverges(&mut self) {
        if !self.diverged {
            self.diverged = true;
            let [data, swapped, ..] = &mut self.runs;
            swapped.clone_from(data);
        }
    }
}

/// Where one stream's bytes were printed: read again for a line only
/// when something was found in it.
struct Ranges {
    run: usize,
    ranges: Vec<(usize, usize)>,
}

impl Sink for Ranges {
    fn push(&mut self, run: usize, _byte: u8, range: (usize, usize)) {
        if run == self.run {
            self.ranges.push(range);
        }
    }
}

/// A dump line of a run: its place in the text, and the index of its
/// first byte in each stream.
struct Line {
    start: usize,
    end: usize,
    first: [usize; STREAMS],
}

/// Most text a byte of a stream may take in a part of a run, beside
/// [`LINE_SLACK`] a line. A line that gives a stream `k` bytes may take
/// `TEXT_PER_BYTE * k + LINE_SLACK` bytes of text (its line break
/// included): longer, it ends the stream's part after its bytes (the last,
/// short line of a dump). With the lines since the stream's last byte
/// (lines of another layout between: `hexdump -x -c`, `od -x -c`), it may
/// take as much for the larger of `k` and what that last line gave:
/// longer, its bytes start a new part. A stream's parts are searched apart.
/// Real dumps take about five bytes of text a byte (`xxd -c 1`, sixteen and
/// the slack). Without a bound a run could keep a needle's start live for
/// ever on lines that add nothing, and spread a needle over more text than
/// a restarted stream covers (`Redactor::reach`, which allows
/// [`MOST_TEXT_PER_BYTE`]: a byte counted for its own line and the next).
pub const TEXT_PER_BYTE: usize = 16;
/// Text a line may take beyond [`TEXT_PER_BYTE`] a byte: a `\r`, a wider
/// offset.
const LINE_SLACK: usize = 8;
/// The most text a byte of a part can take.
pub const MOST_TEXT_PER_BYTE: usize = 2 * TEXT_PER_BYTE + LINE_SLACK;

/// Most text a stream may go without a byte before its part ends: past
/// it, any line that gave it bytes would start a new part anyway.
const MAX_GAP: usize = TEXT_PER_BYTE * MAX_LINE_BYTES + LINE_SLACK;

/// The byte streams of consecutive dump lines.
#[derive(Default)]
struct Runs {
    bytes: Bytes,
    lines: Vec<Line>,
    /// Per stream, where the text after the last line that gave it a byte
    /// starts (the run's start before any did, or where its part was
    /// ended for want of bytes).
    fed: [usize; STREAMS],
    /// Per stream, how many bytes the last line that gave it some gave (0
    /// before any did, and once its part was ended for want of bytes).
    last_gave: [usize; STREAMS],
    /// Per stream, where each part after the first starts.
    cuts: [Vec<usize>; STREAMS],
}

impl Runs {
    fn clear(&mut self) {
        self.bytes.runs.iter_mut().for_each(Vec::clear);
        self.bytes.diverged = false;
        self.lines.clear();
        self.cuts.iter_mut().for_each(Vec::clear);
    }

    /// Ends stream `run`'s part at its byte `at` (nothing when the part
    /// would be empty).
    fn cut(&mut self, run: usize, at: usize) {
        if at > self.last_part(run) {
            self.cuts[run].push(at);
        }
    }

    /// Where stream `run`'s last part starts.
    fn last_part(&self, run: usize) -> usize {
        self.cuts[run].last().copied().unwrap_or(0)
    }

    /// The streams worth reading: the swapped one only if it differs.
    fn streams(&self) -> &'static [usize] {
        if self.bytes.diverged {
            &[DATA, SWAPPED, ASCII, CELLS]
        } else {
            &[DATA, ASCII, CELLS]
        }
    }

    /// Reads `text[start..end]` (`end` its line break, or the text's end)
    /// as a dump line onto the runs; false when it is none.
    fn push_line(&mut self, text: &[u8], start: usize, end: usize) -> bool {
        let line = &text[start..end];
        if !plausible(line.strip_suffix(b"\r").unwrap_or(line)) {
            return false;
        }
        let first = [DATA, SWAPPED, ASCII, CELLS].map(|run| self.bytes.len(run));
        if !parse(text, start, end, &mut self.bytes) {
            return false;
        }
        if self.lines.is_empty() {
            self.fed = [start; STREAMS];
            self.last_gave = [0; STREAMS];
        }
        self.lines.push(Line { start, end, first });
        let next = end + 1;
        let line_text = next - start;
        for run in [DATA, SWAPPED, ASCII, CELLS] {
            let len = self.bytes.len(run);
            let added = len - first[run];
            if added > 0 {
                let before = start - self.fed[run];
                let with_last = TEXT_PER_BYTE * added.max(self.last_gave[run]) + LINE_SLACK;
                if before > 0 && before + line_text > with_last {
                    self.cut(run, first[run]);
                }
                if line_text > TEXT_PER_BYTE * added + LINE_SLACK {
                    self.cut(run, len);
                }
                self.fed[run] = next;
                self.last_gave[run] = added;
            } else if next - self.fed[run] > MAX_GAP {
                self.cut(run, len);
                self.fed[run] = next;
                self.last_gave[run] = 0;
            }
        }
        true
    }

    /// The line holding byte `index` of stream `run`.
    fn line_of(&self, run: usize, index: usize) -> &Line {
        let after = self.lines.partition_point(|line| line.first[run] <= index);
        &self.lines[after.saturating_sub(1)]
    }

    fn search<'a>(
        &self,
        text: &[u8],
        finder: &ExactFinder,
        names: &'a [String],
        hits: &mut Vec<Hit<'a>>,
    ) {
        if self.lines.is_empty() {
            return;
        }
        for &run in self.streams() {
            let bytes = &self.bytes.runs[run];
            let ends = self.cuts[run].iter().copied().chain([bytes.len()]);
            let parts = std::iter::once(0)
                .chain(self.cuts[run].iter().copied())
                .zip(ends);
            let found = parts
                .filter(|(from, to)| to - from >= 2)
                .flat_map(|(from, to)| {
                    finder
                        .find_all(&bytes[from..to])
                        .into_iter()
                        .map(move |mut found| {
                            found.start += from;
                            found.end += from;
                            found
                        })
                });
            for found in found {
                let first = self
                    .lines
                    .partition_point(|line| line.first[run] <= found.start)
                    - 1;
                let (mut start, mut end) = (usize::MAX, 0);
                for line in self.lines[first..]
                    .iter()
                    .take_while(|line| line.first[run] < found.end)
                {
                    let mut ranges = Ranges {
                        run,
                        ranges: Vec::new(),
                    };
                    parse(text, line.start, line.end, &mut ranges);
                    // Swapped words put a byte's digits after the next one's.
                    for (offset, range) in ranges.ranges.iter().enumerate() {
                        if (found.start..found.end).contains(&(line.first[run] + offset)) {
                            start = start.min(range.0);
                            end = end.max(range.1);
                        }
                    }
                }
                // Every byte of a stream was printed somewhere: never empty.
                if start < end {
                    hits.push(Hit::new(start, end, &names[found.needle]));
                }
            }
        }
    }

    /// The start of the line of the earliest byte from which a stream
    /// could still complete a needle, reading the lines that end after
    /// `from`; `usize::MAX` when none.
    fn live(&self, from: usize, finder: &ExactFinder) -> usize {
        let Some(first) = self.lines.iter().position(|line| line.end > from) else {
            return usize::MAX;
        };
        self.streams()
            .iter()
            .filter_map(|&run| {
                let from = self.lines[first].first[run].max(self.last_part(run));
                let start = finder.partial_start(&self.bytes.runs[run], from)?;
                Some(self.line_of(run, start).start)
            })
            .min()
            .unwrap_or(usize::MAX)
    }
}

/// Adds every needle found in the dumps of `text` (whose first line is
/// whole when `at_line_start`); returns the earliest position at or after
/// `from` that more text could still make part of a find.
pub fn find<'a>(
    text: &[u8],
    newlines: &[usize],
    from: usize,
    at_line_start: bool,
    finder: &ExactFinder,
    names: &'a [String],
    hits: &mut Vec<Hit<'a>>,
) -> usize {
    let mut live = text.len();
    let mut line_start = if at_line_start {
        0
    } else {
        match newlines.first() {
            Some(end) => end + 1,
            None => return live,
        }
    };
    let mut runs = Runs::default();
    let first_line = line_start;
    let mut ends = newlines[newlines.partition_point(|&end| end < first_line)..]
        .iter()
        .copied();
    while line_start < text.len() {
        let line_end = ends.next().unwrap_or(text.len());
        if line_end == text.len() && could_be_dump(&text[line_start..]) {
            // Unfinished: it, and any run it may continue, wait for its end.
            live = live.min(line_start).min(runs.live(from, finder));
        }
        if !runs.push_line(text, line_start, line_end) && !runs.lines.is_empty() {
            runs.search(text, finder, names, hits);
            runs.clear();
        }
        line_start = line_end + 1;
    }
    runs.search(text, finder, names, hits);
    // A run that reaches the end may go on in the next line.
    live.min(runs.live(from, finder)).max(from)
}
