//! The byte streams a run of dump lines keeps, one for each format at
//! each place in a group, and the sinks a line is read into: its bytes,
//! or where they were printed.

use super::streams::{DATA, STREAMS, SWAPPED, Sink};

/// Most lines in a group (`od` with eight formats under one offset):
/// the last group is held while it may go on, and no longer than this.
pub(super) const MAX_GROUP: usize = 8;
/// The streams a run keeps: each of the formats' streams at each place
/// in a group (see [`keyed`]).
pub(super) const KEYED: usize = MAX_GROUP * STREAMS;
/// The stream a line's bytes of `format` go to: each place in a group
/// (0 for its offset line, and for a line in no group) has its own.
pub(super) fn keyed(format: usize, place: usize) -> usize {
    format + STREAMS * place
}

/// The bytes alone, what the search reads. A swapped stream is its data
/// stream again until it diverges (a swapped word): only then is it kept.
pub(super) struct Bytes {
    pub(super) runs: [Vec<u8>; KEYED],
    pub(super) diverged: [bool; MAX_GROUP],
    /// The place in its group of the line being read.
    pub(super) place: usize,
}

impl Default for Bytes {
    fn default() -> Self {
        Self {
            runs: std::array::from_fn(|_| Vec::new()),
            diverged: [false; MAX_GROUP],
            place: 0,
        }
    }
}

impl Bytes {
    /// The stream that holds keyed stream `run`'s bytes: its data stream
    /// for a swapped one that never diverged.
    pub(super) fn stored(&self, run: usize) -> usize {
        if run % STREAMS == SWAPPED && !self.diverged[run / STREAMS] {
            run - SWAPPED + DATA
        } else {
            run
        }
    }

    /// The length of keyed stream `run`.
    pub(super) fn len(&self, run: usize) -> usize {
        self.runs[self.stored(run)].len()
    }
}

impl Sink for Bytes {
    fn push(&mut self, format: usize, byte: u8, _range: (usize, usize)) {
        if format != SWAPPED || self.diverged[self.place] {
            self.runs[keyed(format, self.place)].push(byte);
        }
    }

    fn diverges(&mut self) {
        if !self.diverged[self.place] {
            self.diverged[self.place] = true;
            let data = self.runs[keyed(DATA, self.place)].clone();
            self.runs[keyed(SWAPPED, self.place)] = data;
        }
    }
}

/// Where one stream's bytes were printed: read again for a line only
/// when something was found in it.
pub(super) struct Ranges {
    pub(super) run: usize,
    pub(super) place: usize,
    pub(super) printed: Vec<(usize, usize)>,
}

impl Sink for Ranges {
    fn push(&mut self, format: usize, _byte: u8, range: (usize, usize)) {
        if keyed(format, self.place) == self.run {
            self.printed.push(range);
        }
    }
}
