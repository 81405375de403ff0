//! The leak detector's stream stays bounded whatever the output: what it
//! holds, and so what it scans again at each chunk.

use std::fmt::Write;

use corral_proto::event::OutputStream;

use super::{Findings, OutputPiece, Redactor, StreamRedactor};

const SECRET: &str = "hunter2-but/longer+42";

fn redactor() -> Redactor {
    Redactor::new([("DB_PASSWORD", SECRET)])
}

fn found(text: &str) -> Vec<String> {
    let mut findings = Findings::default();
    let _ = redactor().redact_text(text, &mut findings);
    findings.names
}

fn text(pieces: Vec<OutputPiece>) -> String {
    pieces.into_iter().map(|piece| piece.text).collect()
}

/// What `stream` lets go of ASCII `written` pushed as stdout in chunks of
/// `size` bytes, then flushed; `after` sees the stream after each chunk.
fn pushed_in_chunks(
    stream: &mut StreamRedactor,
    redactor: &Redactor,
    written: &str,
    size: usize,
    findings: &mut Findings,
    mut after: impl FnMut(&StreamRedactor),
) -> String {
    let mut out = String::new();
    for piece in written.as_bytes().chunks(size) {
        let piece = std::str::from_utf8(piece).expect("ascii");
        out.push_str(&text(stream.push(
            redactor,
            OutputStream::Stdout,
            piece,
            findings,
        )));
        after(stream);
    }
    out.push_str(&text(stream.flush(redactor, findings)));
    out
}

/// A byte that may start a needle, then line break after line break: a
/// run that long is no wrap, so the stream lets it go instead of holding
/// (and scanning again at every chunk) all of it. A real wrap is still
/// read across.
#[test]
fn endless_line_breaks_after_a_needle_start_are_not_held() {
    let redactor = redactor();
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let _ = stream.push(&redactor, OutputStream::Stdout, "x=hunt", &mut findings);
    let breaks = "\n".repeat(4096);
    for round in 0..64 {
        let _ = stream.push(&redactor, OutputStream::Stdout, &breaks, &mut findings);
        assert!(
            stream.held() < 4096,
            "round {round}: {} held",
            stream.held()
        );
    }
    for wrap in ["\n", "\r\n", "\n\n", "\r\n\r\n", "\r\r\n\r\r\n"] {
        let names = found(&format!("x={}{wrap}{}\n", &SECRET[..7], &SECRET[7..]));
        assert_eq!(names, ["DB_PASSWORD"], "{wrap:?}");
    }
    for no_wrap in ["\n\n\n", "\r\n\r\n\r\n", "\r\r\r\r\r\r\r"] {
        let names = found(&format!("x={}{no_wrap}{}\n", &SECRET[..7], &SECRET[7..]));
        assert!(names.is_empty(), "{no_wrap:?} is no wrap");
    }
}

/// A needle longer than the most a stream holds, written up to near its
/// end: the stream cannot hold it all, so it lets what it held go as one
/// redaction (output lost, not shown), and never holds more than its cap.
#[test]
fn a_find_open_past_the_hold_limit_is_let_go_redacted() {
    use super::stream::{MAX_HELD, TOO_LONG};
    let secret = random_text(MAX_HELD + (MAX_HELD / 2), 0x2545_F491_4F6C_DD1D);
    let redactor = Redactor::new([("HUGE", secret.as_str())]);
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let mut out = text(stream.push(&redactor, OutputStream::Stdout, "head ", &mut findings));
    let written = &secret[..secret.len() - 10];
    out.push_str(&pushed_in_chunks(
        &mut stream,
        &redactor,
        written,
        64 << 10,
        &mut findings,
        |stream| {
            // Scanned, at most the cap; come since, under a quarter more.
            let most = MAX_HELD + MAX_HELD / 4 + (64 << 10);
            assert!(stream.held() <= most, "{} held", stream.held());
        },
    ));
    assert!(
        findings.names.iter().any(|name| name == TOO_LONG),
        "{:?}",
        findings.names
    );
    assert!(
        out.starts_with("head [REDACTED:"),
        "{}",
        &out[..40.min(out.len())]
    );
    assert!(
        !out.contains(&secret[..64]),
        "a part of the secret was let go"
    );
    // What follows the cap is no needle's start as far as the look-behind
    // shows: let go as the whole text's scan would (it finds nothing in a
    // secret that never ends).
    assert!(
        out.len() < written.len() - MAX_HELD / 2,
        "{} bytes let go",
        out.len()
    );
}

