//! `SECURITY.md` names, for every promise, the tests that would fail if it
//! broke. This keeps the table honest: every row names at least one test
//! function, and every name is a `#[test]` or `#[tokio::test]` function
//! that exists (or, for the Python SDK, a `def test_…` in its tests);
//! every file it names exists.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `crates/` and `.py` file under `sdk/`, with its
/// path from the repository root.
fn sources(root: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![root.join("crates"), root.join("sdk")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)
            .expect("read a source dir")
            .flatten()
        {
            let path = entry.path();
            let skipped = ["target", "__pycache__", ".mypy_cache", ".ruff_cache"];
            if path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|name| !skipped.iter().any(|skip| name == *skip))
            {
                pending.push(path);
            } else if path
                .extension()
                .is_some_and(|ext| ext == "rs" || ext == "py")
            {
                let text = std::fs::read_to_string(&path).expect("read a source file");
                let relative = path.strip_prefix(root).expect("under the root");
                found.push((relative.to_string_lossy().into_owned(), text));
            }
        }
    }
    found
}

/// The backticked words of `cell`.
fn quoted(cell: &str) -> impl Iterator<Item = &str> {
    cell.split('`').skip(1).step_by(2)
}

/// A test function's name, as the table writes it: snake case, three words at least.
fn is_test_name(word: &str) -> bool {
    word.matches('_').count() >= 2
        && word
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

/// Whether `name` is a test function in `text`: `fn name(` under a test
/// attribute, or a pytest function (`def test_…(`, maybe `async`).
fn defines_test(text: &str, name: &str) -> bool {
    if name.starts_with("test_") && text.contains(&format!("def {name}(")) {
        return true;
    }
    let lines: Vec<&str> = text.lines().collect();
    lines.iter().enumerate().any(|(at, line)| {
        line.contains(&format!("fn {name}("))
            && lines[at.saturating_sub(3)..at]
                .iter()
                .any(|above| above.contains("#[test]") || above.contains("#[tokio::test"))
    })
}

#[test]
fn every_row_of_security_md_names_tests_that_exist() {
    let root = repo_root();
    let table = std::fs::read_to_string(root.join("SECURITY.md")).expect("SECURITY.md");
    let sources = sources(&root);
    let rows: Vec<&str> = table
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| promise"))
        .collect();
    assert!(rows.len() > 30, "the table was found: {} rows", rows.len());
    let mut problems = Vec::new();
    for row in rows {
        let tested_in = row
            .trim_end_matches(|c: char| c == '|' || c.is_whitespace())
            .rsplit(" | ")
            .next()
            .unwrap_or_default();
        let promise: String = row[2..]
            .split(" | ")
            .next()
            .unwrap_or_default()
            .chars()
            .take(60)
            .collect();
        let names: Vec<&str> = quoted(tested_in)
            .filter(|word| is_test_name(word))
            .collect();
        if names.is_empty() {
            problems.push(format!("{promise}…: names no test function"));
        }
        for name in names {
            if !sources.iter().any(|(_, text)| defines_test(text, name)) {
                problems.push(format!("{promise}…: no test named {name}"));
            }
        }
        for file in quoted(tested_in).filter(|word| {
            Path::new(word)
                .extension()
                .is_some_and(|ext| ext == "rs" || ext == "py")
        }) {
            if !sources.iter().any(|(path, _)| path.ends_with(file)) {
                problems.push(format!("{promise}…: no file {file}"));
            }
        }
    }
    assert!(problems.is_empty(), "SECURITY.md:\n{}", problems.join("\n"));
}
