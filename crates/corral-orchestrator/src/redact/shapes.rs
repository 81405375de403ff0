//! Well-known token shapes, redacted whether or not corral stores them.
//!
//! Every shape is bounded: a token is a literal prefix, then a body of one
//! character class, at most [`Shape::longest`] bytes in all. That bound is
//! what lets a stream decide, from the end of what it has, whether a shape
//! could still start or grow there ([`live`]). A private key is a PEM block
//! from its `BEGIN … PRIVATE KEY` line to its `END` line; one whose end does
//! not come within [`PEM_MAX`] bytes is redacted for those bytes anyway.
//!
//! Shapes are looked for in the text with every other find blanked out,
//! as they would read in the redacted output: a token glued to a secret
//! (`<secret>AKIA…`) is found, as it would stand alone once redacted.
//!
//! Clean text is crossed once, at SIMD speed, for the literal every shape
//! starts with; a shape's pattern runs only from where its literal is,
//! on a window of the masked text twice the shape's length, and each run
//! settles the shape's length of text (so a text of nothing but prefixes
//! is read a bounded number of times).
//!
//! # Layout
//! - `table`: the shapes and the key block's lines
//! - `matching`: the literal search and bounded matches
//! - `key`: private key blocks
//! - `search`: finding shapes, and what a stream must hold

mod key;
mod matching;
mod search;
mod table;

pub use search::{find, live};
pub use table::PEM_MAX;