/// An open key block is held whole (up to 16 KiB); output trickling in a
/// byte at a time after it (while it stays open) does not make every byte
/// rescan the block.
#[test]
fn a_long_hold_is_not_rescanned_for_every_small_chunk() {
    let redactor = redactor();
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let block = format!("-----BEGIN RSA PRIVATE KEY-----\n{}", "QUJD".repeat(3000));
    let _ = stream.push(&redactor, OutputStream::Stdout, &block, &mut findings);
    assert!(
        stream.held() > 10_000,
        "the block is held: {}",
        stream.held()
    );
    super::redactor::SCANNED.with(|scanned| scanned.set(0));
    let trickled = 3_000;
    for _ in 0..trickled {
        let _ = stream.push(&redactor, OutputStream::Stdout, "Q", &mut findings);
    }
    let scanned = super::redactor::SCANNED.with(std::cell::Cell::get);
    // Rescanning at every byte would be 12 KB a byte, 36 MB in all; with a
    // quarter of new text between scans, the block is scanned once more.
    assert!(
        scanned < 10 * trickled,
        "{scanned} bytes scanned for {trickled}"
    );
    let out = text(stream.flush(&redactor, &mut findings));
    assert!(
        out.starts_with("[REDACTED:private-key]") || !out.contains("QUJD"),
        "{}",
        &out[..80.min(out.len())]
    );
}

/// Random letters and digits, `len` of them.
fn random_text(len: usize, seed: u64) -> String {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(state % 36) as usize])
        })
        .collect()
}

/// A forced cut through a long find, its start further back than the
/// look-behind kept: the rest of it is still redacted, though the scan can
/// no longer see it whole. Here `T`, a second secret that starts inside
/// the end of `S` and never ends, holds the live position inside `S`.
#[test]
fn the_rest_of_a_find_cut_by_a_forced_cut_is_redacted() {
    let (head, middle, tail) = (
        random_text(30 << 10, 1),
        random_text(10 << 10, 2),
        random_text(50 << 10, 3),
    );
    let first = format!("{head}{middle}");
    let second = format!("{middle}{tail}");
    let redactor = Redactor::new([("S", first.as_str()), ("T", second.as_str())]);
    let written = format!("{head}{middle}{}!\n", &tail[..45 << 10]);
    let mut findings = Findings::default();
    let mut stream = StreamRedactor::default();
    let out = pushed_in_chunks(
        &mut stream,
        &redactor,
        &written,
        1 << 10,
        &mut findings,
        |_| {},
    );
    assert!(
        out.starts_with("[REDACTED:S]"),
        "{}",
        &out[..40.min(out.len())]
    );
    assert!(
        !out.contains(&middle[..64]) && !out.contains(&middle[middle.len() - 64..]),
        "part of S let go in clear"
    );
    assert!(out.ends_with("!\n"), "what follows is let go");
}

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

/// `bytes` as `od -An -x` prints them: little-endian words, eight a line.
fn od_words(bytes: &[u8]) -> String {
    let mut out = String::new();
    for line in bytes.chunks(16) {
        for word in line.chunks(2) {
            let high = word.get(1).copied().unwrap_or(0);
            write!(out, " {high:02x}{:02x}", word[0]).expect("a string takes every write");
        }
        out.push('\n');
    }
    out
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
    let cells = |count: usize| format!("{}\n", "   .".repeat(16)).repeat(count);
    for between in 1..=9 {
        let whole = format!(
            "x\n{}{}{}done\n",
            od_words(b"hello world\n...."),
            cells(between),
            od_words(secret.as_bytes())
        );
        let mut findings = Findings::default();
        let out = redactor.redact_text(&whole, &mut findings);
        assert_eq!(findings.names, ["KEY"], "{between} lines between:\n{whole}");
        assert!(out.is_some_and(|out| !out.contains("6f63")), "{whole}");
        let first = format!("x\n{}{}", od_words(b"X.X.X.X.X.X.X.X."), cells(5));
        let second = format!(
            "{}{}{}done\n",
            od_words(b"B.B.B.B.B.B.B.B."),
            cells(between),
            od_words(secret.as_bytes())
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
