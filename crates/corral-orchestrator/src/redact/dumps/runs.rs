//! Runs of consecutive dump lines, kept as the byte streams they print
//! and searched for every needle.
//!
//! Lines under another line's offset (`od`), or at the same offset again
//! (`hexdump`), and that offset line make a group, the same bytes in
//! several formats. Each format has a stream of its own
//! at each place in a group (`od -b -c` and `od -d -t x1 -x` print two
//! formats alike: they are read apart); a find in a group of several lines
//! covers the whole group, so a format this reader cannot turn back into
//! bytes (`od -d -c`, `od -t x8 -c`) goes with one it can. A stream's
//! bytes are a line of a group apart, so with four formats or more, the
//! lines between them take more text than a part allows (`TEXT_PER_BYTE`)
//! and each line is searched alone.

use super::keyed::{Bytes, KEYED, MAX_GROUP, Ranges};

mod alike;
use super::parse::{MAX_LINE_BYTES, could_be_dump, parse, same_offset, worth_reading};
use super::streams::STREAMS;
use crate::redact::exact::ExactFinder;
use crate::redact::scan::Hit;

/// A dump line of a run: its place in the text, the index of its first
/// byte in each stream, and the first line of its group: the line itself
/// when it has an offset of its own (or no line with one is above it),
/// else the line with the offset it sits under or repeats.
struct Line {
    start: usize,
    end: usize,
    first: [usize; STREAMS],
    /// The same for the streams of the places past the first (empty for a
    /// dump of one format: no allocation); a stream past them was empty.
    more: Box<[usize]>,
    group: usize,
}

impl Line {
    /// The index of the line's first byte in stream `run`.
    fn first(&self, run: usize) -> usize {
        match run.checked_sub(STREAMS) {
            None => self.first[run],
            Some(past) => self.more.get(past).copied().unwrap_or(0),
        }
    }
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

/// The blank `od` puts under its offset on other formats' lines: 7 (6 for
/// `-A x`), however wide the offset grows (past 2 MiB, 16 MiB, 10 MB).
const OFFSET_PAD: usize = 6;

/// Most text a stream may go without a byte before its part ends: past
/// it, any line that gave it bytes would start a new part anyway.
const MAX_GAP: usize = TEXT_PER_BYTE * MAX_LINE_BYTES + LINE_SLACK;

/// The byte streams of consecutive dump lines.
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
    /// Streams past these are empty: those of places no line had.
    used: usize,
}

impl Default for Runs {
    fn default() -> Self {
        Self {
            bytes: Bytes::default(),
            lines: Vec::new(),
            fed: [0; KEYED],
            last_gave: [0; KEYED],
            cuts: std::array::from_fn(|_| Vec::new()),
            used: 0,
        }
    }
}

