//! `od` printing several formats under one offset, as it does (its own
//! output, in `testdata/od_formats.txt`): the groups a dump's lines make
//! and what a find in one covers.

use corral_proto::event::OutputStream;

use super::bounds_tests::{redactor, redacts_whole_and_cut, text};
use super::{Findings, Redactor, StreamRedactor};

/// The secret of the dumps' test data.
pub(super) const SECRET: &str = "zq7-Correct-horse-battery-staple-42-Xy";

/// The dumps in `testdata/od_formats.txt`: (flags, what `od` printed).
pub(super) fn od_dumps() -> Vec<(&'static str, String)> {
    dumps(include_str!("testdata/od_formats.txt"), "== od ")
}

/// The dumps in `data`, each after a line `{heading}FLAGS`: (flags, dump).
pub(super) fn dumps(data: &'static str, heading: &str) -> Vec<(&'static str, String)> {
    let mut dumps: Vec<(&'static str, String)> = Vec::new();
    for line in data.lines().filter(|line| !line.starts_with('#')) {
        if let Some(flags) = line.strip_prefix(heading) {
            dumps.push((flags, String::new()));
        } else if let Some((_, dump)) = dumps.last_mut() {
            dump.push_str(line);
            dump.push('\n');
        }
    }
    dumps
}

/// `od` printing a secret in two or three formats under one offset,
/// formats this reader does not turn back into bytes among them (`-d`,
/// `-t x8`, `-f` beside `-c`), or two that both print cells (`-b -c`):
/// every line of each group that holds a byte of the secret is redacted,
/// the group before it is left as it was, and a stream cut anywhere emits
/// the same. These formats were missed whole (`-d -c`, `-t x8 -c`, and
/// `-t d1 -c`, whose cells are five columns wide) or left one format's
/// lines in clear (`-b -c`, `-o -c`, `-t x4 -c`, `-t x1 -x -c`).
#[test]
fn every_format_of_a_dump_group_holding_a_secret_is_redacted() {
    let redactor = Redactor::new([("S", SECRET)]);
    let grouped: Vec<(&str, String)> = od_dumps()
        .into_iter()
        .filter(|(flags, _)| flags.contains("-c") || flags.contains("-d"))
        .collect();
    assert_eq!(grouped.len(), 13, "{grouped:?}");
    for (flags, dump) in &grouped {
        let lines: Vec<&str> = dump.lines().collect();
        let second = lines
            .iter()
            .position(|line| line.starts_with("0000020"))
            .expect("a second group");
        let mut expected = lines[..second].join("\n");
        expected.push('\n');
        expected.push_str("[REDACTED:S]\n0000100\n");
        redacts_whole_and_cut(&redactor, &format!("od {flags}"), dump, &expected);
    }
}

/// `hexdump` printing a secret in two or three formats prints the offset
/// on every format's line: the lines at one offset make a group, and
/// every line of each group that holds a byte of the secret is redacted,
/// the group before it is left as it was, and a stream cut anywhere emits
/// the same. Each line was its own group: `-b -c` and `-c -b` were missed
/// whole (both formats read as cells, into one stream), and `-d -c`,
/// `-o -c`, `-x -c` and `-b -x -c` left lines holding bytes of the secret
/// in clear.
#[test]
fn every_format_of_a_hexdump_group_holding_a_secret_is_redacted() {
    let redactor = Redactor::new([("S", SECRET)]);
    let grouped = dumps(include_str!("testdata/hexdump_formats.txt"), "== hexdump ");
    assert_eq!(grouped.len(), 7, "{grouped:?}");
    for (flags, dump) in &grouped {
        let lines: Vec<&str> = dump.lines().collect();
        let second = lines
            .iter()
            .position(|line| line.starts_with("0000010") || line.starts_with("00000010"))
            .expect("a second group");
        let mut expected = lines[..second].join("\n");
        expected.push('\n');
        expected.push_str("[REDACTED:S]\n0000040\n");
        redacts_whole_and_cut(&redactor, &format!("hexdump {flags}"), dump, &expected);
    }
}

/// `od -An` prints no offsets, so which lines hold the same bytes is told
/// by what they print: a line printing the bytes of the line above again,
/// in any format, is another format of them. Every line holding a byte of
/// the secret is redacted, the group before it is left as it was (each
/// format's line), and a stream cut anywhere emits the same. Two formats
/// read alike (`-b -c`: both cells, into one stream) were missed whole,
/// with a third format between them too (`-b -x -c`).
#[test]
fn a_dump_with_no_offsets_in_several_formats_is_read_by_groups() {
    let data = include_str!("testdata/od_no_offsets.txt");
    every_line_holding_the_secret_goes(data, SECRET, 8);
    let redactor = Redactor::new([("S", SECRET)]);
    for (flags, both) in dumps(data, "== od ") {
        let (dump, _) = both.split_once("-- masked\n").expect("a masked dump");
        // Each format's flag but `-An`; `-t x1` is one.
        let formats = flags
            .split(' ')
            .filter(|flag| flag.starts_with('-'))
            .count()
            - 1;
        let lines: Vec<&str> = dump.lines().collect();
        let first_group = lines[..formats].join("\n") + "\n";
        let whole = redactor
            .redact_text(dump, &mut Findings::default())
            .unwrap_or_default();
        assert!(whole.starts_with(&first_group), "od {flags}:\n{whole}");
    }
}

/// A find in a group with no offset line covers none of the group's
/// lines above the one it starts in: a stream lets such lines go when
/// they hold no start of a secret (a group with no offset is held only
/// once a find reaches it), so the whole text redacted them and a stream
/// cut after them could not (found by the `redact` fuzz target: a line
/// joining the one above by printing its bytes again, then the secret as
/// its ASCII column; a line joining a group because it narrows).
#[test]
fn a_find_under_no_offset_covers_no_line_a_stream_let_go() {
    let redactor = Redactor::new([("A", "s3cr3t-pass-word-s")]);
    for (dump, expected) in [
        (
            " ADDDDDDD\n ADDDDDDD  s3cr3t-pass-word-s",
            " ADDDDDDD\n ADDDDDDD  [REDACTED:A]",
        ),
        (
            " DD  7333637233742D706173732D776F72642D73D\n DDDD\n DDDD  s3cr3t-pass-word-s",
            " DD  [REDACTED:A]D\n DDDD\n DDDD  [REDACTED:A]",
        ),
    ] {
        redacts_whole_and_cut(&redactor, dump, dump, expected);
    }
}

/// Two dumps printed one after the other start at the same offset, and
/// the first may be one line long (`xxd VERSION; xxd env`): the second
/// dump's first line gives other bytes, so it starts a dump of its own
/// (it joined the first's line as another format of it, and the secret in
/// the second was missed whole). And `xxd` of fewer than sixteen bytes a
/// line: its ASCII column is no byte, even when it reads as hex (`xxd -c
/// 2` of `zq7-` ends a line with `7-`, of `ec` with `ec`: both missed).
#[test]
fn dumps_in_a_row_and_short_xxd_lines_are_read() {
    let redactor = Redactor::new([("S", SECRET)]);
    let grouped = dumps(include_str!("testdata/dumps_in_a_row.txt"), "== ");
    assert_eq!(grouped.len(), 5, "{grouped:?}");
    for (commands, dump) in &grouped {
        let mut findings = Findings::default();
        let whole = redactor
            .redact_text(dump, &mut findings)
            .unwrap_or_else(|| panic!("{commands}: nothing found in\n{dump}"));
        for piece in ["zq7-", "7a71", "7a 71", "Xy", "5879", "58 79"] {
            assert!(
                !whole.contains(piece),
                "{commands}: {piece} left in\n{whole}"
            );
        }
        redacts_whole_and_cut(&redactor, commands, dump, &whole);
    }
}

/// `od -t x4` prints little-endian words of four bytes: they are read
/// backwards, as `od -x` words are (they were read in print order, and
/// missed).
#[test]
fn four_byte_words_are_read_as_little_endian() {
    let redactor = Redactor::new([("S", SECRET)]);
    let (_, dump) = od_dumps()
        .into_iter()
        .find(|(flags, _)| *flags == "-t x4")
        .expect("od -t x4 in the test data");
    let mut findings = Findings::default();
    let out = redactor
        .redact_text(&dump, &mut findings)
        .unwrap_or_else(|| panic!("nothing found in {dump}"));
    assert_eq!(findings.names, ["S"]);
    // The words that hold the secret's bytes alone.
    for word in [
        "2d37717a", "72726f43", "73726f68", "61622d65", "72657474", "74732d79", "656c7061",
        "2d32342d",
    ] {
        assert!(!out.contains(word), "{word} left in {out}");
    }
    assert!(
        out.starts_with("0000000 696c2061 6920656e 6c63206e 0a726165\n"),
        "{out}"
    );
}

/// The last group of a dump is held while lines under its offset may
/// still come, and only then: a group is eight lines at most, and lines
/// under no offset make groups that cannot go on. Numbers printed under
/// one offset for ever are not held for ever.
#[test]
fn the_last_dump_group_is_held_only_while_it_can_go_on() {
    let redactor = redactor();
    let mut stream = StreamRedactor::default();
    let mut findings = Findings::default();
    let head = "0000000   25963   15737   19320\n";
    let mut emitted = text(stream.push(&redactor, OutputStream::Stdout, head, &mut findings));
    assert_eq!(emitted, "", "the group may go on");
    let under = "          25963   15737   19320\n";
    for count in 1..=200 {
        emitted.push_str(&text(stream.push(
            &redactor,
            OutputStream::Stdout,
            under,
            &mut findings,
        )));
        match count {
            1..7 => assert_eq!(stream.held(), head.len() + count * under.len()),
            _ => assert_eq!(stream.held(), 0, "a full group, then groups of no offset"),
        }
    }
    emitted.push_str(&text(stream.flush(&redactor, &mut findings)));
    assert_eq!(
        emitted.len(),
        head.len() + 200 * under.len(),
        "all of it, in clear"
    );
}

/// A dump's last line may hold one to three bytes: in two formats under
/// no offset (`od -An -b -c`) or at the offset again (`hexdump -x -c`),
/// the short line joins the group of the line above when it gives the
/// same bytes (a word's zero pad aside: `0079` and `y`), and is redacted
/// with it. Both lines of the last group were left in clear (`   X   y`,
/// ` 130 171`), or the second format's (`hexdump -x -c`).
#[test]
fn a_dump_s_last_short_line_is_redacted_with_its_group() {
    every_line_holding_the_secret_goes(include_str!("testdata/dump_tails.txt"), SECRET, 36);
}

/// `od` prints octal words when given no format (`od FILE`), and `od` and
/// `hexdump` print decimal words or bytes when asked (`-d`, `-t u1`, `-t
/// d1`, `-t d2`, `-i`, `-t u4`, `-t o4`), alone or beside another format.
/// Every line holding a byte of the secret is redacted. All of these were
/// missed whole.
#[test]
fn dumps_in_decimal_or_octal_numbers_are_read() {
    every_line_holding_the_secret_goes(include_str!("testdata/dump_numbers.txt"), SECRET, 23);
    // A line of numbers alone may still have an ASCII column: the last
    // line of `xxd -c 4` of digits.
    let digits = Redactor::new([("D", "1234567890123456789012")]);
    let xxd = "00000000: 3132 3334  1234\n00000004: 3536 3738  5678\n\
               00000008: 3930 3132  9012\n0000000c: 3334 3536  3456\n\
               00000010: 3738 3930  7890\n00000014: 3132       12\n";
    redacts_whole_and_cut(&digits, "xxd -c 4", xxd, "00000000: [REDACTED:D]\n");
}

/// Words of five to eight bytes: `xxd -g 8` prints the bytes in order,
/// `od -t x8` little-endian words, padded with zeros at the end. Every
/// line holding a byte of the secret is redacted: `xxd -g 8` was missed
/// whole (its ASCII column too), and `od -t x8` lines were left in clear.
#[test]
fn words_of_eight_bytes_are_read() {
    every_line_holding_the_secret_goes(include_str!("testdata/dump_wide_words.txt"), SECRET, 13);
}

/// A line read another way than it was printed gives a few bytes of
/// junk: two-digit numbers read as hex (`od -t u1`), cells of digits read
/// as numbers (`   4   2`). Those bytes told a dump's last, short line
/// where there was none, and a line joined the group above and split the
/// streams: `od -An -t u1 -c` of an env file was missed whole. And an odd
/// length ending in a space (`hexdump -x -c`: `0020` and `  `) left the
/// last line in clear; with no offset, a line starting with a negative
/// number (`od -An -t d1` of a secret past ASCII) was no dump line.
#[test]
fn junk_from_a_line_read_the_wrong_way_splits_no_dump() {
    every_line_holding_the_secret_goes(include_str!("testdata/dump_junk.txt"), SECRET, 9);
    every_line_holding_the_secret_goes(
        include_str!("testdata/dump_negative.txt"),
        NEGATIVE_SECRET,
        4,
    );
}

/// A line under an offset line is blank where the offset was, and more
/// (every format's column starts with a space): `od -An -c` cells after
/// a line that only looks like an offset (hex bytes after four hex
/// digits) are a dump of their own. They were taken for the formats
/// under that offset, each line at another place, and the secret across
/// them was missed.
#[test]
fn cells_after_a_line_like_an_offset_are_no_format_under_it() {
    let redactor = Redactor::new([("S", SECRET)]);
    // A line like the hex of a secret's form, then
    // printf 'yzzq7-…-Xy' | od -An -c
    let dump = "3b62 61 61 62 62 62 61\n\
                \x20  y   z   z   q   7   -   C   o   r   r   e   c   t   -   h   o\n\
                \x20  r   s   e   -   b   a   t   t   e   r   y   -   s   t   a   p\n\
                \x20  l   e   -   4   2   -   X   y\n";
    let expected = "3b62 61 61 62 62 62 61\n   y   z[REDACTED:S]\n";
    redacts_whole_and_cut(
        &redactor,
        "a line like an offset, then od -An -c",
        dump,
        expected,
    );
}

/// Past 2 MiB (octal), 16 MiB (`-A x`) or 10 MB (`-A d`), od prints an
/// offset wider than the blank it puts under it (seven columns, six for
/// `-A x`), so a line of cells three columns wide (`001`, `nul`) starts
/// with no more spaces than the offset has digits. Such a line started a
/// group of its own, and the secret was missed whole and streamed.
#[test]
fn formats_under_an_offset_wider_than_its_padding_stay_in_its_group() {
    every_line_holding_the_secret_goes(include_str!("testdata/od_wide_offsets.txt"), SECRET, 24);
}

/// A dump line after an offset line whose own line gave bytes (`xxd`, an
/// `od -t x1` cut by `head`) joins its group only by giving its bytes
/// again: `od -An -i` of a number then the secret (seven spaces first,
/// as many as the offset's digits) was taken for another format under
/// that offset, its bytes read apart from the next lines', and the secret
/// was missed (helper-43; real `xxd` and `od` output).
#[test]
fn lines_of_no_offset_after_an_offset_that_gave_bytes_are_a_dump_of_their_own() {
    let redactor = Redactor::new([("S", SECRET)]);
    for (dump, expected) in [
        (
            "00000000: 6869 0a                                  hi.\n\
             \x20      1000  758608250 1920102211  762602341\n\
             \x201936879464 1633824101 1919251572 1953705337\n\
             \x201701605473  758264877     686424\n",
            "00000000: 6869 0a                                  hi.\n       1000  [REDACTED:S]\n",
        ),
        (
            "0000000 6b 0d 5b 15 53 6c da 62 6c 05 8c 5d 25 d0 40 e9\n\
             \x20      12345   758608250  1920102211   762602341\n\
             \x20 1936879464  1633824101  1919251572  1953705337\n\
             \x20 1701605473   758264877      686424\n",
            "0000000 6b 0d 5b 15 53 6c da 62 6c 05 8c 5d 25 d0 40 e9\n       12345   [REDACTED:S]\n",
        ),
    ] {
        redacts_whole_and_cut(&redactor, dump, dump, expected);
    }
}

/// The secret of `testdata/dump_negative.txt`.
pub(super) const NEGATIVE_SECRET: &str = "pässwörd-Ünïcødé-ÿ-secret";

#[test]
fn a_negative_number_goes_with_its_sign() {
    // Left outside, the sign of the secret's first word told one bit of it.
    let redactor = Redactor::new([("S", NEGATIVE_SECRET)]);
    for (what, both) in dumps(include_str!("testdata/dump_negative.txt"), "== ") {
        let (dump, _) = both.split_once("-- masked\n").expect("a masked dump");
        let whole = redactor
            .redact_text(dump, &mut Findings::default())
            .unwrap_or_else(|| panic!("{what}: nothing found in\n{dump}"));
        assert!(
            !whole.contains("-[REDACTED"),
            "{what}: a sign left in\n{whole}"
        );
    }
}

/// Each dump in `data` (after its `== TOOL FLAGS` line, then `-- masked`
/// and the dump of the same bytes with `secret` masked): every line
/// that differs from the masked dump's (it holds a byte of the secret)
/// is redacted, a first line that does not is left as it was, and a
/// stream cut anywhere emits the same.
pub(super) fn every_line_holding_the_secret_goes(data: &'static str, secret: &str, count: usize) {
    let redactor = Redactor::new([("S", secret)]);
    let grouped = dumps(data, "== ");
    assert_eq!(grouped.len(), count, "{grouped:?}");
    for (what, both) in &grouped {
        let (dump, masked) = both.split_once("-- masked\n").expect("a masked dump");
        let mut findings = Findings::default();
        let whole = redactor
            .redact_text(dump, &mut findings)
            .unwrap_or_else(|| panic!("{what}: nothing found in\n{dump}"));
        assert!(findings.names.iter().all(|name| name == "S"), "{what}");
        let left: Vec<&str> = whole.lines().collect();
        for (line, masked) in dump.lines().zip(masked.lines()) {
            if line != masked {
                assert!(!left.contains(&line), "{what}: {line:?} left in\n{whole}");
            }
        }
        let first = dump.lines().next().expect("a line");
        if masked.lines().next() == Some(first) {
            assert!(
                whole.starts_with(first),
                "{what}: the first line went\n{whole}"
            );
        }
        redacts_whole_and_cut(&redactor, what, dump, &whole);
    }
}
