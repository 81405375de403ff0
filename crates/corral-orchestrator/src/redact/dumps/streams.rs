//! The byte streams a dump line is read into, and the [`Sink`] that
//! takes them.

/// The byte streams read back from a dump line: as written, with 16-bit
/// words swapped (`hexdump` and `od -x` print little-endian words), the
/// ASCII column, `od -c` cells, and numbers read as bytes and as words
/// (`numbers`). Each format has its own, so where two share an offset
/// (`od -xc`, `hexdump -C -c`) each reads the bytes once and in order,
/// and each finds (and so redacts) its own lines.
pub const DATA: usize = 0;
pub const SWAPPED: usize = 1;
pub const ASCII: usize = 2;
pub const CELLS: usize = 3;
pub const BYTES: usize = 4;
pub const WORDS: usize = 5;
/// How many streams a run keeps.
pub const STREAMS: usize = 6;

/// Where each byte read from a dump line goes.
pub trait Sink {
    /// Byte `byte` of stream `run`, printed at `range` of the text.
    fn push(&mut self, run: usize, byte: u8, range: (usize, usize));

    /// From here on the swapped stream is not the data stream again: a
    /// word whose bytes are swapped comes next.
    fn diverges(&mut self) {}
}
