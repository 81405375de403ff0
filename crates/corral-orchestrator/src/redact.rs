//! The leak detector. Every event a job sends passes through it before it
//! is stored, streamed or logged; the worker may redact first as a courtesy,
//! but nothing relies on that.
//!
//! It finds the exact values of secrets in the forms ordinary tools print
//! them (`forms`), also across line breaks inside encoded data (`views`)
//! and in hex and character dumps (`dumps`), and the shapes of well-known
//! tokens (`shapes`). Every range found is redacted; overlapping ranges
//! become one `[REDACTED:NAME]`.
//!
//! A stream of output ([`StreamRedactor`]) emits exactly what redacting
//! the whole text at once would: it holds back the end of what it has
//! from the first position where more text could still complete a find,
//! and never emits a byte that could still become part of one.
//!
//! # Layout
//! - `binary`: bytes that may not be text, as text of the same length
//! - `exact`: the search for every form of every secret at once
//! - `forms`: the encoded forms of a value
//! - `lines`: where a text's lines end, found once per pass
//! - `views`: encoded data wrapped into lines
//! - `dumps`: hex and character dumps
//! - `shapes`: well-known token shapes
//! - `scan`: what one pass finds, and merging it into redactions
//! - `redactor`: the [`Redactor`]: text and JSON, secrets and shapes, in one pass each
//! - `stream`: redacting output as it comes
//! - `pieces`: bytes that may not be text (a download), scanned as they come

mod binary;
#[cfg(test)]
mod bounds_tests;
#[cfg(test)]
mod dump_layouts;
#[cfg(test)]
mod dump_tests;
mod dumps;
mod exact;
mod forms;
#[cfg(test)]
mod group_tests;
#[cfg(test)]
mod json_tests;
mod lines;
#[cfg(test)]
mod narrow_tests;
#[cfg(test)]
mod od_a_tests;
mod pieces;
#[cfg(test)]
mod property;
mod redactor;
mod scan;
mod shapes;
mod stream;
#[cfg(test)]
mod tests;
mod views;

pub(crate) use forms::{all as all_forms, base64_core};
pub use pieces::ByteScan;
pub use redactor::Redactor;
#[cfg(fuzzing)]
pub use redactor::secret_forms;
pub use scan::Findings;
pub use stream::{OutputPiece, StreamRedactor};
