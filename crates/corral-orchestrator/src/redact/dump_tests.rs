//! Dumps read across their lines: what a stream's part of a run may take
//! (so a needle's start is never held long, nor a needle spread past what
//! a restarted stream covers), and real layouts that must stay whole.

use std::fmt::Write;

use corral_proto::event::OutputStream;

use super::bounds_tests::{SECRET, found, redactor, redacts_whole_and_cut, text};
use super::dump_layouts::{hexdump_words, od_c};
use super::{Findings, Redactor, StreamRedactor};

/// A dump line whose bytes (and ASCII column) begin a needle, then dump
/// lines that add no byte to those streams: `od -c` lines of `**` cells
/// only, and hex lines without an ASCII column. Such a line ends the run,
/// so the start is let go instead of held (and scanned again at every
/// chunk) for as long as the lines come: how long it stayed held told a
/// job, by the clock, whether its guess began a secret. A real dump is
/// still read across its lines, down to one byte a line.
#[test]
fn dump_lines_that_add_nothing_do_not_keep_a_needle_start_held() {
    let redactor = redactor();
    let probe = "00000000  68 75 6e 74 65 72 32 2d  62 75 74 2f 6c 6f 6e 67  |hunter2-but/long|\n";
    let fillers: [fn(usize) -> String; 2] = [
        |line| format!("{:07o}{}\n", line * 16, "  **".repeat(16)),
        |line| format!("{:08x}  {}\n", line * 16, "41 ".repeat(16).trim_end()),
    ];
    for (kind, filler) in fillers.iter().enumerate() {
        let mut findings = Findings::default();
        let mut stream = StreamRedactor::default();
        let _ = stream.push(&redactor, OutputStream::Stdout, probe, &mut findings);
        assert!(
            stream.held() >= probe.len(),
            "kind {kind}: the probe is held"
        );
        for round in 0..32 {
            let lines: String = (1..=64).map(|line| filler(round * 64 + line)).collect();
            let _ = stream.push(&redactor, OutputStream::Stdout, &lines, &mut findings);
            assert!(
                stream.held() < 1024,
                "kind {kind}, round {round}: {} held",
                stream.held()
            );
        }
    }
    // `xxd -c 1` (sixteen bytes of text a byte) and `od -c -w1`.
    let xxd =
        one_byte_a_line(|out, at, byte| writeln!(out, "{at:08x}: {byte:02x}  {}", byte as char));
    let od = one_byte_a_line(|out, at, byte| writeln!(out, "{at:07o}   {}", byte as char));
    for dump in [xxd, od] {
        assert_eq!(found(&format!("x\n{dump}")), ["DB_PASSWORD"], "{dump}");
    }
}

/// [`SECRET`] as `line` writes each of its bytes (and where it is).
fn one_byte_a_line(line: impl Fn(&mut String, usize, u8) -> std::fmt::Result) -> String {
    let mut out = String::new();
    for (at, byte) in SECRET.bytes().enumerate() {
        line(&mut out, at, byte).expect("a string takes every write");
    }
    out
}

/// A dump line that gives a needle's bytes too thinly for its text ends
/// its stream's part: a needle is never found across more text than
/// `MOST_TEXT_PER_BYTE` a byte (and a part's first and last lines), which
/// is what a restarted stream covers.
#[test]
fn a_dump_run_ends_after_a_line_too_thin_for_its_text() {
    for (pad, finds) in [(180, false), (1, true)] {
        let dump = one_byte_a_line(|out, at, byte| {
            let pad = " ".repeat(pad);
            writeln!(out, "{at:04x}  {byte:02x}{pad}|{}|", byte as char)
        });
        assert_eq!(!found(&format!("x\n{dump}")).is_empty(), finds, "{dump}");
    }
}

/// A byte of the data that ends an ASCII column early (`<` in
/// `od -t x1z`) makes that line thin for the ASCII stream only: the hex
/// bytes' part goes on, and a secret across the line is still found.
#[test]
fn a_column_cut_short_ends_only_its_own_stream() {
    let secret = "ab<cdefghijklmnopqrstuvwxyz0123456789";
    let redactor = Redactor::new([("KEY", secret)]);
    let mut dump = String::from("x\n");
    for (line, chunk) in secret.as_bytes().chunks(16).enumerate() {
        let mut row = format!("{:06x}", line * 16);
        for byte in chunk {
            write!(row, " {byte:02x}").expect("a string takes every write");
        }
        let ascii = std::str::from_utf8(chunk).expect("ascii");
        writeln!(dump, "{row:<54}  >{ascii}<").expect("a string takes every write");
    }
    let mut findings = Findings::default();
    let out = redactor.redact_text(&dump, &mut findings);
    assert_eq!(findings.names, ["KEY"], "{dump}");
    assert!(out.is_some_and(|out| !out.contains(" 6a ")), "{dump}");
}

