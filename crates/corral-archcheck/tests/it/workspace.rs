//! This workspace's own layering (STYLE.md §2): no module cycle in any
//! crate, and no source file over 400 lines.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use corral_archcheck::tree::crate_roots;
use corral_archcheck::{CrateTree, find_cycles, long_files};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn no_crate_has_a_module_cycle() {
    let roots = crate_roots(&crates_dir()).expect("crate roots");
    assert!(roots.len() >= 6, "found only {roots:?}");
    let mut report = String::new();
    for root in roots {
        let tree = CrateTree::load(&root).expect("a crate that loads");
        for cycle in find_cycles(&tree) {
            write!(report, "{}: {cycle}", root.display()).expect("a string takes writes");
        }
    }
    assert!(report.is_empty(), "module cycles:\n{report}");
}

#[test]
fn no_source_file_is_over_400_lines() {
    let long = long_files(&crates_dir(), 400).expect("listing");
    assert!(long.is_empty(), "files over 400 lines: {long:?}");
}
