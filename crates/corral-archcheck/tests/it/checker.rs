//! Each case writes a tiny crate to a temporary folder and checks what the
//! checker finds in it.

use std::path::Path;

use corral_archcheck::{CrateTree, find_cycles, long_files};

/// Writes `files` (path, text) under a fresh folder and returns the cycles
/// found from its `lib.rs`, each as "parent: a ↔ b".
fn cycles_of(files: &[(&str, &str)]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temporary folder");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("folders");
        std::fs::write(path, text).expect("source file");
    }
    let tree = CrateTree::load(&dir.path().join("lib.rs")).expect("a crate that loads");
    find_cycles(&tree)
        .iter()
        .map(|cycle| format!("{}: {}", cycle.parent, cycle.members.join(" ↔ ")))
        .collect()
}

#[test]
fn two_modules_that_use_each_other_are_a_cycle() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "pub struct A;\npub fn f() -> crate::b::B { crate::b::B }\n",
        ),
        (
            "b.rs",
            "use crate::a::A;\npub struct B;\npub fn g(_: A) {}\n",
        ),
    ]);
    assert_eq!(found, ["crate: a ↔ b"]);
}

#[test]
fn a_dependency_one_way_is_no_cycle() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub struct A;\n"),
        ("b.rs", "use crate::a::A;\npub fn g(_: A) {}\n"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_cycle_through_a_third_module_is_found_whole() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("a.rs", "pub struct A;\npub fn f(_: super::b::B) {}\n"),
        ("b.rs", "pub struct B;\npub fn f(_: super::c::C) {}\n"),
        ("c.rs", "pub struct C;\npub fn f(_: crate::a::A) {}\n"),
    ]);
    assert_eq!(found, ["crate: a ↔ b ↔ c"]);
}

#[test]
fn a_re_export_leads_to_the_module_that_defines_the_item() {
    // `b` names `crate::a::Inner`, re-exported by `a` from `a::inner`, which
    // uses `b`: the cycle is between `a`'s child and `b`, seen at the root
    // as a ↔ b.
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "mod inner;\npub use inner::Inner;\n"),
        ("a/inner.rs", "pub struct Inner(crate::b::B);\n"),
        ("b.rs", "pub struct B;\npub fn f(_: crate::a::Inner) {}\n"),
    ]);
    assert_eq!(found, ["crate: a ↔ b"]);
}

#[test]
fn a_child_using_its_parents_body_while_the_parent_uses_it_is_a_cycle() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\n"),
        (
            "a.rs",
            "mod child;\npub struct Shared;\npub fn run() { child::go() }\n",
        ),
        ("a/child.rs", "pub fn go() { let _ = super::Shared; }\n"),
    ]);
    assert_eq!(found, ["crate::a: (self) ↔ child"]);
}

#[test]
fn a_parent_that_only_re_exports_its_child_is_no_cycle() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\n"),
        ("a.rs", "mod child;\nmod other;\npub use child::go;\n"),
        ("a/child.rs", "pub fn go(_: super::other::Other) {}\n"),
        ("a/other.rs", "pub struct Other;\n"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn paths_inside_macro_calls_count() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "pub const A: u8 = 1;\npub fn f() { println!(\"{}\", crate::b::B); }\n",
        ),
        ("b.rs", "pub const B: u8 = crate::a::A;\n"),
    ]);
    assert_eq!(found, ["crate: a ↔ b"]);
}

#[test]
fn test_code_is_left_out() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        (
            "a.rs",
            "pub struct A;\n#[cfg(test)]\nmod tests { use crate::b::B; }\n",
        ),
        ("b.rs", "use crate::a::A;\npub fn g(_: A) {}\n"),
    ]);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_glob_import_is_followed() {
    let found = cycles_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub struct A;\npub fn f(_: crate::b::B) {}\n"),
        (
            "b.rs",
            "use crate::a::*;\npub struct B;\npub fn g(_: A::Assoc) {}\n",
        ),
    ]);
    assert_eq!(found, ["crate: a ↔ b"]);
}

#[test]
fn a_file_over_the_cap_is_listed_with_its_lines() {
    let dir = tempfile::tempdir().expect("temporary folder");
    std::fs::write(dir.path().join("short.rs"), "fn a() {}\n".repeat(3)).expect("file");
    std::fs::write(dir.path().join("long.rs"), "fn a() {}\n".repeat(5)).expect("file");
    let found = long_files(dir.path(), 4).expect("listing");
    assert_eq!(found, [(dir.path().join("long.rs"), 5)]);
    assert!(!Path::new(&found[0].0).ends_with("short.rs"));
}