/// Lines of another layout between two parts of a dump (`od -x -c` of
/// other files, `od -c` lines with no swapped bytes) do not cut a secret
/// printed after them: its first line starts a new part instead of ending
/// the old one with itself in it. Whole, and streamed where the text
/// before the secret was let go first (a streamed scan then starts its
/// run elsewhere than the whole text's).
#[test]
fn lines_of_another_layout_before_a_dump_do_not_cut_its_secret() {
    let secret = "correct-horse-battery-staple-42\n";
    let redactor = Redactor::new([("KEY", secret)]);
    let cells = |count: usize| od_c(&b".".repeat(16 * count), false);
    for between in 1..=9 {
        let whole = format!(
            "x\n{}{}{}done\n",
            hexdump_words(b"hello world\n....", false),
            cells(between),
            hexdump_words(secret.as_bytes(), false)
        );
        let mut findings = Findings::default();
        let out = redactor.redact_text(&whole, &mut findings);
        assert_eq!(findings.names, ["KEY"], "{between} lines between:\n{whole}");
        assert!(out.is_some_and(|out| !out.contains("6f63")), "{whole}");
        let first = format!(
            "x\n{}{}",
            hexdump_words(b"X.X.X.X.X.X.X.X.", false),
            cells(5)
        );
        let second = format!(
            "{}{}{}done\n",
            hexdump_words(b"B.B.B.B.B.B.B.B.", false),
            cells(between),
            hexdump_words(secret.as_bytes(), false)
        );
        let mut stream = StreamRedactor::default();
        let mut findings = Findings::default();
        let mut out = text(stream.push(&redactor, OutputStream::Stdout, &first, &mut findings));
        out.push_str(&text(stream.push(
            &redactor,
            OutputStream::Stdout,
            &second,
            &mut findings,
        )));
        out.push_str(&text(stream.flush(&redactor, &mut findings)));
        assert_eq!(
            findings.names,
            ["KEY"],
            "streamed, {between} between:\n{first}{second}"
        );
        assert!(!out.contains("6f63"), "{out}");
    }
}

/// One byte a line, a little wider than sixteen bytes of text: `xxd -c 1`
/// through a terminal (`\r\n`), `od -t x1z -w1` past 2 MiB (an offset of
/// eight digits).
#[test]
fn one_byte_a_line_with_a_little_more_text_is_read_across() {
    let crlf =
        one_byte_a_line(|out, at, byte| write!(out, "{at:08x}: {byte:02x}  {}\r\n", byte as char));
    let wide = one_byte_a_line(|out, at, byte| {
        writeln!(out, "{:08o} {byte:02x}  >{}<", (2 << 20) + at, byte as char)
    });
    for dump in [crlf, wide] {
        assert_eq!(found(&format!("x\n{dump}")), ["DB_PASSWORD"], "{dump}");
    }
}

/// Two formats a line each (`hexdump -x -c`, `od -An -x -c`), whose last
/// line of words is short and padded: the short line ends the swapped
/// stream's part after its bytes, not before them, so a secret whose last
/// bytes it holds is found.
#[test]
fn a_short_last_line_of_a_two_format_dump_keeps_its_secret_whole() {
    let secret = "s3cr3t-pass-word-s";
    let redactor = Redactor::new([("PASS", secret)]);
    let words = |bytes: &[u8]| -> String {
        let mut out = String::new();
        for word in bytes.chunks(2) {
            let high = word.get(1).copied().unwrap_or(0);
            write!(out, "    {high:02x}{:02x}", word[0]).expect("a string takes every write");
        }
        out
    };
    let cells = |bytes: &[u8]| od_c(bytes, false).trim_end_matches('\n').to_owned();
    let (full, tail) = secret.as_bytes().split_at(16);
    let hexdump = format!(
        "0000000{}\n0000000{}\n0000010{:<64}\n0000010{:<64}\n0000012\n",
        words(full),
        cells(full),
        words(tail),
        cells(tail)
    );
    let od = format!(
        "{}\n{}\n{}\n{}\n",
        words(full),
        cells(full),
        words(tail),
        cells(tail)
    );
    for dump in [hexdump, od] {
        let mut findings = Findings::default();
        let out = redactor.redact_text(&format!("x\n{dump}"), &mut findings);
        assert_eq!(findings.names, ["PASS"], "{dump}");
        assert!(out.is_some_and(|out| !out.contains("732d")), "{dump}");
    }
}

