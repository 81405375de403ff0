//! Checks the workspace's layering from its source: every module's
//! references to the rest of its crate (`use` trees, paths, paths inside
//! macro calls), resolved through re-exports to the module that defines
//! the item, must form no cycle at any level of the module tree; and no
//! source file may grow past the size cap.
//!
//! It reads source only (no compiler, no nightly tools), so it runs in the
//! ordinary test suite and in CI. Test code (`#[cfg(test)]` items and
//! modules) is left out: tests may reach anywhere.
//!
//! # Layout
//! - [`tree`]: a crate's module tree, each module's items, imports and references
//! - [`resolve`]: a reference to the module that defines what it names
//! - [`cycles`]: the dependency graph among siblings at every level, and its cycles
//! - [`size`]: source files over the line cap

pub mod cycles;
pub mod resolve;
pub mod size;
pub mod tree;

pub use cycles::{Cycle, find_cycles};
pub use size::long_files;
pub use tree::CrateTree;
