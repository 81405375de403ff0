//! Source files over the line cap (STYLE.md: no file over 400 lines,
//! tests included).

use std::path::{Path, PathBuf};

/// Every `.rs` file under `root` (skipping `target` folders) with more
/// than `cap` lines, with its line count, in path order.
pub fn long_files(root: &Path, cap: usize) -> anyhow::Result<Vec<(PathBuf, usize)>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "target") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let lines = std::fs::read_to_string(&path)?.lines().count();
                if lines > cap {
                    found.push((path, lines));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}