/// Two formats under one offset, as `od` prints them (these are its own
/// output): the second format's line has blanks where the offset was, and
/// is read as cells under it, so the run goes on and a secret across
/// several lines is found (it was missed while such a line ended the run).
/// The cells are a stream of their own, so each format's lines of the
/// secret are found, and redacted, the last one's included.
#[test]
fn two_od_formats_under_one_offset_are_read_across_lines() {
    let redactor = Redactor::new([("S", "zq7-Correct-horse-battery-staple-42-Xy")]);
    let dumps = [
        (
            "od -xc",
            concat!(
                "0000000    7270    2065    717a    2d37    6f43    7272    6365    2d74\n",
                "          p   r   e       z   q   7   -   C   o   r   r   e   c   t   -\n",
                "0000020    6f68    7372    2d65    6162    7474    7265    2d79    7473\n",
                "          h   o   r   s   e   -   b   a   t   t   e   r   y   -   s   t\n",
                "0000040    7061    656c    342d    2d32    7958    7020    736f    0a74\n",
                "          a   p   l   e   -   4   2   -   X   y       p   o   s   t  \\n\n",
                "0000060\n",
            ),
        ),
        (
            "od -t x1 -c",
            concat!(
                "0000000  70  72  65  20  7a  71  37  2d  43  6f  72  72  65  63  74  2d\n",
                "          p   r   e       z   q   7   -   C   o   r   r   e   c   t   -\n",
                "0000020  68  6f  72  73  65  2d  62  61  74  74  65  72  79  2d  73  74\n",
                "          h   o   r   s   e   -   b   a   t   t   e   r   y   -   s   t\n",
                "0000040  61  70  6c  65  2d  34  32  2d  58  79  20  70  6f  73  74  0a\n",
                "          a   p   l   e   -   4   2   -   X   y       p   o   s   t  \\n\n",
                "0000060\n",
            ),
        ),
        (
            "od -A x -t x1z -c",
            concat!(
                "000000  70  72  65  20  7a  71  37  2d  43  6f  72  72  65  63  74  2d  >pre zq7-Correct-<\n",
                "         p   r   e       z   q   7   -   C   o   r   r   e   c   t   -\n",
                "000010  68  6f  72  73  65  2d  62  61  74  74  65  72  79  2d  73  74  >horse-battery-st<\n",
                "         h   o   r   s   e   -   b   a   t   t   e   r   y   -   s   t\n",
                "000020  61  70  6c  65  2d  34  32  2d  58  79  20  70  6f  73  74  0a  >aple-42-Xy post.<\n",
                "         a   p   l   e   -   4   2   -   X   y       p   o   s   t  \\n\n",
                "000030\n",
            ),
        ),
        (
            "od -An -t x1 -c",
            concat!(
                "  70  72  65  20  7a  71  37  2d  43  6f  72  72  65  63  74  2d\n",
                "   p   r   e       z   q   7   -   C   o   r   r   e   c   t   -\n",
                "  68  6f  72  73  65  2d  62  61  74  74  65  72  79  2d  73  74\n",
                "   h   o   r   s   e   -   b   a   t   t   e   r   y   -   s   t\n",
                "  61  70  6c  65  2d  34  32  2d  58  79  20  70  6f  73  74  0a\n",
                "   a   p   l   e   -   4   2   -   X   y       p   o   s   t  \\n\n",
            ),
        ),
    ];
    for (tool, dump) in dumps {
        let mut findings = Findings::default();
        let out = redactor.redact_text(&format!("x\n{dump}"), &mut findings);
        assert_eq!(findings.names, ["S"], "{tool}:\n{dump}");
        let out = out.expect("redacted");
        // Each format's lines of it, the first and the last included.
        for piece in [
            "z   q", "X   y", "horse", "7a  71", "58  79", "717a", "7958",
        ] {
            assert!(!out.contains(piece), "{tool}: {piece:?} left in\n{out}");
        }
    }
}

