//! Dumps with no offsets (`od -An`), or with the offset printed again on
//! each format's line (`hexdump -b -c`), in several formats: a line that
//! prints the bytes of the line above again is another format of the same
//! bytes. It joins the group of the line above, so each has streams of its
//! own, and a find in one covers all. Formats read alike (`od -An -b -c`:
//! octal bytes and `od -c` cells) went into one stream, which held every
//! byte twice, and a format between them (`od -An -b -x -c`) too. So the
//! last group of a run may still grow while lines come: what the stream
//! holds for it is here too.

use super::super::keyed::keyed;
use super::super::streams::STREAMS;
use super::{KEYED, MAX_GROUP, Runs};
use crate::redact::exact::ExactFinder;

/// The fewest bytes two lines print alike to be read as one line's bytes
/// in two formats.
const ALIKE_BYTES: usize = 4;

impl Runs {
    /// The group of the line above, when `line`, read into a group of its
    /// own, is another format of its bytes: with no offset (`od -An`), or
    /// at the same offset (`again`: `hexdump -b -c`), it gave a stream the
    /// very bytes (at least [`ALIKE_BYTES`]) a line of that group gave a
    /// stream, of any format (`od -An -b -x -c`: the words' swapped bytes are the
    /// cells'). At the same offset, a line of numbers not read back, or
    /// one under such a line, goes with it too (`hexdump -d -c`). Two
    /// dumps printed one after the other (`xxd VERSION; xxd env`, the
    /// first one line long) start at the same offset too: the second's
    /// first line gives other bytes, and stays the start of its own dump.
    pub(super) fn joins_above(
        &self,
        line: &[u8],
        group: usize,
        again: bool,
        first: &[usize; KEYED],
    ) -> Option<usize> {
        let index = self.lines.len().checked_sub(1)?;
        let above = &self.lines[index];
        if group != self.lines.len()
            || !(again || line.first() == Some(&b' '))
            || self.lines.len() - above.group >= MAX_GROUP
        {
            return None;
        }
        let given: [&[u8]; STREAMS] = std::array::from_fn(|format| {
            let run = keyed(format, 0);
            self.printed(run, first[run], self.bytes.len(run))
        });
        // Fewer bytes than [`ALIKE_BYTES`] only at the offset again, or
        // under no offset after a wider group: a dump's last, short line.
        let least = if again || self.narrows(above.group, first) {
            1
        } else {
            ALIKE_BYTES
        };
        // What each line of the group above gave, each stream: a line is
        // the last its place's streams had.
        let alike = (above.group..=index).any(|line| {
            let place = line - above.group;
            (0..STREAMS).any(|format| {
                let run = keyed(format, place);
                // At place 0 the line being read follows it in the stream.
                let end = if place == 0 {
                    first[run]
                } else {
                    self.bytes.len(run)
                };
                let theirs = self.printed(run, self.lines[line].first(run), end);
                theirs.len() >= least && given.iter().any(|given| same_bytes(given, theirs, again))
            })
        });
        let numbers = || {
            given.iter().all(|given| given.is_empty())
                || !self.head_gave(above.group, |run| first[run])
        };
        (alike || (again && numbers())).then_some(above.group)
    }

    /// Whether the first line of the run's last group, at `group`, gave
    /// any stream a byte. Its bytes end where the next line's start, or,
    /// when it is the last line read, at `read_to` (each stream's end
    /// before the line being read).
    pub(super) fn head_gave(&self, group: usize, read_to: impl Fn(usize) -> usize) -> bool {
        (0..STREAMS).any(|format| {
            let run = keyed(format, 0);
            let end = self
                .lines
                .get(group + 1)
                .map_or_else(|| read_to(run), |next| next.first(run));
            end > self.lines[group].first(run)
        })
    }

    /// Whether the group at `group` gave fewer bytes than the group above
    /// it, in the format of their first lines that gave the most: it is a
    /// dump's last, short group (`first`: where the line being read
    /// starts each stream). The most, since a line read another way than
    /// it was printed gives a few bytes of junk (the hex in `od -t u1`'s
    /// `  70 101`), more or fewer a line.
    fn narrows(&self, group: usize, first: &[usize; KEYED]) -> bool {
        let Some(above) = group.checked_sub(1).map(|line| self.lines[line].group) else {
            return false;
        };
        let (mut widest_above, mut widest) = (0, 0);
        for format in 0..STREAMS {
            let run = keyed(format, 0);
            let (top, head) = (self.lines[above].first(run), self.lines[group].first(run));
            let gave = self
                .lines
                .get(group + 1)
                .map_or(first[run], |next| next.first(run))
                - head;
            widest_above = widest_above.max(head - top);
            widest = widest.max(gave);
        }
        widest > 0 && widest < widest_above && widest_above >= ALIKE_BYTES
    }

