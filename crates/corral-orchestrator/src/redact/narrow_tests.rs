//! Dumps of two bytes a line (`od -An -w2`): too few for two formats of
//! them to be told by their bytes, so each line is read alone and each
//! format into a stream of its own.

use super::bounds_tests::redacts_whole_and_cut;
use super::group_tests::{dumps, every_line_holding_the_secret_goes};
use super::{Findings, Redactor};

/// `od -An -w2` gives two bytes a line, too few to tell two formats of
/// them by their bytes: each line is read alone, each format into its own
/// stream. `od -c` prints a byte past ASCII as three octal digits, so a
/// line of two such cells (` 303 266`) reads as numbers too, and read as
/// words of two bytes it put junk between the secret's bytes where `-d`
/// lines went. `od` gives such a word six columns at least (`   303`):
/// closer numbers are bytes alone. A secret past ASCII under `-d -c`,
/// `-o -c` and `-t d2 -c` was missed whole.
#[test]
fn two_bytes_a_line_past_ascii_are_read_in_each_format() {
    let secret = "zq7-C\u{f6}rrect-h\u{f6}rse-42";
    every_line_holding_the_secret_goes(include_str!("testdata/od_narrow.txt"), secret, 7);
}

/// `od -An -w2` with a format of cells and one of decimal bytes (`-c -t
/// d1`): a line of bytes reads as `od -b` cells too (` 122 113`), junk in
/// the cells' stream, so the bytes' own stream finds the secret. Lines of
/// two bytes each make groups of one line; a group narrower than the one
/// above was taken for a dump's last, short line and joined to the line
/// above, which cut the streams: the whole secret was missed. Only groups
/// of at least four bytes (`ALIKE_BYTES`) can narrow now. Every line holding
/// the secret goes but the first, a line of cells above the find's group
/// (a stream let it go before the find came): two of its bytes.
#[test]
fn two_bytes_a_line_of_cells_and_decimal_bytes_keep_at_most_the_first() {
    let secret = "zq7-C\u{f6}rrect-h\u{f6}rse-42";
    let redactor = Redactor::new([("S", secret)]);
    let grouped = dumps(include_str!("testdata/od_narrow_bytes.txt"), "== ");
    assert_eq!(grouped.len(), 4, "{grouped:?}");
    for (what, both) in &grouped {
        let (dump, masked) = both.split_once("-- masked\n").expect("a masked dump");
        let mut findings = Findings::default();
        let whole = redactor
            .redact_text(dump, &mut findings)
            .unwrap_or_else(|| panic!("{what}: nothing found in\n{dump}"));
        let left: Vec<&str> = whole.lines().collect();
        let holding: Vec<&str> = dump
            .lines()
            .zip(masked.lines())
            .filter(|(line, masked)| line != masked)
            .map(|(line, _)| line)
            .collect();
        for line in &holding[1..] {
            assert!(!left.contains(line), "{what}: {line:?} left in\n{whole}");
        }
        redacts_whole_and_cut(&redactor, what, dump, &whole);
    }
}