/// The same layouts cut anywhere, as reads of a pipe cut them: a line cut
/// after its first bytes is held while it may still become a dump line,
/// so the lines before it, which it may continue, are not let go in clear
/// (`od -An -t x1 -c` cut three bytes into a line was let go).
#[test]
fn two_od_formats_cut_anywhere_are_redacted_as_whole() {
    let secret = "zq7-Correct-horse-battery-staple-42-Xy";
    let redactor = Redactor::new([("S", secret)]);
    let mut input = Vec::new();
    for (at, byte) in format!("pre {secret} post\n").bytes().enumerate() {
        if at % 16 == 0 {
            input.push(Vec::new());
        }
        input.last_mut().expect("a line").push(byte);
    }
    let mut dump = String::new();
    for line in &input {
        for byte in line {
            write!(dump, "  {byte:02x}").expect("a string takes every write");
        }
        dump.push('\n');
        dump.push_str(&od_c(line, false));
    }
    let mut whole = Findings::default();
    let expected = redactor
        .redact_text(&dump, &mut whole)
        .expect("found whole");
    redacts_whole_and_cut(&redactor, "the dump", &dump, &expected);
}

/// `od -c -f` of `data`: for each 16 bytes, a line of cells under the
/// offset, then the same bytes as four floats (a format not read back to
/// bytes, which goes with its group); then the final offset. Each line
/// with its `\n`.
fn od_c_f(data: &[u8]) -> Vec<String> {
    let mut lines = Vec::new();
    for (index, chunk) in data.chunks(16).enumerate() {
        let mut cells = format!("{:07o}", index * 16);
        for &byte in chunk {
            let _ = write!(cells, "{:>4}", char::from(byte));
        }
        let mut floats = " ".repeat(7);
        for word in chunk.chunks(4) {
            let value = f32::from_le_bytes(word.try_into().expect("four bytes"));
            let printed = format!("{value:e}");
            let (mantissa, exponent) = printed.split_once('e').expect("an exponent");
            let exponent: i32 = exponent.parse().expect("a number");
            let _ = write!(floats, "{:>16}", format!("{mantissa}e{exponent:+03}"));
        }
        lines.push(cells + "\n");
        lines.push(floats + "\n");
    }
    lines.push(format!("{:07o}\n", data.len()));
    lines
}

/// A dump of a long secret in two formats, one not read back to bytes
/// (`od -c -f`): its find covers its last group, which grows as that
/// group's lines come. A forced cut went through the find (its text is
/// past `HOLD_CAP`) when only the group's first line had come, and the
/// scans after the cut no longer see the find's start: the group's float
/// line went out in clear (helper-93), also when the write ended inside
/// it, after its first space (helper-94: a line that could still be a dump
/// line but gives no byte yet). The find's `Cover` now goes on over what
/// the group may yet gain.
#[test]
fn a_dump_find_a_forced_cut_went_through_covers_the_lines_its_group_gains() {
    use super::bounds_tests::random_text;
    use super::stream::HOLD_CAP;
    let secret = random_text(8 << 10, 14);
    let redactor = Redactor::new([("S", secret.as_str())]);
    let lines = od_c_f(secret.as_bytes());
    let (floats, last) = (&lines[lines.len() - 2], &lines[lines.len() - 1]);
    let whole = redactor.redact_text(&lines.concat(), &mut Findings::default());
    assert_eq!(whole.as_deref(), Some("[REDACTED:S]\n0020000\n"));
    // Up to the last group's cells line and `into` bytes of its float
    // line, then the rest.
    for into in [0, 1, 7] {
        let first = lines[..lines.len() - 2].concat() + &floats[..into];
        assert!(first.len() > HOLD_CAP);
        let mut findings = Findings::default();
        let mut stream = StreamRedactor::default();
        let mut out = text(stream.push(&redactor, OutputStream::Stdout, &first, &mut findings));
        assert!(out.starts_with("[REDACTED:S]"), "{out}");
        let rest = format!("{}{last}", &floats[into..]);
        out.push_str(&text(stream.push(
            &redactor,
            OutputStream::Stdout,
            &rest,
            &mut findings,
        )));
        out.push_str(&text(stream.flush(&redactor, &mut findings)));
        assert!(
            !out.contains(floats.trim()),
            "cut {into} bytes into the group's last line, it went out: {out}"
        );
        assert!(!out.contains(&secret[secret.len() - 16..]), "{out}");
    }
}
