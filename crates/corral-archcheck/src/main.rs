//! `corral-archcheck [WORKSPACE]`: prints every module cycle of every crate
//! under `crates/` and every source file over the size cap; exits 1 if it
//! found any. The test suite runs the same checks.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use corral_archcheck::{CrateTree, find_cycles, long_files};

/// STYLE.md's cap on a source file, tests included.
const MAX_LINES: usize = 400;

fn main() -> anyhow::Result<ExitCode> {
    let root = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let mut report = String::new();
    for crate_root in corral_archcheck::tree::crate_roots(&root.join("crates"))? {
        let tree = CrateTree::load(&crate_root)?;
        for cycle in find_cycles(&tree) {
            write!(report, "{}: {cycle}", crate_root.display())?;
        }
    }
    for (file, lines) in long_files(&root.join("crates"), MAX_LINES)? {
        writeln!(
            report,
            "{}: {lines} lines (cap {MAX_LINES})",
            file.display()
        )?;
    }
    if report.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes())?;
    Ok(ExitCode::FAILURE)
}
