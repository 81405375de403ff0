//! A full `hexdump -C` line is read as the general reading reads it.

use std::fmt::Write as _;

use super::canonical::{LINE, read};
use super::parse::{first_token_fits, general};
use super::streams::Sink;
use crate::redact::property::Rng;

/// Every call a reading made.
#[derive(Debug, Default, PartialEq, Eq)]
struct Calls(Vec<(usize, u8, (usize, usize))>, usize);

impl Sink for Calls {
    fn push(&mut self, run: usize, byte: u8, range: (usize, usize)) {
        self.0.push((run, byte, range));
    }

    fn diverges(&mut self) {
        self.1 += 1;
    }
}

fn both(line: &[u8]) -> (bool, Calls, bool, Calls) {
    let (mut fast, mut slow) = (Calls::default(), Calls::default());
    let read = read(line, 1000, &mut fast);
    let general = general(line, 1000, &mut slow);
    (read, fast, general, slow)
}

/// Random full lines (bytes of decimal digits alone, `|` in the
/// column, upper-case digits among them) read alike both ways; lines
/// a column off are left to the general reading.
#[test]
fn a_full_line_is_read_as_the_general_reading_reads_it() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut next = move || rng.next();
    for case in 0..20_000 {
        let bytes: Vec<u8> = (0..16)
            .map(|_| match case % 4 {
                // Digits alone: `12 34 …` could read as numbers.
                0 => (next() % 10 * 16 + next() % 10) as u8,
                1 => b"|.a "[(next() % 4) as usize],
                _ => next() as u8,
            })
            .collect();
        let mut line = format!("{:08x}  ", next() % (1 << 32));
        for (k, byte) in bytes.iter().enumerate() {
            let _ = write!(line, "{byte:02x} ");
            if k == 7 {
                line.push(' ');
            }
        }
        line.push_str(" |");
        for &byte in &bytes {
            let shown = if (0x20..0x7f).contains(&byte) {
                byte
            } else {
                b'.'
            };
            line.push(char::from(shown));
        }
        line.push('|');
        if case % 5 == 0 {
            line = line.to_uppercase();
        }
        let (read, fast, general, slow) = both(line.as_bytes());
        assert!(read && general, "{line}");
        assert_eq!(fast, slow, "{line}");
        // A column off, or one byte changed: read alike, or left to
        // the general reading with nothing given.
        let at = (next() % LINE as u64) as usize;
        let mut off = line.clone().into_bytes();
        if case % 2 == 0 {
            off.insert(at, b' ');
            off.pop();
        } else {
            off[at] = b"0a |.:"[(next() % 6) as usize];
        }
        let (read, fast, _, slow) = both(&off);
        let shown = String::from_utf8_lossy(&off);
        if read {
            assert_eq!(fast, slow, "{shown}");
        } else {
            assert_eq!(fast, Calls::default(), "{shown}");
        }
    }
}

/// A line whose first token `first_token_fits` turns away is one the
/// general reading takes nothing from: random lines after spaces, of
/// tokens of cells, digits, hex, signs, floats that are no number, tabs,
/// bytes past ASCII and letters.
#[test]
fn a_line_turned_away_by_its_first_token_gives_nothing() {
    let mut rng = Rng(0x0DD_F00D_2026_1207);
    let pieces: [&[u8]; 14] = [
        b"Compiling",
        b"-->",
        b"1.5e+10",
        b"inf",
        b"-inf",
        b"-nan",
        b"nan",
        b"\\n",
        b"nul",
        b"deadbeef",
        b"-12",
        b"ab",
        b"x",
        "\tw\u{e9}".as_bytes(),
    ];
    let mut turned_away = 0;
    for _ in 0..20_000 {
        let mut line = vec![b' '; 1 + rng.below(8)];
        for _ in 0..=rng.below(6) {
            line.extend_from_slice(pieces[rng.below(pieces.len())]);
            if rng.below(3) == 0 {
                line.push(b"Zq.+-7"[rng.below(6)]);
            }
            line.extend(std::iter::repeat_n(b' ', 1 + rng.below(3)));
        }
        if !first_token_fits(&line) {
            turned_away += 1;
            let mut calls = Calls::default();
            assert!(
                !general(&line, 0, &mut calls),
                "{:?}",
                String::from_utf8_lossy(&line)
            );
            assert_eq!(calls, Calls::default());
        }
    }
    assert!(turned_away > 1000, "only {turned_away} lines turned away");
}