impl Runs {
    fn clear(&mut self) {
        self.bytes.runs.iter_mut().for_each(Vec::clear);
        self.bytes.diverged = [false; MAX_GROUP];
        self.lines.clear();
        self.cuts.iter_mut().for_each(Vec::clear);
        self.used = 0;
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
        (0..self.used)
            .filter(|&run| self.bytes.stored(run) == run && !self.bytes.runs[run].is_empty())
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

    /// Whether the group of line `index` starts with an offset line.
    fn has_offset(&self, text: &[u8], index: usize) -> bool {
        text[self.lines[self.lines[index].group].start] != b' '
    }

    /// Reads `text[start..end]` (`end` its line break, or the text's end)
    /// as a dump line onto the runs; false when it is none.
    fn push_line(&mut self, text: &[u8], start: usize, end: usize) -> bool {
        let line = &text[start..end];
        if !worth_reading(line.strip_suffix(b"\r").unwrap_or(line)) {
            return false;
        }
        let (mut group, again) = match self.lines.last() {
            Some(above) if self.lines.len() - above.group < MAX_GROUP => {
                let head = &self.lines[above.group];
                let head = &text[head.start..head.end];
                // Under the offset of the group above (`od`): blank
                // where the offset was, and the format's own columns,
                // each of which starts with a space (a line with fewer
                // spaces first is no format of the offset's bytes: `od
                // -An -c` after a line that only looks like an offset);
                // at that offset again (`hexdump -b -c` prints it on
                // every line), the bytes tell (see `alike`). Past what od's
                // blank holds ([`OFFSET_PAD`]) fewer spaces do, under a line
                // that gave no bytes (`od -f -c`); after one that did, the
                // bytes tell (`od -An -i` after `xxd` is a dump of its own).
                let spaces = line.iter().take_while(|&&byte| byte == b' ').count();
                let digits = head
                    .iter()
                    .take_while(|byte| byte.is_ascii_hexdigit())
                    .count();
                let under = head.first() != Some(&b' ')
                    && (spaces > digits
                        || (spaces > digits.min(OFFSET_PAD)
                            && !self.head_gave(above.group, |run| self.bytes.len(run))));
                let group = if under { above.group } else { self.lines.len() };
                (group, same_offset(line, head))
            }
            _ => (self.lines.len(), false),
        };
        let mut first = [0; KEYED];
        if !self.read(text, start, end, group, &mut first) {
            return false;
        }
        if let Some(above) = self.joins_above(line, group, again, &first) {
            self.take_back(&first);
            group = above;
            if !self.read(text, start, end, group, &mut first) {
                return false;
            }
        }
        if self.lines.is_empty() {
            self.fed = [start; KEYED];
            self.last_gave = [0; KEYED];
        }
        self.lines.push(Line {
            start,
            end,
            first: std::array::from_fn(|run| first[run]),
            more: first[STREAMS..self.used.max(STREAMS)].into(),
            group,
        });
        let next = end + 1;
        let line_text = next - start;
        for (run, &had) in first.iter().enumerate().take(self.used) {
            let len = self.bytes.len(run);
            let added = len - had;
            if added > 0 {
                let before = start - self.fed[run];
                let with_last = TEXT_PER_BYTE * added.max(self.last_gave[run]) + LINE_SLACK;
                if before > 0 && before + line_text > with_last {
                    self.cut(run, had);
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

    /// Reads `text[start..end]` into the streams of its place in `group`,
    /// and `first` the index each stream was at before it; false when the
    /// line is no dump line (then nothing went in).
    fn read(
        &mut self,
        text: &[u8],
        start: usize,
        end: usize,
        group: usize,
        first: &mut [usize; KEYED],
    ) -> bool {
        self.bytes.place = self.lines.len() - group;
        self.used = self.used.max(STREAMS * (self.bytes.place + 1));
        for (run, first) in first.iter_mut().enumerate().take(self.used) {
            *first = self.bytes.len(run);
        }
        parse(text, start, end, &mut self.bytes)
    }

    /// The index of the line holding byte `index` of stream `run`.
    fn line_of(&self, run: usize, index: usize) -> usize {
        let after = self.lines.partition_point(|line| line.first(run) <= index);
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
                    .partition_point(|line| line.first(run) <= found.start)
                    - 1;
                let (mut start, mut end) = (usize::MAX, 0);
                let mut last = first;
                for (index, line) in self.lines[first..]
                    .iter()
                    .enumerate()
                    .take_while(|(_, line)| line.first(run) < found.end)
                {
                    last = first + index;
                    let mut ranges = Ranges {
                        run,
                        place: first + index - line.group,
                        printed: Vec::new(),
                    };
                    parse(text, line.start, line.end, &mut ranges);
                    // Swapped words put a byte's digits after the next one's.
                    for (offset, range) in ranges.printed.iter().enumerate() {
                        if (found.start..found.end).contains(&(line.first(run) + offset)) {
                            start = start.min(range.0);
                            end = end.max(range.1);
                        }
                    }
                }
                // Every byte of a stream was printed somewhere: never empty.
                if start < end {
                    // The same bytes in the other formats of its groups;
                    // above the find, only under an offset. A group with
                    // none is held while open only once a find reaches it,
                    // so a stream let the lines above go before the find
                    // came; and every format there is read back, so each
                    // line's own find covers it.
                    if let Some((top, _)) = self.several(first)
                        && self.has_offset(text, first)
                    {
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
                let from = self.lines[first].first(run).max(self.last_part(run));
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
                .min(runs.last_group_start(text, runs.reached(text, finder, names)));
        }
        if !runs.push_line(text, line_start, line_end) && !runs.lines.is_empty() {
            runs.search(text, finder, names, hits);
            runs.clear();
        }
        line_start = line_end + 1;
    }
    let before = hits.len();
    runs.search(text, finder, names, hits);
    let reached = hits[before..].iter().map(|hit| hit.end).max().unwrap_or(0);
    // A run that reaches the end may go on in the next line, and its last
    // group too.
    live.min(runs.live(from, finder))
        .min(runs.last_group_start(text, reached))
        .max(from)
}
