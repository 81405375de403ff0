//! Dumps with no offsets (`od -An`) in several formats: a line that
//! prints the bytes of the line above again is another format of the same
//! bytes. It joins the group of the line above, so each has streams of its
//! own, and a find in one covers all. Formats read alike (`od -An -b -c`:
//! octal bytes and `od -c` cells) went into one stream, which held every
//! byte twice, and a format between them (`od -An -b -x -c`) too.

use super::super::keyed::keyed;
use super::super::parse::{DATA, STREAMS, SWAPPED};
use super::{KEYED, MAX_GROUP, Runs};

/// The fewest bytes two lines print alike to be read as one line's bytes
/// in two formats.
const ALIKE_BYTES: usize = 4;

impl Runs {
    /// The group of the line above, when `line`, read into a group of its
    /// own, has no offset and gave a stream the very bytes (at least
    /// [`ALIKE_BYTES`]) the line above gave a stream, of any format
    /// (`od -An -b -x -c`: the words' swapped bytes are the cells').
    pub(super) fn repeats_above(
        &self,
        line: &[u8],
        group: usize,
        first: &[usize; KEYED],
    ) -> Option<usize> {
        let index = self.lines.len().checked_sub(1)?;
        let above = &self.lines[index];
        if group != self.lines.len()
            || line.first() != Some(&b' ')
            || self.lines.len() - above.group >= MAX_GROUP
        {
            return None;
        }
        let place = index - above.group;
        let theirs: [&[u8]; STREAMS] = std::array::from_fn(|format| {
            let run = keyed(format, place);
            // At place 0 the line being read follows it in the stream.
            let end = if place == 0 {
                first[run]
            } else {
                self.bytes.len(run)
            };
            self.printed(run, above.first(run), end)
        });
        let alike = (0..STREAMS).any(|format| {
            let run = keyed(format, 0);
            let given = self.printed(run, first[run], self.bytes.len(run));
            given.len() >= ALIKE_BYTES && theirs.contains(&given)
        });
        alike.then_some(above.group)
    }

    /// Bytes `from..to` of keyed stream `run` (a swapped one that never
    /// diverged is its data stream).
    fn printed(&self, run: usize, from: usize, to: usize) -> &[u8] {
        let stored = if run % STREAMS == SWAPPED && !self.bytes.diverged[run / STREAMS] {
            run - SWAPPED + DATA
        } else {
            run
        };
        let bytes = &self.bytes.runs[stored];
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