    /// Where the run's last group starts, while more lines under its
    /// offset may yet come (a find in them covers it); `usize::MAX` when
    /// none can: no run, a full group, a group with no offset line unless
    /// a find reaches it (`reached`: the end of the last find). Lines with
    /// no offset join such a group by the bytes they give (see `alike`):
    /// a dump's last, short line may still come to a find's group.
    pub(super) fn last_group_start(&self, text: &[u8], reached: usize) -> usize {
        match self.open_group(text) {
            Some((head, with_offset)) if with_offset || reached > head => head,
            _ => usize::MAX,
        }
    }

    /// Where the run's last group starts, and whether it has an offset
    /// line, while it is not full; `None` when there is none.
    fn open_group(&self, text: &[u8]) -> Option<(usize, bool)> {
        let last = self.lines.last()?;
        let head = self.lines[last.group].start;
        let with_offset = self.has_offset(text, self.lines.len() - 1);
        (self.lines.len() - last.group < MAX_GROUP).then_some((head, with_offset))
    }

    /// Where the last find in the run ends, when its last group has no
    /// offset line and may go on (0 otherwise: only then is it asked).
    pub(super) fn reached(&self, text: &[u8], finder: &ExactFinder, names: &[String]) -> usize {
        let Some((_, false)) = self.open_group(text) else {
            return 0;
        };
        let mut found = Vec::new();
        self.search(text, finder, names, &mut found);
        found.iter().map(|hit| hit.end).max().unwrap_or(0)
    }

    /// Bytes `from..to` of keyed stream `run`.
    fn printed(&self, run: usize, from: usize, to: usize) -> &[u8] {
        let bytes = &self.bytes.runs[self.bytes.stored(run)];
        let to = to.min(bytes.len());
        &bytes[from.min(to)..to]
    }

    /// Takes back what the line being read gave (each stream back to
    /// `first`), to read it again at another place.
    pub(super) fn take_back(&mut self, first: &[usize; KEYED]) {
        for (run, &first) in first.iter().enumerate().take(self.used) {
            self.bytes.runs[run].truncate(first);
        }
    }
}

/// Whether two lines gave the same bytes: alike, or but for the zeros a
/// word pads the last bytes with (`od -x` of `Xy`, then `y`: `0079`); at
/// the offset again, also but for the spaces `hexdump -c` pads its last
/// line with, which read as cells of spaces (after a word's pad: `-Xy `
/// of an odd length, `582d 0020`).
fn same_bytes(one: &[u8], other: &[u8], again: bool) -> bool {
    let trimmed = |bytes: &[u8]| -> usize {
        bytes
            .iter()
            .rposition(|&byte| byte != b' ' && byte != 0)
            .map_or(0, |last| last + 1)
    };
    padded_alike(one, other)
        || (again && {
            let (one, other) = (&one[..trimmed(one)], &other[..trimmed(other)]);
            !one.is_empty() && one == other
        })
}

/// `one` and `other` alike, or but for the zeros a word pads the last
/// bytes of a dump with (one for `od -x`, up to seven for `od -t x8`).
fn padded_alike(one: &[u8], other: &[u8]) -> bool {
    let (short, long) = if one.len() <= other.len() {
        (one, other)
    } else {
        (other, one)
    };
    let padded = |word: usize| long.len().is_multiple_of(word) && long.len() - short.len() < word;
    let starts = long
        .iter()
        .zip(short)
        .all(|(&one, &other)| same_byte(one, other));
    starts
        && (short.len() == long.len()
            || (long[short.len()..].iter().all(|&byte| byte == 0)
                && [2, 4, 8].into_iter().any(padded)))
}

/// The same byte, or one as `od -a` prints the other: by its low seven
/// bits (`od -An -o -a` of a byte past ASCII gives its number, then a
/// name or character of seven bits).
fn same_byte(one: u8, other: u8) -> bool {
    one == other || one & 0x7f == other || other & 0x7f == one
}
