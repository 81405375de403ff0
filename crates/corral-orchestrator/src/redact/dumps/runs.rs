//! Runs of consecutive dump lines, kept as the byte streams they print
//! and searched for every needle.
//!
//! Each format has a stream of its own, and so has each format on lines
//! under another line's offset (`od -b -c` prints both formats as cells:
//! they are read apart). Such lines and the offset line above them make a
//! group, the same bytes in several formats; a find in a group of several
//! lines covers the whole group, so a format this reader cannot turn back
//! into bytes (`od -d -c`, `od -t x8 -c`) goes with the one it can.

use super::parse::{DATA, MAX_LINE_BYTES, STREAMS, SWAPPED, Sink, could_be_dump, parse, plausible};
use crate::redact::exact::ExactFinder;
use crate::redact::scan::Hit;

/// The streams a run keeps: each of the formats' streams, for lines with
/// an offset and for lines under one (see [`keyed`]).
const KEYED: usize = 2 * STREAMS;
/// Every keyed stream.
const ALL: [usize; KEYED] = [0, 1, 2, 3, 4, 5, 6, 7];

/// The stream a line's bytes of `format` go to: lines that start with a
/// space (under another line's offset, or with no offset) have their own.
fn keyed(format: usize, indented: bool) -> usize {
    format + if indented { STREAMS } else { 0 }
}

/// The bytes alone, what the search reads. A swapped stream is its data
/// stream again until it diverges (a swapped word): only then is it kept.
#[derive(Default)]
struct Bytes {
    runs: [Vec<u8>; KEYED],
    diverged: [bool; 2],
    /// Whether the line being read starts with a space.
    indented: bool,
}

impl Bytes {
    /// The length of keyed stream `run`.
    fn len(&self, run: usize) -> usize {
        let run = if run % STREAMS == SWAPPED && !self.diverged[run / STREAMS] {
            run - SWAPPED + DATA
        } else {
            run
        };
        self.runs[run].len()
    }
}

impl Sink for Bytes {
    fn push(&mut self, format: usize, byte: u8, _range: (usize, usize)) {
        let set = usize::from(self.indented);
        if format != SWAPPED || self.diverged[set] {
            self.runs[keyed(format, self.indented)].push(byte);
        }
    }

    fn diverges(&mut self) {
        let set = usize::from(self.indented);
        if !self.diverged[set] {
            self.diverged[set] = true;
            let data = self.runs[keyed(DATA, self.indented)].clone();
            self.runs[keyed(SWAPPED, self.indented)] = data;
        }
    }
}

/// Where one stream's bytes were printed: read again for a line only
/// when something was found in it.
struct Ranges {
    run: usize,
    indented: bool,
    printed: Vec<(usize, usize)>,
}

impl Sink for Ranges {
    fn push(&mut self, format: usize, _byte: u8, range: (usize, usize)) {
        if keyed(format, self.indented) == self.run {
            self.printed.push(range);
        }
    }
}

/// A dump line of a run: its place in the text, the index of its first
/// byte in each stream, and the first line of its group: the line itself
/// when it has an offset (or no line with one is above it), else the line
/// with the offset it sits under.
struct Line {
    start: usize,
    end: usize,
    first: [usize; KEYED],
    group: usize,
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

/// Most lines in a group (`od` with seven formats under one offset):
/// the last group is held while it may go on, and no longer than this.
const MAX_GROUP: usize = 8;

/// The byte streams of consecutive dump lines.
#[derive(Default)]
struct Runs {
    bytes: Bytes,
    lines: Vec<Line>,
    /// Per stream, where the text after the last line that gave it a byte
    /// starts (the run's start before any did, or where its part was
    /// ended for want of bytes).
    fed: [usize; KEYED],
    /// Per stream, how many bytes the last line that gave it some gave (0
    /// before any did, and once its part was ended for want of bytes).
    last_gave: [usize; KEYED],
    /// Per stream, where each part after the first starts.
    cuts: [Vec<usize>; KEYED],
}

impl Runs {
    fn clear(&mut self) {
        self.bytes.runs.iter_mut().for_each(Vec::clear);
        self.bytes.diverged = [false; 2];
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

    /// The streams worth reading: a swapped one only if it differs.
    fn streams(&self) -> impl Iterator<Item = usize> + '_ {
        ALL.into_iter().filter(|&run| {
            let swapped_alike = run % STREAMS == SWAPPED && !self.bytes.diverged[run / STREAMS];
            !swapped_alike && !self.bytes.runs[run].is_empty()
        })
    }

    /// Where the group of line `index` starts and ends in the text, when
    /// it has several lines.
    fn several(&self, index: usize) -> Option<(usize, usize)> {
        let group = self.lines[index].group;
        let after = self.lines[index..]
            .iter()
            .position(|line| line.group != group)
            .map_or(self.lines.len(), |past| index + past);
        (after - group > 1).then(|| (self.lines[group].start, self.lines[after - 1].end))
    }

    /// Where the run's last group starts; `usize::MAX` for no run. More
    /// lines under its offset may yet come, and a find in them covers it.
    fn last_group_start(&self) -> usize {
        self.lines
            .last()
            .map_or(usize::MAX, |last| self.lines[last.group].start)
    }

    /// Reads `text[start..end]` (`end` its line break, or the text's end)
    /// as a dump line onto the runs; false when it is none.
    fn push_line(&mut self, text: &[u8], start: usize, end: usize) -> bool {
        let line = &text[start..end];
        if !plausible(line.strip_suffix(b"\r").unwrap_or(line)) {
            return false;
        }
        let first = ALL.map(|run| self.bytes.len(run));
        let indented = line.first() == Some(&b' ');
        self.bytes.indented = indented;
        if !parse(text, start, end, &mut self.bytes) {
            return false;
        }
        if self.lines.is_empty() {
            self.fed = [start; KEYED];
            self.last_gave = [0; KEYED];
        }
        let group = match self.lines.last() {
            // Under the offset of the group above.
            Some(above)
                if indented
                    && text[self.lines[above.group].start] != b' '
                    && self.lines.len() - above.group < MAX_GROUP =>
            {
                above.group
            }
            _ => self.lines.len(),
        };
        self.lines.push(Line {
            start,
            end,
            first,
            group,
        });
        let next = end + 1;
        let line_text = next - start;
        for run in ALL {
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

    /// The index of the line holding byte `index` of stream `run`.
    fn line_of(&self, run: usize, index: usize) -> usize {
        let after = self.lines.partition_point(|line| line.first[run] <= index);
        after.saturating_sub(1)
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
        for run in self.streams() {
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
                let mut last = first;
                for (index, line) in self.lines[first..]
                    .iter()
                    .enumerate()
                    .take_while(|(_, line)| line.first[run] < found.end)
                {
                    last = first + index;
                    let mut ranges = Ranges {
                        run,
                        indented: text[line.start] == b' ',
                        printed: Vec::new(),
                    };
                    parse(text, line.start, line.end, &mut ranges);
                    // Swapped words put a byte's digits after the next one's.
                    for (offset, range) in ranges.printed.iter().enumerate() {
                        if (found.start..found.end).contains(&(line.first[run] + offset)) {
                            start = start.min(range.0);
                            end = end.max(range.1);
                        }
                    }
                }
                // Every byte of a stream was printed somewhere: never empty.
                if start < end {
                    // The same bytes in the other formats of its groups.
                    if let Some((top, _)) = self.several(first) {
                        start = start.min(top);
                    }
                    if let Some((_, bottom)) = self.several(last) {
                        end = end.max(bottom);
                    }
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
            .filter_map(|run| {
                let from = self.lines[first].first[run].max(self.last_part(run));
                let start = finder.partial_start(&self.bytes.runs[run], from)?;
                Some(self.lines[self.lines[self.line_of(run, start)].group].start)
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
            live = live
                .min(line_start)
                .min(runs.live(from, finder))
                .min(runs.last_group_start());
        }
        if !runs.push_line(text, line_start, line_end) && !runs.lines.is_empty() {
            runs.search(text, finder, names, hits);
            runs.clear();
        }
        line_start = line_end + 1;
    }
    runs.search(text, finder, names, hits);
    // A run that reaches the end may go on in the next line, and its last
    // group too.
    live.min(runs.live(from, finder))
        .min(runs.last_group_start())
        .max(from)
}
